import { fileURLToPath } from 'node:url';

/** Tests run from dist/test; the repository root is two levels up. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

export const serverEverythingPath = fileURLToPath(
  new URL('../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
