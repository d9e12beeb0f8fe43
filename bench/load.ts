import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chart } from './load/chart.js';
import { measure, type Row } from './load/measure.js';
import { list, targetStarters, transportsFlag } from './load/targets.js';
import { machineInfo, writeResults } from './micro-harness.js';

/**
 * `npm run bench:load -- [--transport sse,streamable,modern] [--sessions 1,100,1000] [--workers 1,2]
 *   [--engine auto | uws,node | uws,node@24] [--inflight 1] [--payload 64] [--duration 5] [--compare supergateway,mcp-proxy] [--ceiling yes|no]
 *   [--naming on | on,off]`
 *
 * `--naming off` adds mcp-runner with bare names and no filters beside the default (namespaced, with a
 * tool filter and an override configured), to measure what naming costs.
 *
 * For each transport and session count, starts each target afresh on the echo fixture (mcp-runner once
 * per engine and worker count, then the peers, then the in-process uWS ceiling), drives N sessions from this process
 * in a closed loop, and reports calls/s, latency percentiles, errors, misdelivered answers, and the
 * target's process-tree CPU and peak RSS. Targets alternate within one run, so ratios compare like with
 * like. Writes bench/results/load-latest.{json,md,svg}.
 */
const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'sse,streamable' },
    sessions: { type: 'string', default: '1,100,1000' },
    workers: { type: 'string', default: '1,2' },
    engine: { type: 'string', default: 'auto' },
    duration: { type: 'string', default: '5' },
    inflight: { type: 'string', default: '1' },
    payload: { type: 'string', default: '64' },
    compare: { type: 'string', default: '' },
    ceiling: { type: 'string', default: 'yes' },
    naming: { type: 'string', default: 'on' },
  },
});
const transports = transportsFlag(values.transport);
const starters = targetStarters(values);
const options = {
  durationS: Number(values.duration),
  inflight: Number(values.inflight),
  payload: Number(values.payload),
};

function table(rows: Row[]): string {
  return [
    '| transport | target | sessions | calls/s | p50 ms | p90 ms | p99 ms | max ms | errors | misdelivered | CPU | peak RSS | generator µs/call | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.transport} | ${r.target} | ${r.sessions} | ${r.callsPerSecond} | ${r.p50Ms} | ${r.p90Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.errors} | ${r.misdelivered} | ${r.cpuPercent}% | ${r.peakRssMiB} MiB | ${r.generatorUsPerCall} | ${r.note ?? ''} |`,
    ),
  ].join('\n');
}

/** The engine a row of ours ran on (`mcp-runner 2w node@24` -> `node@24`). */
const engineOf = (target: string) => target.split(' ')[2] ?? '';

/**
 * Each engine's best worker count against each other target, per transport and session count, and
 * each engine against the first one named in `--engine`.
 */
function ratios(rows: Row[]): string[] {
  const lines: string[] = [];
  for (const transport of transports) {
    for (const sessions of [...new Set(rows.map((r) => r.sessions))]) {
      const here = rows.filter((r) => r.transport === transport && r.sessions === sessions);
      const bestPerEngine = [...new Set(here.filter(ours).map((r) => engineOf(r.target)))].map((engine) =>
        here
          .filter((r) => ours(r) && engineOf(r.target) === engine)
          .reduce((a, b) => (b.callsPerSecond > a.callsPerSecond ? b : a)),
      );
      const [first, ...others] = bestPerEngine;
      if (!first) continue;
      for (const other of others) {
        const ratio =
          first.callsPerSecond > 0 ? (other.callsPerSecond / first.callsPerSecond).toFixed(2) : '∞';
        lines.push(
          `${transport}, ${sessions} sessions: ${other.target} ${other.callsPerSecond} calls/s = ${ratio} x ${first.target} (${first.callsPerSecond})`,
        );
      }
      for (const best of bestPerEngine) lines.push(...versusPeers(best, here));
    }
  }
  return lines;
}

const ours = (row: Row) => row.target.startsWith('mcp-runner');

/** One of our rows against every peer's row of the same transport and session count. */
function versusPeers(best: Row, here: Row[]): string[] {
  return here
    .filter((r) => !ours(r))
    .map((other) => {
      const ratio = other.callsPerSecond > 0 ? (best.callsPerSecond / other.callsPerSecond).toFixed(2) : '∞';
      return `${best.transport}, ${best.sessions} sessions: ${best.target} ${best.callsPerSecond} calls/s = ${ratio} x ${other.target} (${other.callsPerSecond})`;
    });
}

const rows: Row[] = [];
const sessionCounts = list(values.sessions).map(Number);
for (const transport of transports) {
  for (const sessions of sessionCounts) {
    for (const starter of starters) {
      const target = await starter.start(transport);
      try {
        const row = await measure(target, transport, { ...options, sessions });
        rows.push(row);
        console.log(table([row]).split('\n').at(-1));
      } finally {
        await target.stop();
      }
    }
  }
}

const command = `npm run bench:load -- ${process.argv.slice(2).join(' ')}`.trim();
const summary = ratios(rows);
const settings = `payload ${options.payload} B, ${options.inflight} in flight per session, ${options.durationS} s per row after 1 s of warm-up`;
console.log(`\n${table(rows)}\n\n${summary.join('\n')}\n\ncommand: ${command}; ${settings}`);
const file = writeResults('load-latest.json', {
  machine: machineInfo(),
  command,
  ...options,
  rows,
  ratios: summary,
});
writeFileSync(
  file.replace(/\.json$/, '.md'),
  `${table(rows)}\n\n${summary.map((l) => `- ${l}`).join('\n')}\n\ncommand: \`${command}\` (${settings})\n`,
);
writeFileSync(file.replace(/\.json$/, '.svg'), chart(rows));
console.log(`written to ${file} (.md, .svg)`);
