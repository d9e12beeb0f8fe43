import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectSse, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';
import { openRawSse } from './support/raw-sse.js';

const node = process.execPath;
const TOKEN = 'metrics-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** The value of one sample line (`name{labels} value`), or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[4]);
  }
  return undefined;
}

describe('gateway: GET /metrics in the Prometheus text format', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      { echo: { command: node, args: [fixturePath('echo-server')] } },
      { authenticate: { bearer: { token: TOKEN } } },
    );
  });
  after(() => gw.stop());

  const scrape = async () => {
    const response = await fetch(`${gw.url}/metrics`, { headers: AUTH });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  test('requests by method and outcome, backend latency per server, sessions, servers and workers', async () => {
    const before = await scrape();
    const okBefore =
      sample(before, 'mcp_runner_requests_total', { method: 'tools/call', outcome: 'ok' }) ?? 0;
    const streamable = new Client({ name: 'metrics', version: '1' });
    await streamable.connect(
      new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: AUTH } }),
    );
    const legacy = await connectSse(`${gw.url}/sse`, { headers: AUTH });
    try {
      for (let i = 0; i < 3; i++) await streamable.callTool({ name: 'echo', arguments: { text: `m${i}` } });
      await legacy.client.callTool({ name: 'echo', arguments: { text: 'legacy' } });
      await assert.rejects(streamable.callTool({ name: 'no_such_tool', arguments: {} }));
      await streamable.request(
        { method: 'ping' },
        (await import('@modelcontextprotocol/sdk/types.js')).EmptyResultSchema,
      );

      const text = await scrape();
      assert.equal(
        sample(text, 'mcp_runner_requests_total', { method: 'tools/call', outcome: 'ok' }),
        okBefore + 4,
      );
      assert.ok(
        (sample(text, 'mcp_runner_requests_total', { method: 'tools/call', outcome: 'error' }) ?? 0) >= 1,
      );
      assert.ok((sample(text, 'mcp_runner_requests_total', { method: 'ping', outcome: 'ok' }) ?? 0) >= 1);
      assert.ok(
        (sample(text, 'mcp_runner_backend_request_duration_seconds_count', {
          server: 'echo',
          outcome: 'ok',
        }) ?? 0) >= 4,
      );
      assert.ok(
        sample(text, 'mcp_runner_backend_request_duration_seconds_bucket', {
          server: 'echo',
          le: '+Inf',
          outcome: 'ok',
        }) !== undefined,
      );
      assert.ok((sample(text, 'mcp_runner_sessions', { transport: 'streamable' }) ?? 0) >= 1);
      assert.ok((sample(text, 'mcp_runner_sessions', { transport: 'sse' }) ?? 0) >= 1);
      assert.equal(sample(text, 'mcp_runner_server_up', { server: 'echo' }), 1);
      assert.equal(sample(text, 'mcp_runner_server_restarts', { server: 'echo' }), 0);
      assert.equal(sample(text, 'mcp_runner_inflight_requests'), 0);
      for (const shard of ['0', '1'])
        assert.notEqual(sample(text, 'mcp_runner_worker_streams', { shard }), undefined);
      assert.notEqual(
        sample(text, 'mcp_runner_process_resident_memory_bytes'),
        undefined,
        'default process metrics',
      );
    } finally {
      await streamable.close();
      await legacy.client.close();
    }
  });

  test('unknown method names are counted as "other", so clients cannot grow the label set', async () => {
    const client = new Client({ name: 'metrics-other', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: AUTH } }),
    );
    try {
      for (const method of ['x/one', 'x/two', 'x/three'])
        await assert.rejects(client.request({ method }, EmptyResultSchema));
      const text = await scrape();
      assert.ok((sample(text, 'mcp_runner_requests_total', { method: 'other', outcome: 'error' }) ?? 0) >= 3);
      assert.doesNotMatch(text, /x\/one/);
    } finally {
      await client.close();
    }
  });

  test('/metrics sits behind the same bearer token', async () => {
    const response = await fetch(`${gw.url}/metrics`);
    assert.equal(response.status, 401);
  });
});

describe('gateway: GET /status/events, the status feed', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      {
        echo: { command: node, args: [fixturePath('echo-server')], restart: { initialDelayMs: 100 } },
      },
      { authenticate: { bearer: { token: TOKEN } }, workers: 1 },
    );
  });
  after(() => gw.stop());

  test('a snapshot at once and every 2 s, and every state change of a killed backend in order', async () => {
    const refused = await fetch(`${gw.url}/status/events`);
    assert.equal(refused.status, 401, 'behind the same bearer token');
    await refused.body?.cancel();

    const feed = await openRawSse(`${gw.url}/status/events`, AUTH);
    try {
      assert.equal(feed.status, 200);
      assert.match(feed.headers.get('content-type') ?? '', /^text\/event-stream/);
      const first = JSON.parse((await feed.next((e) => e.event === 'status')).data);
      const echo = first.servers.find((s: { name: string }) => s.name === 'echo');
      assert.equal(echo.status, 'running');
      assert.equal(first.workers.length, 1);
      assert.equal(first.workers[0].streams, 1, 'the feed itself is the one open stream');
      assert.ok(Math.abs(first.time - Date.now()) < 5_000, 'carries the gateway clock');

      process.kill(echo.pid, 'SIGKILL');
      const changes: string[] = [];
      await feed.next((e) => {
        if (e.event !== 'server-status') return false;
        const change = JSON.parse(e.data);
        changes.push(change.status);
        return change.status === 'running';
      }, 10_000);
      assert.deepEqual(changes, ['failed', 'restarting', 'starting', 'running']);
      const snapshots = feed.events.filter((e) => e.event === 'status').length;
      await feed.next((e) => e.event === 'status' && feed.events.indexOf(e) >= snapshots, 5_000);
      const last = JSON.parse(feed.events.filter((e) => e.event === 'status').at(-1)!.data);
      assert.equal(last.servers[0].restarts, 1);
    } finally {
      feed.close();
    }
    // The worker stops asking for snapshots when its last watcher leaves.
    const streams = async () => {
      const status = (await (await fetch(`${gw.url}/status`, { headers: AUTH })).json()) as {
        workers: Array<{ streams: number }>;
      };
      return status.workers[0]!.streams;
    };
    assert.ok(await waitForAsync(async () => (await streams()) === 0, 5_000), 'the feed stream is gone');
  });
});
