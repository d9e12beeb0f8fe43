import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';

const node = process.execPath;

/** A client that can answer sampling and elicitation, as an agent host would. */
async function answeringClient(url: URL, transport: 'sse' | 'streamable', label: string) {
  const client = new Client(
    { name: `answering-${label}`, version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    const first = request.params.messages[0]?.content as { text?: string };
    return {
      role: 'assistant',
      model: 'test',
      content: { type: 'text', text: `${label} sampled: ${first.text}` },
    };
  });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: label } }));
  await client.connect(
    transport === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url),
  );
  return client;
}

describe('gateway: server-to-client requests reach the one session that caused them', {
  timeout: 120_000,
}, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ notify: { command: node, args: [fixturePath('notify-server')] } });
  });
  after(() => gw.stop());

  for (const [transport, path] of [
    ['sse', '/sse'],
    ['streamable', '/mcp'],
    ['streamable', '/servers/notify/mcp'],
  ] as const) {
    test(`sampling and elicitation round trips over ${transport} at ${path}`, async () => {
      const client = await answeringClient(new URL(`${gw.url}${path}`), transport, 'A');
      try {
        const sampled = await client.callTool({ name: 'sample', arguments: { prompt: 'hello' } });
        assert.match(JSON.stringify(sampled.content), /A sampled: hello/);
        const elicited = await client.callTool({ name: 'elicit', arguments: {} });
        assert.match(JSON.stringify(elicited.content), /accept/);
        assert.match(JSON.stringify(elicited.content), /"name\\":\\"A\\"|name.*A/);
      } finally {
        await client.close();
      }
    });
  }

  test('sequential calls from two sessions each get their own sampling request', async () => {
    const a = await answeringClient(new URL(`${gw.url}/mcp`), 'streamable', 'A');
    const b = await answeringClient(new URL(`${gw.url}/sse`), 'sse', 'B');
    try {
      const fromA = await a.callTool({ name: 'sample', arguments: { prompt: 'one' } });
      const fromB = await b.callTool({ name: 'sample', arguments: { prompt: 'two' } });
      assert.match(JSON.stringify(fromA.content), /A sampled: one/);
      assert.match(JSON.stringify(fromB.content), /B sampled: two/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a session that did not declare sampling never receives it; the backend gets an error', async () => {
    const plain = new Client({ name: 'plain', version: '1.0.0' });
    await plain.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`)));
    try {
      const result = await plain.callTool({ name: 'sample', arguments: { prompt: 'x' } });
      assert.equal(result.isError, true, 'the fixture reports the refused sampling as a tool error');
      assert.match(JSON.stringify(result.content), /cannot be routed/);
    } finally {
      await plain.close();
    }
  });

  test('a backend that cancels its sampling request: the session hears notifications/cancelled with its own id', async () => {
    const client = new Client({ name: 'slow-sampler', version: '1.0.0' }, { capabilities: { sampling: {} } });
    const asked: Array<string | number> = [];
    const cancelled: unknown[] = [];
    // A sampler that never answers: the backend gives up first.
    client.setRequestHandler(CreateMessageRequestSchema, (_request, extra) => {
      asked.push(extra.requestId);
      return new Promise(() => {});
    });
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}/servers/notify/mcp`));
    await client.connect(transport);
    const original = transport.onmessage;
    transport.onmessage = (message) => {
      if ('method' in message && message.method === 'notifications/cancelled') cancelled.push(message.params);
      original?.(message);
    };
    try {
      const result = await client.callTool({ name: 'sample_cancel', arguments: { ms: 150 } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'gave up' }]);
      assert.equal(asked.length, 1);
      assert.deepEqual(cancelled, [{ requestId: asked[0], reason: 'took too long' }]);
      assert.match(String(asked[0]), /^mcpr-/, 'the session-side id, not the backend one');
    } finally {
      await client.close();
    }
  });

  test('tool-enabled sampling and URL elicitation are refused for sessions that did not declare them', async () => {
    const client = await answeringClient(new URL(`${gw.url}/servers/notify/mcp`), 'streamable', 'M');
    try {
      for (const kind of ['sampling_tools', 'url']) {
        const result = await client.callTool({ name: 'ask_mode', arguments: { kind } });
        const outcome = JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
        assert.equal(outcome.code, -32602, `${kind}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.result, undefined);
      }
    } finally {
      await client.close();
    }
  });
});
