import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { openRawSse } from './support/raw-sse.js';

const node = process.execPath;
const ACCEPT_BOTH = { accept: 'application/json, text/event-stream' };

/** Opens a Streamable HTTP session by hand at a given protocol version; returns its id. */
async function initSession(url: string, protocolVersion: string): Promise<string> {
  const init = await postJson(
    url,
    {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    },
    ACCEPT_BOTH,
  );
  assert.equal(init.status, 200, init.text);
  assert.equal(init.json?.result?.protocolVersion, protocolVersion);
  const sid = init.headers.get('mcp-session-id')!;
  const ack = await postJson(
    url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    {
      ...ACCEPT_BOTH,
      'mcp-session-id': sid,
    },
  );
  assert.equal(ack.status, 202);
  return sid;
}

function headersFor(sid: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...ACCEPT_BOTH, 'content-type': 'application/json', 'mcp-session-id': sid, ...extra };
}

/** POSTs a request and reads its SSE answer as a raw stream (fetch, so it can be cut). */
async function postForStream(url: string, sid: string, body: unknown) {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: headersFor(sid),
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  return { response, controller };
}

/** Reads SSE text from a response until `until` matches what was read so far, then stops reading. */
async function readUntil(response: Response, until: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!until(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe('gateway: Streamable HTTP resumability (Last-Event-ID)', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let slowUrl: string;
  before(async () => {
    gw = await startTestGateway({
      slow: { command: node, args: [fixturePath('slow-server'), '--delay-ms', '400'] },
      notify: { command: node, args: [fixturePath('notify-server')] },
    });
    slowUrl = `${gw.url}/servers/slow/mcp`;
  });
  after(() => gw.stop());

  for (const path of ['/servers/slow/mcp', '/mcp']) {
    test(`the official client resumes a cut POST stream with Last-Event-ID and gets its answer (${path})`, async () => {
      const seen: Array<{ method: string; lastEventId: string | null }> = [];
      let cut = 0;
      // A fetch that drops the first tools/call response right after its priming event, as a flaky network would.
      const flakyFetch: typeof fetch = async (input, init) => {
        const headers = new Headers(init?.headers);
        seen.push({ method: init?.method ?? 'GET', lastEventId: headers.get('last-event-id') });
        const response = await fetch(input, init);
        const isCall = typeof init?.body === 'string' && init.body.includes('"tools/call"');
        if (!isCall || cut > 0 || !response.body) return response;
        cut += 1;
        const reader = response.body.getReader();
        const first = await reader.read();
        let pulls = 0;
        // The priming event is handed over first; the drop comes on the next read, as on a real network.
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulls++ === 0 && first.value) {
              controller.enqueue(first.value);
              return;
            }
            void reader.cancel();
            controller.error(new Error('simulated network drop'));
          },
        });
        return new Response(body, { status: response.status, headers: response.headers });
      };
      const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}${path}`), { fetch: flakyFetch });
      const client = new Client({ name: 'resume-test', version: '1.0.0' });
      await client.connect(transport);
      try {
        const result = await client.callTool({ name: 'echo', arguments: { text: 'survived the drop' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'survived the drop' }]);
        assert.equal(cut, 1, 'the stream was cut once');
        const resume = seen.find((r) => r.method === 'GET' && r.lastEventId);
        assert.ok(resume, `the client resumed with Last-Event-ID: ${JSON.stringify(seen)}`);
        // The session still works normally afterwards.
        const again = await client.callTool({ name: 'echo', arguments: { text: 'next' } });
        assert.deepEqual(again.content, [{ type: 'text', text: 'next' }]);
      } finally {
        await client.close();
      }
    });
  }

  test('2025-11-25: a POST stream starts with a priming event (id, retry, empty data); a resumed stream replays only its own events and ends after the answer', async () => {
    const sid = await initSession(slowUrl, '2025-11-25');
    const { response, controller } = await postForStream(slowUrl, sid, {
      jsonrpc: '2.0',
      id: 'call-1',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'replayed' } },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const priming = await readUntil(response, (t) => t.includes('\n\n'));
    const match = /^id: (\S+)\nretry: (\d+)\ndata: \n\n/.exec(priming);
    assert.ok(match, `priming event expected, got ${JSON.stringify(priming)}`);
    const primingId = match[1]!;
    assert.equal(Number(match[2]), 1000);
    controller.abort(); // the client loses the stream before the answer

    // The standalone GET stream gets its own priming event, with an id of a different stream.
    const standalone = await openRawSse(slowUrl, { 'mcp-session-id': sid });
    const standalonePriming = await standalone.next((e) => e.id !== undefined);
    assert.equal(standalonePriming.data, '');
    assert.notEqual(standalonePriming.id!.split(':')[1], primingId.split(':')[1], 'ids encode their stream');

    await new Promise((resolve) => setTimeout(resolve, 600)); // the backend answers meanwhile
    const resumed = await openRawSse(slowUrl, { 'mcp-session-id': sid, 'last-event-id': primingId });
    assert.equal(resumed.status, 200);
    const answer = await resumed.next((e) => e.data !== '');
    assert.deepEqual(JSON.parse(answer.data), {
      jsonrpc: '2.0',
      id: 'call-1',
      result: { content: [{ type: 'text', text: 'replayed' }] },
    });
    assert.ok(
      answer.id &&
        answer.id !== primingId &&
        answer.id.startsWith(primingId.split(':').slice(0, 2).join(':')),
    );
    await resumed.ended; // a resumed POST stream ends after its answer
    assert.equal(resumed.events.filter((e) => e.data !== '').length, 1, 'nothing from other streams');
    assert.equal(
      standalone.events.filter((e) => e.data !== '').length,
      0,
      'the answer went to one stream only',
    );
    standalone.close();
  });

  test('a stream cut while it waits gets later events on the resumed connection', async () => {
    const sid = await initSession(slowUrl, '2025-11-25');
    const { response, controller } = await postForStream(slowUrl, sid, {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 800 } },
    });
    const priming = await readUntil(response, (t) => t.includes('\n\n'));
    const primingId = /^id: (\S+)/.exec(priming)![1]!;
    controller.abort();
    // Resume at once: the answer is still on its way and must follow on this connection.
    const resumed = await openRawSse(slowUrl, { 'mcp-session-id': sid, 'last-event-id': primingId });
    const answer = await resumed.next((e) => e.data !== '', 5000);
    assert.deepEqual(JSON.parse(answer.data).result.content, [{ type: 'text', text: 'slow 800' }]);
    assert.equal(JSON.parse(answer.data).id, 7);
    await resumed.ended;
  });

  test('a Last-Event-ID from another session replays nothing', async () => {
    const victim = await initSession(slowUrl, '2025-11-25');
    const { response } = await postForStream(slowUrl, victim, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'secret of the victim' } },
    });
    const text = await readUntil(response, (t) => t.includes('secret of the victim'));
    const ids = [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
    assert.ok(ids.length >= 2);

    const attacker = await initSession(slowUrl, '2025-11-25');
    const stolen = await openRawSse(slowUrl, { 'mcp-session-id': attacker, 'last-event-id': ids[0]! });
    assert.equal(stolen.status, 200, 'treated as a plain GET of the attacker’s own session');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!stolen.events.some((e) => e.data.includes('secret')), 'no replay across sessions');
    stolen.close();
  });

  test('a second plain GET gets 409, but resuming the standalone stream replaces the old connection', async () => {
    const sid = await initSession(`${gw.url}/servers/notify/mcp`, '2025-11-25');
    const url = `${gw.url}/servers/notify/mcp`;
    const first = await openRawSse(url, { 'mcp-session-id': sid });
    const priming = await first.next((e) => e.id !== undefined);
    const second = await openRawSse(url, { 'mcp-session-id': sid });
    assert.equal(second.status, 409);
    const resumed = await openRawSse(url, { 'mcp-session-id': sid, 'last-event-id': priming.id! });
    assert.equal(resumed.status, 200);
    await first.ended; // the old connection is closed by the gateway
    // list_changed now arrives on the resumed stream, once.
    const call = await postJson(
      url,
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'notify', arguments: {} } },
      headersFor(sid),
    );
    assert.equal(call.status, 200);
    const changed = await resumed.next((e) => e.data.includes('list_changed'));
    assert.ok(changed.id, 'standalone events carry ids');
    resumed.close();
  });

  test('sessions before 2025-11-25 get no priming or empty-data events, but ids for resumption', async () => {
    const sid = await initSession(slowUrl, '2025-06-18');
    const call = await postJson(
      slowUrl,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } },
      headersFor(sid),
    );
    assert.equal(call.status, 200);
    assert.match(call.headers.get('content-type') ?? '', /^application\/json/, 'no early stream to prime');
    assert.equal(call.json?.id, 1);
    // The stream has nothing to send yet; its status line must still arrive now, not with the first
    // keep-alive (uWS holds the headers until the first body bytes).
    const get = await Promise.race([
      openRawSse(slowUrl, { 'mcp-session-id': sid }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no GET response headers within 5 s')), 5000).unref(),
      ),
    ]);
    assert.equal(get.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(get.events.length, 0, 'no empty-data event on an older session');
    get.close();
  });
});

describe('gateway: JSON-RPC batches on Streamable HTTP', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  let url: string;
  before(async () => {
    gw = await startTestGateway({ echo: { command: node, args: [fixturePath('echo-server')] } });
    url = `${gw.url}/servers/echo/mcp`;
  });
  after(() => gw.stop());

  test('a 2025-03-26 session gets one array answering every request of a batch', async () => {
    const sid = await initSession(url, '2025-03-26');
    const res = await postJson(
      url,
      [
        { jsonrpc: '2.0', id: 'a', method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'in a batch' } },
        },
        { jsonrpc: '2.0', id: 3, method: 'no/such/method' },
      ],
      { accept: 'application/json', 'mcp-session-id': sid },
    );
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const answers = res.json as unknown as Array<Record<string, any>>;
    assert.ok(Array.isArray(answers));
    const byId = new Map(answers.map((a) => [a.id, a]));
    assert.equal(answers.length, 3);
    assert.deepEqual(byId.get('a')?.result, {});
    assert.deepEqual(byId.get(2)?.result?.content, [{ type: 'text', text: 'in a batch' }]);
    assert.equal(byId.get(3)?.error?.code, -32601);
  });

  test('a batch of only notifications gets 202', async () => {
    const sid = await initSession(url, '2025-03-26');
    const res = await postJson(url, [{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }], {
      ...ACCEPT_BOTH,
      'mcp-session-id': sid,
    });
    assert.equal(res.status, 202);
    assert.equal(res.text, '');
  });

  test('batches are refused on later versions, with initialize, empty or over 100 messages', async () => {
    const modern = await initSession(url, '2025-11-25');
    const old = await initSession(url, '2025-03-26');
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const init = {
      jsonrpc: '2.0',
      id: 9,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const cases: Array<[string, string, unknown]> = [
      ['on a 2025-11-25 session', modern, [ping]],
      ['with initialize inside', old, [init, ping]],
      ['empty', old, []],
      ['with 101 messages', old, Array.from({ length: 101 }, (_, i) => ({ ...ping, id: i }))],
      ['with a bad member', old, [ping, { jsonrpc: '1.0', id: 2, method: 'ping' }]],
    ];
    for (const [name, sid, body] of cases) {
      const res = await postJson(url, body, { ...ACCEPT_BOTH, 'mcp-session-id': sid });
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.equal(res.json?.error?.code, -32600, name);
      assert.equal(res.json?.id, null, name);
    }
  });
});

describe('gateway: replayBufferBytes 0 turns event ids and resumption off', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      { slow: { command: node, args: [fixturePath('slow-server'), '--delay-ms', '50'] } },
      { replayBufferBytes: 0 },
    );
  });
  after(() => gw.stop());

  test('no priming, no ids: nothing is kept, so nothing invites a resume', async () => {
    const url = `${gw.url}/servers/slow/mcp`;
    const sid = await initSession(url, '2025-11-25');
    const get = await openRawSse(url, { 'mcp-session-id': sid });
    const call = await postJson(
      url,
      { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { text: 'plain' } } },
      headersFor(sid),
    );
    assert.equal(call.status, 200);
    assert.match(call.headers.get('content-type') ?? '', /^application\/json/, 'answered as plain JSON');
    assert.equal(call.json?.result?.content?.[0]?.text, 'plain');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(get.events.length, 0, 'no priming event on the GET stream');
    get.close();
  });
});
