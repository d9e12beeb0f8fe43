import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/free-port.js';
import { LoadSession } from './load-client.js';
import { machineInfo, writeResults } from './micro-harness.js';
import { treeCpuSeconds, watchPeakRss } from './process-tree.js';

/**
 * `npm run bench:load -- --workers 1,2 --sessions 1,100,1000 --duration 5`
 *
 * Starts the gateway (the real CLI, as its own process) on the echo fixture, drives N concurrent legacy
 * SSE sessions from this process in a closed loop (each session keeps `--inflight` calls going), and
 * reports throughput, latency percentiles, errors, misdelivered answers, and the gateway process tree's
 * CPU and peak RSS. One row per worker count and session count.
 */
const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    sessions: { type: 'string', default: '1,100,1000' },
    duration: { type: 'string', default: '5' },
    inflight: { type: 'string', default: '1' },
    payload: { type: 'string', default: '64' },
    transport: { type: 'string', default: 'sse' },
  },
});
const list = (text: string) => text.split(',').map((v) => Number(v.trim()));
const workerCounts = list(values.workers);
const sessionCounts = list(values.sessions);
const durationS = Number(values.duration);
const inflight = Number(values.inflight);
const payload = Number(values.payload);
if (values.transport !== 'sse') throw new Error('only --transport sse is implemented so far');

const root = fileURLToPath(new URL('../../', import.meta.url));
const OPEN_BATCH = 100;

interface Row {
  transport: string;
  workers: number;
  sessions: number;
  callsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  calls: number;
  errors: number;
  misdelivered: number;
  gatewayCpuPercent: number;
  gatewayPeakRssMiB: number;
}

async function startGateway(workers: number): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcpr-bench-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      mcpServers: {
        echo: { command: process.execPath, args: [join(root, 'dist/test/fixtures/echo-server.js')] },
      },
      sseProxy: { port, workers, maxSessions: 1_000_000 },
    }),
  );
  const child = spawn(
    process.execPath,
    [join(root, 'dist/src/main/cli.js'), '--config', config, '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  // Ready means: the workers answer and the backend has finished its handshake.
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/status`).then(
      async (r) =>
        r.status === 200 &&
        ((await r.json()) as { servers: Array<{ status: string }> }).servers[0]?.status === 'running',
      () => false,
    );
    if (ok) return { child, url };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('the gateway did not become healthy');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(url: string, gatewayPid: number, workers: number, count: number): Promise<Row> {
  const sessions: LoadSession[] = [];
  for (let i = 0; i < count; i += OPEN_BATCH) {
    const batch = Array.from(
      { length: Math.min(OPEN_BATCH, count - i) },
      (_, j) => new LoadSession(url, `s${i + j}`),
    );
    await Promise.all(batch.map((s) => s.open()));
    sessions.push(...batch);
  }
  let measuring = false;
  let running = true;
  const latencies: number[] = [];
  let errors = 0;
  const loop = async (session: LoadSession) => {
    while (running) {
      const started = performance.now();
      const ok = await session.call(payload).catch(() => false);
      if (!measuring) continue;
      if (ok) latencies.push(performance.now() - started);
      else errors += 1;
    }
  };
  const loops = sessions.flatMap((s) => Array.from({ length: inflight }, () => loop(s)));
  await new Promise((r) => setTimeout(r, 1000)); // warm-up, not counted
  const cpuBefore = treeCpuSeconds(gatewayPid);
  const rss = watchPeakRss(gatewayPid);
  const started = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, durationS * 1000));
  measuring = false;
  const elapsedS = (performance.now() - started) / 1000;
  const cpuS = treeCpuSeconds(gatewayPid) - cpuBefore;
  const peak = rss.stop();
  running = false;
  await Promise.all(loops);
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    transport: 'sse',
    workers,
    sessions: count,
    callsPerSecond: Math.round(latencies.length / elapsedS),
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? 0),
    calls: latencies.length,
    errors,
    misdelivered: sessions.reduce((n, s) => n + s.misdelivered, 0),
    gatewayCpuPercent: Math.round((cpuS / elapsedS) * 100),
    gatewayPeakRssMiB: Math.round(peak / 2 ** 20),
  };
}

function table(rows: Row[]): string {
  return [
    '| transport | workers | sessions | calls/s | p50 ms | p90 ms | p99 ms | max ms | errors | misdelivered | gateway CPU | gateway peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.transport} | ${r.workers} | ${r.sessions} | ${r.callsPerSecond} | ${r.p50Ms} | ${r.p90Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.errors} | ${r.misdelivered} | ${r.gatewayCpuPercent}% | ${r.gatewayPeakRssMiB} MiB |`,
    ),
  ].join('\n');
}

const rows: Row[] = [];
for (const workers of workerCounts) {
  const { child, url } = await startGateway(workers);
  try {
    for (const count of sessionCounts) {
      const row = await measure(url, child.pid!, workers, count);
      rows.push(row);
      console.log(table([row]).split('\n').at(-1));
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
const command = `npm run bench:load -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(
  `\n${table(rows)}\n\ncommand: ${command}; payload ${payload} B, ${inflight} in flight per session, ${durationS} s per row`,
);
const file = writeResults('load-latest.json', {
  machine: machineInfo(),
  command,
  durationS,
  inflight,
  payload,
  rows,
});
writeFileSync(file.replace(/\.json$/, '.md'), `${table(rows)}\n\ncommand: \`${command}\`\n`);
console.log(`written to ${file}`);
