import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { McpRunner } from '../src/index.js';
import { GatewayError } from '../src/shared/errors.js';
import { connectSse, startTestGateway, type TestGateway } from './support/gateway.js';
import { TEST_HTTP_ENGINE } from './support/http-engine.js';
import { fixturePath } from './support/paths.js';
import { testLogger } from './support/quiet-logger.js';
import { openRawSse } from './support/raw-sse.js';

const node = process.execPath;

describe('gateway: aggregated resources, prompts, completions and logging over legacy SSE', {
  timeout: 120_000,
}, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      echo: { command: node, args: [fixturePath('echo-server')] },
      notify: { command: node, args: [fixturePath('notify-server')] },
    });
  });
  after(() => gw.stop());

  test('resources and templates are merged and reads are routed by URI', async () => {
    const { client } = await connectSse(`${gw.url}/sse`);
    try {
      const { resources } = await client.listResources();
      const uris = resources.map((r) => r.uri);
      assert.ok(uris.includes('fixture://hello') && uris.includes('fixture://counter'), uris.join(','));
      const hello = await client.readResource({ uri: 'fixture://hello' });
      assert.equal((hello.contents[0] as { text: string }).text, 'hello');
      const { resourceTemplates } = await client.listResourceTemplates();
      assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'fixture://echo/{value}'));
      const templated = await client.readResource({ uri: 'fixture://echo/abc' });
      assert.match(JSON.stringify(templated.contents), /abc/);
      await assert.rejects(client.readResource({ uri: 'fixture://nope' }), /-32002/);
    } finally {
      await client.close();
    }
  });

  test('prompts are merged, fetched by name, and completions routed by prompt', async () => {
    const { client } = await connectSse(`${gw.url}/sse`);
    try {
      const { prompts } = await client.listPrompts();
      // Namespaced on the aggregated endpoint: {server}__{name}.
      assert.ok(prompts.some((p) => p.name === 'echo__greet'));
      const prompt = await client.getPrompt({ name: 'echo__greet', arguments: { name: 'Ada' } });
      assert.match(JSON.stringify(prompt.messages), /Ada/);
      const completion = await client.complete({
        ref: { type: 'ref/prompt', name: 'echo__greet' },
        argument: { name: 'name', value: '' },
      });
      assert.ok(Array.isArray(completion.completion.values));
    } finally {
      await client.close();
    }
  });

  test('list_changed refreshes the tool index and reaches every session once', async () => {
    const a = await connectSse(`${gw.url}/sse`);
    const b = await connectSse(`${gw.url}/sse`);
    try {
      const { ToolListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
      let changedA = 0;
      let changedB = 0;
      a.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changedA += 1;
      });
      b.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changedB += 1;
      });
      const before = (await a.client.listTools()).tools.map((t) => t.name);
      const added = await a.client.callTool({ name: 'notify__add_tool', arguments: {} });
      const name = `notify__${(added.content as Array<{ text: string }>)[0]!.text}`;
      assert.ok(!before.includes(name));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(changedA, 1);
      assert.equal(changedB, 1);
      const after = (await b.client.listTools()).tools.map((t) => t.name);
      assert.ok(after.includes(name), 'the new tool is listed');
      const called = await b.client.callTool({ name, arguments: {} });
      assert.deepEqual(called.content, [{ type: 'text', text: `${name.slice('notify__'.length)} called` }]);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  test('logging/setLevel is per session: only the session that asked gets the log messages', async () => {
    const a = await connectSse(`${gw.url}/sse`);
    const b = await connectSse(`${gw.url}/sse`);
    try {
      const seenA: unknown[] = [];
      const seenB: unknown[] = [];
      a.client.setNotificationHandler(
        (await import('@modelcontextprotocol/sdk/types.js')).LoggingMessageNotificationSchema,
        (n) => void seenA.push(n.params),
      );
      b.client.setNotificationHandler(
        (await import('@modelcontextprotocol/sdk/types.js')).LoggingMessageNotificationSchema,
        (n) => void seenB.push(n.params),
      );
      await a.client.setLoggingLevel('debug');
      await a.client.callTool({ name: 'log', arguments: { count: 3 } });
      await b.client.callTool({ name: 'log', arguments: { count: 3 } });
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(seenA.length >= 3, `session A got ${seenA.length} log messages`);
      assert.equal(seenB.length, 0, 'session B never asked for logs');
      await assert.rejects(
        a.client.request(
          { method: 'logging/setLevel', params: { level: 'loud' } },
          (await import('@modelcontextprotocol/sdk/types.js')).EmptyResultSchema,
        ),
        /-32602/,
      );
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });
});

describe('gateway: startup and session lifetime', { timeout: 120_000 }, () => {
  test('a port that is already taken fails startup with a clear error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const runner = new McpRunner(
      {
        mcpServers: { echo: { command: node, args: [fixturePath('echo-server')] } },
        sseProxy: { port, workers: 2, httpEngine: TEST_HTTP_ENGINE },
      },
      { logger: testLogger(), logLevel: 'silent' },
    );
    try {
      await assert.rejects(runner.startSseProxy(), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.match(
          error.message,
          new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: it is already in use`),
        );
        assert.match(error.message, /--port/);
        return true;
      });
    } finally {
      await runner.close();
      blocker.close();
    }
  });

  test('open streams get a keep-alive comment every keepAliveMs', async () => {
    const gw = await startTestGateway(
      { echo: { command: node, args: [fixturePath('echo-server')] } },
      { keepAliveMs: 1000 },
    );
    try {
      const stream = await openRawSse(`${gw.url}/sse`);
      await stream.next((e) => e.event === 'endpoint');
      await new Promise((r) => setTimeout(r, 2300));
      assert.ok(
        stream.comments.filter((c) => c.trim() === 'keepalive').length >= 2,
        `got ${stream.comments.length}`,
      );
      assert.equal(
        stream.events.filter((e) => e.event === 'message').length,
        0,
        'keep-alives are not messages',
      );
      stream.close();
    } finally {
      await gw.stop();
    }
  });

  test('an idle session expires after sessionIdleTimeoutMs and its stream is ended', async () => {
    const gw = await startTestGateway(
      { echo: { command: node, args: [fixturePath('echo-server')] } },
      { sessionIdleTimeoutMs: 1000 },
    );
    try {
      const stream = await openRawSse(`${gw.url}/sse`);
      const endpoint = await stream.next((e) => e.event === 'endpoint');
      assert.equal(gw.gateway.router.sessionCount, 1);
      await stream.ended; // the server ends it within a sweep of the timeout
      assert.equal(gw.gateway.router.sessionCount, 0);
      const late = await fetch(`${gw.url}${endpoint.data}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      assert.equal(late.status, 404);
    } finally {
      await gw.stop();
    }
  });
});
