import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';

const node = process.execPath;
const TIMEOUT_MS = 400;

describe('gateway: per-server request timeouts, extended by progress', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let client: Client;
  before(async () => {
    gw = await startTestGateway({
      echo: { command: node, args: [fixturePath('echo-server')], requestTimeoutMs: TIMEOUT_MS },
    });
    client = new Client({ name: 'timeouts', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/servers/echo/mcp`)));
  });
  after(async () => {
    await client.close();
    await gw.stop();
  });

  const cancellations = async () =>
    Number(
      (
        (await client.callTool({ name: 'cancellations', arguments: {} })).content as Array<{ text: string }>
      )[0]!.text,
    );

  test('a call past requestTimeoutMs gets JSON-RPC -32001, and the backend is told to cancel it', async () => {
    const before = await cancellations();
    const started = Date.now();
    const error = await client.callTool({ name: 'sleep', arguments: { ms: 10_000 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof McpError, String(error));
    assert.equal(error.code, -32001);
    assert.match(error.message, /timed out|timeout/i);
    assert.ok(Date.now() - started < 5_000, 'answered at the timeout, not when the sleep would end');
    assert.equal(await cancellations(), before + 1, 'the backend got notifications/cancelled');
  });

  test('progress notifications extend the timeout: a 1 s call with progress every 150 ms completes', async () => {
    const seen: number[] = [];
    const result = await client.request(
      { method: 'tools/call', params: { name: 'progress', arguments: { steps: 7, delayMs: 150 } } },
      CallToolResultSchema,
      { onprogress: (p) => void seen.push(p.progress) },
    );
    assert.deepEqual(result.content, [{ type: 'text', text: 'done' }]);
    assert.ok(seen.length >= 6, `progress arrived: ${seen}`);
  });

  test('without a progress token the same call times out (the backend sends no progress)', async () => {
    const error = await client.callTool({ name: 'progress', arguments: { steps: 7, delayMs: 150 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof McpError && error.code === -32001, String(error));
  });

  test('progress cannot extend a call past the total cap (10 x requestTimeoutMs)', async () => {
    const error = await client
      .request(
        { method: 'tools/call', params: { name: 'progress', arguments: { steps: 40, delayMs: 150 } } },
        CallToolResultSchema,
        { onprogress: () => {} },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof McpError && error.code === -32001, String(error));
  });
});
