/**
 * Writes `config.schema.json` at the repo root from the zod schema. With `--check` it writes nothing and
 * exits 1 if the committed file is stale, so CI catches a schema change that was not regenerated.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/main/config/config-json-schema.js';

// Compiled to dist/scripts/, two levels below the repo root.
const target = fileURLToPath(new URL('../../config.schema.json', import.meta.url));
const expected = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

if (process.argv.includes('--check')) {
  // Compare ignoring line endings: a CRLF checkout on Windows is not drift.
  const committed = (await readFile(target, 'utf8').catch(() => undefined))?.replace(/\r\n/g, '\n');
  if (committed !== expected) {
    const why = committed === undefined ? 'is missing' : 'is out of date';
    console.error(`${target} ${why}. Run "npm run build && npm run schema" and commit the result.`);
    process.exit(1);
  }
  console.log(`${target} is up to date.`);
} else {
  await writeFile(target, expected);
  console.log(`Wrote ${target}.`);
}
