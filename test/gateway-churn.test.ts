import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { LoadSession } from '../bench/load/load-session.js';
import { SseLoadSession } from '../bench/load/sse-load-session.js';
import { StreamableLoadSession } from '../bench/load/streamable-load-session.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';

const node = process.execPath;

interface Status {
  sessions: number;
  inflight: number;
  workers: Array<{ streams: number; pendingRequests: number; bufferedBytes: number; heapUsedBytes: number }>;
  main: { heapUsedBytes: number };
}

async function status(url: string): Promise<Status> {
  return (await (await fetch(`${url}/status`)).json()) as Status;
}

/**
 * Nothing left anywhere: no session, no call in flight, no stream, no buffered byte, and no waiting
 * request but the one asking for this status.
 */
function empty(s: Status): boolean {
  return (
    s.sessions === 0 &&
    s.inflight === 0 &&
    s.workers.every((w) => w.streams === 0 && w.bufferedBytes === 0) &&
    s.workers.reduce((n, w) => n + w.pendingRequests, 0) === 1
  );
}

const MiB = 2 ** 20;

/**
 * A full garbage collection of this thread, which is also the gateway's main thread here (and the load
 * generator's), so that what is left on the heap is what something still holds.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('gateway: client churn and reconnect storms', { timeout: 180_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    // Sessions abandoned without DELETE (half of the Streamable ones) expire after 2 s of idleness.
    gw = await startTestGateway(
      { echo: { command: node, args: [fixturePath('echo-server')] } },
      { sessionIdleTimeoutMs: 2000, maxSessions: 100_000 },
    );
  });
  after(() => gw.stop());

  /** Opens, uses and closes `waves` x 500 sessions, half politely, half by dropping the connection. */
  async function churn(waves: number, label: string): Promise<{ answered: number; misdelivered: number }> {
    const PER_WAVE = 500;
    let answered = 0;
    let misdelivered = 0;
    for (let wave = 0; wave < waves; wave++) {
      const sessions: LoadSession[] = Array.from({ length: PER_WAVE }, (_, i) =>
        i % 2 === 0
          ? new SseLoadSession(gw.url, '/sse', `${label}${wave}s${i}`)
          : new StreamableLoadSession(gw.url, '/mcp', `${label}${wave}s${i}`),
      );
      await Promise.all(sessions.map((s) => s.open()));
      const results = await Promise.all(sessions.map((s) => s.call(64)));
      answered += results.filter(Boolean).length;
      misdelivered += sessions.reduce((n, s) => n + s.misdelivered, 0);
      for (const [i, s] of sessions.entries()) {
        if (i % 4 < 2) s.close();
        else s.abandon();
      }
    }
    assert.ok(
      await waitForAsync(async () => empty(await status(gw.url)), 15_000),
      `all tables empty: ${JSON.stringify(await status(gw.url))}`,
    );
    return { answered, misdelivered };
  }

  test('10,000 sessions opened, used and closed in waves (half abruptly) leave nothing behind', async (t) => {
    // A first round warms up what is made once (compiled code, pools, buffers); the baseline is after it.
    await churn(10, 'warm');
    collectGarbage();
    const baseline = await status(gw.url);
    const { answered, misdelivered } = await churn(20, 'w');
    assert.equal(answered, 10_000, 'every session got its answer');
    assert.equal(misdelivered, 0);
    collectGarbage();
    const end = await status(gw.url);
    const grew = (end.main.heapUsedBytes - baseline.main.heapUsedBytes) / MiB;
    t.diagnostic(
      `main heap ${Math.round(baseline.main.heapUsedBytes / MiB)} -> ${Math.round(end.main.heapUsedBytes / MiB)} MiB after 10,000 sessions`,
    );
    assert.ok(grew < 8, `the main thread's heap returns near its baseline (grew ${grew.toFixed(1)} MiB)`);
  });

  test('a reconnect storm: 1,000 clients connecting at once are all accepted and served', async () => {
    const sessions = Array.from({ length: 1000 }, (_, i) =>
      i % 2 === 0
        ? new SseLoadSession(gw.url, '/sse', `r${i}`)
        : new StreamableLoadSession(gw.url, '/mcp', `r${i}`),
    );
    const opened = await Promise.allSettled(sessions.map((s) => s.open()));
    const refused = opened.filter((o) => o.status === 'rejected');
    assert.equal(
      refused.length,
      0,
      `refused: ${refused.map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3)}`,
    );
    assert.equal((await status(gw.url)).sessions, 1000);
    const results = await Promise.all(sessions.map((s) => s.call(64)));
    assert.equal(results.filter(Boolean).length, 1000);
    for (const s of sessions) s.close();
    assert.ok(
      await waitForAsync(async () => empty(await status(gw.url)), 15_000),
      `all tables empty: ${JSON.stringify(await status(gw.url))}`,
    );
  });
});
