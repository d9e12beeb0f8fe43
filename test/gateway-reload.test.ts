import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { measure } from '../bench/load/measure.js';
import type { Target } from '../bench/load/targets.js';
import { startCli } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { connectStreamable, postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { TEST_HTTP_ENGINE } from './support/http-engine.js';
import { fixturePath } from './support/paths.js';
import { isAlive, waitFor, waitForAsync } from './support/processes.js';

/** Issue 17, point 4: a new config applied without a restart, and nothing lost when it is wrong. */
const node = process.execPath;
const echo = { command: node, args: [fixturePath('echo-server')] };

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
type Json = Record<string, any>;

async function status(url: string): Promise<Json> {
  return (await (await fetch(`${url}/status`)).json()) as Json;
}

const text = (result: Json) => (result.content as Json[])[0]!.text as string;

describe('config reload in a running gateway', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ a: echo, b: echo });
  });
  after(() => gw.stop());

  test('a reload adds one server and removes another under live sessions: ids stay valid, list_changed arrives', async () => {
    const aggregated = await connectStreamable(`${gw.url}/mcp`);
    const onB = await connectStreamable(`${gw.url}/servers/b/mcp`);
    let changed = 0;
    aggregated.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed++;
    });
    try {
      const bPid = Number((await status(gw.url)).servers.find((s: Json) => s.name === 'b').pid);
      const inFlight = aggregated.client.callTool({ name: 'b__sleep', arguments: { ms: 10_000 } });
      inFlight.catch(() => {});
      assert.ok(
        await waitForAsync(async () => (await status(gw.url)).inflight === 1),
        'the call is in flight',
      );
      const report = await gw.runner.reload({ mcpServers: { a: echo, c: echo } });
      assert.deepEqual([report.added, report.removed, report.changed], [['c'], ['b'], []]);
      // The call on the removed server fails with an error saying so, at once.
      await assert.rejects(inFlight, /being stopped/);
      assert.equal(isAlive(bPid), false, "b's process is gone");
      assert.ok(await waitFor(() => changed >= 1, 5_000), 'tools/list_changed reached the session');
      // The same session, still valid: the new server's tools are there, the removed one's are not.
      const names = (await aggregated.client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('c__echo') && names.includes('a__echo'), names.join(','));
      assert.ok(!names.some((n) => n.startsWith('b__')), names.join(','));
      assert.equal(
        text(await aggregated.client.callTool({ name: 'c__echo', arguments: { text: 'new' } })),
        'new',
      );
      // The removed server's endpoint is gone, and its session with it.
      await assert.rejects(onB.client.listTools());
      const gone = await postJson(`${gw.url}/servers/b/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' });
      assert.equal(gone.status, 404);
      assert.deepEqual(
        (await status(gw.url)).servers.map((s: Json) => s.name),
        ['a', 'c'],
      );
    } finally {
      await aggregated.client.close();
      await onB.client.close().catch(() => {});
    }
  });

  test('a changed entry restarts that server only; calls to the others never fail meanwhile', async () => {
    const before = await status(gw.url);
    const pidOf = (s: Json, name: string) => s.servers.find((x: Json) => x.name === name).pid;
    const { client } = await connectStreamable(`${gw.url}/mcp`);
    let errors = 0;
    let calls = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          await client.callTool({ name: 'a__echo', arguments: { text: 'x' } });
          calls++;
        } catch {
          errors++;
        }
      }
    })();
    try {
      // The load runs across the whole reload: calls before it starts, and calls after it ends.
      assert.ok(await waitFor(() => calls >= 5, 5_000), 'the load is running');
      const report = await gw.runner.reload({
        mcpServers: { a: echo, c: { ...echo, env: { CHANGED: '1' } } },
      });
      const atEnd = calls;
      assert.ok(await waitFor(() => calls >= atEnd + 5, 5_000), 'the load went on after the reload');
      assert.deepEqual(report.changed, ['c']);
      const after = await status(gw.url);
      assert.notEqual(pidOf(after, 'c'), pidOf(before, 'c'), 'c restarted');
      assert.equal(pidOf(after, 'a'), pidOf(before, 'a'), 'a untouched');
      const env = await client.callTool({ name: 'c__env', arguments: { name: 'CHANGED' } });
      assert.equal(text(env), '1');
    } finally {
      running = false;
      await load;
      await client.close();
    }
    assert.equal(errors, 0, `no call to a failed (${calls} calls)`);
  });
});

describe('config reload under the bench load generator', { timeout: 120_000 }, () => {
  test('a reload that adds, removes and changes other servers: the load on a server that stays has no error', async () => {
    const gw = await startTestGateway({ a: echo, b: echo, c: echo });
    try {
      const target: Target = {
        name: 'gateway',
        origin: gw.url,
        ssePath: '/sse',
        mcpPath: '/mcp',
        tool: 'a__echo',
        pid: process.pid,
        stop: async () => {},
      };
      const load = Promise.all([
        measure(target, 'streamable', { sessions: 20, durationS: 3, inflight: 1, payload: 64 }),
        measure(target, 'sse', { sessions: 20, durationS: 3, inflight: 1, payload: 64 }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const report = await gw.runner.reload({
        mcpServers: { a: echo, c: { ...echo, env: { X: '1' } }, d: echo },
      });
      assert.deepEqual([report.added, report.removed, report.changed], [['d'], ['b'], ['c']]);
      for (const row of await load) {
        assert.ok(row.calls > 0, `${row.transport}: ${row.calls} calls`);
        assert.equal(row.errors, 0, `${row.transport}: ${row.errors} errors (${row.note ?? ''})`);
        assert.equal(row.misdelivered, 0, `${row.transport}: misdelivered answers`);
      }
    } finally {
      await gw.stop();
    }
  });
});

describe('config reload from the CLI: file watch and SIGHUP', { timeout: 120_000 }, () => {
  test('an invalid edit changes nothing; a valid one is applied; SIGHUP reloads too', async () => {
    const port = await freePort();
    const config = (servers: Record<string, unknown>) => ({
      mcpServers: servers,
      sseProxy: { port, workers: 2, httpEngine: TEST_HTTP_ENGINE },
    });
    const cli = await startCli(config({ a: echo }), { logLevel: 'info' });
    const url = `http://127.0.0.1:${port}`;
    const names = async () => ((await status(url)).servers as Json[]).map((s) => s.name);
    try {
      writeFileSync(cli.configPath, '{ "mcpServers": { "a": { "command": 42 } } }');
      assert.ok(
        await waitFor(() => /config reload refused/.test(cli.stdout() + cli.stderr()), 10_000),
        'the refusal is logged',
      );
      assert.match(cli.stdout() + cli.stderr(), /mcpServers\.a\.command/);
      assert.deepEqual(await names(), ['a'], 'still running on the old config');
      writeFileSync(cli.configPath, JSON.stringify(config({ a: echo, b: echo })));
      assert.ok(await waitForAsync(async () => (await names()).includes('b'), 10_000), 'b was added');
      assert.ok(
        await waitForAsync(
          async () => ((await status(url)).servers as Json[]).every((s) => s.status === 'running'),
          10_000,
        ),
      );
      // SIGHUP with a port change: the servers apply, the port is reported as needing a restart.
      writeFileSync(cli.configPath, JSON.stringify({ ...config({ b: echo }), sseProxy: { port: port + 1 } }));
      cli.child.kill('SIGHUP');
      assert.ok(await waitForAsync(async () => !(await names()).includes('a'), 10_000), 'a was removed');
      assert.ok(
        await waitFor(() => /change only with a restart/.test(cli.stdout() + cli.stderr()), 10_000),
        'the port change is reported',
      );
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    }
  });
});
