import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { startCli } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { connectStreamable } from './support/gateway.js';
import { TEST_HTTP_ENGINE } from './support/http-engine.js';
import { fixturePath } from './support/paths.js';
import { isAlive, waitFor } from './support/processes.js';

const node = process.execPath;
const MiB = 1024 * 1024;
// The limits of src/main/server-process.ts (stderr) and src/main/json-rpc-connection.ts (stdout noise).
const STDERR_LINES_PER_S = 50;
const NOISE_LINES_PER_S = 20;

/** A field of /proc/<pid>/status in bytes (VmRSS now, VmHWM the peak so far). */
function procBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) * 1024;
}

const textOf = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text ?? '';

interface LogEntry {
  time: number;
  server?: string;
  msg: string;
  suppressed?: number;
  bytes?: number;
}

describe('gateway: a backend that floods stdout and stderr', { timeout: 60_000 }, () => {
  test('the gateway stays up, bounded in memory and in log lines; every session carries on', async () => {
    const port = await freePort();
    const cli = await startCli(
      {
        mcpServers: {
          flood: { command: node, args: [fixturePath('flood-server')] },
          echo: { command: node, args: [fixturePath('echo-server')] },
        },
        sseProxy: { port, workers: 2, httpEngine: TEST_HTTP_ENGINE },
      },
      // A backend's stderr lines are logged at info.
      { logLevel: 'info' },
    );
    const gatewayPid = cli.child.pid!;
    const url = `http://127.0.0.1:${port}`;
    const floodServer = async () =>
      (
        (await (await fetch(`${url}/status`)).json()) as { servers: Array<Record<string, unknown>> }
      ).servers.find((s) => s.name === 'flood')!;
    try {
      const flooder = (await connectStreamable(`${url}/servers/flood/mcp`)).client;
      const other = (await connectStreamable(`${url}/servers/echo/mcp`)).client;
      // Warm both paths up before the baseline, so first-use allocations do not count as flood growth.
      assert.equal(textOf(await flooder.callTool({ name: 'echo', arguments: { text: 'warm' } })), 'warm');
      assert.equal(textOf(await other.callTool({ name: 'echo', arguments: { text: 'warm' } })), 'warm');
      const before = await floodServer();
      const baseline = procBytes(gatewayPid, 'VmRSS');
      let sampledPeak = baseline;
      const sampler = setInterval(() => {
        sampledPeak = Math.max(sampledPeak, procBytes(gatewayPid, 'VmRSS'));
      }, 20);

      // Another server's session keeps calling through the whole flood; each answer must be its own.
      let flooding = true;
      const answeredAt: number[] = [];
      const otherSession = (async () => {
        for (let i = 0; flooding; i++) {
          const text = `during ${i}`;
          assert.equal(textOf(await other.callTool({ name: 'echo', arguments: { text } })), text);
          answeredAt.push(Date.now());
        }
      })();
      otherSession.catch(() => {}); // awaited below; this only keeps a failure from being "unhandled" till then
      const started = Date.now();
      const answer = await flooder
        .callTool({ name: 'flood', arguments: { mb: 24, hugeMb: 8 } })
        .finally(() => {
          flooding = false;
        });
      const floodMs = Date.now() - started;
      await otherSession;
      clearInterval(sampler);
      // VmHWM catches a peak between two samples (it is at least the true peak: an upper bound).
      const peak = Math.max(sampledPeak, procBytes(gatewayPid, 'VmHWM'));
      const wrote = JSON.parse(textOf(answer)) as {
        stdoutLines: number;
        stderrLines: number;
        bytes: number;
        hugeBytes: number;
        startedAt: number;
        pumpedAt: number;
      };
      const answeredDuringFlood = answeredAt.filter((t) => t > wrote.startedAt && t < wrote.pumpedAt).length;
      assert.ok(wrote.bytes >= 50 * MiB, `the flood was ${wrote.bytes} bytes`);

      // Alive, the flooding backend not restarted (an 8 MiB line is under the 64 MiB line limit), and it
      // still answers.
      assert.equal(cli.child.exitCode, null);
      assert.ok(isAlive(gatewayPid));
      const after = await floodServer();
      assert.equal(after.status, 'running');
      assert.equal(after.pid, before.pid);
      assert.equal(after.restarts, 0);
      assert.equal(textOf(await flooder.callTool({ name: 'echo', arguments: { text: 'after' } })), 'after');
      assert.ok(answeredDuringFlood >= 1, 'the other session got answers while the flood was pumped');

      const growth = peak - baseline;
      assert.ok(growth < 150 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB during the flood`);

      // Dropped lines are counted: by the next line let through, or by a summary line at the end of the
      // window they were dropped in. So the log accounts for each line exactly, while printing few.
      assert.ok(await waitFor(() => cli.stderr().includes('flood-stderr done'), 5_000));
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // the last window's summary
      const entries = `${cli.stdout()}\n${cli.stderr()}`
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogEntry)
        .filter((entry) => entry.server === 'flood');
      const stderrLogged = entries.filter((e) => e.msg.startsWith('flood-stderr'));
      const stderrSummaries = entries.filter((e) => e.msg.endsWith('more stderr lines dropped'));
      const noiseLogged = entries.filter((e) => e.msg.startsWith('non-JSON-RPC line on stdout'));
      const noiseSummaries = entries.filter((e) =>
        e.msg.endsWith('more non-JSON-RPC lines on stdout dropped'),
      );
      const suppressed = (logged: LogEntry[]) => logged.reduce((n, e) => n + (e.suppressed ?? 0), 0);
      // At most `limit` lines per limiter window; windows last >= 1 s, so a span of s ms meets at most
      // ceil(s / 1000) + 1 of them.
      const withinRate = (logged: LogEntry[], limit: number) =>
        logged.length <= limit * (Math.ceil((logged.at(-1)!.time - logged[0]!.time) / 1000) + 1);
      for (const [logged, summaries, written, limit] of [
        [stderrLogged, stderrSummaries, wrote.stderrLines, STDERR_LINES_PER_S],
        [noiseLogged, noiseSummaries, wrote.stdoutLines, NOISE_LINES_PER_S],
      ] as const) {
        assert.equal(
          logged.length + suppressed(logged) + suppressed(summaries),
          written,
          'logged + reported suppressed = written',
        );
        assert.ok(summaries.length > 0, 'a burst is summed up at the end of its window');
        assert.ok(logged.length * 100 < written, `${logged.length} log lines for ${written} lines`);
        assert.ok(withinRate(logged, limit), `${logged.length} lines at most ${limit}/s`);
        assert.ok(summaries.length <= logged.length, 'at most one summary per window');
      }
      // The huge line was buffered whole (under the limit), logged once with its size, its text cut short.
      assert.equal(noiseLogged[0]!.bytes, wrote.hugeBytes);
      assert.ok(noiseLogged[0]!.msg.length < 300);
      assert.ok(!entries.some((e) => /too large/i.test(e.msg)), 'no line passed the limit');

      console.log(
        `flood ${(wrote.bytes / MiB).toFixed(1)} MiB (${wrote.stdoutLines} stdout + ${wrote.stderrLines} stderr ` +
          `lines, one of ${(wrote.hugeBytes / MiB).toFixed(1)} MiB) answered in ${floodMs} ms; RSS baseline ` +
          `${(baseline / MiB).toFixed(1)} MiB, sampled peak ${(sampledPeak / MiB).toFixed(1)} MiB, VmHWM-based ` +
          `peak ${(peak / MiB).toFixed(1)} MiB; log lines: ${stderrLogged.length} stderr, ${noiseLogged.length} ` +
          `stdout noise; ${answeredDuringFlood} echo calls answered while the flood was pumped ` +
          `(${wrote.pumpedAt - wrote.startedAt} ms)`,
      );
      await flooder.close();
      await other.close();
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0, 'a clean shutdown after the flood');
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
