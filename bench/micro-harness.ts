import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

/** One timed case: `run` does `unitsPerRun` units of work (messages, frames...) per call. */
export interface MicroCase {
  group: string;
  name: string;
  unitsPerRun: number;
  unit: string;
  /** Runs once before timing and throws if the result is wrong: a fast wrong answer is worthless. */
  verify(): void | Promise<void>;
  run(): void | Promise<void>;
}

export interface MicroResult {
  group: string;
  name: string;
  unit: string;
  medianMs: number;
  p99Ms: number;
  unitsPerSecond: number;
  samples: number;
}

/** Runs every case under tinybench and reports the median, since this machine's other core is noisy. */
export async function runMicro(cases: readonly MicroCase[], timeMs = 400): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const c of cases) {
    await c.verify();
    const bench = new Bench({ time: timeMs, warmupTime: 100 });
    bench.add(c.name, c.run);
    await bench.run();
    const task = bench.tasks[0];
    const result = task?.result;
    if (result?.state !== 'completed') throw new Error(`${c.group}/${c.name} did not complete`);
    const median = result.latency.p50;
    results.push({
      group: c.group,
      name: c.name,
      unit: c.unit,
      medianMs: median,
      p99Ms: result.latency.p99,
      unitsPerSecond: median > 0 ? (c.unitsPerRun * 1000) / median : 0,
      samples: result.latency.samplesCount,
    });
  }
  return results;
}

function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(1);
}

export function formatMicroTable(results: readonly MicroResult[]): string {
  const rows = [
    '| group | case | median per run | p99 per run | throughput |',
    '|---|---|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.group} | ${r.name} | ${(r.medianMs * 1000).toFixed(1)} µs | ${(r.p99Ms * 1000).toFixed(1)} µs | ${formatRate(r.unitsPerSecond)} ${r.unit}/s |`,
    ),
  ];
  return rows.join('\n');
}

export function machineInfo() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString(),
  };
}

/** Writes results next to the sources (bench/results), not into dist, so they can be committed. */
export function writeResults(name: string, data: unknown): string {
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${name}`;
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
