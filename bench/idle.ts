import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LoadSession } from './load/load-session.js';
import { SseLoadSession } from './load/sse-load-session.js';
import { StreamableLoadSession } from './load/streamable-load-session.js';
import { type Target, type Transport, targetStarters, transportsFlag } from './load/targets.js';
import { machineInfo, writeResults } from './micro-harness.js';
import { treeRssBytes } from './process-tree.js';

/**
 * `npm run bench:idle -- [--sessions 10000] [--transport sse,streamable] [--workers 2] [--engine uws,node]
 *   [--compare supergateway,mcp-proxy] [--ceiling yes|no] [--settle 2]`
 *
 * Opens that many idle sessions on each transport (legacy: a GET stream; Streamable HTTP: initialize,
 * initialized and the GET stream, as the SDK client does), waits for memory to settle, and reports how
 * many were accepted and the target's process-tree RSS per session above its idle baseline.
 */
const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    transport: { type: 'string', default: 'sse,streamable' },
    workers: { type: 'string', default: '2' },
    engine: { type: 'string', default: 'auto' },
    compare: { type: 'string', default: '' },
    ceiling: { type: 'string', default: 'yes' },
    settle: { type: 'string', default: '2' },
  },
});
const count = Number(values.sessions);
const BATCH = 100;
/** Give up on a target whose tree passes this (one peer forks a process per Streamable session). */
const RSS_LIMIT_BYTES = 6 * 2 ** 30;

interface IdleRow {
  transport: Transport;
  target: string;
  requested: number;
  accepted: number;
  baselineMiB: number;
  rssMiB: number;
  kibPerSession: number;
  /** mcp-runner only: V8 heap per session on the main thread and in all workers, from /status. */
  heap?: { mainKiB: number; workersKiB: number };
  note?: string;
}

interface HeapReport {
  main?: { heapUsedBytes: number };
  workers?: Array<{ heapUsedBytes: number }>;
}

/** mcp-runner's own account of its heaps (other targets have no /status). */
async function heaps(target: Target): Promise<{ main: number; workers: number } | undefined> {
  const report = (await fetch(`${target.origin}/status`)
    .then((r) => (r.ok ? r.json() : undefined))
    .catch(() => undefined)) as HeapReport | undefined;
  if (!report?.main || !report.workers) return undefined;
  return {
    main: report.main.heapUsedBytes,
    workers: report.workers.reduce((n, w) => n + w.heapUsedBytes, 0),
  };
}

const starters = targetStarters({ ...values, workers: values.workers });

/** Seconds to wait before reading RSS (before opening sessions, and after). */
const settleMs = Number(values.settle) * 1000;
const settle = () => new Promise((r) => setTimeout(r, settleMs));

async function idle(target: Target, transport: Transport): Promise<IdleRow> {
  await settle();
  const baseline = treeRssBytes(target.pid);
  const heapBefore = await heaps(target);
  const sessions: LoadSession[] = [];
  let accepted = 0;
  let note: string | undefined;
  for (let i = 0; i < count && !note; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) =>
      transport === 'sse'
        ? new SseLoadSession(target.origin, target.ssePath, `i${i + j}`)
        : new StreamableLoadSession(target.origin, target.mcpPath, `i${i + j}`),
    );
    sessions.push(...batch);
    const results = await Promise.allSettled(batch.map((s) => s.open()));
    accepted += results.filter((r) => r.status === 'fulfilled').length;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed)
      note = `refused at session ${accepted + 1}: ${String(failed.reason?.message ?? failed.reason)}`;
    const rss = treeRssBytes(target.pid);
    if (rss > RSS_LIMIT_BYTES) note = `aborted at ${Math.round(rss / 2 ** 30)} GiB RSS, ${accepted} sessions`;
  }
  await settle();
  const rss = treeRssBytes(target.pid);
  const heapAfter = await heaps(target);
  for (const s of sessions) s.close();
  const perSession = (bytes: number) => Math.round((bytes / Math.max(1, accepted) / 1024) * 10) / 10;
  return {
    transport,
    target: target.name,
    requested: count,
    accepted,
    baselineMiB: Math.round(baseline / 2 ** 20),
    rssMiB: Math.round(rss / 2 ** 20),
    kibPerSession: accepted > 0 ? perSession(rss - baseline) : 0,
    ...(heapBefore && heapAfter
      ? {
          heap: {
            mainKiB: perSession(heapAfter.main - heapBefore.main),
            workersKiB: perSession(heapAfter.workers - heapBefore.workers),
          },
        }
      : {}),
    ...(note ? { note } : {}),
  };
}

function table(rows: IdleRow[]): string {
  return [
    '| transport | target | sessions | accepted | baseline RSS | RSS with sessions | RSS per session | of which heap: main / workers | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.transport} | ${r.target} | ${r.requested} | ${r.accepted} | ${r.baselineMiB} MiB | ${r.rssMiB} MiB | ${r.kibPerSession} KiB | ${r.heap ? `${r.heap.mainKiB} / ${r.heap.workersKiB} KiB` : ''} | ${r.note ?? ''} |`,
    ),
  ].join('\n');
}

const rows: IdleRow[] = [];
const idleTransports = transportsFlag(values.transport);
if (idleTransports.includes('modern'))
  throw new Error('--transport modern: 2026-07-28 has no sessions, so there is nothing to hold idle');
for (const transport of idleTransports) {
  for (const starter of starters) {
    const target = await starter.start(transport);
    try {
      const row = await idle(target, transport);
      rows.push(row);
      console.log(table([row]).split('\n').at(-1));
    } finally {
      await target.stop();
    }
  }
}
const command = `npm run bench:idle -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(`\n${table(rows)}\n\ncommand: ${command}`);
const file = writeResults('idle-latest.json', { machine: machineInfo(), command, rows });
writeFileSync(file.replace(/\.json$/, '.md'), `${table(rows)}\n\ncommand: \`${command}\`\n`);
console.log(`written to ${file} (.md)`);
process.exit(0);
