import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { McpRunner } from '../src/index.js';
import { freePort } from './support/free-port.js';
import { connectSse, connectStreamable, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';
import { testLogger } from './support/quiet-logger.js';

/**
 * Issue 17, point 3: remote servers as backends, beside a stdio one: a Streamable HTTP server (with a
 * bearer header taken from the environment) and a 2024-11-05 HTTP+SSE one, both real v1 SDK servers on
 * loopback, aggregated and passed through; a remote killed and restarted on the same port.
 */
const node = process.execPath;
const TOKEN = 'remote-secret';

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
type Json = Record<string, any>;

function startRemote(port: number, fixture = 'http-server'): Promise<ChildProcess> {
  const child = spawn(node, [fixturePath(fixture), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REMOTE_TOKEN: TOKEN },
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`remote exited with ${code}`)));
  });
}

async function status(url: string, name: string): Promise<Json> {
  const report = (await (await fetch(`${url}/status`)).json()) as { servers: Json[] };
  return report.servers.find((s) => s.name === name)!;
}

const text = (result: Json) => (result.content as Json[])[0]!.text as string;

describe('remote backends: Streamable HTTP and HTTP+SSE beside stdio', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let port: number;
  let remote: ChildProcess;
  let modern: ChildProcess;
  let startedAt = 0;
  const previous = process.env.REMOTE_BEARER;
  before(async () => {
    port = await freePort();
    remote = await startRemote(port);
    const modernPort = await freePort();
    modern = await startRemote(modernPort, 'modern-http-server');
    process.env.REMOTE_BEARER = TOKEN;
    startedAt = Date.now();
    gw = await startTestGateway({
      local: { command: node, args: [fixturePath('echo-server')] },
      web: {
        type: 'http',
        url: `http://127.0.0.1:${port}/mcp`,
        headers: { Authorization: 'Bearer ${env:REMOTE_BEARER}' },
        restart: { initialDelayMs: 100, maxRetries: 20 },
      },
      next: { type: 'http', url: `http://127.0.0.1:${modernPort}/mcp` },
      old: {
        url: `http://127.0.0.1:${port}/sse`,
        headers: { Authorization: `Bearer ${TOKEN}` },
        restart: { initialDelayMs: 100, maxRetries: 20 },
      },
    });
  });
  after(async () => {
    await gw.stop();
    remote.kill('SIGKILL');
    modern.kill('SIGKILL');
    if (previous === undefined) delete process.env.REMOTE_BEARER;
    else process.env.REMOTE_BEARER = previous;
  });

  test('both remotes are aggregated with the stdio server and passed through on their own endpoints', async () => {
    assert.equal((await status(gw.url, 'web')).status, 'running');
    assert.equal((await status(gw.url, 'old')).status, 'running');
    for (const connect of [() => connectStreamable(`${gw.url}/mcp`), () => connectSse(`${gw.url}/sse`)]) {
      const { client } = await connect();
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        for (const name of ['local__echo', 'web__echo', 'old__echo'])
          assert.ok(names.includes(name), names.join(','));
        assert.equal(
          text(await client.callTool({ name: 'web__echo', arguments: { text: 'via http' } })),
          'via http',
        );
        assert.equal(
          text(await client.callTool({ name: 'old__echo', arguments: { text: 'via sse' } })),
          'via sse',
        );
      } finally {
        await client.close();
      }
    }
    for (const server of ['web', 'old']) {
      const { client } = await connectStreamable(`${gw.url}/servers/${server}/mcp`);
      try {
        assert.equal(client.getServerVersion()?.name, 'remote-server');
        assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: server } })), server);
      } finally {
        await client.close();
      }
    }
  });

  test('a 2026-07-28 remote (stateless HTTP): spoken to in its era, its input requests relayed to a 2025 client', async () => {
    assert.equal(gw.runner.getClient('next').era, 'modern');
    const { client } = await connectStreamable(`${gw.url}/mcp`, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { name: 'Ada' },
    }));
    try {
      assert.equal(
        text(await client.callTool({ name: 'next__echo', arguments: { text: 'modern' } })),
        'modern',
      );
      assert.deepEqual(JSON.parse(text(await client.callTool({ name: 'next__elicit', arguments: {} }))), {
        name: 'Ada',
      });
    } finally {
      await client.close();
    }
  });

  test('a remote that wants credentials the config does not give: the start fails saying so', async () => {
    const runner = new McpRunner(
      { mcpServers: { locked: { type: 'http', url: `http://127.0.0.1:${port}/mcp` } } },
      { logger: testLogger(), logLevel: 'silent' },
    );
    try {
      await assert.rejects(
        runner.startServer('locked'),
        /HTTP 401\. The remote wants authorization: set mcpServers\.locked\.headers/,
      );
    } finally {
      await runner.close();
    }
  });

  test('many sessions on one upstream session: each gets its own answers', async () => {
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => connectStreamable(`${gw.url}/servers/web/mcp`)),
    );
    try {
      const answers = await Promise.all(
        clients.map(({ client }, i) =>
          client.callTool({ name: 'echo', arguments: { text: `session ${i}` } }),
        ),
      );
      for (const [i, answer] of answers.entries()) assert.equal(text(answer), `session ${i}`);
    } finally {
      await Promise.all(clients.map(({ client }) => client.close()));
    }
  });

  test("the HTTP+SSE remote's stream stays open: no reconnection while nothing goes wrong", async () => {
    // The transport probe's timeout once cut the stream it handed over after 10 s.
    const wait = startedAt + 12_000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const old = await status(gw.url, 'old');
    assert.deepEqual([old.status, old.restarts], ['running', 0]);
    const { client } = await connectStreamable(`${gw.url}/servers/old/mcp`);
    try {
      assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: 'still' } })), 'still');
    } finally {
      await client.close();
    }
  });

  test('a remote killed and started again on the same port: calls fail at once meanwhile, then work', async () => {
    const { client } = await connectStreamable(`${gw.url}/mcp`);
    try {
      const inFlight = client.callTool({ name: 'web__sleep', arguments: { ms: 10_000 } });
      inFlight.catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
      remote.kill('SIGKILL');
      await assert.rejects(inFlight);
      assert.ok(
        await waitForAsync(async () => (await status(gw.url, 'web')).status !== 'running', 10_000),
        'the gateway noticed',
      );
      const started = performance.now();
      await assert.rejects(client.callTool({ name: 'web__echo', arguments: { text: 'x' } }));
      assert.ok(performance.now() - started < 2_000, 'failed at once, no hang');
      remote = await startRemote(port);
      assert.ok(
        await waitForAsync(async () => (await status(gw.url, 'web')).status === 'running', 30_000),
        'reconnected with a new upstream session',
      );
      assert.equal(text(await client.callTool({ name: 'web__echo', arguments: { text: 'back' } })), 'back');
    } finally {
      await client.close();
    }
  });
});
