import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectLegacyClient, type Json, MODERN } from './support/era-clients.js';
import { postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { isAlive, waitForAsync } from './support/processes.js';

/**
 * 2026-07-28 backends beyond the era matrix: a crash in the middle of a call, the gateway's listen stream
 * after a restart, a backend's own requestState as it crosses the gateway, and isolated processes.
 */
const node = process.execPath;

const meta = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, sampling: {} },
};

function modernCall(url: string, id: number, name: string, extra: Json = {}) {
  return postJson(
    url,
    { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, ...extra, _meta: meta } },
    {
      accept: 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
  );
}

async function backend(
  url: string,
  name: string,
): Promise<{ pid: number; status: string; restarts: number }> {
  const status = (await (await fetch(`${url}/status`)).json()) as {
    servers: Array<{ name: string; pid: number; status: string; restarts: number }>;
  };
  return status.servers.find((s) => s.name === name)!;
}

describe('2026-07-28 backends: faults, restarts, state and isolation', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      modern: {
        command: node,
        args: [fixturePath('modern-server'), '--modern-only'],
        restart: { initialDelayMs: 100 },
      },
      solo: { command: node, args: [fixturePath('modern-server'), '--modern-only'], sessionMode: 'isolated' },
    });
  });
  after(() => gw.stop());

  test('a backend that dies mid-call fails the call clearly; after its restart the gateway listens again', async () => {
    const client = await connectLegacyClient(`${gw.url}/servers/modern/mcp`);
    try {
      const watch = await client.watch('fixture://counter');
      const { pid } = await backend(gw.url, 'modern');
      const call = client.call('slow', { ms: 20_000 });
      call.catch(() => {});
      assert.ok(
        await waitForAsync(async () => (await postStatusInflight(gw.url)) === 1),
        'the call is in flight',
      );
      process.kill(pid, 'SIGKILL');
      await assert.rejects(call, /exited|closed|not available/i);
      assert.ok(
        await waitForAsync(async () => {
          const now = await backend(gw.url, 'modern');
          return now.status === 'running' && now.pid !== pid;
        }, 10_000),
        'restarted',
      );
      assert.equal(isAlive(pid), false);
      // The new process has a listen stream of the gateway's: its list changes reach the session.
      const before = watch.toolsChanged();
      assert.equal(await client.call('add_tool'), 'extra_1');
      assert.ok(
        await waitForAsync(async () => watch.toolsChanged() > before),
        'tools/list_changed after restart',
      );
      // The session's resource subscription was made again on the new process.
      assert.equal(await client.call('bump'), '1');
      assert.ok(
        await waitForAsync(async () => watch.updated().includes('fixture://counter')),
        'resources/updated after restart',
      );
    } finally {
      await client.close();
    }
  });

  test("a 2026-07-28 caller whose backend dies mid-call gets -32603, with the gateway's own code in data", async () => {
    const { pid } = await backend(gw.url, 'modern');
    const pending = modernCall(`${gw.url}/servers/modern/mcp`, 9, 'slow', { arguments: { ms: 20_000 } });
    assert.ok(
      await waitForAsync(async () => (await postStatusInflight(gw.url)) === 1),
      'the call is in flight',
    );
    process.kill(pid, 'SIGKILL');
    const answer = await pending;
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json!.error.code, -32603, answer.text);
    assert.equal(answer.json!.error.data.code, -32000);
    assert.match(answer.json!.error.message, /exited/);
    assert.ok(
      await waitForAsync(async () => (await backend(gw.url, 'modern')).status === 'running', 10_000),
      'restarted',
    );
  });

  test("a backend's own requestState crosses the gateway sealed: tampered or reused for another request, refused", async () => {
    const url = `${gw.url}/servers/modern/mcp`;
    // `interview`: round 1 asks a name (no state), round 2 asks a sample with the name in the state.
    const first = (await modernCall(url, 1, 'interview')).json!.result as Json;
    assert.equal(first.resultType, 'input_required');
    assert.equal(first.requestState, undefined, 'no state, nothing to seal');
    const named = { inputResponses: { who: { action: 'accept', content: { name: 'Ada' } } } };
    const second = (await modernCall(url, 2, 'interview', named)).json!.result as Json;
    assert.equal(second.resultType, 'input_required');
    const state = second.requestState as string;
    assert.notEqual(state, 'Ada', "the backend's state is not handed out bare");
    const sampled = {
      inputResponses: { llm: { role: 'assistant', model: 'm', content: { type: 'text', text: 'hi' } } },
    };
    const tampered = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
    const refused = await modernCall(url, 3, 'interview', { ...sampled, requestState: tampered });
    assert.equal(refused.json!.error.code, -32602);
    assert.match(refused.json!.error.message, /not issued by this gateway/);
    const otherTool = await modernCall(url, 4, 'elicit', { ...sampled, requestState: state });
    assert.equal(otherTool.json!.error.code, -32602);
    assert.match(otherTool.json!.error.message, /another request/);
    const done = (await modernCall(url, 5, 'interview', { ...sampled, requestState: state })).json!
      .result as Json;
    assert.equal(done.resultType, 'complete');
    assert.equal(done.content[0].text, 'Ada: hi');
  });

  test('an isolated 2026-07-28 backend: each 2025 session its own process, asked for roots and input itself', async () => {
    const a = await connectLegacyClient(`${gw.url}/servers/solo/mcp`);
    const b = await connectLegacyClient(`${gw.url}/servers/solo/mcp`);
    try {
      const [pidA, pidB] = [await a.call('pid'), await b.call('pid')];
      assert.notEqual(pidA, pidB);
      assert.deepEqual(JSON.parse(await a.call('roots')), ['file:///work']);
      assert.deepEqual(JSON.parse(await b.call('elicit')), { action: 'accept', content: { name: 'Ada' } });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

async function postStatusInflight(url: string): Promise<number> {
  return ((await (await fetch(`${url}/status`)).json()) as { inflight: number }).inflight;
}
