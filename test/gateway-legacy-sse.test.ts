import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectSse, postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitFor, waitForAsync } from './support/processes.js';
import { openRawSse } from './support/raw-sse.js';

const node = process.execPath;

describe('gateway: aggregated legacy SSE endpoint (2 workers, official SDK client)', {
  timeout: 120_000,
}, () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({
      echo: { command: node, args: [fixturePath('echo-server')] },
      notify: { command: node, args: [fixturePath('notify-server')] },
    });
  });
  after(async () => {
    await gw.stop();
  });

  test('50 concurrent sessions with colliding ids each get exactly their own answers', async () => {
    const CALLS = 5;
    const sessions = await Promise.all(Array.from({ length: 50 }, () => connectSse(`${gw.url}/sse`)));
    try {
      await Promise.all(
        sessions.map(async ({ client }, s) => {
          for (let c = 0; c < CALLS; c++) {
            const text = `session-${s}-call-${c}`;
            const result = await client.callTool({ name: 'echo', arguments: { text } });
            assert.deepEqual(result.content, [{ type: 'text', text }]);
          }
        }),
      );
      // Every SDK client numbers its requests from 0, so ids collide across all 50 sessions; each stream
      // must still have received exactly its own CALLS responses and nothing else.
      for (const { received } of sessions) assert.equal(received(), CALLS);
      const status = (await (await fetch(`${gw.url}/status`)).json()) as {
        workers: Array<{ requests: number; streams: number }>;
      };
      assert.equal(status.workers.length, 2);
      for (const worker of status.workers) {
        assert.ok(worker.requests > 0, 'both workers received POSTs, so some crossed to the other worker');
      }
    } finally {
      await Promise.all(sessions.map(({ client }) => client.close()));
    }
    // Each worker answers POSTs of the live legacy sessions it knows of itself; once the streams are
    // gone, every worker must have forgotten every session, and a late POST gets 404 from the main thread.
    const forgotten = await waitForAsync(async () => {
      const { workers } = (await (await fetch(`${gw.url}/status`)).json()) as {
        workers: Array<{ legacySessions: number }>;
      };
      return workers.every((worker) => worker.legacySessions === 0);
    });
    assert.ok(forgotten, 'every worker forgets the ended legacy sessions');
    // The SDK keeps the endpoint it was given in a private field.
    const endpoint = (sessions[0]!.transport as unknown as { _endpoint: URL })._endpoint;
    const late = await postJson(endpoint.href, { jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(late.status, 404);
  });

  test('tools/list merges every server and tags each tool with its server', async () => {
    // Read the wire directly: the SDK's schema strips fields it does not know, such as `server`.
    const { json, status } = await postJson(`${gw.url}/sse/messages`, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
    });
    assert.equal(status, 200);
    const tools = json!.result.tools as Array<{ name: string; server: string }>;
    // Named {server}__{name}, and tagged with the server for the original crate's clients.
    assert.equal(tools.find((t) => t.name === 'echo__echo')?.server, 'echo');
    assert.equal(tools.find((t) => t.name === 'notify__sample')?.server, 'notify');
    assert.ok(tools.every((t) => t.name.startsWith(`${t.server}__`)));
    const { client } = await connectSse(`${gw.url}/sse`);
    try {
      assert.equal(client.getServerVersion()?.name, 'mcp-runner');
      const listed = await client.listTools();
      assert.equal(listed.tools.length, tools.length);
    } finally {
      await client.close();
    }
  });

  test('tools/call routed by params.server, by the tool index, and refused for unknown tools', async () => {
    const { client } = await connectSse(`${gw.url}/sse`);
    try {
      const byIndex = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
      assert.deepEqual(byIndex.content, [{ type: 'text', text: '5' }]);
      const explicit = await client.request(
        { method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, server: 'echo' } },
        (await import('@modelcontextprotocol/sdk/types.js')).CallToolResultSchema,
      );
      assert.deepEqual(explicit.content, [{ type: 'text', text: 'x' }]);
      await assert.rejects(
        client.callTool({ name: 'no_such_tool', arguments: {} }),
        /-32602.*Unknown tool: no_such_tool/,
      );
    } finally {
      await client.close();
    }
  });

  test("the original crate's client flow: GET /sse, POST /sse/messages with params.server", async () => {
    const stream = await openRawSse(`${gw.url}/sse`);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
      const endpoint = await stream.next((e) => e.event === 'endpoint');
      assert.equal(stream.events[0]?.event, 'endpoint', 'the endpoint event comes first');
      assert.match(endpoint.data, /^\/sse\/messages\?sessionId=[\x21-\x7e]{20,}$/);
      const post = await postJson(`${gw.url}${endpoint.data}`, {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { server: 'echo', name: 'echo', arguments: { text: 'original' } },
      });
      assert.equal(post.status, 202);
      const answer = await stream.next((e) => e.event === 'message');
      assert.deepEqual(JSON.parse(answer.data), {
        jsonrpc: '2.0',
        id: 7,
        result: { content: [{ type: 'text', text: 'original' }] },
      });
    } finally {
      stream.close();
    }
  });

  test('a POST without sessionId gets its answer in the body, broadcast to nobody', async () => {
    const watcher = await openRawSse(`${gw.url}/sse`);
    try {
      await watcher.next((e) => e.event === 'endpoint');
      const post = await postJson(`${gw.url}/sse/messages`, {
        jsonrpc: '2.0',
        id: 'str-1',
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'inline' } },
      });
      assert.equal(post.status, 200);
      assert.deepEqual(post.json, {
        jsonrpc: '2.0',
        id: 'str-1',
        result: { content: [{ type: 'text', text: 'inline' }] },
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        watcher.events.filter((e) => e.event === 'message').length,
        0,
        'other streams saw nothing',
      );
    } finally {
      watcher.close();
    }
  });

  test('ids keep their type: "1" stays a string and 1 a number', async () => {
    const stream = await openRawSse(`${gw.url}/sse`);
    try {
      const endpoint = await stream.next((e) => e.event === 'endpoint');
      for (const id of ['1', 1]) {
        await postJson(`${gw.url}${endpoint.data}`, { jsonrpc: '2.0', id, method: 'ping' });
      }
      await stream.next((e) => e.event === 'message' && JSON.parse(e.data).id === 1);
      const ids = stream.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data).id);
      assert.equal(ids.length, 2);
      assert.ok(ids.includes(1) && ids.includes('1'), `got ${JSON.stringify(ids)}`);
    } finally {
      stream.close();
    }
  });

  test('unknown method: 202, then a -32601 error on the stream', async () => {
    const stream = await openRawSse(`${gw.url}/sse`);
    try {
      const endpoint = await stream.next((e) => e.event === 'endpoint');
      const post = await postJson(`${gw.url}${endpoint.data}`, {
        jsonrpc: '2.0',
        id: 3,
        method: 'no/such/method',
      });
      assert.equal(post.status, 202);
      const answer = JSON.parse((await stream.next((e) => e.event === 'message')).data);
      assert.equal(answer.id, 3);
      assert.equal(answer.error.code, -32601);
    } finally {
      stream.close();
    }
  });

  test('a backend restart shows as server-status events on the stream', async () => {
    const stream = await openRawSse(`${gw.url}/sse`);
    try {
      await stream.next((e) => e.event === 'endpoint');
      const pid = gw.runner.getAllServerStatuses().notify!.pid!;
      process.kill(pid, 'SIGKILL');
      const failed = await stream.next(
        (e) => e.event === 'server-status' && JSON.parse(e.data).status === 'failed',
      );
      assert.equal(JSON.parse(failed.data).name, 'notify');
      await stream.next(
        (e) => e.event === 'server-status' && JSON.parse(e.data).status === 'running',
        10_000,
      );
      assert.ok(await waitFor(() => gw.runner.serverStatus('notify') === 'running'));
    } finally {
      stream.close();
    }
  });
});
