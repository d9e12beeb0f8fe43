import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { connectSse, connectStreamable, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { isAlive, waitForAsync } from './support/processes.js';
import { openRawSse } from './support/raw-sse.js';

const node = process.execPath;

interface ServerStatus {
  name: string;
  status: string;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  inFlight: number;
}

async function serverStatus(url: string, name: string): Promise<ServerStatus> {
  const body = (await (await fetch(`${url}/status`)).json()) as { servers: ServerStatus[] };
  return body.servers.find((s) => s.name === name)!;
}

const echoText = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text;

describe('gateway: a backend killed with SIGKILL mid-call', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      echo: {
        command: node,
        args: [fixturePath('echo-server')],
        restart: { initialDelayMs: 200, maxRetries: 1 },
      },
    });
  });
  after(() => gw.stop());

  test('in-flight calls fail at once, sessions stay, status events and /status follow, then the retry cap holds', async () => {
    const transitions: string[] = [];
    gw.runner.onStatusChange((change) => transitions.push(`${change.status}:${change.info.pid ?? '-'}`));
    const watcher = await openRawSse(`${gw.url}/sse`); // a legacy stream sees server-status events
    const legacy = await connectSse(`${gw.url}/sse`);
    const streamable = (await connectStreamable(`${gw.url}/mcp`)).client;
    const direct = (await connectStreamable(`${gw.url}/servers/echo/mcp`)).client;
    try {
      const calls = [legacy.client, streamable, legacy.client, streamable, streamable].map((client) =>
        client.callTool({ name: 'sleep', arguments: { ms: 30_000 } }).then(
          () => 'answered',
          (error: unknown) => error,
        ),
      );
      assert.ok(await waitForAsync(async () => (await serverStatus(gw.url, 'echo')).inFlight === 5));
      const { pid } = await serverStatus(gw.url, 'echo');
      process.kill(pid!, 'SIGKILL');
      const killedAt = Date.now();
      const outcomes = await Promise.all(calls);
      const tookMs = Date.now() - killedAt;
      for (const outcome of outcomes) {
        assert.ok(outcome instanceof McpError, `a JSON-RPC error, got ${String(outcome)}`);
        assert.equal(outcome.code, -32000);
        assert.match(outcome.message, /exited/);
      }
      assert.ok(tookMs < 2_000, `all 5 calls failed ${tookMs} ms after the kill`);

      // The supervisor restarts it; both sessions carry on with new calls.
      assert.ok(
        await waitForAsync(async () => {
          const now = await serverStatus(gw.url, 'echo');
          return now.status === 'running' && now.pid !== pid;
        }, 10_000),
      );
      const after = await serverStatus(gw.url, 'echo');
      assert.equal(after.restarts, 1);
      assert.notEqual(after.pid, pid);
      assert.equal(
        echoText(await legacy.client.callTool({ name: 'echo', arguments: { text: 'still' } })),
        'still',
      );
      assert.equal(
        echoText(await streamable.callTool({ name: 'echo', arguments: { text: 'here' } })),
        'here',
      );
      const seen = () =>
        watcher.events
          .filter((e) => e.event === 'server-status')
          .map((e) => JSON.parse(e.data).status as string);
      for (const status of ['failed', 'restarting', 'starting', 'running'])
        assert.ok(seen().includes(status), `server-status ${status} in ${seen()}`);
      assert.ok(seen().indexOf('failed') < seen().lastIndexOf('running'));

      // Killed again before it has run 30 s: the retry cap (maxRetries 1) is reached and it stays failed.
      process.kill(after.pid!, 'SIGKILL');
      assert.ok(
        await waitForAsync(async () => {
          const now = await serverStatus(gw.url, 'echo');
          return now.status === 'failed' && /gave up/.test(now.lastError ?? '');
        }, 10_000),
        'failed, and /status says it gave up',
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await serverStatus(gw.url, 'echo')).status, 'failed', 'no restart after the cap');
      {
        const started = Date.now();
        const refused = await direct.callTool({ name: 'echo', arguments: { text: 'x' } }).then(
          () => undefined,
          (error: unknown) => error,
        );
        assert.ok(refused instanceof McpError && refused.code === -32000, String(refused));
        assert.match(refused.message, /not available \(failed\)/);
        assert.ok(Date.now() - started < 1_000, 'fails fast');
      }
      // The aggregated endpoint no longer lists its tools, and says why the name is unknown.
      const aggregated = await streamable.callTool({ name: 'echo', arguments: { text: 'x' } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(aggregated instanceof McpError, String(aggregated));
      assert.match(aggregated.message, /Not running now: echo \(failed\)/);
      assert.ok(seen().at(-1) === 'failed', `the last status event says failed: ${seen()}`);
      assert.equal(isAlive(after.pid!), false);
    } finally {
      watcher.close();
      await direct.close();
      await legacy.client.close();
      await streamable.close();
    }
  });
});

describe('gateway: a 20 MB result arrives intact on both transports', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ big: { command: node, args: [fixturePath('big-server')] } });
  });
  after(() => gw.stop());

  const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const intact = (text: string | undefined, bytes: number) =>
    text !== undefined &&
    text.length === bytes &&
    text.startsWith(PATTERN) &&
    text === PATTERN.repeat(Math.ceil(bytes / PATTERN.length)).slice(0, bytes);

  for (const [family, path] of [
    ['legacy SSE', '/servers/big/sse'],
    ['Streamable HTTP', '/servers/big/mcp'],
  ] as const) {
    test(family, async () => {
      const client =
        family === 'legacy SSE'
          ? (await connectSse(`${gw.url}${path}`)).client
          : (await connectStreamable(`${gw.url}${path}`)).client;
      try {
        const result = await client.callTool({ name: 'big', arguments: { mb: 20 } });
        assert.ok(intact(echoText(result), 20 * 1024 * 1024), 'every byte of the 20 MB text');
        // And the session is still fine afterwards.
        const small = await client.callTool({ name: 'big', arguments: { mb: 0.001 } });
        assert.ok(intact(echoText(small), Math.floor(0.001 * 1024 * 1024)));
      } finally {
        await client.close();
      }
    });
  }
});

describe('gateway: a backend that hangs (accepts requests, never answers)', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      hang: {
        command: node,
        args: [fixturePath('hang-server')],
        requestTimeoutMs: 400,
        stopGraceMs: 100,
        restart: { initialDelayMs: 100 },
        health: { enabled: true, intervalMs: 300, timeoutMs: 200, failureThreshold: 2 },
      },
    });
  });
  after(() => gw.stop());

  test('calls time out with -32001, and the health monitor kills and restarts the process', async () => {
    const transitions: string[] = [];
    gw.runner.onStatusChange((change) => transitions.push(change.status));
    const client = (await connectStreamable(`${gw.url}/servers/hang/mcp`)).client;
    try {
      const { pid } = await serverStatus(gw.url, 'hang');
      const started = Date.now();
      const outcome = await client.callTool({ name: 'hang', arguments: {} }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(outcome instanceof McpError && outcome.code === -32001, String(outcome));
      assert.ok(Date.now() - started < 5_000, 'answered at the request timeout');
      // Two missed health pings: the process is killed (it ignores SIGTERM) and a new one started.
      assert.ok(
        await waitForAsync(async () => {
          const now = await serverStatus(gw.url, 'hang');
          return now.status === 'running' && now.pid !== pid && now.restarts >= 1;
        }, 15_000),
        `restarted: ${transitions}`,
      );
      assert.ok(await waitForAsync(async () => !isAlive(pid!), 5_000), 'the hung process is gone');
      assert.ok(transitions.includes('restarting') || transitions.includes('failed'), `${transitions}`);
      // The session is still usable: tools/list is something the hang server does answer.
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'hang'));
    } finally {
      await client.close();
    }
  });
});
