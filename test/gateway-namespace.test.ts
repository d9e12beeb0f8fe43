import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ConfigValidationError, validateConfig } from '../src/index.js';
import { MAX_NAME_LENGTH, namespacedName } from '../src/main/gateway/naming/namespace.js';
import {
  connectSse,
  connectStreamable,
  postJson,
  startTestGateway,
  type TestGateway,
} from './support/gateway.js';
import { fixturePath } from './support/paths.js';

/**
 * Issue 17, points 1 and 2: tools and prompts of several servers on one aggregated endpoint, named
 * {server}__{name}; filters and overrides per server on every endpoint.
 */
const node = process.execPath;
const echo = { command: node, args: [fixturePath('echo-server')] };

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
type Json = Record<string, any>;

const text = (result: Json) => (result.content as Json[])[0]!.text as string;

async function pids(url: string): Promise<Record<string, string>> {
  const status = (await (await fetch(`${url}/status`)).json()) as {
    servers: Array<{ name: string; pid: number }>;
  };
  return Object.fromEntries(status.servers.map((s) => [s.name, String(s.pid)]));
}

async function both(url: string): Promise<Array<{ label: string; client: Client }>> {
  return [
    { label: '/mcp', client: (await connectStreamable(`${url}/mcp`)).client },
    { label: '/sse', client: (await connectSse(`${url}/sse`)).client },
  ];
}

describe('aggregated endpoints: namespaced names, filters and overrides', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      alpha: {
        ...echo,
        tools: { allow: ['e*', 'pid', 'add', 'regional'], deny: ['echo_meta'] },
        overrides: { add: { name: 'plus', title: 'Plus', description: 'Adds two numbers (renamed)' } },
      },
      beta: { ...echo, prompts: { deny: ['*'] } },
      'gamma.v2': echo,
    });
  });
  after(() => gw.stop());

  test('three copies of one server: every tool and prompt listed once, callable by its listed name, reaching its own server', async () => {
    const expected = await pids(gw.url);
    for (const { label, client } of await both(gw.url)) {
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        for (const server of ['alpha', 'beta', 'gamma.v2']) {
          assert.equal(names.filter((n) => n === `${server}__pid`).length, 1, `${label}: ${server}__pid`);
          const answer = await client.callTool({ name: `${server}__pid`, arguments: {} });
          assert.equal(text(answer), expected[server], `${label}: ${server}__pid reaches ${server}`);
        }
        assert.equal(new Set(names).size, names.length, `${label}: no name twice`);
        const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
        assert.deepEqual(prompts.filter((p) => p.endsWith('__greet')).sort(), [
          'alpha__greet',
          'gamma.v2__greet',
        ]);
        const greeting = await client.getPrompt({ name: 'gamma.v2__greet', arguments: { name: 'Ada' } });
        assert.match(JSON.stringify(greeting.messages), /Hello, Ada!/);
        const completion = await client.complete({
          ref: { type: 'ref/prompt', name: 'alpha__greet' },
          argument: { name: 'name', value: 'a' },
        });
        assert.deepEqual(completion.completion.values, ['alice']);
      } finally {
        await client.close();
      }
    }
  });

  test('filters and overrides hold on every endpoint: hidden tools are unknown, renamed ones are called by their new name', async () => {
    const lists: Record<string, Json[]> = {};
    for (const [label, url, prefix] of [
      ['/mcp', `${gw.url}/mcp`, 'alpha__'],
      ['/servers/alpha/mcp', `${gw.url}/servers/alpha/mcp`, ''],
    ] as const) {
      const { client } = await connectStreamable(url);
      try {
        const tools = (await client.listTools()).tools as Json[];
        lists[label] = tools;
        const mine = tools
          .filter((t) => (t.name as string).startsWith(prefix))
          .map((t) => t.name.slice(prefix.length));
        assert.ok(
          mine.includes('echo') && mine.includes('plus') && mine.includes('pid'),
          `${label}: ${mine}`,
        );
        for (const hidden of ['echo_meta', 'add', 'counter', 'sleep'])
          assert.ok(!mine.includes(hidden), `${label}: ${hidden} is hidden`);
        const plus = tools.find((t) => t.name === `${prefix}plus`)!;
        assert.equal(plus.title, 'Plus');
        assert.equal(plus.description, 'Adds two numbers (renamed)');
        assert.equal(
          text(await client.callTool({ name: `${prefix}plus`, arguments: { a: 2, b: 40 } })),
          '42',
        );
        for (const hidden of ['add', 'echo_meta', 'counter']) {
          const refused = await client.callTool({ name: `${prefix}${hidden}`, arguments: {} }).then(
            () => undefined,
            (error: Error) => error.message,
          );
          assert.match(refused ?? 'served', new RegExp(`-32602.*Unknown tool: ${prefix}${hidden}\\.`), label);
        }
      } finally {
        await client.close();
      }
    }
    // beta shows no prompts anywhere.
    const { client } = await connectStreamable(`${gw.url}/servers/beta/mcp`);
    try {
      assert.deepEqual((await client.listPrompts()).prompts, []);
      await assert.rejects(
        client.getPrompt({ name: 'greet', arguments: { name: 'x' } }),
        /Unknown prompt: greet/,
      );
    } finally {
      await client.close();
    }
  });

  test("the original crate's way still works: a bare name with params.server, or a bare name only one server has", async () => {
    const call = (id: number, params: Json) =>
      postJson(`${gw.url}/sse/messages`, { jsonrpc: '2.0', id, method: 'tools/call', params });
    const explicit = await call(1, { name: 'pid', arguments: {}, server: 'beta' });
    assert.equal(text(explicit.json!.result), (await pids(gw.url)).beta);
    // A namespaced name with a matching params.server (clients that send both fields of a listed tool).
    const both = await call(2, { name: 'beta__echo', arguments: { text: 'b' }, server: 'beta' });
    assert.equal(text(both.json!.result), 'b');
    // Only alpha shows `plus`: a bare call finds it.
    const sole = await call(3, { name: 'plus', arguments: { a: 1, b: 1 } });
    assert.equal(text(sole.json!.result), '2');
    const several = await call(4, { name: 'echo', arguments: { text: 'x' } });
    assert.equal(several.json!.error.code, -32602);
    assert.match(several.json!.error.message, /offered by several servers \(alpha, beta, gamma\.v2\)/);
  });

  test('the same resource on several servers: the first in the config gets it, and /status says so', async () => {
    const read = await postJson(`${gw.url}/sse/messages`, {
      jsonrpc: '2.0',
      id: 1,
      method: 'resources/read',
      params: { uri: 'fixture://hello' },
    });
    assert.equal(read.json!.result.contents[0].text, 'hello');
    // /status reports from the lists the gateway has fetched: have the templates listed too.
    await postJson(`${gw.url}/sse/messages`, { jsonrpc: '2.0', id: 2, method: 'resources/templates/list' });
    const status = (await (await fetch(`${gw.url}/status`)).json()) as { conflicts: Json[] };
    const hello = status.conflicts.find((c) => c.kind === 'resource' && c.key === 'fixture://hello');
    assert.deepEqual(hello, {
      kind: 'resource',
      key: 'fixture://hello',
      servers: ['alpha', 'beta', 'gamma.v2'],
      routedTo: 'alpha',
    });
    assert.ok(status.conflicts.some((c) => c.kind === 'resourceTemplate' && c.routedTo === 'alpha'));
    // Names are namespaced, so tools and prompts are not in dispute.
    assert.ok(!status.conflicts.some((c) => c.kind === 'tool' || c.kind === 'prompt'));
  });
});

describe('namespace: false, the original crate’s bare names', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ one: echo, two: echo }, { namespace: false });
  });
  after(() => gw.stop());

  test('bare names with a server field, picked with params.server; a clash is reported in /status', async () => {
    const listed = await postJson(`${gw.url}/sse/messages`, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const echoes = (listed.json!.result.tools as Json[]).filter((t) => t.name === 'echo');
    assert.deepEqual(
      echoes.map((t) => t.server),
      ['one', 'two'],
    );
    const picked = await postJson(`${gw.url}/sse/messages`, {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'pid', arguments: {}, server: 'two' },
    });
    assert.equal(text(picked.json!.result), (await pids(gw.url)).two);
    const status = (await (await fetch(`${gw.url}/status`)).json()) as { conflicts: Json[] };
    assert.ok(status.conflicts.some((c) => c.kind === 'tool' && c.key === 'echo' && c.routedTo === 'one'));
  });
});

describe('namespace rules', () => {
  test('servers whose names could be confused under the separator are a config error naming both', () => {
    const config = { mcpServers: { a: echo, a__b: echo } };
    assert.throws(
      () => validateConfig(config, 'test.json'),
      (error: unknown) => {
        assert.ok(error instanceof ConfigValidationError);
        assert.match(error.message, /servers "a" and "a__b" cannot both be namespaced with "__"/);
        return true;
      },
    );
    // Another separator, or none, is fine.
    validateConfig({ ...config, sseProxy: { namespace: '.' } }, 'test.json');
    validateConfig({ ...config, sseProxy: { namespace: false } }, 'test.json');
  });

  test('two overrides to one name, and a separator tool names cannot hold, are config errors', () => {
    assert.throws(
      () =>
        validateConfig(
          { mcpServers: { a: { ...echo, overrides: { echo: { name: 'x' }, add: { name: 'x' } } } } },
          'test.json',
        ),
      /renames "add" to "x", which "echo" is renamed to already/,
    );
    assert.throws(
      () => validateConfig({ mcpServers: { a: echo }, sseProxy: { namespace: '::' } }, 'test.json'),
      /namespace/,
    );
  });

  test('a namespaced name never passes 128 characters and stays unique', () => {
    const server = 's'.repeat(64);
    const a = namespacedName(server, 't'.repeat(100), '__');
    const b = namespacedName(server, `${'t'.repeat(99)}u`, '__');
    assert.equal(a.length, MAX_NAME_LENGTH);
    assert.notEqual(a, b);
    assert.ok(a.startsWith(`${server}__`));
    assert.equal(namespacedName('srv', 'tool', '__'), 'srv__tool');
  });
});
