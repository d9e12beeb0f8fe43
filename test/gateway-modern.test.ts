import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';
import { openRawSse } from './support/raw-sse.js';

const node = process.execPath;
const MODERN = '2026-07-28';

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
type Json = Record<string, any>;

const meta = (extra: Json = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
  ...extra,
});

/** A 2026-07-28 POST as the transport wants it, headers derived from the body unless overridden. */
async function post(
  url: string,
  body: Json,
  headers: Record<string, string | undefined> = {},
): Promise<{ status: number; headers: Headers; json: Json | undefined; text: string }> {
  const params = (body.params ?? {}) as Json;
  const derived: Record<string, string | undefined> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': body.method,
    'mcp-name': params.name ?? params.uri,
    ...headers,
  };
  const sent = Object.fromEntries(Object.entries(derived).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const response = await fetch(url, { method: 'POST', headers: sent, body: JSON.stringify(body) });
  const text = await response.text();
  let json: Json | undefined;
  try {
    json = text ? (JSON.parse(text) as Json) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

const call = (id: number | string, name: string, args: Json, extraMeta: Json = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, _meta: meta(extraMeta) },
});

/** A raw 2026-07-28 `subscriptions/listen` POST whose answer is read as the SSE stream it is. */
function openListen(url: string, id: string | number, notifications: Json) {
  return openRawSse(
    url,
    {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'subscriptions/listen',
    },
    {
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'subscriptions/listen',
        params: { notifications, _meta: meta() },
      }),
    },
  );
}

async function connectModern(url: string, mode: 'auto' | { pin: string }): Promise<Client> {
  const client = new Client({ name: 'modern-test', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

describe('2026-07-28 clients, bridged to 2025 backends', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      echo: { command: node, args: [fixturePath('echo-server')] },
      notify: { command: node, args: [fixturePath('notify-server')] },
      solo: { command: node, args: [fixturePath('echo-server')], sessionMode: 'isolated' },
    });
  });
  after(() => gw.stop());

  for (const path of ['/servers/echo/mcp', '/mcp']) {
    test(`the SDK v2 client pinned to 2026-07-28 lists and calls on ${path}`, async () => {
      const client = await connectModern(`${gw.url}${path}`, { pin: MODERN });
      try {
        assert.equal(client.getProtocolEra(), 'modern');
        assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
        const { tools } = await client.listTools();
        // The aggregated endpoint names tools {server}__{name}: called by the name it lists.
        const add = path === '/mcp' ? 'echo__add' : 'add';
        assert.ok(tools.some((t) => t.name === add));
        const result = await client.callTool({ name: add, arguments: { a: 2, b: 3 } });
        assert.deepEqual(result.content, [{ type: 'text', text: '5' }]);
        const serverInfo = (result._meta as Json | undefined)?.['io.modelcontextprotocol/serverInfo'];
        assert.equal(serverInfo?.name, path === '/mcp' ? 'mcp-runner' : 'echo-server');
      } finally {
        await client.close();
      }
    });
  }

  test('the SDK v2 client in auto mode finds the modern era (no fallback to initialize)', async () => {
    const client = await connectModern(`${gw.url}/servers/echo/mcp`, 'auto');
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const result = await client.callTool({ name: 'echo', arguments: { text: 'auto' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'auto' }]);
    } finally {
      await client.close();
    }
  });

  test('server/discover: the gateway answers for /mcp, the backend description for /servers/{name}/mcp', async () => {
    const discover = { jsonrpc: '2.0', id: 'd', method: 'server/discover', params: { _meta: meta() } };
    const aggregated = await post(`${gw.url}/mcp`, discover);
    assert.equal(aggregated.status, 200);
    const result = aggregated.json!.result as Json;
    assert.equal(aggregated.json!.id, 'd');
    assert.equal(result.supportedVersions[0], MODERN);
    assert.ok(result.supportedVersions.includes('2025-11-25'), 'legacy clients are served too');
    assert.equal(result.resultType, 'complete');
    assert.equal(typeof result.ttlMs, 'number');
    assert.equal(result.cacheScope, 'public');
    assert.equal(result._meta['io.modelcontextprotocol/serverInfo'].name, 'mcp-runner');
    assert.ok(result.capabilities.tools, 'tools offered');
    assert.equal(
      result.capabilities.tools.listChanged,
      true,
      'list changes come through subscriptions/listen',
    );
    const one = await post(`${gw.url}/servers/echo/mcp`, discover);
    assert.equal(one.json!.result._meta['io.modelcontextprotocol/serverInfo'].name, 'echo-server');
  });

  test('results carry resultType; lists and resources/read carry ttlMs and cacheScope', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const list = await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta() } });
    assert.equal(list.json!.result.resultType, 'complete');
    assert.equal(list.json!.result.ttlMs, 60_000);
    assert.equal(list.json!.result.cacheScope, 'public');
    const read = await post(url, {
      jsonrpc: '2.0',
      id: 2,
      method: 'resources/read',
      params: { uri: 'fixture://hello', _meta: meta() },
    });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json!.result.resultType, 'complete');
    assert.equal(read.json!.result.ttlMs, 0);
    const called = await post(url, call(3, 'echo', { text: 'x' }));
    assert.equal(called.json!.result.resultType, 'complete');
    assert.equal(called.json!.result.ttlMs, undefined, 'a call is not cacheable');
  });

  test('resource not found is -32602 for a modern caller', async () => {
    const missing = await post(`${gw.url}/servers/echo/mcp`, {
      jsonrpc: '2.0',
      id: 9,
      method: 'resources/read',
      params: { uri: 'nothing://here', _meta: meta() },
    });
    assert.equal(missing.status, 200);
    assert.equal(missing.json!.id, 9);
    assert.equal(missing.json!.error.code, -32602);
  });

  test('header and version checks: -32020 and -32022 with the request id, 404 -32601, 405, batches', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const expectError = async (
      got: Promise<{ status: number; json: Json | undefined }>,
      status: number,
      code: number,
      id: unknown,
      pattern?: RegExp,
    ) => {
      const answer = await got;
      assert.equal(answer.status, status, JSON.stringify(answer.json));
      assert.equal(answer.json?.error?.code, code, JSON.stringify(answer.json));
      assert.deepEqual(answer.json?.id, id);
      if (pattern) assert.match(answer.json!.error.message, pattern);
      return answer.json!;
    };
    const body = call(11, 'echo', { text: 'x' });
    await expectError(
      post(url, body, { 'mcp-protocol-version': undefined }),
      400,
      -32020,
      11,
      /MCP-Protocol-Version/,
    );
    await expectError(
      post(url, body, { 'mcp-protocol-version': '2025-11-25' }),
      400,
      -32020,
      11,
      /'2025-11-25' does not match body value '2026-07-28'/,
    );
    await expectError(
      post(url, body, { 'mcp-method': undefined }),
      400,
      -32020,
      11,
      /Mcp-Method header is required/,
    );
    await expectError(post(url, body, { 'mcp-method': 'tools/list' }), 400, -32020, 11, /Mcp-Method/);
    await expectError(
      post(url, body, { 'mcp-name': undefined }),
      400,
      -32020,
      11,
      /Mcp-Name header is required/,
    );
    await expectError(
      post(url, body, { 'mcp-name': 'add' }),
      400,
      -32020,
      11,
      /'add' does not match body value 'echo'/,
    );
    await expectError(post(url, body, { 'mcp-name': '=?base64?***?=' }), 400, -32020, 11, /not valid Base64/);
    // A name outside the header-safe set travels Base64-encoded and is compared decoded.
    const encoded = `=?base64?${Buffer.from('echo').toString('base64')}?=`;
    const ok = await post(url, body, { 'mcp-name': encoded });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json!.result.content, [{ type: 'text', text: 'x' }]);
    const future = {
      ...body,
      params: { ...body.params, _meta: meta({ 'io.modelcontextprotocol/protocolVersion': '2027-01-01' }) },
    };
    const unsupported = await expectError(
      post(url, future, { 'mcp-protocol-version': '2027-01-01' }),
      400,
      -32022,
      11,
    );
    assert.equal(unsupported.error.data.requested, '2027-01-01');
    assert.equal(unsupported.error.data.supported[0], MODERN);
    for (const method of ['no/such/method', 'ping', 'logging/setLevel', 'resources/subscribe']) {
      await expectError(
        post(url, { jsonrpc: '2.0', id: 'm', method, params: { _meta: meta() } }),
        404,
        -32601,
        'm',
      );
    }
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(url, {
        method,
        headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN },
      });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'POST');
      await response.body?.cancel();
    }
    const batch = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
      },
      body: JSON.stringify([body]),
    });
    assert.equal(batch.status, 400);
    assert.equal(((await batch.json()) as Json).error.code, -32600);
    const notification = await post(url, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, _meta: meta() },
    });
    assert.equal(notification.status, 202);
  });

  for (const path of ['/servers/echo/mcp', '/mcp']) {
    test(`Mcp-Param-* headers are checked against the tool's x-mcp-header parameters on ${path}`, async () => {
      const url = `${gw.url}${path}`;
      const server = path === '/mcp' ? { server: 'echo' } : {};
      const regional = (id: number, args: Json, headers: Record<string, string>) =>
        post(
          url,
          { ...call(id, 'regional', args), params: { ...call(id, 'regional', args).params, ...server } },
          headers,
        );
      const served = async (id: number, args: Json, headers: Record<string, string>) => {
        const answer = await regional(id, args, headers);
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(JSON.parse(answer.json!.result.content[0].text), args);
      };
      const refused = async (id: number, args: Json, headers: Record<string, string>, pattern: RegExp) => {
        const answer = await regional(id, args, headers);
        assert.equal(answer.status, 400, answer.text);
        assert.equal(answer.json!.id, id);
        assert.equal(answer.json!.error.code, -32020);
        assert.match(answer.json!.error.message, pattern);
      };
      await served(31, { region: 'us-west1', query: 'q' }, { 'mcp-param-region': 'us-west1' });
      // Header names are case-insensitive; a value outside plain ASCII comes Base64-encoded.
      await served(
        32,
        { region: 'Zürich', query: 'q' },
        {
          'Mcp-Param-Region': `=?base64?${Buffer.from('Zürich').toString('base64')}?=`,
        },
      );
      // A nested boolean parameter, and a header the tool does not declare (ignored).
      await served(
        33,
        { region: 'eu', query: 'q', opts: { dry: true } },
        {
          'mcp-param-region': 'eu',
          'mcp-param-dry': 'true',
          'mcp-param-unrelated': 'anything',
        },
      );
      // No mirrored argument, no header: nothing to check.
      await served(34, { query: 'q' }, {});
      await refused(35, { region: 'us-west1', query: 'q' }, {}, /Mcp-Param-region header is required/);
      await refused(
        36,
        { region: 'us-west1', query: 'q' },
        { 'mcp-param-region': 'us-east1' },
        /does not match/,
      );
      await refused(
        37,
        { region: 'eu', query: 'q', opts: { dry: true } },
        {
          'mcp-param-region': 'eu',
          'mcp-param-dry': 'false',
        },
        /Mcp-Param-dry header value 'false' does not match body value 'true'/,
      );
      await refused(
        38,
        { query: 'q' },
        { 'mcp-param-region': 'eu' },
        /was sent but the argument region is absent/,
      );
      await refused(
        39,
        { region: 'eu', query: 'q' },
        { 'mcp-param-region': '=?base64?***?=' },
        /not valid Base64/,
      );
      // A null argument has no value to mirror: no header, and served.
      await served(40, { region: null, query: 'q' }, {});
    });
  }

  test('notifications/message only for a request whose _meta asks a logLevel, at or above it', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const count = (text: string) => (text.match(/notifications\/message/g) ?? []).length;
    const none = await post(url, call(61, 'log', { count: 2 }));
    assert.equal(count(none.text), 0, none.text);
    const level = (value: string) => ({ 'io.modelcontextprotocol/logLevel': value });
    const debug = await post(url, call(62, 'log', { count: 2 }, level('debug')));
    assert.equal(count(debug.text), 2, debug.text);
    assert.match(debug.text, /log message 2 of 2/);
    const quiet = await post(url, call(63, 'log', { count: 2 }, level('error')));
    assert.equal(count(quiet.text), 0, quiet.text);
  });

  test('every caller gets the same lists, in the same order every time', async () => {
    for (const path of ['/mcp', '/servers/echo/mcp']) {
      const names = async (id: number, extra: Json) => {
        const answer = await post(`${gw.url}${path}`, {
          jsonrpc: '2.0',
          id,
          method: 'tools/list',
          params: { _meta: meta(extra) },
        });
        return (answer.json!.result.tools as Json[]).map((t) => t.name as string);
      };
      const first = await names(71, {});
      const other = await names(72, {
        'io.modelcontextprotocol/clientInfo': { name: 'another', version: '9' },
        'io.modelcontextprotocol/clientCapabilities': { sampling: {}, roots: {} },
      });
      assert.ok(first.length > 5, path);
      assert.deepEqual(other, first, `${path}: the same for another caller`);
      assert.deepEqual(await names(73, {}), first, `${path}: the same order again`);
    }
  });

  test('malformed 2026-07-28 requests get 400 -32602 before reaching a backend', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const refusedWith = async (body: Json, pattern: RegExp, target = url) => {
      const answer = await post(target, body);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json!.error.code, -32602, answer.text);
      assert.equal(answer.json!.id, body.id);
      assert.match(answer.json!.error.message, pattern);
    };
    const noCapabilities = call(51, 'echo', { text: 'x' }) as Json;
    delete noCapabilities.params._meta['io.modelcontextprotocol/clientCapabilities'];
    await refusedWith(noCapabilities, /clientCapabilities"\] is required/);
    await refusedWith(
      call(52, 'echo', { text: 'x' }, { 'io.modelcontextprotocol/logLevel': 'loud' }),
      /logLevel/,
    );
    const badResponses = call(53, 'echo', { text: 'x' }) as Json;
    badResponses.params.inputResponses = 'yes';
    await refusedWith(badResponses, /inputResponses must be an object/);
    // The aggregated lists are one page: a cursor is one the gateway never gave.
    const answer = await post(`${gw.url}/mcp`, {
      jsonrpc: '2.0',
      id: 54,
      method: 'tools/list',
      params: { cursor: 'page-2', _meta: meta() },
    });
    assert.equal(answer.json!.error.code, -32602, answer.text);
    assert.match(answer.json!.error.message, /Invalid cursor/);
  });

  test('an inbound Mcp-Session-Id and Last-Event-ID are ignored for a modern request', async () => {
    const answer = await post(`${gw.url}/servers/echo/mcp`, call(12, 'echo', { text: 'still served' }), {
      'mcp-session-id': 'no-such-session',
      'last-event-id': '0-1',
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('mcp-session-id'), null, 'no session minted or echoed');
    assert.deepEqual(answer.json!.result.content, [{ type: 'text', text: 'still served' }]);
  });

  test('50 modern clients at once with colliding ids each get only their own answers', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(`${gw.url}/servers/echo/mcp`, call(1, 'echo', { text: `client ${i}` })),
      ),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200);
      assert.equal(answer.json!.id, 1);
      assert.deepEqual(answer.json!.result.content, [{ type: 'text', text: `client ${i}` }]);
    });
  });

  test('closing the response stream cancels the call on the backend', async () => {
    const inflight = async () => {
      const status = (await (await fetch(`${gw.url}/status`)).json()) as {
        inflight: number;
        servers: Array<{ name: string; inFlight: number }>;
      };
      return status.inflight + (status.servers.find((s) => s.name === 'echo')?.inFlight ?? 0);
    };
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/servers/echo/mcp`, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'tools/call',
        'mcp-name': 'sleep',
      },
      body: JSON.stringify(call(13, 'sleep', { ms: 30_000 })),
    }).catch(() => undefined);
    assert.ok(await waitForAsync(async () => (await inflight()) === 2), 'the call is in flight');
    controller.abort();
    await pending;
    assert.ok(await waitForAsync(async () => (await inflight()) === 0), 'cancelled on the backend');
  });

  test('an isolated server refuses stateless callers with a clear error', async () => {
    const answer = await post(`${gw.url}/servers/solo/mcp`, call(14, 'echo', { text: 'x' }));
    assert.equal(answer.status, 200);
    assert.equal(answer.json!.error.code, -32600);
    assert.match(answer.json!.error.message, /one process per session.*2026-07-28 has no sessions/);
  });

  test('subscriptions/listen with the SDK v2 client: list changes and resource updates arrive, nothing else', async () => {
    const url = `${gw.url}/servers/notify/mcp`;
    const client = await connectModern(url, { pin: MODERN });
    const toolsChanged: unknown[] = [];
    const updated: Json[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', (n) => {
      toolsChanged.push(n);
    });
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      updated.push(n.params as Json);
    });
    try {
      const sub = await client.listen({
        toolsListChanged: true,
        resourceSubscriptions: ['fixture://counter'],
      });
      assert.deepEqual(sub.honoredFilter, {
        toolsListChanged: true,
        resourceSubscriptions: ['fixture://counter'],
      });
      await client.callTool({ name: 'add_tool', arguments: {} });
      assert.ok(await waitForAsync(async () => toolsChanged.length === 1), 'tools/list_changed arrived');
      await client.callTool({ name: 'bump', arguments: {} });
      assert.ok(await waitForAsync(async () => updated.length === 1), 'resources/updated arrived');
      assert.equal(updated[0]!.uri, 'fixture://counter');
      await sub.close();
    } finally {
      await client.close();
    }
    // The listen stream's session and its backend subscription end with the stream.
    assert.ok(
      await waitForAsync(
        async () => ((await (await fetch(`${gw.url}/status`)).json()) as Json).sessions === 0,
      ),
      'no session left',
    );
  });

  test('a listen stream on the wire: acknowledgement first, subscriptionId on each event, only what was asked', async () => {
    const url = `${gw.url}/servers/notify/mcp`;
    const listen = openListen(url, 'L1', { toolsListChanged: true, bogus: true });
    const stream = await listen;
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
      const ack = JSON.parse((await stream.next(() => true)).data) as Json;
      assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
      assert.deepEqual(ack.params.notifications, { toolsListChanged: true });
      assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 'L1');
      // `notify` sends tools and resources list_changed and a log message: only the first was asked for.
      await post(url, call(21, 'notify', {}));
      const change = JSON.parse((await stream.next((e) => e.data.includes('list_changed'))).data) as Json;
      assert.equal(change.method, 'notifications/tools/list_changed');
      assert.equal(change.params._meta['io.modelcontextprotocol/subscriptionId'], 'L1');
      await post(url, call(22, 'add_tool', {}));
      await stream.next((e) => e.data.includes('list_changed') && stream.events.length >= 3);
      const methods = stream.events.map((e) => (JSON.parse(e.data) as Json).method);
      assert.deepEqual(methods, [
        'notifications/subscriptions/acknowledged',
        'notifications/tools/list_changed',
        'notifications/tools/list_changed',
      ]);
    } finally {
      stream.close();
    }
  });

  test('subscriptions/listen without Accept: text/event-stream is refused', async () => {
    const answer = await post(
      `${gw.url}/servers/notify/mcp`,
      {
        jsonrpc: '2.0',
        id: 'L2',
        method: 'subscriptions/listen',
        params: { notifications: {}, _meta: meta() },
      },
      { accept: 'application/json' },
    );
    assert.equal(answer.status, 400);
    assert.equal(answer.json!.id, 'L2');
    assert.equal(answer.json!.error.code, -32600);
  });

  test("a gateway shutdown ends a listen stream with the listen request's own result", async () => {
    const own = await startTestGateway({ echo: { command: node, args: [fixturePath('echo-server')] } });
    let stream: Awaited<ReturnType<typeof openRawSse>> | undefined;
    try {
      stream = await openListen(`${own.url}/mcp`, 7, { toolsListChanged: true });
      await stream.next(() => true);
    } finally {
      await own.stop();
    }
    await stream.ended;
    const last = JSON.parse(stream.events.at(-1)!.data) as Json;
    assert.deepEqual(last, {
      jsonrpc: '2.0',
      id: 7,
      result: {
        resultType: 'complete',
        _meta: {
          'io.modelcontextprotocol/subscriptionId': 7,
          'io.modelcontextprotocol/serverInfo': { name: 'mcp-runner', version: '0.1.0' },
        },
      },
    });
  });
});
