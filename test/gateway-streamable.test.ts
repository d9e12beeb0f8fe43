import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectStreamable, postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';

const node = process.execPath;
const ACCEPT_BOTH = { accept: 'application/json, text/event-stream' };

describe('gateway: Streamable HTTP at /mcp and /servers/{name}/mcp', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      echo: { command: node, args: [fixturePath('echo-server')] },
      notify: { command: node, args: [fixturePath('notify-server')] },
    });
  });
  after(() => gw.stop());

  test('the official client connects to /mcp, lists and calls tools, and gets progress', async () => {
    const { client, transport } = await connectStreamable(`${gw.url}/mcp`);
    try {
      assert.match(transport.sessionId ?? '', /^[\x21-\x7e]{20,}$/);
      assert.equal(client.getServerVersion()?.name, 'mcp-runner');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo__echo') && tools.some((t) => t.name === 'notify__sample'));
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'streamed' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'streamed' }]);
      const seen: number[] = [];
      const result = await client.request(
        { method: 'tools/call', params: { name: 'progress', arguments: { steps: 3, delayMs: 10 } } },
        CallToolResultSchema,
        { onprogress: (p) => void seen.push(p.progress) },
      );
      assert.deepEqual(result.content, [{ type: 'text', text: 'done' }]);
      assert.deepEqual(seen, [1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  test('/servers/{name}/mcp passes one server through, with its own initialize result', async () => {
    const { client } = await connectStreamable(`${gw.url}/servers/echo/mcp`);
    try {
      assert.notEqual(client.getServerVersion()?.name, 'mcp-runner');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      assert.ok(!tools.some((t) => t.name === 'sample'), 'only the echo server');
      const read = await client.readResource({ uri: 'fixture://hello' });
      assert.equal((read.contents[0] as { text: string }).text, 'hello');
    } finally {
      await client.close();
    }
  });

  test('30 concurrent sessions with colliding ids each get their own answers', async () => {
    const sessions = await Promise.all(Array.from({ length: 30 }, () => connectStreamable(`${gw.url}/mcp`)));
    try {
      await Promise.all(
        sessions.map(async ({ client }, s) => {
          for (let c = 0; c < 5; c++) {
            const text = `${s}/${c}`;
            const result = await client.callTool({ name: 'echo', arguments: { text } });
            assert.deepEqual(result.content, [{ type: 'text', text }]);
          }
        }),
      );
    } finally {
      await Promise.all(sessions.map(({ client }) => client.close()));
    }
  });

  test('session header rules: missing 400, unknown 404, DELETE ends the session, then 404', async () => {
    const init = await postJson(
      `${gw.url}/mcp`,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      },
      ACCEPT_BOTH,
    );
    assert.equal(init.status, 200);
    assert.equal(init.json?.result.protocolVersion, '2025-06-18');
    const sid = init.headers.get('mcp-session-id')!;
    assert.ok(sid);
    const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
    const noSession = await postJson(`${gw.url}/mcp`, ping, ACCEPT_BOTH);
    assert.equal(noSession.status, 400);
    assert.equal(noSession.json?.error.code, -32000);
    const unknown = await postJson(`${gw.url}/mcp`, ping, { ...ACCEPT_BOTH, 'mcp-session-id': '0-unknown' });
    assert.equal(unknown.status, 404);
    const ok = await postJson(`${gw.url}/mcp`, ping, { ...ACCEPT_BOTH, 'mcp-session-id': sid });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { jsonrpc: '2.0', id: 2, result: {} });
    const note = await postJson(
      `${gw.url}/mcp`,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { ...ACCEPT_BOTH, 'mcp-session-id': sid },
    );
    assert.equal(note.status, 202);
    assert.equal(note.text, '');
    const badVersion = await postJson(`${gw.url}/mcp`, ping, {
      ...ACCEPT_BOTH,
      'mcp-session-id': sid,
      'mcp-protocol-version': '1999-01-01',
    });
    assert.equal(badVersion.status, 400);
    const reinit = await postJson(
      `${gw.url}/mcp`,
      { ...ping, method: 'initialize', params: {} },
      { ...ACCEPT_BOTH, 'mcp-session-id': sid },
    );
    assert.equal(reinit.status, 400);
    const deleted = await fetch(`${gw.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    assert.equal(deleted.status, 200);
    const after = await postJson(`${gw.url}/mcp`, ping, { ...ACCEPT_BOTH, 'mcp-session-id': sid });
    assert.equal(after.status, 404);
    const deletedAgain = await fetch(`${gw.url}/mcp`, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sid },
    });
    assert.equal(deletedAgain.status, 404);
  });

  test('GET: 406 without text/event-stream, 404 for an unknown session, 409 for a second stream', async () => {
    const init = await postJson(
      `${gw.url}/mcp`,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      },
      ACCEPT_BOTH,
    );
    const sid = init.headers.get('mcp-session-id')!;
    const noAccept = await fetch(`${gw.url}/mcp`, {
      headers: { accept: 'application/json', 'mcp-session-id': sid },
    });
    assert.equal(noAccept.status, 406);
    const unknown = await fetch(`${gw.url}/mcp`, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': '0-nope' },
    });
    assert.equal(unknown.status, 404);
    const controller = new AbortController();
    const first = await fetch(`${gw.url}/mcp`, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid },
      signal: controller.signal,
    });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /^text\/event-stream/);
    const second = await fetch(`${gw.url}/mcp`, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid },
    });
    assert.equal(second.status, 409);
    controller.abort();
    const put = await fetch(`${gw.url}/mcp`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE');
  });
});
