/**
 * Lines of /work/shared/SPEC-CHECKLIST.md §6 ("Testable requirements") that no other suite asserts, each
 * checked over real HTTP on 127.0.0.1 against one gateway (2 workers). The test names carry the line
 * numbers; docs/spec-coverage.md maps every line to the tests that cover it.
 *
 * The gateway runs with a bearer token (so the Streamable HTTP endpoints' auth is checked too) and with
 * keep-alives every second. Several backends run behind test/fixtures/stdio-tap, which records every line
 * the gateway writes to the backend and can inject messages as if the backend sent them: that is how the
 * backend side of the wire (ids, progress tokens, cancellations, subscriptions, answers to server
 * requests) is asserted. A test marked `todo` is a gap in the gateway: its name says what is expected.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath, serverEverythingPath } from './support/paths.js';
import { waitFor } from './support/processes.js';
import { openRawSse } from './support/raw-sse.js';
import {
  connectRecordingClient,
  type RecordingClient,
  type RecordingClientOptions,
} from './support/recording-client.js';
import { firstText } from './support/server-everything.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are read field by field and asserted on
type Json = Record<string, any>;

const node = process.execPath;
const TOKEN = 'spec-lines-token-9c41e7';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const ACCEPT_BOTH = 'application/json, text/event-stream';
const TAPPED = ['echo', 'notify', 'timed'] as const;
type Tapped = (typeof TAPPED)[number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Headers for a Streamable HTTP request: the token, both media types, and the session when given. */
function headers(sid?: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...AUTH, accept: ACCEPT_BOTH, ...(sid ? { 'mcp-session-id': sid } : {}), ...extra };
}

function initialize(protocolVersion: string, capabilities: Json = {}, id: string | number = 0): Json {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities, clientInfo: { name: 'spec-lines', version: '1' } },
  };
}

const call = (id: string | number, name: string, args: Json = {}, extra: Json = {}): Json => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...extra },
});

/** A Streamable HTTP session opened by hand (initialize, then notifications/initialized). */
async function openSession(url: string, protocolVersion = '2025-11-25', capabilities: Json = {}) {
  const init = await postJson(url, initialize(protocolVersion, capabilities), headers());
  assert.equal(init.status, 200, init.text);
  const sid = init.headers.get('mcp-session-id');
  assert.ok(sid, 'initialize returns Mcp-Session-Id');
  const ack = await postJson(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers(sid));
  assert.equal(ack.status, 202);
  return sid;
}

/** One SSE event as written on the wire (data lines kept apart, so multi-line data shows). */
interface WireEvent {
  id?: string;
  event?: string;
  retry?: number;
  data: string[];
}

/** An HTTP answer read as it arrives: SSE events and comments, or the whole body for anything else. */
interface Wire {
  status: number;
  headers: Headers;
  sse: boolean;
  events: WireEvent[];
  comments: string[];
  /** The body, for answers that are not an event stream (filled when `ended` resolves). */
  body: string;
  ended: Promise<void>;
  next(match: (event: WireEvent) => boolean, timeoutMs?: number): Promise<WireEvent>;
  close(): void;
}

/** The JSON-RPC message of an event, or undefined for an event with empty data (priming). */
function messageOf(event: WireEvent): Json | undefined {
  const data = event.data.join('\n');
  return data === '' ? undefined : (JSON.parse(data) as Json);
}

function parseBlock(block: string): WireEvent | string {
  const lines = block.split('\n');
  if (lines.every((line) => line.startsWith(':'))) return lines.join('\n');
  const event: WireEvent = { data: [] };
  for (const line of lines) {
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') event.id = value;
    else if (field === 'event') event.event = value;
    else if (field === 'retry') event.retry = Number(value);
    else if (field === 'data') event.data.push(value);
  }
  return event;
}

async function wire(url: string, init: RequestInit): Promise<Wire> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const sse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const events: WireEvent[] = [];
  const comments: string[] = [];
  const waiters: Array<{ match: (e: WireEvent) => boolean; resolve: (e: WireEvent) => void }> = [];
  const result: Wire = {
    status: response.status,
    headers: response.headers,
    sse,
    events,
    comments,
    body: '',
    ended: Promise.resolve(),
    next(match, timeoutMs = 5000) {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for an SSE event')), timeoutMs);
        waiters.push({
          match,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
      });
    },
    close: () => controller.abort(),
  };
  result.ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true });
        if (!sse) {
          result.body += text;
          continue;
        }
        buffer += text;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const parsed = parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (typeof parsed === 'string') {
            comments.push(parsed);
            continue;
          }
          events.push(parsed);
          for (const waiter of [...waiters]) {
            if (waiter.match(parsed)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(parsed);
            }
          }
        }
      }
    } catch {
      // aborted by close(), or cut by the server
    }
  })();
  return result;
}

/** POSTs one JSON-RPC body and reads the answer as a Wire (an SSE stream, or a JSON body). */
function postWire(url: string, sid: string | undefined, body: unknown, extra: Record<string, string> = {}) {
  return wire(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers(sid, extra) },
    body: JSON.stringify(body),
  });
}

/** The session's standalone GET stream. */
function getWire(url: string, sid: string, extra: Record<string, string> = {}) {
  return wire(url, { headers: { ...AUTH, accept: 'text/event-stream', 'mcp-session-id': sid, ...extra } });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The JSON-RPC response to a POST, whether it came as a JSON body or at the end of an SSE stream. */
async function answerOf(
  url: string,
  sid: string,
  body: Json,
  extra: Record<string, string> = {},
): Promise<Json | undefined> {
  const reply = await postWire(url, sid, body, extra);
  await withTimeout(reply.ended, 5000, `the answer to ${body.method}`);
  if (!reply.sse) return reply.body ? (JSON.parse(reply.body) as Json) : undefined;
  return reply.events.map(messageOf).find((m) => m !== undefined && !('method' in m));
}

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** node:http, for requests that set their own Host or must see the headers exactly as sent. */
function rawHttp(
  port: number,
  method: string,
  path: string,
  requestHeaders: Record<string, string>,
  body?: string,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: requestHeaders, agent: false },
      (res) => {
        const status = res.statusCode ?? 0;
        if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          res.destroy(); // the headers are what these tests look at
          resolve({ status, headers: res.headers, text: '' });
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function listHeader(value: string | string[] | null | undefined): string[] {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}

describe('spec checklist §6: lines not covered elsewhere, over real HTTP', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let port: number;
  let logDir: string;
  const logs = {} as Record<Tapped, string>;
  const clients: RecordingClient[] = [];

  /** Every line the gateway wrote to a tapped backend, parsed. */
  const backendLog = (name: Tapped): Json[] =>
    readFileSync(logs[name], 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Json);

  /** The backend's copy of the tools/call whose arguments carry `marker`. */
  const forwardedCall = (name: Tapped, marker: string): Json | undefined =>
    backendLog(name).find((m) => m.method === 'tools/call' && m.params?.arguments?.marker === marker);

  const cancellationsOf = (name: Tapped, requestId: unknown): Json[] =>
    backendLog(name).filter(
      (m) => m.method === 'notifications/cancelled' && m.params?.requestId === requestId,
    );

  /** An official SDK client on a Streamable HTTP endpoint, with the token; closed (DELETE) in `after`. */
  async function sdk(path: string, options: RecordingClientOptions = {}): Promise<RecordingClient> {
    const transport = new StreamableHTTPClientTransport(new URL(`${gw.url}${path}`), {
      requestInit: { headers: AUTH },
    });
    const client = await connectRecordingClient(transport, options);
    clients.push(client);
    return client;
  }

  /**
   * Has the tapped backend behind `client`'s endpoint send `inject` to the gateway (while the tap call is in
   * flight for this session), and returns the gateway's answers to the injected requests.
   */
  async function tap(client: Client, inject: Json[], waitMs = 1000): Promise<Json[]> {
    const result = await client.callTool({ name: 'tap', arguments: { inject, waitMs } }, undefined, {
      timeout: 10_000,
    });
    return (JSON.parse(firstText(result)) as { replies: Json[] }).replies;
  }

  const methodsReceived = (client: RecordingClient): string[] =>
    client.received.flatMap((m) => ('method' in m ? [m.method] : []));

  before(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'mcpr-spec-lines-'));
    for (const name of TAPPED) logs[name] = join(logDir, `${name}.log`);
    const tapped = (name: Tapped, fixture: string) => ({
      command: node,
      args: [fixturePath('stdio-tap'), '--log', logs[name], '--', node, fixturePath(fixture)],
    });
    gw = await startTestGateway(
      {
        echo: tapped('echo', 'echo-server'),
        notify: tapped('notify', 'notify-server'),
        // Calls time out after 200 ms without progress, and after 2 s whatever progress arrives.
        timed: { ...tapped('timed', 'echo-server'), requestTimeoutMs: 200 },
        everything: { command: node, args: [serverEverythingPath, 'stdio'] },
        noisy: { command: node, args: [fixturePath('noisy-server')] },
        crashy: {
          command: node,
          args: [fixturePath('crash-on-call-server'), '--delay-ms', '150'],
          restart: { initialDelayMs: 50 },
        },
      },
      { authenticate: { bearer: { token: TOKEN } }, keepAliveMs: 1000 },
    );
    port = gw.gateway.port;
  });

  after(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await gw?.stop();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  // ----------------------------------------------------------------------------------------------------
  // A. HTTP surface and security

  test('[§6.2] a disallowed Origin gets 403 on the Streamable HTTP, per-server and status endpoints', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const evil = { ...AUTH, origin: 'https://evil.example' };
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const json = { 'content-type': 'application/json', accept: ACCEPT_BOTH };
    const attempts: Array<[string, string, Record<string, string>, string?]> = [
      ['POST', '/mcp', { ...json }, JSON.stringify(initialize('2025-11-25'))],
      ['POST', '/mcp', { ...json, 'mcp-session-id': sid }, ping],
      ['GET', '/mcp', { accept: 'text/event-stream', 'mcp-session-id': sid }],
      ['DELETE', '/mcp', { 'mcp-session-id': sid }],
      ['POST', '/servers/echo/mcp', { ...json }, JSON.stringify(initialize('2025-11-25'))],
      ['GET', '/servers/echo/sse', { accept: 'text/event-stream' }],
      ['POST', '/servers/echo/messages', { ...json }, ping],
      ['GET', '/status', {}],
    ];
    for (const [method, path, extra, body] of attempts) {
      const reply = await fetch(`${gw.url}${path}`, { method, headers: { ...evil, ...extra }, body });
      assert.equal(reply.status, 403, `${method} ${path}`);
      assert.equal(reply.headers.get('access-control-allow-origin'), null, `${method} ${path}: no CORS`);
      await reply.body?.cancel();
    }
    const alive = await postJson(`${gw.url}/mcp`, JSON.parse(ping), headers(sid));
    assert.equal(alive.status, 200, 'the refused DELETE did not end the session');
  });

  test('[§6.4, §6.5, §6.8] POST initialize: Host and Origin evil.example.com -> 4xx; localhost:<port> -> 2xx exposing Mcp-Session-Id', async () => {
    const body = JSON.stringify(initialize('2025-11-25'));
    const base = { ...AUTH, 'content-type': 'application/json', accept: ACCEPT_BOTH };
    const rebinding = await rawHttp(
      port,
      'POST',
      '/mcp',
      { ...base, host: 'evil.example.com', origin: 'http://evil.example.com' },
      body,
    );
    assert.ok(rebinding.status >= 400 && rebinding.status < 500, `got ${rebinding.status}`);
    assert.equal(rebinding.headers['mcp-session-id'], undefined, 'no session was made');
    const local = await rawHttp(
      port,
      'POST',
      '/mcp',
      { ...base, host: `localhost:${port}`, origin: `http://localhost:${port}` },
      body,
    );
    assert.ok(local.status >= 200 && local.status < 300, `got ${local.status}: ${local.text}`);
    assert.ok(local.headers['mcp-session-id']);
    assert.equal(local.headers['access-control-allow-origin'], `http://localhost:${port}`);
    assert.ok(listHeader(local.headers['access-control-expose-headers']).includes('mcp-session-id'));
  });

  test('[§6.7] OPTIONS preflight on the MCP endpoints: 2xx without a token, all six request headers allowed', async () => {
    const wanted = [
      'Mcp-Session-Id',
      'MCP-Protocol-Version',
      'Last-Event-ID',
      'Authorization',
      'Content-Type',
      'Accept',
    ];
    for (const path of ['/mcp', '/servers/echo/mcp']) {
      const reply = await fetch(`${gw.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:6274',
          'access-control-request-method': 'POST',
          'access-control-request-headers': wanted.join(', ').toLowerCase(),
        },
      });
      assert.ok(reply.status >= 200 && reply.status < 300, `${path}: ${reply.status}`);
      assert.equal(reply.headers.get('access-control-allow-origin'), 'http://localhost:6274');
      const allowed = listHeader(reply.headers.get('access-control-allow-headers'));
      for (const name of wanted) assert.ok(allowed.includes(name.toLowerCase()), `${path}: ${name}`);
    }
  });

  test('[§6.9] SSE answers carry text/event-stream, no-cache no-transform, X-Accel-Buffering: no, and no compression', async () => {
    const sid = await openSession(`${gw.url}/servers/echo/mcp`);
    const gzip = { 'accept-encoding': 'gzip, deflate, br' };
    const replies: Array<[string, RawReply]> = [
      ['GET /sse', await rawHttp(port, 'GET', '/sse', { ...AUTH, ...gzip, accept: 'text/event-stream' })],
      [
        'GET /mcp',
        await rawHttp(port, 'GET', '/servers/echo/mcp', {
          ...AUTH,
          ...gzip,
          accept: 'text/event-stream',
          'mcp-session-id': sid,
        }),
      ],
      [
        'POST stream',
        await rawHttp(
          port,
          'POST',
          '/servers/echo/mcp',
          { ...headers(sid), ...gzip, 'content-type': 'application/json' },
          JSON.stringify(call(1, 'sleep', { ms: 50 })),
        ),
      ],
    ];
    for (const [what, reply] of replies) {
      assert.equal(reply.status, 200, what);
      assert.equal(reply.headers['content-type'], 'text/event-stream', what);
      assert.equal(reply.headers['cache-control'], 'no-cache, no-transform', what);
      assert.equal(reply.headers['x-accel-buffering'], 'no', what);
      assert.equal(reply.headers['content-encoding'], undefined, `${what}: not compressed`);
    }
  });

  test('[§6.10] a Streamable HTTP GET stream gets keep-alive comments', async () => {
    const sid = await openSession(`${gw.url}/servers/echo/mcp`);
    const stream = await getWire(`${gw.url}/servers/echo/mcp`, sid);
    try {
      assert.ok(await waitFor(() => stream.comments.length >= 1, 2500), 'a comment within keepAliveMs');
      assert.match(stream.comments[0]!, /^:/);
    } finally {
      stream.close();
    }
  });

  test('[§6.10] a POST SSE stream waiting for a slow answer gets keep-alive comments', {}, async () => {
    const sid = await openSession(`${gw.url}/servers/echo/mcp`);
    // keepAliveMs is 1000 here, so a stream open for 1.5 s spans at least one keep-alive tick.
    const stream = await postWire(`${gw.url}/servers/echo/mcp`, sid, call(1, 'sleep', { ms: 1500 }));
    assert.ok(stream.sse);
    await withTimeout(stream.ended, 5000, 'the end of the POST stream');
    assert.ok(stream.comments.length >= 1, `comments on the POST stream: ${stream.comments.length}`);
  });

  // ----------------------------------------------------------------------------------------------------
  // B. Streamable HTTP: POST

  test('[§6.12] a POST of only a JSON-RPC response (result or error) gets 202 with an empty body', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    for (const body of [
      { jsonrpc: '2.0', id: 'mcpr-999', result: {} },
      { jsonrpc: '2.0', id: 'mcpr-998', error: { code: -32603, message: 'no' } },
    ]) {
      const reply = await postJson(`${gw.url}/mcp`, body, headers(sid));
      assert.equal(reply.status, 202);
      assert.equal(reply.text, '');
    }
  });

  test('[§6.15, §6.16, §6.17] an SSE POST stream: progress before exactly one response, event "message", one-line data, then the end', async () => {
    const sid = await openSession(`${gw.url}/servers/echo/mcp`);
    const stream = await postWire(
      `${gw.url}/servers/echo/mcp`,
      sid,
      call('p-15', 'progress', { steps: 3, delayMs: 10 }, { _meta: { progressToken: 'tok-15' } }),
    );
    assert.equal(stream.status, 200);
    assert.ok(stream.sse);
    await withTimeout(stream.ended, 5000, 'the end of the POST stream after its response');
    for (const event of stream.events) {
      assert.ok(event.event === undefined || event.event === 'message', `event name ${event.event}`);
      assert.ok(event.data.length <= 1, `data is one line: ${JSON.stringify(event.data)}`);
    }
    const messages = stream.events.map(messageOf);
    const responses = messages.filter((m) => m && !('method' in m));
    assert.equal(responses.length, 1, 'exactly one response');
    assert.equal(responses[0]?.id, 'p-15');
    assert.ok(messages.at(-1) === responses[0], 'the response is the last event');
    const progress = messages.filter((m) => m?.method === 'notifications/progress');
    assert.deepEqual(
      progress.map((m) => [m?.params.progressToken, m?.params.progress]),
      [
        ['tok-15', 1],
        ['tok-15', 2],
        ['tok-15', 3],
      ],
    );
  });

  test('[§6.17, §6.98, §6.12] sampling caused by a call comes on that call’s POST stream before its response', async () => {
    const url = `${gw.url}/servers/notify/mcp`;
    const sid = await openSession(url, '2025-11-25', { sampling: {} });
    const stream = await postWire(url, sid, call('s-17', 'sample', { prompt: 'p17' }));
    assert.ok(stream.sse);
    const asked = await stream.next((e) => messageOf(e)?.method === 'sampling/createMessage');
    const request = messageOf(asked)!;
    const answer = await postJson(
      url,
      {
        jsonrpc: '2.0',
        id: request.id,
        result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'answer-17' } },
      },
      headers(sid),
    );
    assert.equal(answer.status, 202, 'a POSTed response is acknowledged with 202');
    assert.equal(answer.text, '');
    await withTimeout(stream.ended, 5000, 'the end of the POST stream');
    const messages = stream.events.map(messageOf).filter((m) => m !== undefined);
    const askedAt = messages.findIndex((m) => m.method === 'sampling/createMessage');
    const answeredAt = messages.findIndex((m) => m.id === 's-17' && !('method' in m));
    assert.ok(askedAt >= 0 && askedAt < answeredAt, `order: ${JSON.stringify(messages)}`);
    assert.equal(messages[answeredAt]?.result.content[0].text, 'answer-17');
  });

  test('[§6.18] POST /mcp: text/plain -> 415; application/json; charset=utf-8 is accepted', async () => {
    const body = JSON.stringify(initialize('2025-11-25'));
    const plain = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'text/plain' },
      body,
    });
    assert.equal(plain.status, 415);
    await plain.body?.cancel();
    const charset = await postJson(`${gw.url}/mcp`, body, {
      ...headers(),
      'content-type': 'application/json; charset=utf-8',
    });
    assert.equal(charset.status, 200);
  });

  test('[§6.19] POST /mcp whose Accept lists neither JSON, event-stream nor */* gets 406', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const html = await postJson(`${gw.url}/mcp`, ping, headers(sid, { accept: 'text/html' }));
    assert.equal(html.status, 406);
    const any = await postJson(`${gw.url}/mcp`, ping, headers(sid, { accept: '*/*' }));
    assert.equal(any.status, 200);
  });

  test('[§6.21] the default body limit is 4 MiB: exactly 4 MiB is served, one byte more gets 413', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const limit = 4 * 1024 * 1024;
    const ofSize = (size: number) => {
      const empty = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: '' } });
      return JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'ping',
        params: { pad: 'x'.repeat(size - empty.length) },
      });
    };
    const exact = await postJson(`${gw.url}/mcp`, ofSize(limit), headers(sid));
    assert.equal(exact.status, 200);
    const over = await postJson(`${gw.url}/mcp`, ofSize(limit + 1), headers(sid));
    assert.equal(over.status, 413);
  });

  test('[§6.25, §6.42] three concurrent tools/list (ids 1000-1002, header 2025-03-26 on a 2025-11-25 session) all get 2xx', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const replies = await Promise.all(
      [1000, 1001, 1002].map((id) =>
        postJson(
          `${gw.url}/mcp`,
          { jsonrpc: '2.0', id, method: 'tools/list' },
          headers(sid, { 'mcp-protocol-version': '2025-03-26' }),
        ),
      ),
    );
    for (const [i, reply] of replies.entries()) {
      assert.ok(reply.status >= 200 && reply.status < 300, `${1000 + i}: ${reply.status} ${reply.text}`);
    }
    // The answers may come as JSON or as an SSE stream; the ping below checks the plain JSON case.
    const ping = await postJson(
      `${gw.url}/mcp`,
      { jsonrpc: '2.0', id: 'v', method: 'ping' },
      headers(sid, { 'mcp-protocol-version': '2025-06-18' }),
    );
    assert.deepEqual(ping.json, { jsonrpc: '2.0', id: 'v', result: {} });
  });

  test('[§6.26] two concurrent requests with the same id on one session each get their own result', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const sid = await openSession(url, '2025-06-18');
    const [slow, fast] = await Promise.all([
      postJson(url, call(1, 'sleep', { ms: 300 }), headers(sid)),
      postJson(url, call(1, 'sleep', { ms: 20 }), headers(sid)),
    ]);
    assert.deepEqual(slow.json, {
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'slept 300' }] },
    });
    assert.deepEqual(fast.json, {
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'slept 20' }] },
    });
  });

  // ----------------------------------------------------------------------------------------------------
  // C. Sessions

  test('[§6.30] session ids are distinct and carry no visible sequence', async () => {
    const ids = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const init = await postJson(`${gw.url}/mcp`, initialize('2025-11-25'), headers());
        return init.headers.get('mcp-session-id')!;
      }),
    );
    assert.equal(new Set(ids).size, ids.length, 'all distinct');
    for (const id of ids) assert.ok(id.length >= 22, `long enough for 122 random bits: ${id}`);
    const tails = ids.map((id) => id.slice(-16));
    assert.equal(new Set(tails).size, ids.length, 'they differ in their last 16 characters too');
    await Promise.all(ids.map((sid) => fetch(`${gw.url}/mcp`, { method: 'DELETE', headers: headers(sid) })));
  });

  test('[§6.31] GET and DELETE without Mcp-Session-Id get 400', async () => {
    const get = await fetch(`${gw.url}/mcp`, { headers: { ...AUTH, accept: 'text/event-stream' } });
    assert.equal(get.status, 400);
    await get.body?.cancel();
    const del = await fetch(`${gw.url}/mcp`, { method: 'DELETE', headers: AUTH });
    assert.equal(del.status, 400);
    await del.body?.cancel();
  });

  test('[§6.33] initialize carrying a live session id gets 400 with -32600', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const again = await postJson(`${gw.url}/mcp`, initialize('2025-11-25', {}, 5), headers(sid));
    assert.equal(again.status, 400);
    assert.equal(again.json?.error?.code, -32600);
  });

  test('[§6.37, §6.105] DELETE cancels the session’s backend call and errors its pending sampling request', async () => {
    let asked = 0;
    const session = await sdk('/servers/notify/mcp', {
      capabilities: { sampling: {} },
      setup: (client) =>
        client.setRequestHandler(CreateMessageRequestSchema, () => {
          asked += 1;
          return new Promise(() => {}); // never answers
        }),
    });
    const pending = tap(
      session.client,
      [
        {
          jsonrpc: '2.0',
          id: 'x-105',
          method: 'sampling/createMessage',
          params: { messages: [], maxTokens: 1 },
        },
      ],
      3000,
    ).catch(() => 'ended');
    assert.ok(await waitFor(() => asked === 1, 3000), 'the session was asked');
    const tapCall = backendLog('notify').findLast(
      (m) => m.method === 'tools/call' && m.params.name === 'tap',
    );
    await session.close(); // DELETE
    const answered = await waitFor(
      () => backendLog('notify').some((m) => m.id === 'x-105' && 'error' in m),
      3000,
    );
    assert.ok(answered, 'the backend got an error for its sampling request');
    assert.ok(
      await waitFor(() => cancellationsOf('notify', tapCall?.id).length === 1, 3000),
      'and notifications/cancelled for the call in flight',
    );
    assert.equal(await pending, 'ended');
  });

  // ----------------------------------------------------------------------------------------------------
  // D. MCP-Protocol-Version header

  test('[§6.39] initialize is accepted with an MCP-Protocol-Version header', async () => {
    const init = await postJson(
      `${gw.url}/mcp`,
      initialize('2025-11-25'),
      headers(undefined, { 'mcp-protocol-version': '2025-11-25' }),
    );
    assert.equal(init.status, 200);
    assert.equal(init.json?.result?.protocolVersion, '2025-11-25');
  });

  test('[§6.43] GET and DELETE with an unsupported MCP-Protocol-Version get 400 and leave the session alone', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const bad = { 'mcp-protocol-version': '1999-01-01' };
    const get = await fetch(`${gw.url}/mcp`, {
      headers: { ...AUTH, accept: 'text/event-stream', 'mcp-session-id': sid, ...bad },
    });
    assert.equal(get.status, 400);
    await get.body?.cancel();
    const del = await fetch(`${gw.url}/mcp`, { method: 'DELETE', headers: headers(sid, bad) });
    assert.equal(del.status, 400);
    await del.body?.cancel();
    const ping = await postJson(`${gw.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, headers(sid));
    assert.equal(ping.status, 200, 'the session was not deleted');
  });

  // ----------------------------------------------------------------------------------------------------
  // E. GET stream

  test('[§6.46, §6.47] the GET stream carries no responses, and each message goes to one stream only', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const sid = await openSession(url);
    const standalone = await getWire(url, sid);
    try {
      const progress = (token: string) => ({ _meta: { progressToken: token } });
      const onStream = await postWire(
        url,
        sid,
        call('a', 'progress', { steps: 3, delayMs: 5 }, progress('A')),
      );
      await withTimeout(onStream.ended, 5000, 'the end of the POST stream');
      // Accept: application/json only: this call's progress has no stream of its own, so it uses the GET one.
      const jsonOnly = await postJson(
        url,
        call('b', 'progress', { steps: 3, delayMs: 5 }, progress('B')),
        headers(sid, { accept: 'application/json' }),
      );
      assert.equal(jsonOnly.json?.id, 'b');
      const ping = await postJson(url, { jsonrpc: '2.0', id: 'c', method: 'ping' }, headers(sid));
      assert.equal(ping.json?.id, 'c');
      await sleep(150);
      const onGet = standalone.events.map(messageOf).filter((m) => m !== undefined);
      const onPost = onStream.events.map(messageOf).filter((m) => m !== undefined);
      assert.deepEqual(
        onGet.filter((m) => !('method' in m)),
        [],
        'no response on the standalone stream',
      );
      const tokens = (messages: Json[]) =>
        messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progressToken);
      assert.deepEqual(tokens(onPost), ['A', 'A', 'A'], 'A’s progress on its own stream');
      assert.deepEqual(tokens(onGet), ['B', 'B', 'B'], 'B’s progress once, on the GET stream, and no A');
    } finally {
      standalone.close();
    }
  });

  // ----------------------------------------------------------------------------------------------------
  // F. Resumability

  test('[§6.50] legacy SSE messages carry no id field, since nothing is kept for replay there', async () => {
    const stream = await openRawSse(`${gw.url}/servers/echo/sse`, AUTH);
    try {
      const endpoint = await stream.next((e) => e.event === 'endpoint');
      const post = await postJson(
        `${gw.url}${endpoint.data}`,
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        AUTH,
      );
      assert.equal(post.status, 202);
      const answer = await stream.next((e) => e.event === 'message');
      assert.equal(answer.id, undefined);
      assert.ok(stream.events.every((e) => e.id === undefined));
    } finally {
      stream.close();
    }
  });

  test('[§6.51, §6.53, §6.58, §6.59] ids are unique across a session’s streams; resuming a POST stream replays only that stream', async () => {
    const url = `${gw.url}/mcp`;
    const sid = await openSession(url);
    const standalone = await getWire(url, sid);
    try {
      const primingOfGet = await standalone.next(() => true);
      assert.equal(primingOfGet.data.join(''), '', 'the GET stream starts with a priming event');
      assert.ok(primingOfGet.id, 'with an id');
      assert.equal(primingOfGet.retry, 1000, 'and a retry field');
      const cut = await postWire(url, sid, call('slow', 'sleep', { ms: 600 }, { server: 'echo' }));
      const priming = await cut.next(() => true);
      assert.ok(priming.id && priming.retry === 1000, 'the POST stream is primed with an id and retry');
      cut.close();
      // Meanwhile another call makes the backend send list_changed to the session's GET stream.
      const other = await postWire(url, sid, call('n', 'notify', {}, { server: 'notify' }));
      await withTimeout(other.ended, 5000, 'the notify call');
      // An answer ready within the priming hold comes as plain JSON (no stream, nothing to prime); a later
      // one on a stream that starts with its priming event. Which one depends on timing; both are right.
      if (other.sse)
        assert.equal(other.events[0]?.data.join(''), '', 'a stream starts with its priming event');
      await standalone.next((e) => messageOf(e)?.method === 'notifications/tools/list_changed');
      await sleep(700); // the slow answer is written to the cut stream's log
      const resumed = await getWire(url, sid, { 'last-event-id': priming.id! });
      assert.equal(resumed.status, 200);
      await withTimeout(resumed.ended, 5000, 'the end of the resumed stream');
      const replayed = resumed.events.map(messageOf).filter((m) => m !== undefined);
      assert.deepEqual(
        replayed.map((m) => m.id ?? m.method),
        ['slow'],
        'only the cut stream’s own answer, none of the GET stream’s list_changed',
      );
      const ids = [...standalone.events, ...cut.events, ...other.events, ...resumed.events]
        .map((e) => e.id)
        .filter((id) => id !== undefined);
      assert.ok(ids.length >= 5, `ids seen: ${ids.join(' ')}`);
      assert.equal(new Set(ids).size, ids.length, `unique ids: ${ids.join(' ')}`);
    } finally {
      standalone.close();
    }
  });

  test('[§6.57] a 2025-06-18 session’s SSE POST stream has no empty-data (priming) events', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const sid = await openSession(url, '2025-06-18');
    const stream = await postWire(
      url,
      sid,
      call(1, 'progress', { steps: 2, delayMs: 20 }, { _meta: { progressToken: 1 } }),
    );
    assert.ok(stream.sse, 'progress before the answer opens a stream');
    await withTimeout(stream.ended, 5000, 'the end of the stream');
    assert.ok(stream.events.length >= 3);
    for (const event of stream.events) assert.notEqual(event.data.join(''), '', 'no empty data');
  });

  test('[§6.60] a client leaving a POST (JSON or SSE) does not cancel the backend call', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const sid = await openSession(url, '2025-06-18');
    // JSON mode: no answer (so no headers) before the result; the client gives up while it waits.
    const leaving = new AbortController();
    const json = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers(sid, { accept: 'application/json' }) },
      body: JSON.stringify(call(1, 'sleep', { ms: 500, marker: 'm60-json' })),
      signal: leaving.signal,
    }).then(
      () => 'answered',
      () => 'left',
    );
    const sse = await postWire(
      url,
      sid,
      call(2, 'progress', { steps: 5, delayMs: 100, marker: 'm60-sse' }, { _meta: { progressToken: 2 } }),
    );
    await sse.next(() => true); // the first progress arrived: the stream is open
    assert.ok(await waitFor(() => forwardedCall('echo', 'm60-json') !== undefined, 2000));
    leaving.abort();
    sse.close();
    assert.equal(await json, 'left', 'the client left before the answer');
    await sleep(800); // both calls finish on the backend meanwhile
    for (const marker of ['m60-json', 'm60-sse']) {
      const backendId = forwardedCall('echo', marker)?.id;
      assert.notEqual(backendId, undefined, marker);
      assert.deepEqual(cancellationsOf('echo', backendId), [], `${marker}: no notifications/cancelled`);
    }
  });

  // ----------------------------------------------------------------------------------------------------
  // G. Legacy HTTP+SSE

  test('[§6.68] closing a legacy SSE stream releases its subscriptions on the backend', async () => {
    const uri = 'fixture://legacy-68';
    const stream = await openRawSse(`${gw.url}/servers/notify/sse`, AUTH);
    const endpoint = await stream.next((e) => e.event === 'endpoint');
    const post = await postJson(
      `${gw.url}${endpoint.data}`,
      { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri } },
      AUTH,
    );
    assert.equal(post.status, 202);
    const answer = await stream.next((e) => e.event === 'message');
    assert.deepEqual(JSON.parse(answer.data), { jsonrpc: '2.0', id: 1, result: {} });
    const sent = (method: string) =>
      backendLog('notify').filter((m) => m.method === method && m.params?.uri === uri).length;
    assert.equal(sent('resources/subscribe'), 1);
    stream.close();
    assert.ok(await waitFor(() => sent('resources/unsubscribe') === 1, 3000), 'unsubscribed on close');
  });

  test('[§6.69] a Streamable HTTP probe (POST initialize) to a legacy SSE URL gets 405', async () => {
    for (const path of ['/sse', '/servers/echo/sse']) {
      const reply = await postJson(`${gw.url}${path}`, initialize('2025-11-25'), headers());
      assert.equal(reply.status, 405, path);
      assert.equal(reply.headers.get('allow'), 'GET', path);
    }
  });

  // ----------------------------------------------------------------------------------------------------
  // H. Lifecycle, ping, timeouts

  test('[§6.71, §6.72, §6.73] initialize: the requested version if supported, else 2025-11-25; capabilities and serverInfo', async () => {
    const supported = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
    for (const path of ['/mcp', '/servers/echo/mcp']) {
      for (const requested of [...supported, '2024-10-07', '1999-01-01', '2026-07-28', 'latest']) {
        const init = await postJson(`${gw.url}${path}`, initialize(requested), headers());
        const result = init.json?.result;
        const expected = supported.includes(requested) ? requested : '2025-11-25';
        assert.equal(result?.protocolVersion, expected, `${path} asked ${requested}`);
        assert.equal(typeof result?.capabilities, 'object', `${path}: capabilities`);
        assert.equal(typeof result?.serverInfo?.name, 'string', `${path}: serverInfo.name`);
        assert.equal(typeof result?.serverInfo?.version, 'string', `${path}: serverInfo.version`);
        const sid = init.headers.get('mcp-session-id')!;
        await fetch(`${gw.url}${path}`, { method: 'DELETE', headers: headers(sid) });
      }
    }
  });

  test('[§6.74, §6.113, §6.115] advertised capabilities are what the backends declared (no tasks); subscribe needs the backend’s', async () => {
    const declared = (name: string) => gw.runner.getClient(name).serverCapabilities as Json;
    for (const name of ['echo', 'notify', 'everything']) {
      const init = await postJson(`${gw.url}/servers/${name}/mcp`, initialize('2025-11-25'), headers());
      const { tasks: _tasks, ...expected } = declared(name);
      assert.deepEqual(init.json?.result?.capabilities, expected, `${name}: the backend's, minus tasks`);
    }
    assert.ok(declared('everything').tasks, 'server-everything does declare tasks');
    const aggregate = (await postJson(`${gw.url}/mcp`, initialize('2025-11-25'), headers())).json?.result;
    const offered = new Set(
      ['echo', 'notify', 'timed', 'everything', 'noisy', 'crashy'].flatMap((n) => Object.keys(declared(n))),
    );
    for (const key of Object.keys(aggregate.capabilities)) assert.ok(offered.has(key), `aggregate: ${key}`);
    assert.equal(aggregate.capabilities.tasks, undefined, 'no tasks capability on /mcp');

    // echo declares resources without subscribe: not advertised, and subscribe is refused.
    const echoSid = await openSession(`${gw.url}/servers/echo/mcp`);
    const refused = await postJson(
      `${gw.url}/servers/echo/mcp`,
      { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'fixture://hello' } },
      headers(echoSid),
    );
    assert.equal(typeof refused.json?.error?.code, 'number', refused.text);
    const aggregateSid = await openSession(`${gw.url}/mcp`);
    const viaAggregate = await postJson(
      `${gw.url}/mcp`,
      { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'fixture://hello' } },
      headers(aggregateSid),
    );
    assert.equal(
      typeof viaAggregate.json?.error?.code,
      'number',
      'echo’s resource cannot be subscribed via /mcp',
    );
    const tasks = await answerOf(`${gw.url}/mcp`, aggregateSid, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tasks/list',
    });
    assert.equal(tasks?.error?.code, -32601, 'tasks/list is not offered on /mcp');
  });

  test('[§6.115] on a per-server endpoint another session’s task is not listed, readable or cancellable', {}, async () => {
    const url = `${gw.url}/servers/everything/mcp`;
    const [owner, other] = await Promise.all([openSession(url), openSession(url)]);
    const created = await answerOf(
      url,
      owner,
      call('t-115', 'simulate-research-query', { topic: 'owner only' }, { task: { ttl: 60_000 } }),
    );
    const taskId = created?.result?.task?.taskId as string | undefined;
    try {
      if (taskId === undefined) return; // refused outright: nothing to leak
      const listed = await answerOf(url, other, { jsonrpc: '2.0', id: 1, method: 'tasks/list' });
      const ids = ((listed?.result?.tasks ?? []) as Json[]).map((t) => t.taskId);
      assert.ok(!ids.includes(taskId), `another session lists the task: ${JSON.stringify(listed)}`);
      const read = await answerOf(url, other, {
        jsonrpc: '2.0',
        id: 2,
        method: 'tasks/get',
        params: { taskId },
      });
      assert.ok(read?.error, `another session reads the task: ${JSON.stringify(read)}`);
      const cancel = await answerOf(url, other, {
        jsonrpc: '2.0',
        id: 3,
        method: 'tasks/cancel',
        params: { taskId },
      });
      assert.ok(cancel?.error, `another session cancels the task: ${JSON.stringify(cancel)}`);
    } finally {
      if (taskId !== undefined)
        await answerOf(url, owner, { jsonrpc: '2.0', id: 4, method: 'tasks/cancel', params: { taskId } });
    }
  });

  test('[§6.75, §6.76] a backend gets one initialize and one notifications/initialized, whatever the sessions', async () => {
    await sdk('/servers/echo/mcp');
    await sdk('/mcp');
    const raw = await openSession(`${gw.url}/servers/echo/mcp`);
    assert.ok(raw);
    const log = backendLog('echo');
    assert.equal(log.filter((m) => m.method === 'initialize').length, 1);
    assert.equal(log.filter((m) => m.method === 'notifications/initialized').length, 1);
    // The 2026-07-28 probe comes first (stdio's Backward Compatibility section); a 2025 backend refuses
    // it and gets the 2025 handshake.
    assert.deepEqual(
      log.slice(0, 3).map((m) => m.method),
      ['server/discover', 'initialize', 'notifications/initialized'],
    );
  });

  test('[§6.78] a backend ping is answered {} by the gateway and reaches no client', async () => {
    const session = await sdk('/servers/echo/mcp');
    const bystander = await sdk('/mcp');
    const replies = await tap(session.client, [{ jsonrpc: '2.0', id: 'tap-ping-78', method: 'ping' }]);
    assert.deepEqual(replies, [{ jsonrpc: '2.0', id: 'tap-ping-78', result: {} }]);
    await session.client.ping();
    assert.ok(!methodsReceived(session).includes('ping'));
    assert.ok(!methodsReceived(bystander).includes('ping'));
  });

  test('[§6.79] a call past requestTimeoutMs gets -32001 and the backend gets notifications/cancelled', async () => {
    const url = `${gw.url}/servers/timed/mcp`;
    const sid = await openSession(url, '2025-06-18');
    const started = performance.now();
    const reply = await postJson(url, call(1, 'sleep', { ms: 1500, marker: 'm79' }), headers(sid));
    assert.ok(performance.now() - started < 1200, 'answered at the timeout, not after the sleep');
    assert.equal(reply.json?.error?.code, -32001, reply.text);
    const backendId = forwardedCall('timed', 'm79')?.id;
    assert.ok(await waitFor(() => cancellationsOf('timed', backendId).length === 1, 2000));
  });

  test('[§6.80] the total timeout holds while progress keeps coming', async () => {
    const url = `${gw.url}/servers/timed/mcp`;
    const sid = await openSession(url, '2025-06-18');
    const started = performance.now();
    // Progress every 50 ms keeps resetting the 200 ms timeout; the cap is 10 x 200 ms.
    const stream = await postWire(
      url,
      sid,
      call(1, 'progress', { steps: 80, delayMs: 50, marker: 'm80' }, { _meta: { progressToken: 'p80' } }),
    );
    await withTimeout(stream.ended, 6000, 'the end of the stream');
    const elapsed = performance.now() - started;
    const messages = stream.events.map(messageOf).filter((m) => m !== undefined);
    const answer = messages.at(-1);
    assert.equal(answer?.error?.code, -32001, JSON.stringify(answer));
    const progress = messages.filter((m) => m.method === 'notifications/progress').length;
    assert.ok(progress >= 15, `progress kept coming (${progress})`);
    assert.ok(elapsed >= 1800 && elapsed < 3900, `cut at the 2 s cap (${Math.round(elapsed)} ms)`);
  });

  test('[§6.81] when a backend exits, every session’s call in flight on it gets a JSON-RPC error at once', async () => {
    const url = `${gw.url}/servers/crashy/mcp`;
    const [a, b] = await Promise.all([openSession(url, '2025-06-18'), openSession(url, '2025-06-18')]);
    const started = performance.now();
    const replies = await Promise.all([
      postJson(url, call(1, 'wait'), headers(a)),
      postJson(url, call(1, 'wait'), headers(b)),
      postJson(url, call(2, 'crash'), headers(a)),
    ]);
    assert.ok(performance.now() - started < 2000, 'no call hangs');
    for (const reply of replies) assert.equal(reply.json?.error?.code, -32000, reply.text);
    assert.ok(await waitFor(() => gw.runner.serverStatus('crashy') === 'running', 5000), 'restarted');
  });

  // ----------------------------------------------------------------------------------------------------
  // I. Id mapping; J. Progress

  test('[§6.82, §6.88, §6.89] two sessions using id 1 and progress token "same": distinct backend ids and tokens, each its own progress', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const [a, b] = await Promise.all([openSession(url), openSession(url)]);
    const meta = { _meta: { progressToken: 'same' } };
    const [streamA, streamB] = await Promise.all([
      postWire(url, a, call(1, 'progress', { steps: 2, delayMs: 40, marker: 'm88-a' }, meta)),
      postWire(url, b, call(1, 'progress', { steps: 3, delayMs: 40, marker: 'm88-b' }, meta)),
    ]);
    await withTimeout(Promise.all([streamA.ended, streamB.ended]), 5000, 'both streams');
    const sentA = forwardedCall('echo', 'm88-a')!;
    const sentB = forwardedCall('echo', 'm88-b')!;
    assert.notEqual(sentA.id, sentB.id, 'distinct backend ids');
    const tokenA = sentA.params._meta?.progressToken;
    const tokenB = sentB.params._meta?.progressToken;
    assert.ok(tokenA !== undefined && tokenB !== undefined && tokenA !== tokenB, 'distinct backend tokens');
    const progressOf = (stream: Wire) =>
      stream.events
        .map(messageOf)
        .filter((m) => m?.method === 'notifications/progress')
        .map((m) => [m?.params.progressToken, m?.params.total]);
    assert.deepEqual(progressOf(streamA), [
      ['same', 2],
      ['same', 2],
    ]);
    assert.deepEqual(progressOf(streamB), [
      ['same', 3],
      ['same', 3],
      ['same', 3],
    ]);
  });

  test('[§6.83] on /mcp a request id keeps its JSON type: "7" and 7 at once', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const echo = (id: string | number, text: string) =>
      answerOf(`${gw.url}/mcp`, sid, call(id, 'echo', { text }, { server: 'echo' }));
    const [asString, asNumber] = await Promise.all([echo('7', 'string id'), echo(7, 'number id')]);
    assert.deepEqual(asString, {
      jsonrpc: '2.0',
      id: '7',
      result: { content: [{ type: 'text', text: 'string id' }] },
    });
    assert.deepEqual(asNumber, {
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: 'number id' }] },
    });
  });

  test('[§6.84] a backend response with an unknown id reaches no client', async () => {
    const session = await sdk('/servers/echo/mcp');
    const bystander = await sdk('/mcp');
    await tap(
      session.client,
      [
        { jsonrpc: '2.0', id: 987654321, result: { leak: 'L84' } },
        { jsonrpc: '2.0', id: 'nobody-84', error: { code: -32000, message: 'L84' } },
        { jsonrpc: '2.0', id: 0, result: { leak: 'L84' } },
      ],
      0,
    );
    await session.client.ping();
    await sleep(100);
    for (const client of [session, bystander]) {
      assert.ok(!JSON.stringify(client.received).includes('L84'), JSON.stringify(client.received));
    }
  });

  test('[§6.85] answers to the gateway’s own backend requests (setLevel, subscribe) never reach clients', async () => {
    const session = await sdk('/servers/notify/mcp');
    const bystander = await sdk('/servers/notify/mcp');
    await session.client.setLoggingLevel('debug');
    await session.client.subscribeResource({ uri: 'fixture://own-85' });
    await session.client.ping();
    const log = backendLog('notify');
    assert.ok(
      log.some((m) => m.method === 'logging/setLevel'),
      'the gateway set the backend level',
    );
    assert.ok(log.some((m) => m.method === 'resources/subscribe' && m.params.uri === 'fixture://own-85'));
    const responses = session.received.filter((m) => !('method' in m)) as Array<{ id: unknown }>;
    assert.equal(
      responses.length,
      3,
      `only the session's own three answers: ${JSON.stringify(session.received)}`,
    );
    assert.equal(new Set(responses.map((r) => r.id)).size, 3);
    assert.deepEqual(bystander.received, []);
  });

  test('[§6.86, §6.87] server-to-client request ids are unique in a session; answers reach the backend under its own ids', async () => {
    const seen: unknown[] = [];
    const session = await sdk('/servers/notify/mcp', {
      capabilities: { sampling: {} },
      setup: (client) =>
        client.setRequestHandler(CreateMessageRequestSchema, (_request, extra) => {
          seen.push(extra.requestId);
          return { role: 'assistant', model: 'm', content: { type: 'text', text: `reply ${seen.length}` } };
        }),
    });
    const ask = (id: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: { type: 'text', text: id } }], maxTokens: 5 },
    });
    const replies = await tap(session.client, [ask('b86-1'), ask('b86-2')]);
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1], `session-side ids ${JSON.stringify(seen)}`);
    assert.deepEqual(replies.map((r) => r.id).sort(), ['b86-1', 'b86-2']);
    for (const reply of replies) assert.equal(reply.result?.model, 'm');
    const again = await tap(session.client, [ask('b86-3')]);
    assert.equal(again[0]?.id, 'b86-3');
    assert.equal(new Set(seen).size, 3, `no id reused later in the session: ${JSON.stringify(seen)}`);
  });

  // ----------------------------------------------------------------------------------------------------
  // K. Cancellation

  test('[§6.92] a client’s notifications/cancelled reaches the backend with the backend’s id', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const sid = await openSession(url, '2025-06-18');
    const pending = postJson(url, call('c-92', 'sleep', { ms: 5000, marker: 'm92' }), headers(sid));
    assert.ok(await waitFor(() => forwardedCall('echo', 'm92') !== undefined, 2000));
    const cancel = await postJson(
      url,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c-92', reason: 'test' } },
      headers(sid),
    );
    assert.equal(cancel.status, 202);
    const backendId = forwardedCall('echo', 'm92')!.id;
    assert.ok(await waitFor(() => cancellationsOf('echo', backendId).length === 1, 2000));
    assert.deepEqual(cancellationsOf('echo', 'c-92'), [], 'not the client’s own id');
    assert.ok((await pending).status < 500, 'the cancelled POST was ended');
  });

  test('[§6.95] a backend’s notifications/cancelled for a sampling request reaches the asked session, with its id', {}, async () => {
    let aborted = false;
    const session = await sdk('/servers/notify/mcp', {
      capabilities: { sampling: {} },
      setup: (client) =>
        client.setRequestHandler(
          CreateMessageRequestSchema,
          (_request, extra) =>
            new Promise((resolve) => {
              extra.signal.addEventListener('abort', () => {
                aborted = true;
              });
              const late = {
                role: 'assistant' as const,
                model: 'm',
                content: { type: 'text' as const, text: 'late' },
              };
              setTimeout(() => resolve(late), 600);
            }),
        ),
    });
    const bystander = await sdk('/servers/notify/mcp', { capabilities: { sampling: {} } });
    await tap(
      session.client,
      [
        {
          jsonrpc: '2.0',
          id: 'x-95',
          method: 'sampling/createMessage',
          params: { messages: [], maxTokens: 1 },
        },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'x-95', reason: 'test' } },
      ],
      1000,
    );
    const asked = session.received.find((m) => 'method' in m && m.method === 'sampling/createMessage') as
      | Json
      | undefined;
    assert.ok(asked, 'the session was asked');
    assert.deepEqual(methodsReceived(bystander), [], 'the bystander got nothing');
    const cancelled = session.received.filter(
      (m) => 'method' in m && m.method === 'notifications/cancelled',
    ) as Json[];
    assert.deepEqual(
      cancelled.map((m) => m.params.requestId),
      [asked.id],
      `notifications/cancelled with the session-side id; the session got: ${methodsReceived(session).join(', ')}`,
    );
    assert.ok(aborted, 'the client’s handler was aborted');
  });

  test('[§6.96] a cancellation of initialize is not forwarded to any backend', async () => {
    const init = await postJson(
      `${gw.url}/servers/echo/mcp`,
      initialize('2025-11-25', {}, 'init-96'),
      headers(),
    );
    const sid = init.headers.get('mcp-session-id')!;
    const cancel = await postJson(
      `${gw.url}/servers/echo/mcp`,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'init-96' } },
      headers(sid),
    );
    assert.equal(cancel.status, 202);
    await postJson(`${gw.url}/servers/echo/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, headers(sid));
    assert.deepEqual(cancellationsOf('echo', 'init-96'), []);
    assert.equal(backendLog('echo').filter((m) => m.method === 'initialize').length, 1);
  });

  // ----------------------------------------------------------------------------------------------------
  // L. Server-to-client requests

  test('[§6.99] with two sessions in flight on a backend, its sampling request gets an error, not a guess', async () => {
    let releaseA!: () => void;
    const gate = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let askedA = 0;
    let askedB = 0;
    const answer = (text: string) => ({
      role: 'assistant' as const,
      model: 'm',
      content: { type: 'text' as const, text },
    });
    const a = await sdk('/servers/notify/mcp', {
      capabilities: { sampling: {} },
      setup: (client) =>
        client.setRequestHandler(CreateMessageRequestSchema, async () => {
          askedA += 1;
          await gate;
          return answer('from A');
        }),
    });
    const b = await sdk('/servers/notify/mcp', {
      capabilities: { sampling: {} },
      setup: (client) =>
        client.setRequestHandler(CreateMessageRequestSchema, () => {
          askedB += 1;
          return answer('from B');
        }),
    });
    const callA = a.client.callTool({ name: 'sample', arguments: { prompt: 'a' } });
    assert.ok(await waitFor(() => askedA === 1, 3000), 'A is asked while its call is the only one');
    const resultB = await b.client.callTool({ name: 'sample', arguments: { prompt: 'b' } });
    assert.equal(resultB.isError, true, JSON.stringify(resultB));
    assert.match(firstText(resultB), /cannot be routed/);
    assert.equal(askedB, 0);
    assert.equal(askedA, 1, 'A was not asked a second time');
    const refusal = backendLog('notify').findLast((m) => /could be meant/.test(m.error?.message ?? ''));
    assert.equal(typeof refusal?.error.code, 'number', 'the backend got a JSON-RPC error');
    releaseA();
    assert.equal(firstText(await callA), 'from A');
  });

  test('[§6.101] a session that did not declare sampling or elicitation is not asked; the backend gets -32601', async () => {
    const plain = await sdk('/servers/notify/mcp');
    const replies = await tap(plain.client, [
      { jsonrpc: '2.0', id: 'n-s', method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } },
      {
        jsonrpc: '2.0',
        id: 'n-e',
        method: 'elicitation/create',
        params: { message: 'name?', requestedSchema: { type: 'object', properties: {} } },
      },
    ]);
    const byId = new Map(replies.map((r) => [r.id, r]));
    assert.equal(byId.get('n-s')?.error?.code, -32601);
    assert.equal(byId.get('n-e')?.error?.code, -32601);
    assert.deepEqual(methodsReceived(plain), []);
  });

  test('[§6.101] roots/list to a session that did not declare roots: the backend gets -32601', {}, async () => {
    const plain = await sdk('/servers/notify/mcp');
    const replies = await tap(plain.client, [{ jsonrpc: '2.0', id: 'n-r', method: 'roots/list' }]);
    assert.deepEqual(methodsReceived(plain), []);
    assert.equal(replies[0]?.error?.code, -32601, JSON.stringify(replies));
  });

  test('[§6.102] sampling with tools is not sent to a session without sampling.tools', {}, async () => {
    let asked = 0;
    const session = await sdk('/servers/notify/mcp', {
      capabilities: { sampling: {} },
      setup: (client) =>
        client.setRequestHandler(CreateMessageRequestSchema, () => {
          asked += 1;
          return { role: 'assistant', model: 'm', content: { type: 'text', text: 'x' } };
        }),
    });
    const replies = await tap(session.client, [
      {
        jsonrpc: '2.0',
        id: 't-102',
        method: 'sampling/createMessage',
        params: {
          messages: [{ role: 'user', content: { type: 'text', text: 'use a tool' } }],
          maxTokens: 5,
          tools: [{ name: 'lookup', inputSchema: { type: 'object' } }],
          toolChoice: { mode: 'auto' },
        },
      },
    ]);
    assert.ok(
      !methodsReceived(session).includes('sampling/createMessage'),
      `not sent to the session; it was, and the backend got ${JSON.stringify(replies)}`,
    );
    assert.equal(asked, 0);
    assert.equal(typeof replies[0]?.error?.code, 'number', JSON.stringify(replies));
  });

  test('[§6.103] URL-mode elicitation is not sent to a session without elicitation.url; the backend gets -32602', {}, async () => {
    const session = await sdk('/servers/notify/mcp', {
      capabilities: { elicitation: {} },
      setup: (client) => client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'decline' })),
    });
    const replies = await tap(session.client, [
      {
        jsonrpc: '2.0',
        id: 'u-103',
        method: 'elicitation/create',
        params: { mode: 'url', message: 'sign in', url: 'https://example.com/auth', elicitationId: 'e-103' },
      },
    ]);
    assert.ok(
      !methodsReceived(session).includes('elicitation/create'),
      `not sent to the session; it was, and the backend got ${JSON.stringify(replies)}`,
    );
    assert.equal(replies[0]?.error?.code, -32602, JSON.stringify(replies));
  });

  // ----------------------------------------------------------------------------------------------------
  // N. Resource subscriptions

  test('[§6.110, §6.111] three sessions subscribing make one backend subscribe; the backend unsubscribe comes with the last one', async () => {
    const uri = 'fixture://shared-110';
    const sessions = await Promise.all([1, 2, 3].map(() => sdk('/servers/notify/mcp')));
    for (const session of sessions) assert.deepEqual(await session.client.subscribeResource({ uri }), {});
    const count = (method: string) =>
      backendLog('notify').filter((m) => m.method === method && m.params?.uri === uri).length;
    assert.equal(count('resources/subscribe'), 1, 'one backend subscribe for three sessions');
    assert.deepEqual(await sessions[0]!.client.unsubscribeResource({ uri }), {});
    await sessions[1]!.close(); // ends with its subscription
    await sessions[2]!.client.ping();
    assert.equal(count('resources/unsubscribe'), 0, 'one subscriber is left');
    assert.deepEqual(await sessions[2]!.client.unsubscribeResource({ uri }), {});
    assert.ok(await waitFor(() => count('resources/unsubscribe') === 1, 2000), 'unsubscribed with the last');
  });

  test('[§6.110] concurrent subscriptions from three sessions make one backend subscribe', {}, async () => {
    const uri = 'fixture://concurrent-110';
    const sessions = await Promise.all([1, 2, 3].map(() => sdk('/servers/notify/mcp')));
    const results = await Promise.all(sessions.map((s) => s.client.subscribeResource({ uri })));
    assert.deepEqual(results, [{}, {}, {}]);
    const sent = backendLog('notify').filter(
      (m) => m.method === 'resources/subscribe' && m.params?.uri === uri,
    );
    assert.equal(sent.length, 1, `backend subscribes: ${sent.length}`);
  });

  test('[§6.112] resources/updated reaches each session subscribed to the URI or a parent, once, and no other', async () => {
    const updates = new Map<string, string[]>();
    const watcher = (label: string): RecordingClientOptions => {
      updates.set(label, []);
      return {
        setup: (client) =>
          client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
            updates.get(label)!.push(n.params.uri);
          }),
      };
    };
    const parent = await sdk('/servers/notify/mcp', watcher('parent'));
    const exact = await sdk('/servers/notify/mcp', watcher('exact'));
    const prefix = await sdk('/servers/notify/mcp', watcher('prefix'));
    const none = await sdk('/servers/notify/mcp', watcher('none'));
    await parent.client.subscribeResource({ uri: 'fixture://tree' });
    await exact.client.subscribeResource({ uri: 'fixture://tree/leaf' });
    await prefix.client.subscribeResource({ uri: 'fixture://tre' });
    await tap(
      none.client,
      [{ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'fixture://tree/leaf' } }],
      0,
    );
    await sleep(200);
    assert.deepEqual(Object.fromEntries(updates), {
      parent: ['fixture://tree/leaf'],
      exact: ['fixture://tree/leaf'],
      prefix: [],
      none: [],
    });
  });

  // ----------------------------------------------------------------------------------------------------
  // O. Payloads and stdio

  test('[§6.116] tool schemas ($schema, $defs, additionalProperties) and _meta pass through unchanged', async () => {
    const backend = (await gw.runner.getClient('everything').listTools()) as unknown as Json[];
    const byName = new Map(backend.map((t) => [t.name, t]));
    assert.ok(
      backend.some(
        (t) => t.inputSchema?.$schema !== undefined || t.inputSchema?.additionalProperties !== undefined,
      ),
      'server-everything has schemas with such keys',
    );
    for (const path of ['/servers/everything/mcp', '/mcp']) {
      const sid = await openSession(`${gw.url}${path}`);
      const listed = await answerOf(`${gw.url}${path}`, sid, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const tools = (listed?.result?.tools ?? []) as Json[];
      const everything = tools.filter((t) => path !== '/mcp' || t.server === 'everything');
      assert.ok(everything.length >= 10, `${path}: ${everything.length} tools`);
      for (const tool of everything) {
        // Only the name changes on /mcp ({server}__{name}); the schemas and _meta pass unchanged.
        const { server: _server, ...gatewayTool } = tool;
        const name = path === '/mcp' ? tool.name.slice('everything__'.length) : tool.name;
        assert.deepEqual({ ...gatewayTool, name }, byName.get(name), `${path}: ${tool.name}`);
      }
    }
  });

  test('[§6.117] every line written to a backend is one JSON-RPC object, newline-terminated', () => {
    for (const name of TAPPED) {
      const text = readFileSync(logs[name], 'utf8');
      assert.ok(text.endsWith('\n'), `${name}: ends with a newline`);
      const lines = text.slice(0, -1).split('\n');
      assert.ok(lines.length >= 3, `${name}: ${lines.length} lines`);
      for (const line of lines) {
        const message = JSON.parse(line) as Json;
        assert.equal(message.jsonrpc, '2.0', `${name}: ${line.slice(0, 80)}`);
      }
    }
  });

  test('[§6.118, §6.119] garbage on a backend’s stdout and a stderr flood disturb neither it nor its sessions', async () => {
    const pid = gw.runner.getAllServerStatuses().noisy!.pid;
    const session = await sdk('/servers/noisy/mcp');
    for (let i = 0; i < 10; i++) {
      const result = await session.client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
      assert.equal(firstText(result), `n${i}`);
    }
    const status = gw.runner.getAllServerStatuses().noisy!;
    assert.equal(status.status, 'running');
    assert.equal(status.pid, pid, 'not restarted');
  });

  // ----------------------------------------------------------------------------------------------------
  // P. Authorization; Q. Modern-era probes

  test('[§6.120, §6.121, §6.124, §6.125, §6.127] /mcp POST, GET and DELETE: 401 Bearer without or with a wrong token, before any session lookup', async () => {
    const sid = await openSession(`${gw.url}/mcp`);
    const requests: Array<[string, string, Record<string, string>, string?]> = [
      [
        'POST',
        '/mcp',
        { 'content-type': 'application/json', accept: ACCEPT_BOTH },
        '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      ],
      ['GET', '/mcp', { accept: 'text/event-stream' }],
      ['DELETE', '/mcp', {}],
      [
        'POST',
        '/servers/echo/mcp',
        { 'content-type': 'application/json', accept: ACCEPT_BOTH },
        '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      ],
    ];
    for (const [method, path, base, body] of requests) {
      const seen: Array<{ status: number; text: string }> = [];
      for (const session of [sid, '0-no-such-session']) {
        for (const [auth, error] of [
          [{}, null],
          [{ authorization: 'Bearer wrong' }, /error="invalid_token"/],
        ] as const) {
          const reply = await fetch(`${gw.url}${path}`, {
            method,
            headers: { ...base, ...auth, 'mcp-session-id': session },
            body,
          });
          const label = `${method} ${path} ${JSON.stringify(auth)} ${session.slice(0, 8)}`;
          assert.equal(reply.status, 401, label);
          const challenge = reply.headers.get('www-authenticate') ?? '';
          assert.match(challenge, /^Bearer\b/, label);
          if (error) assert.match(challenge, error, label);
          assert.doesNotMatch(challenge, /resource_metadata/, label);
          seen.push({ status: reply.status, text: await reply.text() });
        }
      }
      assert.deepEqual(
        seen.slice(0, 2),
        seen.slice(2),
        `${method} ${path}: same answer for a live and an unknown session`,
      );
    }
    const alive = await postJson(`${gw.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, headers(sid));
    assert.equal(alive.status, 200, 'the unauthorised DELETE did not end the session');
  });

  test('[§6.125] with a token, the OAuth well-known documents are 404', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-authorization-server',
    ]) {
      const reply = await fetch(`${gw.url}${path}`, { headers: AUTH });
      assert.equal(reply.status, 404, path);
      await reply.body?.cancel();
    }
  });

  test('[§6.125] OAuth discovery without a token (as clients do it) gets 404 for the well-known documents', {}, async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-authorization-server']) {
      const reply = await fetch(`${gw.url}${path}`);
      await reply.body?.cancel();
      assert.equal(reply.status, 404, path);
    }
  });

  // §6.128 described a gateway that spoke only the 2025 revisions, which had to steer a modern probe into
  // falling back. The gateway now speaks 2026-07-28 (issue 16), so the probe is answered in that era.
  test('[§6.128, superseded] a session-less modern probe (server/discover) is answered as 2026-07-28, never 404', async () => {
    const discover = {
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    };
    for (const path of ['/mcp', '/servers/echo/mcp']) {
      const modern = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' };
      const reply = await postJson(`${gw.url}${path}`, discover, headers(undefined, modern));
      assert.equal(reply.status, 200, `${path}: ${reply.text}`);
      assert.equal(reply.json?.result?.supportedVersions?.[0], '2026-07-28', path);
      // Without its headers the probe is still recognised as modern, and told what is wrong (400, -32020).
      const bare = await postJson(`${gw.url}${path}`, discover, headers(undefined, {}));
      assert.equal(bare.status, 400, `${path}: ${bare.text}`);
      assert.equal(bare.json?.error?.code, -32020, path);
      assert.equal(bare.json?.id, 1, path);
    }
  });

  test('[§6.129] Mcp-Method and Mcp-Name headers on a 2025-11-25 session are ignored, the request served', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const sid = await openSession(url, '2025-11-25');
    const stream = await postWire(url, sid, call(1, 'echo', { text: 'with headers' }), {
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    });
    assert.equal(stream.status, 200);
    await withTimeout(stream.ended, 5000, 'the answer');
    const answer = stream.sse
      ? stream.events.map(messageOf).find((m) => m && !('method' in m))
      : (JSON.parse(stream.body) as Json);
    assert.deepEqual(answer?.result, { content: [{ type: 'text', text: 'with headers' }] });
  });

  test('[§6.126] the bearer token never reaches a backend: not in argv, environment or stdin', () => {
    for (const name of TAPPED) {
      assert.ok(!readFileSync(logs[name], 'utf8').includes(TOKEN), `${name}: stdin`);
    }
    if (!readdirSync('/proc').includes('self')) return; // the process checks need Linux /proc
    const processTree = (pid: number): number[] => {
      let children: number[] = [];
      try {
        children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
          .split(' ')
          .filter(Boolean)
          .map(Number);
      } catch {
        // the process is gone
      }
      return [pid, ...children.flatMap(processTree)];
    };
    const statuses = gw.runner.getAllServerStatuses();
    let checked = 0;
    for (const [name, status] of Object.entries(statuses)) {
      for (const pid of processTree(status.pid!)) {
        checked += 1;
        for (const file of ['cmdline', 'environ']) {
          const text = readFileSync(`/proc/${pid}/${file}`, 'utf8');
          assert.ok(!text.includes(TOKEN), `${name} (pid ${pid}): ${file}`);
        }
      }
    }
    assert.ok(checked >= 9, `six backends, three of them behind a tap (${checked} processes checked)`);
  });
});
