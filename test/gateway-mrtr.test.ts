import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';

const node = process.execPath;
const MODERN = '2026-07-28';
const WAIT_MS = 1500;

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
type Json = Record<string, any>;

const meta = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, sampling: {}, roots: {} },
};

async function callTool(url: string, id: number, name: string, extra: Json = {}): Promise<Json> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: extra.arguments ?? {}, ...extra, _meta: meta },
    }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Json;
}

async function inflight(url: string): Promise<number> {
  const status = (await (await fetch(`${url}/status`)).json()) as {
    inflight: number;
    servers: Array<{ name: string; inFlight: number }>;
  };
  return status.inflight + (status.servers.find((s) => s.name === 'notify')?.inFlight ?? 0);
}

describe('multi round-trip requests: a 2025 backend asks, a 2026-07-28 caller answers', {
  timeout: 120_000,
}, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      { notify: { command: node, args: [fixturePath('notify-server')] } },
      { inputRequiredTimeoutMs: WAIT_MS },
    );
  });
  after(() => gw.stop());

  for (const path of ['/servers/notify/mcp', '/mcp']) {
    test(`the SDK v2 client answers elicitation, sampling and roots through input_required on ${path}`, async () => {
      const client = new Client(
        { name: 'mrtr', version: '1.0.0' },
        {
          capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
          versionNegotiation: { mode: { pin: MODERN } },
        },
      );
      client.setRequestHandler('elicitation/create', async () => ({
        action: 'accept',
        content: { name: 'Ada' },
      }));
      client.setRequestHandler('sampling/createMessage', async (request) => ({
        role: 'assistant',
        model: 'test-model',
        content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
      }));
      client.setRequestHandler('roots/list', async () => ({
        roots: [{ uri: 'file:///work', name: 'work' }],
      }));
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}${path}`)));
      try {
        const elicited = await client.callTool({ name: 'elicit', arguments: {} });
        assert.deepEqual(JSON.parse((elicited.content as Json[])[0]!.text), {
          action: 'accept',
          content: { name: 'Ada' },
        });
        const sampled = await client.callTool({ name: 'sample', arguments: { prompt: 'hi' } });
        assert.match((sampled.content as Json[])[0]!.text, /sampled: .*hi/);
        const rooted = await client.callTool({ name: 'roots', arguments: {} });
        assert.deepEqual(JSON.parse((rooted.content as Json[])[0]!.text), {
          roots: [{ uri: 'file:///work', name: 'work' }],
        });
      } finally {
        await client.close();
      }
      assert.ok(await waitForAsync(async () => (await inflight(gw.url)) === 0), 'nothing left in flight');
    });
  }

  test('on the wire: input_required, then a forged, a foreign and a replayed requestState are refused', async () => {
    const url = `${gw.url}/servers/notify/mcp`;
    const first = await callTool(url, 1, 'elicit');
    const result = first.result as Json;
    assert.equal(result.resultType, 'input_required');
    const [key, request] = Object.entries(result.inputRequests as Json)[0]!;
    assert.equal(request.method, 'elicitation/create');
    assert.equal(request.params.message, 'What is your name?');
    assert.equal(typeof result.requestState, 'string');
    assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'notify-server');
    const inputResponses = { [key]: { action: 'accept', content: { name: 'Grace' } } };
    const state = result.requestState as string;
    // Forged: one character of the seal changed.
    const forged = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
    const refusedForged = await callTool(url, 2, 'elicit', { inputResponses, requestState: forged });
    assert.equal(refusedForged.error?.code, -32602);
    assert.match(refusedForged.error.message, /not issued by this gateway/);
    // Another request (another tool) cannot use it.
    const foreign = await callTool(url, 3, 'roots', { inputResponses, requestState: state });
    assert.match(foreign.error?.message ?? '', /belongs to another request/);
    // The right retry finishes the call.
    const done = await callTool(url, 4, 'elicit', { inputResponses, requestState: state });
    assert.equal(done.id, 4);
    assert.equal(done.result.resultType, 'complete');
    assert.deepEqual(JSON.parse(done.result.content[0].text), {
      action: 'accept',
      content: { name: 'Grace' },
    });
    // Replayed: the state was good for one retry.
    const replayed = await callTool(url, 5, 'elicit', { inputResponses, requestState: state });
    assert.match(replayed.error?.message ?? '', /already used/);
    assert.ok(await waitForAsync(async () => (await inflight(gw.url)) === 0), 'nothing left in flight');
  });

  test('a caller that never comes back: the backend call is cancelled, and the late state has expired', async () => {
    const url = `${gw.url}/servers/notify/mcp`;
    const first = await callTool(url, 1, 'elicit');
    assert.equal(first.result.resultType, 'input_required');
    assert.ok((await inflight(gw.url)) > 0, 'the backend call waits');
    assert.ok(await waitForAsync(async () => (await inflight(gw.url)) === 0, WAIT_MS + 5000), 'cancelled');
    const [key] = Object.keys(first.result.inputRequests as Json);
    const late = await callTool(url, 2, 'elicit', {
      inputResponses: { [key!]: { action: 'decline' } },
      requestState: first.result.requestState,
    });
    assert.equal(late.error?.code, -32602);
    assert.match(late.error.message, /expired|already used|ended/);
  });
});
