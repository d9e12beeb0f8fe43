import { treeCpuSeconds, treeRssBytes, watchPeakRss } from '../process-tree.js';
import type { LoadSession } from './load-session.js';
import { SseLoadSession } from './sse-load-session.js';
import { StreamableLoadSession } from './streamable-load-session.js';
import type { Target, Transport } from './targets.js';

export interface LoadOptions {
  sessions: number;
  durationS: number;
  inflight: number;
  payload: number;
}

export interface Row {
  target: string;
  transport: Transport;
  sessions: number;
  callsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  calls: number;
  errors: number;
  misdelivered: number;
  cpuPercent: number;
  peakRssMiB: number;
  /**
   * This process's CPU (user + system) over the measured window per answered call: the generator and the
   * harness around it, shown so a reader can tell whether the generator, not the target, was the limit.
   */
  generatorUsPerCall: number;
  /** Why a row has no numbers, or what else happened. */
  note?: string;
}

const OPEN_BATCH = 50;
/** A target whose process tree grows past this while sessions open is given up on (one peer forks per session). */
const RSS_LIMIT_BYTES = 6 * 2 ** 30;
const OPEN_DEADLINE_MS = 90_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number) => Math.round(n * 100) / 100;

function emptyRow(target: Target, transport: Transport, sessions: number, note: string): Row {
  return {
    target: target.name,
    transport,
    sessions,
    callsPerSecond: 0,
    p50Ms: 0,
    p90Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    calls: 0,
    errors: 0,
    misdelivered: 0,
    cpuPercent: 0,
    generatorUsPerCall: 0,
    peakRssMiB: Math.round(treeRssBytes(target.pid) / 2 ** 20),
    note,
  };
}

/** Opens the sessions, runs a closed loop for the duration (after a 1 s warm-up), and reports. */
export async function measure(target: Target, transport: Transport, options: LoadOptions): Promise<Row> {
  const sessions: LoadSession[] = [];
  const openStarted = Date.now();
  try {
    for (let i = 0; i < options.sessions; i += OPEN_BATCH) {
      const batch = Array.from({ length: Math.min(OPEN_BATCH, options.sessions - i) }, (_, j) =>
        transport === 'sse'
          ? new SseLoadSession(target.origin, target.ssePath, `s${i + j}`, target.tool)
          : new StreamableLoadSession(
              target.origin,
              target.mcpPath,
              `s${i + j}`,
              transport === 'modern' ? 'modern' : '2025',
              target.tool,
            ),
      );
      sessions.push(...batch);
      await Promise.all(batch.map((s) => s.open()));
      const rss = treeRssBytes(target.pid);
      if (rss > RSS_LIMIT_BYTES)
        return emptyRow(
          target,
          transport,
          options.sessions,
          `aborted: ${Math.round(rss / 2 ** 30)} GiB RSS at ${sessions.length} sessions`,
        );
      if (Date.now() - openStarted > OPEN_DEADLINE_MS)
        return emptyRow(
          target,
          transport,
          options.sessions,
          `aborted: only ${sessions.length} sessions opened in ${OPEN_DEADLINE_MS / 1000} s`,
        );
    }
  } catch (error) {
    for (const s of sessions) s.close();
    return emptyRow(
      target,
      transport,
      options.sessions,
      `aborted: opening session ${sessions.length} failed: ${(error as Error).message}`,
    );
  }
  let measuring = false;
  let running = true;
  const latencies: number[] = [];
  let errors = 0;
  const loop = async (session: LoadSession) => {
    while (running) {
      const started = performance.now();
      const ok = await session.call(options.payload);
      if (!measuring) continue;
      if (ok) latencies.push(performance.now() - started);
      else errors += 1;
    }
  };
  const loops = sessions.flatMap((s) => Array.from({ length: options.inflight }, () => loop(s)));
  await new Promise((r) => setTimeout(r, 1000)); // warm-up, not counted
  const cpuBefore = treeCpuSeconds(target.pid);
  const rss = watchPeakRss(target.pid);
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, options.durationS * 1000));
  measuring = false;
  const generator = process.cpuUsage(generatorBefore);
  const elapsedS = (performance.now() - started) / 1000;
  const cpuS = treeCpuSeconds(target.pid) - cpuBefore;
  const peak = rss.stop();
  running = false;
  // Calls a collapsing target never answers end with their sessions.
  for (const s of sessions) s.close();
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 10_000))]);
  latencies.sort((a, b) => a - b);
  return {
    target: target.name,
    transport,
    sessions: options.sessions,
    callsPerSecond: Math.round(latencies.length / elapsedS),
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? 0),
    calls: latencies.length,
    errors,
    misdelivered: sessions.reduce((n, s) => n + s.misdelivered, 0),
    cpuPercent: Math.round((cpuS / elapsedS) * 100),
    peakRssMiB: Math.round(peak / 2 ** 20),
    generatorUsPerCall:
      latencies.length > 0 ? round((generator.user + generator.system) / latencies.length) : 0,
  };
}
