import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { McpRunner } from '../src/index.js';
import { fixturePath } from '../test/support/paths.js';
import { machineInfo, writeResults } from './micro-harness.js';

/**
 * `npm run bench:mrtr -- [--calls 2000] [--rounds 5] [--engine auto]`
 *
 * Memory the gateway's main thread holds per multi-round-trip call waiting for its caller's input. Runs
 * the gateway in this process (so the main thread's heap can be measured after a forced GC), puts
 * 2026-07-28 `tools/call elicit` requests in the waiting state, and compares the heap with the baseline;
 * then answers every call and measures again (everything must be released). The median of `--rounds`.
 *
 * Two backends: a 2025 one, whose call the gateway keeps waiting (the MRTR bridge), and a 2026-07-28 one,
 * whose own `input_required` passes through (the gateway keeps nothing). A shared 2025 process can have
 * only one call waiting on a client at a time (stdio does not say which call a backend's request belongs
 * to, so a second would be refused as ambiguous): the 2025 row runs 64 processes (`instances`, the most
 * a server may have) and 64 waiting calls, one each.
 */
const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    engine: { type: 'string', default: 'auto' },
  },
});
const rounds = Number(values.rounds);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:mrtr does)');

const MODERN = '2026-07-28';
const meta = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
};
// A small pool: the client's own sockets must not grow with the calls (they share this heap).
const agent = new Agent({ connections: 32 });

type Json = Record<string, unknown>;

async function post(url: string, id: number, extra: Json = {}): Promise<Json> {
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': 'elicit',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'elicit', arguments: {}, ...extra, _meta: meta },
    }),
  });
  return (await response.body.json()) as Json;
}

/** The retry that answers an input_required with an accepted elicitation. */
function retryOf(reply: Json): Json {
  const result = reply.result as { resultType?: string; inputRequests?: object; requestState?: string };
  if (result?.resultType !== 'input_required')
    throw new Error(`not input_required: ${JSON.stringify(reply)}`);
  const key = Object.keys(result.inputRequests ?? {})[0]!;
  return {
    inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } },
    ...(result.requestState ? { requestState: result.requestState } : {}),
  };
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

/** One round: `calls` calls left waiting, the heap measured, then all answered and measured again. */
async function round(url: string, calls: number, firstId: number) {
  const baseline = await heapAfterGc();
  let retries: Array<{ id: number; retry: Json }> = [];
  for (let i = 0; i < calls; i += 200) {
    const ids = Array.from({ length: Math.min(200, calls - i) }, (_, j) => firstId + i + j);
    const replies = await Promise.all(ids.map((id) => post(url, id)));
    retries.push(...replies.map((reply, j) => ({ id: ids[j]!, retry: retryOf(reply) })));
  }
  // What the client side keeps (the retries) is estimated and taken off.
  const clientSide = JSON.stringify(retries).length * 2;
  const waiting = await heapAfterGc();
  const status = (await (await fetch(new URL('/status', url))).json()) as { inflight: number };
  for (let i = 0; i < retries.length; i += 200)
    await Promise.all(retries.slice(i, i + 200).map(({ id, retry }) => post(url, id, retry)));
  retries = [];
  const after = await heapAfterGc();
  return {
    perCall: (waiting - baseline - clientSide) / calls,
    left: after - baseline,
    held: status.inflight,
  };
}

interface Row {
  backend: string;
  calls: number;
  held: number;
  heapPerCallBytes: number;
  heapLeftAfterAnswersBytes: number;
}

async function measure(backend: string, server: Json, calls: number): Promise<Row> {
  const runner = new McpRunner(
    { mcpServers: { be: server }, sseProxy: { port: 0, workers: 2, httpEngine: values.engine } } as never,
    { logLevel: 'silent' },
  );
  const { gateway } = await runner.startAllWithProxy();
  const url = `${gateway.url}/servers/be/mcp`;
  try {
    // Warm up: code paths compiled and caches filled before the baseline.
    for (let i = 0; i < 50; i++) await post(url, i, retryOf(await post(url, i)));
    const rows = [];
    for (let r = 0; r < rounds; r++) rows.push(await round(url, calls, 1000 + r * calls));
    return {
      backend,
      calls,
      held: rows.at(-1)!.held,
      heapPerCallBytes: Math.round(median(rows.map((r) => r.perCall))),
      heapLeftAfterAnswersBytes: Math.round(median(rows.map((r) => r.left))),
    };
  } finally {
    await runner.close();
  }
}

const node = process.execPath;
const rows = [
  await measure(
    '2025 backend (notify fixture, 64 processes): the gateway keeps each call waiting',
    { command: node, args: [fixturePath('notify-server')], instances: 64 },
    64,
  ),
  await measure(
    '2026-07-28 backend (SDK v2 fixture): its input_required passes through',
    { command: node, args: [fixturePath('modern-server')] },
    Number(values.calls),
  ),
];
const table = [
  '| backend | calls answered input_required | held by the gateway (/status inflight) | main-thread heap per waiting call | heap left after all were answered |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.backend} | ${r.calls} | ${r.held} | ${(r.heapPerCallBytes / 1024).toFixed(2)} KiB | ${(r.heapLeftAfterAnswersBytes / 1024).toFixed(0)} KiB |`,
  ),
].join('\n');
const command = `npm run bench:mrtr -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(`${table}\n\ncommand: ${command}`);
const file = writeResults('mrtr-memory-latest.json', { machine: machineInfo(), command, rows });
writeFileSync(file.replace(/\.json$/, '.md'), `${table}\n\ncommand: \`${command}\`\n`);
console.log(`written to ${file} (.md)`);
await agent.close();
process.exit(0);
