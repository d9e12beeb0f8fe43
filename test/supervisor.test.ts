import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { McpRunner, type StatusChange } from '../src/index.js';
import { ConnectionClosedError, ServerProcessError } from '../src/shared/errors.js';
import { fixturePath } from './support/paths.js';
import { isAlive, waitFor } from './support/processes.js';
import { testLogger } from './support/quiet-logger.js';

const node = process.execPath;
const fastRestart = { initialDelayMs: 50, maxDelayMs: 400, multiplier: 2, maxRetries: 3 };

function runnerFor(servers: Record<string, Record<string, unknown>>): McpRunner {
  return new McpRunner({ mcpServers: servers } as never, { logger: testLogger() });
}

describe('Supervisor', () => {
  const runners: McpRunner[] = [];
  const track = (runner: McpRunner) => {
    runners.push(runner);
    return runner;
  };
  after(async () => {
    await Promise.all(runners.map((r) => r.stopAllServers()));
  });

  test('a crash mid-call rejects every pending call fast, then the server restarts with backoff', async () => {
    const runner = track(
      runnerFor({
        crashy: {
          command: node,
          args: [fixturePath('crash-on-call-server'), '--delay-ms', '100'],
          restart: fastRestart,
        },
      }),
    );
    const changes: StatusChange[] = [];
    runner.onStatusChange((c) => changes.push(c));
    await runner.startServer('crashy');
    const firstPid = runner.getAllServerStatuses().crashy!.pid!;
    const client = runner.getClient('crashy');
    const started = Date.now();
    const calls = Array.from({ length: 5 }, (_, i) => client.callTool(i === 0 ? 'crash' : 'wait', {}));
    const outcomes = await Promise.allSettled(calls);
    const elapsedMs = Date.now() - started;
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
    }
    const crashError = (outcomes[0] as PromiseRejectedResult).reason;
    assert.ok(crashError instanceof ConnectionClosedError, `typed error, got ${crashError}`);
    assert.match(crashError.message, /exited \(code 1\)/);
    assert.ok(elapsedMs < 1000, `pending calls rejected within a second (took ${elapsedMs} ms)`);

    assert.ok(await waitFor(() => runner.serverStatus('crashy') === 'running', 5000), 'restarted');
    const status = runner.getAllServerStatuses().crashy!;
    assert.equal(status.restarts, 1);
    assert.notEqual(status.pid, firstPid);
    assert.equal(isAlive(firstPid), false);
    const sequence = changes.map((c) => c.status);
    assert.deepEqual(sequence.slice(-4), ['failed', 'restarting', 'starting', 'running']);
    const echo = await runner.getClient('crashy').callTool('echo', { text: 'back' });
    assert.equal(echo.content[0]?.text, 'back');
  });

  test('after the retry cap the server stays failed and says why', async () => {
    const runner = track(
      runnerFor({
        crashy: {
          command: node,
          args: [fixturePath('crash-on-call-server'), '--crash-on-start'],
          restart: { ...fastRestart, maxRetries: 2 },
          startupTimeoutMs: 2000,
        },
      }),
    );
    await assert.rejects(runner.startServer('crashy'), ServerProcessError);
    assert.equal(runner.serverStatus('crashy'), 'failed');
    assert.match(runner.getAllServerStatuses().crashy!.lastError ?? '', /exited during startup/);
  });

  test('retry cap reached through repeated crashes ends in failed', async () => {
    const runner = track(
      runnerFor({
        crashy: {
          command: node,
          args: [fixturePath('crash-on-call-server')],
          restart: { ...fastRestart, maxRetries: 2 },
        },
      }),
    );
    await runner.startServer('crashy');
    for (let round = 0; round < 3; round++) {
      assert.ok(
        await waitFor(() => runner.serverStatus('crashy') === 'running', 5000),
        `running before crash ${round}`,
      );
      await assert.rejects(runner.getClient('crashy').callTool('crash', {}));
      await waitFor(() => runner.serverStatus('crashy') !== 'running', 2000);
    }
    assert.ok(
      await waitFor(
        () =>
          runner.serverStatus('crashy') === 'failed' && !runner.getAllServerStatuses().crashy!.nextRestartAt,
        5000,
      ),
    );
    const info = runner.getAllServerStatuses().crashy!;
    assert.equal(info.restarts, 2);
    assert.match(info.lastError ?? '', /gave up after 2 restart attempts/);
    assert.throws(() => runner.getClient('crashy'), /not running/);
  });

  test('the hang server ignores stdin close and SIGTERM and is killed by the ladder', async () => {
    const runner = track(
      runnerFor({ hang: { command: node, args: [fixturePath('hang-server')], stopGraceMs: 200 } }),
    );
    await runner.startServer('hang');
    const pid = runner.getAllServerStatuses().hang!.pid!;
    const started = Date.now();
    await runner.stopServer('hang');
    assert.equal(isAlive(pid), false);
    assert.ok(Date.now() - started >= 400, 'both grace periods were waited');
    assert.equal(runner.serverStatus('hang'), 'stopped');
  });

  test('a server that stops answering pings is restarted by the health monitor', async () => {
    const runner = track(
      runnerFor({
        hang: {
          command: node,
          args: [fixturePath('hang-server')],
          health: { intervalMs: 100, timeoutMs: 100, failureThreshold: 2 },
          restart: fastRestart,
          stopGraceMs: 100,
        },
      }),
    );
    await runner.startServer('hang');
    const pid = runner.getAllServerStatuses().hang!.pid!;
    assert.ok(await waitFor(() => runner.getAllServerStatuses().hang!.restarts >= 1, 5000), 'restarted');
    assert.equal(isAlive(pid), false);
    assert.ok(await waitFor(() => runner.serverStatus('hang') === 'running', 5000));
  });

  test('no orphan processes remain after stopAllServers', async () => {
    const runner = track(
      runnerFor({
        a: { command: node, args: [fixturePath('echo-server')] },
        b: { command: node, args: [fixturePath('slow-server')] },
        c: { command: node, args: [fixturePath('hang-server')], stopGraceMs: 100 },
        d: { command: node, args: [fixturePath('noisy-server')] },
      }),
    );
    await runner.startAllServers();
    const pids = Object.values(runner.getAllServerStatuses()).map((s) => s.pid!);
    assert.equal(pids.length, 4);
    for (const pid of pids) assert.ok(isAlive(pid));
    await runner.stopAllServers();
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
    for (const s of Object.values(runner.getAllServerStatuses())) assert.equal(s.status, 'stopped');
  });

  test('a missing command fails with a clear error naming the config path', async () => {
    const runner = track(runnerFor({ ghost: { command: 'definitely-not-a-command-xyz' } }));
    await assert.rejects(runner.startServer('ghost'), (error: unknown) => {
      assert.ok(error instanceof ServerProcessError);
      assert.match(error.message, /command "definitely-not-a-command-xyz" was not found/);
      assert.match(error.message, /mcpServers\.ghost\.command/);
      return true;
    });
    assert.equal(runner.serverStatus('ghost'), 'failed');
  });

  test('a process that never answers initialize fails after startupTimeoutMs', async () => {
    const runner = track(
      runnerFor({
        mute: { command: node, args: ['-e', 'setInterval(() => {}, 1000)'], startupTimeoutMs: 300 },
      }),
    );
    await assert.rejects(runner.startServer('mute'), /did not complete the MCP handshake within 300 ms/);
    assert.equal(runner.serverStatus('mute'), 'failed');
  });

  test('startAllServers starts the good ones and names the bad ones', async () => {
    const runner = track(
      runnerFor({
        good: { command: node, args: [fixturePath('echo-server')] },
        bad: { command: 'no-such-binary-abc' },
        off: { command: 'no-such-binary-abc', disabled: true },
      }),
    );
    await assert.rejects(runner.startAllServers(), /1 server\(s\) failed to start:\n {2}- bad:/);
    assert.equal(runner.serverStatus('good'), 'running');
    assert.equal(runner.serverStatus('off'), 'stopped');
    assert.equal(runner.getAllServerStatuses().off!.disabled, true);
  });

  test('noisy stdout and stderr do not disturb the protocol', async () => {
    const runner = track(runnerFor({ noisy: { command: node, args: [fixturePath('noisy-server')] } }));
    await runner.startServer('noisy');
    const client = runner.getClient('noisy');
    for (let i = 0; i < 20; i++) {
      const result = await client.callTool('echo', { text: `n${i}` });
      assert.equal(result.content[0]?.text, `n${i}`);
    }
    assert.equal(runner.serverStatus('noisy'), 'running');
  });

  test('a stderr line over the limit is reported, and last words without a newline are kept', async () => {
    const lines: Array<{ msg: string; bytes?: number }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const script =
      "process.stderr.write('x'.repeat(20000) + '\\n'); process.stderr.write('last words', () => process.exit(3))";
    const runner = track(
      new McpRunner(
        { mcpServers: { dying: { command: node, args: ['-e', script], restart: { enabled: false } } } },
        { logger },
      ),
    );
    await assert.rejects(runner.startServer('dying'));
    assert.ok(
      await waitFor(() => lines.some((l) => l.msg === 'last words'), 5_000),
      'the unterminated last line is logged when stderr ends',
    );
    const dropped = lines.find((l) => l.msg.startsWith('stderr line of 20000 bytes dropped'));
    assert.equal(dropped?.bytes, 20000, JSON.stringify(lines.map((l) => l.msg)));
  });

  test('a multi-megabyte result arrives intact', async () => {
    const runner = track(runnerFor({ big: { command: node, args: [fixturePath('big-server')] } }));
    await runner.startServer('big');
    const result = await runner.getClient('big').callTool('big', { mb: 5 });
    const text = result.content[0]?.text as string;
    assert.equal(text.length, 5 * 1024 * 1024);
    const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789';
    assert.equal(text, pattern.repeat(Math.ceil(text.length / pattern.length)).slice(0, text.length));
  });

  test('server-to-client requests and notifications are surfaced to the library user', async () => {
    const runner = new McpRunner(
      { mcpServers: { notify: { command: node, args: [fixturePath('notify-server')] } } },
      { logger: testLogger(), clientOptions: { capabilities: { sampling: {} } } },
    );
    track(runner);
    await runner.startServer('notify');
    const client = runner.getClient('notify');
    const seen: string[] = [];
    client.onNotification((n) => seen.push(n.method));
    client.setRequestHandler('sampling/createMessage', (params) => {
      const messages = params.messages as Array<{ content: { text: string } }>;
      return {
        role: 'assistant',
        model: 'test',
        content: { type: 'text', text: `sampled: ${messages[0]!.content.text}` },
      };
    });
    const sampled = await client.callTool('sample', { prompt: 'hello' });
    assert.match(JSON.stringify(sampled.content), /sampled: hello/);
    await client.callTool('notify', {});
    assert.ok(await waitFor(() => seen.includes('notifications/tools/list_changed'), 2000));
    assert.ok(seen.includes('notifications/message'));
  });
});
