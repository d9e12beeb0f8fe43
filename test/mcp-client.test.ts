import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { McpRunner } from '../src/index.js';
import { fixturePath, serverEverythingPath } from './support/paths.js';
import { testLogger } from './support/quiet-logger.js';

describe('McpClient against @modelcontextprotocol/server-everything', () => {
  const runner = new McpRunner(
    {
      mcpServers: {
        everything: { command: process.execPath, args: [serverEverythingPath, 'stdio'] },
        paged: { command: process.execPath, args: [fixturePath('echo-server'), '--page-size', '2'] },
      },
    },
    { logger: testLogger() },
  );

  before(async () => {
    await runner.startAllServers();
  });
  after(async () => {
    await runner.stopAllServers();
  });

  test('the handshake negotiated a version and cached the capabilities', () => {
    const client = runner.getClient('everything');
    assert.equal(client.protocolVersion, '2025-11-25');
    assert.ok(client.serverCapabilities.tools, 'tools capability cached');
    assert.ok(client.serverCapabilities.resources, 'resources capability cached');
    assert.ok(client.serverCapabilities.prompts, 'prompts capability cached');
    assert.equal(typeof client.initializeResult?.serverInfo.name, 'string');
  });

  test('getClient works by ServerId too', () => {
    const id = runner.getServerId('everything');
    assert.equal(runner.getClient(id), runner.getClient('everything'));
  });

  test('listTools and callTool', async () => {
    const tools = await runner.getServerTools('everything');
    const names = tools.map((t) => t.name);
    for (const expected of ['echo', 'get-sum', 'get-tiny-image'])
      assert.ok(names.includes(expected), expected);
    const client = runner.getClient('everything');
    const echo = await client.callTool('echo', { message: 'hi there' });
    assert.match(JSON.stringify(echo.content), /hi there/);
    const sum = await client.callTool('get-sum', { a: 2, b: 40 });
    assert.match(JSON.stringify(sum.content), /42/);
    const image = await client.callTool('get-tiny-image', {});
    assert.ok(image.content.some((c) => c.type === 'image' && typeof c.data === 'string'));
  });

  test('listTools follows pagination cursors', async () => {
    const tools = await runner.getClient('paged').listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.length > 2, `all pages were fetched (${names.length} tools)`);
    assert.equal(new Set(names).size, names.length, 'no tool listed twice');
    assert.ok(names.includes('echo') && names.includes('counter'));
  });

  test('resources: list, templates, read', async () => {
    const client = runner.getClient('everything');
    const resources = await client.listResources();
    assert.ok(resources.length > 0);
    const first = resources[0]!;
    const read = await client.getResource(first.uri);
    assert.equal(read.contents[0]?.uri, first.uri);
    const templates = await client.listResourceTemplates();
    assert.ok(templates.some((t) => t.uriTemplate.includes('{resourceId}')));
  });

  test('prompts: list, get, complete', async () => {
    const client = runner.getClient('everything');
    const prompts = await client.listPrompts();
    assert.ok(prompts.some((p) => p.name === 'simple-prompt'));
    const prompt = await client.getPrompt('completable-prompt', { department: 'Sales', name: 'Eve' });
    assert.match(JSON.stringify(prompt), /Eve/);
    const completion = await client.complete(
      { type: 'ref/prompt', name: 'completable-prompt' },
      { name: 'department', value: 'Eng' },
    );
    assert.deepEqual(completion.completion.values, ['Engineering']);
  });

  test('logging level and ping', async () => {
    const client = runner.getClient('everything');
    assert.deepEqual(await client.setLoggingLevel('debug'), {});
    assert.deepEqual(await client.ping(), {});
  });

  test('getAllServerTools lists every running server', async () => {
    const all = await runner.getAllServerTools();
    assert.deepEqual(Object.keys(all).sort(), ['everything', 'paged']);
  });

  test('100 concurrent calls on one connection come back matched', async () => {
    const client = runner.getClient('paged');
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.callTool('echo', { text: `call-${i}` })),
    );
    results.forEach((result, i) => {
      assert.equal(result.content[0]?.text, `call-${i}`);
    });
  });
});
