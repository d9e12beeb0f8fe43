import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './support/paths.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const src = join(repoRoot, 'src');
const files = sources(src).map((path) => ({
  path: relative(repoRoot, path),
  text: readFileSync(path, 'utf8'),
}));

test('only the uWS engine knows uWebSockets.js: routes, streams and guards go through src/workers/http', () => {
  const naming = files.filter((f) => f.text.includes('uWebSockets')).map((f) => f.path);
  assert.deepEqual(naming, ['src/workers/http/uws-engine.ts']);
});

test('dependencies flow main -> shared <- workers: workers spawn no processes, shared imports neither side', () => {
  for (const { path, text } of files) {
    if (path.startsWith('src/workers/')) {
      assert.doesNotMatch(text, /from 'node:child_process'/, `${path} imports node:child_process`);
      assert.doesNotMatch(text, /from '\.\.\/main\//, `${path} imports from src/main`);
    }
    if (path.startsWith('src/shared/'))
      assert.doesNotMatch(text, /from '\.\.\/(main|workers)\//, `${path} imports from a side`);
  }
});
