import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';

const node = process.execPath;

async function inflight(url: string): Promise<number> {
  const status = (await (await fetch(`${url}/status`)).json()) as {
    inflight: number;
    servers: Array<{ inFlight: number }>;
  };
  return status.inflight + status.servers.reduce((n, s) => n + s.inFlight, 0);
}

describe('gateway: cancellation reaches the backend and frees the call', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ echo: { command: node, args: [fixturePath('echo-server')] } });
  });
  after(() => gw.stop());

  for (const [transport, path] of [
    ['sse', '/sse'],
    ['streamable', '/mcp'],
  ] as const) {
    test(`a cancelled call over ${transport} is cancelled on the backend and leaves nothing in flight`, async () => {
      const url = new URL(`${gw.url}${path}`);
      const client = new Client({ name: 'canceller', version: '1.0.0' });
      await client.connect(
        transport === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url),
      );
      try {
        const controller = new AbortController();
        const call = client.callTool({ name: 'sleep', arguments: { ms: 30_000 } }, undefined, {
          signal: controller.signal,
        });
        assert.ok(
          await waitForAsync(async () => (await inflight(gw.url)) === 2),
          'the call is in flight on the backend',
        );
        controller.abort();
        await assert.rejects(call);
        // The gateway forwards notifications/cancelled with the backend's id: the backend drops the call
        // and the gateway's tables empty, although the backend never answers a cancelled sleep.
        assert.ok(await waitForAsync(async () => (await inflight(gw.url)) === 0), 'nothing left in flight');
        const after = await client.callTool({ name: 'echo', arguments: { text: 'next' } });
        assert.deepEqual(after.content, [{ type: 'text', text: 'next' }]);
      } finally {
        await client.close();
      }
    });
  }

  test('DELETE of a Streamable session cancels its calls on the backend', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();
    const pending = fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': sid },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'sleep', arguments: { ms: 30_000 } },
      }),
    }).then((r) => r.status);
    assert.ok(await waitForAsync(async () => (await inflight(gw.url)) === 2));
    const deleted = await fetch(`${gw.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    assert.equal(deleted.status, 200);
    assert.ok(
      await waitForAsync(async () => (await inflight(gw.url)) === 0),
      'the DELETE cancelled the call',
    );
    assert.ok((await pending) < 500, 'the waiting POST was ended, not left hanging');
  });

  test('closing a legacy stream cancels its calls on the backend', async () => {
    const client = new Client({ name: 'leaver', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(`${gw.url}/sse`)));
    const call = client.callTool({ name: 'sleep', arguments: { ms: 30_000 } }).catch(() => 'ended');
    assert.ok(await waitForAsync(async () => (await inflight(gw.url)) === 2));
    await client.close();
    assert.equal(await call, 'ended');
    assert.ok(
      await waitForAsync(async () => (await inflight(gw.url)) === 0),
      'the session end cancelled the call',
    );
  });
});
