import { cases as frames } from './frames.bench.js';
import { cases as idRewrite } from './id-rewrite.bench.js';
import { cases as lineFramer } from './line-framer.bench.js';
import { formatMicroTable, machineInfo, runMicro, writeResults } from './micro-harness.js';
import { cases as routing } from './response-routing.bench.js';
import { cases as sseFormat } from './sse-format.bench.js';

/** `npm run bench`: every micro benchmark, printed as a table and written to bench/results/micro.json. */
const only = process.argv[2];
const all = [...lineFramer, ...frames, ...idRewrite, ...routing, ...sseFormat].filter(
  (c) => !only || c.group.includes(only) || c.name.includes(only),
);
const results = await runMicro(all);
console.log(formatMicroTable(results));
const file = writeResults('micro.json', { machine: machineInfo(), results });
console.log(`\nwritten to ${file}`);
