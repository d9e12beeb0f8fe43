import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectSse, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { openRawSse, type RawSse } from './support/raw-sse.js';

/**
 * The gateway's front door, case by case over real HTTP: bearer auth, CORS preflight, Origin/Host
 * (DNS rebinding), allowedServers, and malformed input. Every case asserts the exact status, the headers
 * that matter and the JSON-RPC error envelope, and the gateway must still serve normally afterwards.
 */

const node = process.execPath;
const TOKEN = 's3cret';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const APP_ORIGIN = 'https://app.example';
const EVIL_ORIGIN = 'https://evil.example';
const MAX_BODY = 2048;
const PING = { jsonrpc: '2.0', id: 1, method: 'ping' } as const;
const PONG = { jsonrpc: '2.0', id: 1, result: {} };
const JSON_CT = { 'content-type': 'application/json' };

type Which = 'open' | 'auth';

/** What a case can refer to once the gateways run: their ports and one live session on each. */
interface Ctx {
  port: Record<Which, number>;
  sid: Record<Which, string>;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
  json: any;
  /** First SSE event, for event-stream answers (the stream is closed right after it). */
  firstEvent?: { event: string; data: string };
}

type HeaderExpectation = string | RegExp | null | { contains: string[] };

interface Expect {
  /** The exact status, or only its class where that is all that is specified. */
  status: number | '4xx' | 'not 5xx';
  /** A JSON-RPC error envelope with id null; a number pins the code, 'any' only checks the shape. */
  rpcError?: number | 'any';
  rpcMessage?: RegExp;
  json?: unknown;
  /** A text/event-stream whose first event is `endpoint`, with data matching this. */
  sse?: RegExp;
  empty?: boolean;
  headers?: Record<string, HeaderExpectation>;
  check?: (reply: Reply) => void;
}

type Body = string | Uint8Array | (() => ReadableStream<Uint8Array>);

interface Case {
  name: string;
  on: Which;
  method?: string;
  path: string | ((ctx: Ctx) => string);
  headers?: Record<string, string> | ((ctx: Ctx) => Record<string, string>);
  /** Sent as JSON with Content-Type application/json (unless headers say otherwise). */
  json?: unknown;
  body?: Body;
  /** Use node:http instead of fetch, which cannot override Host. */
  raw?: boolean;
  expect: Expect;
}

let casesTried = 0;
let requestsSent = 0;

/** Reads an event stream until its first event, then closes it. */
async function firstSseEvent(body: ReadableStream<Uint8Array>, abort: () => void) {
  const decoder = new TextDecoder();
  let text = '';
  const reader = body.getReader();
  const timer = setTimeout(abort, 3000);
  try {
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // aborted: assertions below report what was (not) received
  } finally {
    clearTimeout(timer);
    abort();
  }
  return parseEvent(text);
}

function parseEvent(text: string): { event: string; data: string } | undefined {
  const block = text.split('\n\n')[0];
  if (!block) return undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return { event, data: data.join('\n') };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

async function viaFetch(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Body | undefined,
): Promise<Reply> {
  requestsSent += 1;
  const controller = new AbortController();
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: controller.signal };
  if (typeof body === 'function') {
    init.body = body();
    init.duplex = 'half';
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(url, init);
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream') && response.body) {
    const firstEvent = await firstSseEvent(response.body, () => controller.abort());
    return { status: response.status, headers: response.headers, text: '', json: undefined, firstEvent };
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: parseJson(text) };
}

/** node:http, for the cases that must send their own Host header. */
function viaHttp(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
): Promise<Reply> {
  requestsSent += 1;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const replyHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) replyHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const status = res.statusCode ?? 0;
      let text = '';
      res.setEncoding('utf8');
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        const timer = setTimeout(() => res.destroy(), 3000);
        const finish = () => {
          clearTimeout(timer);
          res.destroy();
          resolve({ status, headers: replyHeaders, text: '', json: undefined, firstEvent: parseEvent(text) });
        };
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\n\n')) finish();
        });
        res.on('close', finish);
        return;
      }
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status, headers: replyHeaders, text, json: parseJson(text) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertHeader(reply: Reply, name: string, expected: HeaderExpectation, label: string) {
  const actual = reply.headers.get(name);
  if (expected === null) {
    assert.equal(actual, null, `${label}: header ${name} must be absent`);
  } else if (typeof expected === 'string') {
    assert.equal(actual, expected, `${label}: header ${name}`);
  } else if (expected instanceof RegExp) {
    assert.match(actual ?? '', expected, `${label}: header ${name} was ${JSON.stringify(actual)}`);
  } else {
    const listed = (actual ?? '').split(',').map((v) => v.trim().toLowerCase());
    for (const want of expected.contains) {
      assert.ok(listed.includes(want.toLowerCase()), `${label}: header ${name} (${actual}) lacks ${want}`);
    }
  }
}

/** The `{jsonrpc:'2.0', error:{code, message}, id:null}` envelope of an HTTP-level refusal. */
function assertRpcEnvelope(reply: Reply, code: number | 'any', message: RegExp | undefined, label: string) {
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/, `${label}: content-type`);
  const body = reply.json;
  assert.ok(
    body && typeof body === 'object',
    `${label}: JSON body expected, got ${JSON.stringify(reply.text)}`,
  );
  assert.deepEqual(Object.keys(body).sort(), ['error', 'id', 'jsonrpc'], `${label}: envelope keys`);
  assert.equal(body.jsonrpc, '2.0', `${label}: jsonrpc`);
  assert.equal(body.id, null, `${label}: id`);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], `${label}: error keys`);
  assert.ok(Number.isInteger(body.error.code), `${label}: error.code is an integer`);
  if (code !== 'any') assert.equal(body.error.code, code, `${label}: error.code (${body.error.message})`);
  assert.equal(typeof body.error.message, 'string', `${label}: error.message`);
  assert.ok(body.error.message.length > 0, `${label}: error.message is not empty`);
  if (message) assert.match(body.error.message, message, `${label}: error.message`);
}

function verify(c: Case, reply: Reply): void {
  const e = c.expect;
  const label = c.name;
  const seen = `${label}: status ${reply.status} (body ${reply.text.slice(0, 300)})`;
  if (e.status === '4xx') assert.ok(reply.status >= 400 && reply.status < 500, `4xx expected; ${seen}`);
  else if (e.status === 'not 5xx') assert.ok(reply.status < 500, `no 5xx expected; ${seen}`);
  else assert.equal(reply.status, e.status, seen);
  if (e.rpcError !== undefined) assertRpcEnvelope(reply, e.rpcError, e.rpcMessage, label);
  if (e.json !== undefined) assert.deepEqual(reply.json, e.json, `${label}: body`);
  if (e.sse) {
    assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/, `${label}: content-type`);
    assert.equal(reply.firstEvent?.event, 'endpoint', `${label}: first SSE event`);
    assert.match(reply.firstEvent?.data ?? '', e.sse, `${label}: endpoint data`);
  }
  if (e.empty) assert.equal(reply.text, '', `${label}: empty body`);
  for (const [name, expected] of Object.entries(e.headers ?? {})) assertHeader(reply, name, expected, label);
  e.check?.(reply);
}

// ---------------------------------------------------------------------------------------------------
// Expectations reused across the tables

const SSE_ENDPOINT = /^\/sse\/messages\?sessionId=[\x21-\x7e]{8,}$/;
const ECHO_SSE_ENDPOINT = /^\/servers\/echo\/messages\?sessionId=[\x21-\x7e]{8,}$/;
const missingToken: Expect = {
  status: 401,
  rpcError: 'any',
  headers: { 'www-authenticate': /^Bearer\b/, 'access-control-allow-origin': null },
};
const invalidToken: Expect = {
  status: 401,
  rpcError: 'any',
  headers: { 'www-authenticate': /^Bearer\b.*error="invalid_token"/, 'access-control-allow-origin': null },
};
/** A refused 401 of any flavour (the scheme is not Bearer, the value is empty...). */
const refusedToken: Expect = { status: 401, rpcError: 'any', headers: { 'www-authenticate': /^Bearer\b/ } };
const forbidden: Expect = {
  status: 403,
  rpcError: 'any',
  headers: { 'access-control-allow-origin': null },
};
const pong: Expect = { status: 200, json: PONG };
const accepted: Expect = { status: 202, empty: true };
const streamOpened: Expect = { status: 200, sse: SSE_ENDPOINT };
const badRequest = (code: number): Expect => ({ status: 400, rpcError: code });
const sessionNotFound: Expect = { status: 404, rpcError: -32001, rpcMessage: /Session not found/ };

function withQuery(path: string, query: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${query}`;
}

/** A ping whose UTF-8 encoding is exactly `size` bytes. */
function pingOfSize(size: number): string {
  const empty = JSON.stringify({ ...PING, params: { pad: '' } });
  const pad = size - Buffer.byteLength(empty);
  assert.ok(pad >= 0);
  return JSON.stringify({ ...PING, params: { pad: 'x'.repeat(pad) } });
}

/** A chunked body (no Content-Length): a JSON ping of `total` bytes sent in `chunkSize` pieces. */
function chunkedPing(total: number, chunkSize = 512): () => ReadableStream<Uint8Array> {
  return () => {
    const bytes = Buffer.from(pingOfSize(total));
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + chunkSize)));
        offset += chunkSize;
      },
    });
  };
}

/** A valid ping with `bytes` spliced into its id string: the JSON is fine, the UTF-8 is not. */
function pingWithBytes(bytes: number[]): Uint8Array {
  return Buffer.concat([
    Buffer.from('{"jsonrpc":"2.0","id":"x'),
    Buffer.from(bytes),
    Buffer.from('","method":"ping"}'),
  ]);
}

// ---------------------------------------------------------------------------------------------------
// Bearer authentication on the authed gateway: every endpoint times every way of presenting a token.

interface Endpoint {
  label: string;
  method: string;
  path: string | ((ctx: Ctx) => string);
  json?: unknown;
  ok: Expect;
}

const authEndpoints: Endpoint[] = [
  { label: 'GET /sse', method: 'GET', path: '/sse', ok: streamOpened },
  { label: 'POST /sse/messages (no sessionId)', method: 'POST', path: '/sse/messages', json: PING, ok: pong },
  {
    label: 'POST /sse/messages?sessionId (real session)',
    method: 'POST',
    path: (ctx) => `/sse/messages?sessionId=${encodeURIComponent(ctx.sid.auth)}`,
    json: PING,
    ok: accepted,
  },
  {
    label: 'GET /servers/echo/sse',
    method: 'GET',
    path: '/servers/echo/sse',
    ok: { status: 200, sse: ECHO_SSE_ENDPOINT },
  },
  {
    label: 'POST /servers/echo/messages (no sessionId)',
    method: 'POST',
    path: '/servers/echo/messages',
    json: PING,
    ok: pong,
  },
  {
    label: 'GET /health',
    method: 'GET',
    path: '/health',
    ok: { status: 200, check: (r) => assert.equal(r.json?.status, 'ok') },
  },
  {
    label: 'GET /status',
    method: 'GET',
    path: '/status',
    ok: { status: 200, check: (r) => assert.ok(Array.isArray(r.json?.workers)) },
  },
];

const authVariants: Array<{
  label: string;
  headers: Record<string, string>;
  query?: string;
  expect: (ok: Expect) => Expect;
}> = [
  { label: 'no Authorization', headers: {}, expect: () => missingToken },
  { label: 'wrong token', headers: { authorization: 'Bearer wrong' }, expect: () => invalidToken },
  { label: 'lowercase "bearer"', headers: { authorization: `bearer ${TOKEN}` }, expect: (ok) => ok },
  {
    label: 'token only in ?access_token=',
    headers: {},
    query: `access_token=${TOKEN}`,
    expect: () => missingToken,
  },
  { label: 'valid token', headers: BEARER, expect: (ok) => ok },
];

const bearerCases: Case[] = authEndpoints.flatMap((endpoint) =>
  authVariants.map(
    (variant): Case => ({
      name: `bearer: ${endpoint.label}, ${variant.label}`,
      on: 'auth',
      method: endpoint.method,
      path: (ctx) => {
        const path = typeof endpoint.path === 'function' ? endpoint.path(ctx) : endpoint.path;
        return variant.query ? withQuery(path, variant.query) : path;
      },
      headers: variant.headers,
      json: endpoint.json,
      expect: variant.expect(endpoint.ok),
    }),
  ),
);

/** More ways to get the token wrong, on one GET and one POST. */
const badTokenValues: Array<[string, Expect]> = [
  [`Bearer ${TOKEN}2`, invalidToken],
  [`Bearer ${TOKEN.slice(0, -1)}`, invalidToken],
  [`Bearer ${TOKEN.toUpperCase()}`, invalidToken],
  [`Bearer ${TOKEN} extra`, refusedToken],
  [`Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`, refusedToken],
  [`Token ${TOKEN}`, refusedToken],
  [TOKEN, refusedToken],
  ['Bearer', refusedToken],
];

const extraBearerCases: Case[] = badTokenValues.flatMap(([value, expect]): Case[] => [
  {
    name: `bearer: GET /sse with Authorization ${JSON.stringify(value)}`,
    on: 'auth',
    path: '/sse',
    headers: { authorization: value },
    expect,
  },
  {
    name: `bearer: POST /sse/messages with Authorization ${JSON.stringify(value)}`,
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: { authorization: value },
    json: PING,
    expect,
  },
]);

const sessionAuthCases: Case[] = [
  {
    name: 'bearer: an unknown session id without a token is 401 too (no session oracle)',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages?sessionId=0-doesnotexist',
    json: PING,
    expect: missingToken,
  },
  {
    name: 'bearer: an unknown session id with a token is 404 Session not found',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages?sessionId=0-doesnotexist',
    headers: BEARER,
    json: PING,
    expect: sessionNotFound,
  },
  {
    name: 'bearer: auth is checked before the media type (text/plain, no token -> 401)',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(PING),
    expect: missingToken,
  },
  {
    name: 'bearer: a 405 route still needs the token',
    on: 'auth',
    method: 'POST',
    path: '/sse',
    json: PING,
    expect: missingToken,
  },
  {
    name: 'bearer: an unknown path still needs the token',
    on: 'auth',
    path: '/nope',
    expect: missingToken,
  },
];

// ---------------------------------------------------------------------------------------------------
// CORS

const ALLOW_HEADERS = ['Mcp-Session-Id', 'Authorization', 'Last-Event-ID', 'MCP-Protocol-Version'];
const preflight = (origin: string): Record<string, string> => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization, content-type, mcp-session-id',
});
const preflightOk = (origin: string): Expect => ({
  status: 204,
  empty: true,
  headers: {
    'access-control-allow-origin': origin,
    'access-control-allow-headers': { contains: ALLOW_HEADERS },
    'access-control-allow-methods': { contains: ['POST'] },
  },
});
const preflightRefused: Expect = { status: 403, headers: { 'access-control-allow-origin': null } };

const corsCases: Case[] = [
  {
    name: 'cors: preflight from http://localhost:5173 without a token -> 204',
    on: 'auth',
    method: 'OPTIONS',
    path: '/sse/messages',
    headers: preflight('http://localhost:5173'),
    expect: preflightOk('http://localhost:5173'),
  },
  {
    name: 'cors: preflight from the configured origin https://app.example -> 204',
    on: 'auth',
    method: 'OPTIONS',
    path: '/sse/messages',
    headers: preflight(APP_ORIGIN),
    expect: preflightOk(APP_ORIGIN),
  },
  {
    name: 'cors: preflight on GET /sse from http://127.0.0.1:3000 -> 204',
    on: 'auth',
    method: 'OPTIONS',
    path: '/sse',
    headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'GET' },
    expect: preflightOk('http://127.0.0.1:3000'),
  },
  ...[
    EVIL_ORIGIN,
    'null',
    'http://localhost.evil.example',
    'https://app.example.evil.example',
    'https://app.example:8443',
    'http://app.example',
    'file://',
  ].map(
    (origin): Case => ({
      name: `cors: preflight from ${origin} -> 403`,
      on: 'auth',
      method: 'OPTIONS',
      path: '/sse/messages',
      headers: preflight(origin),
      expect: preflightRefused,
    }),
  ),
  {
    name: 'cors: preflight from https://evil.example on the open gateway -> 403',
    on: 'open',
    method: 'OPTIONS',
    path: '/sse/messages',
    headers: preflight(EVIL_ORIGIN),
    expect: preflightRefused,
  },
  {
    name: 'cors: authed POST from https://app.example exposes Mcp-Session-Id',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: { ...BEARER, origin: APP_ORIGIN },
    json: PING,
    expect: {
      ...pong,
      headers: {
        'access-control-allow-origin': APP_ORIGIN,
        'access-control-expose-headers': { contains: ['Mcp-Session-Id'] },
        vary: { contains: ['Origin'] },
      },
    },
  },
  {
    name: 'cors: authed GET /sse from https://app.example carries CORS headers on the stream',
    on: 'auth',
    path: '/sse',
    headers: { ...BEARER, origin: APP_ORIGIN },
    expect: { ...streamOpened, headers: { 'access-control-allow-origin': APP_ORIGIN } },
  },
  {
    name: 'cors: 401 to an allowed origin still carries CORS headers (the page can read the error)',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: { origin: APP_ORIGIN },
    json: PING,
    expect: {
      ...missingToken,
      headers: {
        'www-authenticate': /^Bearer\b/,
        'access-control-allow-origin': APP_ORIGIN,
        'access-control-expose-headers': { contains: ['WWW-Authenticate'] },
      },
    },
  },
  {
    name: 'cors: a request without Origin gets no CORS headers',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: PING,
    expect: { ...pong, headers: { 'access-control-allow-origin': null } },
  },
];

// ---------------------------------------------------------------------------------------------------
// Origin and Host (DNS rebinding)

const originCases: Case[] = [
  {
    name: 'origin: GET /sse from https://evil.example -> 403',
    on: 'open',
    path: '/sse',
    headers: { origin: EVIL_ORIGIN },
    expect: forbidden,
  },
  {
    name: 'origin: POST /sse/messages from https://evil.example -> 403',
    on: 'open',
    method: 'POST',
    path: '/sse/messages',
    headers: { origin: EVIL_ORIGIN },
    json: PING,
    expect: forbidden,
  },
  {
    name: 'origin: POST to a live session from https://evil.example -> 403',
    on: 'open',
    method: 'POST',
    path: (ctx) => `/sse/messages?sessionId=${encodeURIComponent(ctx.sid.open)}`,
    headers: { origin: EVIL_ORIGIN },
    json: PING,
    expect: forbidden,
  },
  {
    name: 'origin: GET /health from https://evil.example -> 403',
    on: 'open',
    path: '/health',
    headers: { origin: EVIL_ORIGIN },
    expect: forbidden,
  },
  {
    name: 'origin: GET /sse from Origin: null -> 403',
    on: 'open',
    path: '/sse',
    headers: { origin: 'null' },
    expect: forbidden,
  },
  {
    name: 'origin: https://app.example is not allowed where it is not configured -> 403',
    on: 'open',
    path: '/sse',
    headers: { origin: APP_ORIGIN },
    expect: forbidden,
  },
  {
    name: 'origin: evil origin with a valid token -> 403 (Origin is checked before auth)',
    on: 'auth',
    path: '/sse',
    headers: { ...BEARER, origin: EVIL_ORIGIN },
    expect: forbidden,
  },
  {
    name: 'origin: evil origin without a token -> 403',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: { origin: EVIL_ORIGIN },
    json: PING,
    expect: forbidden,
  },
  {
    name: 'origin: GET /sse from http://localhost:1234 -> 200',
    on: 'open',
    path: '/sse',
    headers: { origin: 'http://localhost:1234' },
    expect: { ...streamOpened, headers: { 'access-control-allow-origin': 'http://localhost:1234' } },
  },
  {
    name: 'origin: POST /sse/messages from http://localhost:1234 -> 200',
    on: 'open',
    method: 'POST',
    path: '/sse/messages',
    headers: { origin: 'http://localhost:1234' },
    json: PING,
    expect: { ...pong, headers: { 'access-control-allow-origin': 'http://localhost:1234' } },
  },
  {
    name: 'origin: POST /sse/messages without Origin -> 200',
    on: 'open',
    method: 'POST',
    path: '/sse/messages',
    json: PING,
    expect: { ...pong, headers: { 'access-control-allow-origin': null } },
  },
  { name: 'origin: GET /sse without Origin -> 200', on: 'open', path: '/sse', expect: streamOpened },
  {
    name: 'host: GET /sse with Host: evil.example.com -> 403',
    on: 'open',
    raw: true,
    path: '/sse',
    headers: { host: 'evil.example.com' },
    expect: forbidden,
  },
  {
    name: 'host: POST /sse/messages with Host: evil.example.com -> 403',
    on: 'open',
    raw: true,
    method: 'POST',
    path: '/sse/messages',
    headers: { host: 'evil.example.com', ...JSON_CT },
    body: JSON.stringify(PING),
    expect: forbidden,
  },
  {
    name: 'host: GET /health with Host: evil.example.com:<port> -> 403',
    on: 'open',
    raw: true,
    path: '/health',
    headers: (ctx) => ({ host: `evil.example.com:${ctx.port.open}` }),
    expect: forbidden,
  },
  {
    name: 'host: Host evil.example.com with a valid token -> 403',
    on: 'auth',
    raw: true,
    path: '/sse',
    headers: { host: 'evil.example.com', ...BEARER },
    expect: forbidden,
  },
  {
    name: 'host: GET /sse with Host: localhost:<port> -> 200',
    on: 'open',
    raw: true,
    path: '/sse',
    headers: (ctx) => ({ host: `localhost:${ctx.port.open}` }),
    expect: streamOpened,
  },
  {
    name: 'host: POST /sse/messages with Host: localhost:<port> -> 200',
    on: 'open',
    raw: true,
    method: 'POST',
    path: '/sse/messages',
    headers: (ctx) => ({ host: `localhost:${ctx.port.open}`, ...JSON_CT }),
    body: JSON.stringify(PING),
    expect: pong,
  },
];

// ---------------------------------------------------------------------------------------------------
// allowedServers: notify runs on the authed gateway but must be invisible and unreachable there.

const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const callTool = (params: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params,
});
const invalidParamsReply: Expect = {
  status: 200,
  check: (r) => {
    assert.deepEqual(Object.keys(r.json ?? {}).sort(), ['error', 'id', 'jsonrpc']);
    assert.equal(r.json.id, 2);
    assert.equal(r.json.error.code, -32602, r.json.error.message);
  },
};

const allowedServerCases: Case[] = [
  {
    name: 'allowedServers: tools/list lists only echo tools',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: toolsList,
    expect: {
      status: 200,
      check: (r) => {
        assert.equal(r.json?.id, 1);
        const tools = r.json.result.tools as Array<{ name: string; server: string }>;
        assert.ok(tools.length > 0);
        assert.deepEqual([...new Set(tools.map((t) => t.server))], ['echo']);
        assert.ok(tools.some((t) => t.name === 'echo__echo'));
        for (const hidden of ['sample', 'notify', 'elicit', 'roots', 'add_tool', 'bump']) {
          assert.ok(
            !tools.some((t) => t.name === hidden || t.name === `notify__${hidden}`),
            `${hidden} must not be listed`,
          );
        }
      },
    },
  },
  {
    name: 'allowedServers: resources/list lists nothing from notify',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: { jsonrpc: '2.0', id: 1, method: 'resources/list' },
    expect: {
      status: 200,
      check: (r) => {
        const resources = r.json.result.resources as Array<{ uri: string; server: string }>;
        for (const resource of resources) assert.equal(resource.server, 'echo', resource.uri);
      },
    },
  },
  {
    name: 'allowedServers: control, the open gateway does list notify\'s "sample"',
    on: 'open',
    method: 'POST',
    path: '/sse/messages',
    json: toolsList,
    expect: {
      status: 200,
      check: (r) => {
        const tools = r.json.result.tools as Array<{ name: string; server: string }>;
        assert.equal(tools.find((t) => t.name === 'notify__sample')?.server, 'notify');
      },
    },
  },
  {
    name: 'allowedServers: tools/call "sample" -> -32602',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: callTool({ name: 'sample', arguments: { prompt: 'hi' } }),
    expect: invalidParamsReply,
  },
  {
    name: 'allowedServers: tools/call "notify" -> -32602',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: callTool({ name: 'notify', arguments: {} }),
    expect: invalidParamsReply,
  },
  {
    name: 'allowedServers: tools/call with server "notify" -> -32602',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: callTool({ name: 'sample', arguments: { prompt: 'hi' }, server: 'notify' }),
    expect: invalidParamsReply,
  },
  {
    name: 'allowedServers: tools/call echo with server "notify" -> -32602',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: callTool({ name: 'echo', arguments: { text: 'x' }, server: 'notify' }),
    expect: invalidParamsReply,
  },
  {
    name: 'allowedServers: tools/call echo is allowed',
    on: 'auth',
    method: 'POST',
    path: '/sse/messages',
    headers: BEARER,
    json: callTool({ name: 'echo', arguments: { text: 'ok' } }),
    expect: {
      status: 200,
      json: { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'ok' }] } },
    },
  },
  {
    name: 'allowedServers: GET /servers/notify/sse -> 404',
    on: 'auth',
    path: '/servers/notify/sse',
    headers: BEARER,
    expect: { status: 404, rpcError: 'any' },
  },
  {
    name: 'allowedServers: POST /servers/notify/messages -> 404',
    on: 'auth',
    method: 'POST',
    path: '/servers/notify/messages',
    headers: BEARER,
    json: PING,
    expect: { status: 404, rpcError: 'any' },
  },
  {
    name: 'allowedServers: GET /servers/%6Eotify/sse (percent-encoded) -> 404',
    on: 'auth',
    path: '/servers/%6Eotify/sse',
    headers: BEARER,
    expect: { status: 404, rpcError: 'any' },
  },
  {
    name: 'allowedServers: GET /servers/nope/sse -> 404',
    on: 'auth',
    path: '/servers/nope/sse',
    headers: BEARER,
    expect: { status: 404, rpcError: 'any' },
  },
  {
    name: 'allowedServers: GET /servers/echo/sse -> 200 event stream',
    on: 'auth',
    path: '/servers/echo/sse',
    headers: BEARER,
    expect: { status: 200, sse: ECHO_SSE_ENDPOINT },
  },
  {
    name: 'allowedServers: /status reports only echo',
    on: 'auth',
    path: '/status',
    headers: BEARER,
    expect: {
      status: 200,
      check: (r) => {
        const servers = r.json.servers as Array<{ name: string }>;
        assert.deepEqual(
          servers.map((s) => s.name),
          ['echo'],
        );
      },
    },
  },
];

// ---------------------------------------------------------------------------------------------------
// Bad input on the open gateway

const post = (name: string, expect: Expect, rest: Partial<Case> = {}): Case => ({
  name: `input: ${name}`,
  on: 'open',
  method: 'POST',
  path: '/sse/messages',
  ...rest,
  expect,
});
const jsonPost = (name: string, body: string | Uint8Array, expect: Expect): Case =>
  post(name, expect, { headers: JSON_CT, body });
const sessionPath = (ctx: Ctx) => `/sse/messages?sessionId=${encodeURIComponent(ctx.sid.open)}`;
/** The live session's id with its shard prefix changed, as a client guessing across workers would. */
const otherShardSid = (ctx: Ctx) => {
  const [prefix = '0', rest = ''] = ctx.sid.open.split(/-(.*)/s);
  return `${prefix === '1' ? '0' : '1'}-${rest}`;
};

const unsupportedMedia: Expect = { status: 415, rpcError: 'any' };
const tooLarge: Expect = { status: 413, rpcError: 'any' };
/** An error status may carry a body; when it does it must be the usual envelope. */
const clientErrorEnvelope: Expect = {
  status: '4xx',
  check: (r) => {
    if (r.text) assertRpcEnvelope(r, 'any', undefined, 'error body');
  },
};

const inputCases: Case[] = [
  post('Content-Type text/plain -> 415', unsupportedMedia, {
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(PING),
  }),
  post('no Content-Type -> 415', unsupportedMedia, { body: Buffer.from(JSON.stringify(PING)) }),
  post('Content-Type application/x-www-form-urlencoded -> 415', unsupportedMedia, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: JSON.stringify(PING),
  }),
  post('Content-Type application/jsonx -> 415', unsupportedMedia, {
    headers: { 'content-type': 'application/jsonx' },
    body: JSON.stringify(PING),
  }),
  post('Content-Type text/plain on a live session -> 415', unsupportedMedia, {
    path: sessionPath,
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(PING),
  }),
  post('application/json; charset=utf-8 is accepted', pong, {
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(PING),
  }),
  post('Application/JSON (media types are case-insensitive) is accepted', pong, {
    headers: { 'content-type': 'Application/JSON' },
    body: JSON.stringify(PING),
  }),
  jsonPost(`a body of exactly maxBodyBytes (${MAX_BODY}) is accepted`, pingOfSize(MAX_BODY), pong),
  jsonPost(`a body of maxBodyBytes + 1 with Content-Length -> 413`, pingOfSize(MAX_BODY + 1), tooLarge),
  jsonPost('a 64 KiB body with Content-Length -> 413', pingOfSize(64 * 1024), tooLarge),
  post('a chunked body within maxBodyBytes is accepted', pong, {
    headers: JSON_CT,
    body: chunkedPing(MAX_BODY - 100),
  }),
  post('a chunked body of maxBodyBytes + 1 -> 413', tooLarge, {
    headers: JSON_CT,
    body: chunkedPing(MAX_BODY + 1),
  }),
  post('a chunked body of 16 KiB -> 413', tooLarge, { headers: JSON_CT, body: chunkedPing(16 * 1024) }),
  jsonPost('malformed JSON {"jsonrpc": -> 400 -32700', '{"jsonrpc":', badRequest(-32700)),
  jsonPost('an empty body -> 400 -32700', '', badRequest(-32700)),
  jsonPost('trailing garbage after the object -> 400 -32700', `${JSON.stringify(PING)}x`, badRequest(-32700)),
  jsonPost('a batch (array) -> 400 -32600', JSON.stringify([PING, { ...PING, id: 2 }]), badRequest(-32600)),
  jsonPost('an empty batch [] -> 400 -32600', '[]', badRequest(-32600)),
  jsonPost('"jsonrpc":"1.0" -> 400 -32600', JSON.stringify({ ...PING, jsonrpc: '1.0' }), badRequest(-32600)),
  jsonPost('no "jsonrpc" -> 400 -32600', JSON.stringify({ id: 1, method: 'ping' }), badRequest(-32600)),
  jsonPost('a string body -> 400 -32600', '"ping"', badRequest(-32600)),
  jsonPost('a number body -> 400 -32600', '42', badRequest(-32600)),
  jsonPost('a null body -> 400 -32600', 'null', badRequest(-32600)),
  jsonPost('a boolean body -> 400 -32600', 'true', badRequest(-32600)),
  jsonPost('an empty object -> 400 -32600', '{}', badRequest(-32600)),
  jsonPost('id as an object -> 400 -32600', JSON.stringify({ ...PING, id: { a: 1 } }), badRequest(-32600)),
  jsonPost('id as an array -> 400 -32600', JSON.stringify({ ...PING, id: [1] }), badRequest(-32600)),
  jsonPost('id as a boolean -> 400 -32600', JSON.stringify({ ...PING, id: true }), badRequest(-32600)),
  jsonPost('id null on a request -> 400 -32600', JSON.stringify({ ...PING, id: null }), badRequest(-32600)),
  jsonPost(
    'id 1e400 (Infinity) -> 400 -32600',
    '{"jsonrpc":"2.0","id":1e400,"method":"ping"}',
    badRequest(-32600),
  ),
  jsonPost(
    'params as an array -> 400 -32600',
    JSON.stringify({ ...PING, params: [1, 2] }),
    badRequest(-32600),
  ),
  jsonPost('params as a string -> 400 -32600', JSON.stringify({ ...PING, params: 'x' }), badRequest(-32600)),
  jsonPost('params null -> 400 -32600', JSON.stringify({ ...PING, params: null }), badRequest(-32600)),
  jsonPost('method as a number -> 400 -32600', JSON.stringify({ ...PING, method: 7 }), badRequest(-32600)),
  jsonPost(
    'a response without an id -> 400 -32600',
    JSON.stringify({ jsonrpc: '2.0', result: {} }),
    badRequest(-32600),
  ),
  jsonPost('invalid UTF-8: a lone 0xFF byte body -> 4xx', new Uint8Array([0xff]), clientErrorEnvelope),
  jsonPost(
    'invalid UTF-8: 0xC3 0x28 inside a JSON string -> 4xx',
    pingWithBytes([0xc3, 0x28]),
    clientErrorEnvelope,
  ),
  jsonPost(
    'invalid UTF-8: overlong "/" (0xC0 0xAF) inside a JSON string -> 4xx',
    pingWithBytes([0xc0, 0xaf]),
    clientErrorEnvelope,
  ),
  jsonPost(
    'invalid UTF-8: encoded surrogate (0xED 0xA0 0x80) inside a JSON string -> 4xx',
    pingWithBytes([0xed, 0xa0, 0x80]),
    clientErrorEnvelope,
  ),
  jsonPost(
    'invalid UTF-8: truncated sequence (0xE2 0x82) inside a JSON string -> 4xx',
    pingWithBytes([0xe2, 0x82]),
    clientErrorEnvelope,
  ),
  post('unknown sessionId 0-doesnotexist -> 404 -32001', sessionNotFound, {
    path: '/sse/messages?sessionId=0-doesnotexist',
    json: PING,
  }),
  post('forged sessionId with another shard prefix 1-xxxx -> 404', sessionNotFound, {
    path: '/sse/messages?sessionId=1-xxxxxxxxxxxxxxxxxxxxxxxx',
    json: PING,
  }),
  post('a live session id with its shard prefix changed -> 404', sessionNotFound, {
    path: (ctx) => `/sse/messages?sessionId=${encodeURIComponent(otherShardSid(ctx))}`,
    json: PING,
  }),
  post('a live session id with a suffix appended -> 404', sessionNotFound, {
    path: (ctx) => `/sse/messages?sessionId=${encodeURIComponent(`${ctx.sid.open}x`)}`,
    json: PING,
  }),
  post('an aggregate session id used on /servers/echo/messages -> 404', sessionNotFound, {
    path: (ctx) => `/servers/echo/messages?sessionId=${encodeURIComponent(ctx.sid.open)}`,
    json: PING,
  }),
  post(
    'POST /sse -> 405 Allow: GET',
    { status: 405, rpcError: 'any', headers: { allow: 'GET' } },
    {
      path: '/sse',
      json: PING,
    },
  ),
  post(
    'PUT /sse/messages -> 405 Allow: POST',
    { status: 405, rpcError: 'any', headers: { allow: 'POST' } },
    {
      method: 'PUT',
      json: PING,
    },
  ),
  post(
    'DELETE /sse -> 405 Allow: GET',
    { status: 405, rpcError: 'any', headers: { allow: 'GET' } },
    {
      method: 'DELETE',
      path: '/sse',
    },
  ),
  post(
    'GET /sse/messages -> 405 Allow: POST',
    { status: 405, rpcError: 'any', headers: { allow: 'POST' } },
    {
      method: 'GET',
    },
  ),
  post(
    'PATCH /servers/echo/messages -> 405 Allow: POST',
    { status: 405, rpcError: 'any', headers: { allow: 'POST' } },
    { method: 'PATCH', path: '/servers/echo/messages', json: PING },
  ),
  post('GET /nope -> 404', { status: 404, rpcError: 'any' }, { method: 'GET', path: '/nope' }),
  {
    name: 'input: GET /servers/../health (unnormalised path) -> no 5xx',
    on: 'open',
    raw: true,
    path: '/servers/../health',
    expect: { status: 'not 5xx' },
  },
  post('a notification (no id) on a live session -> 202', accepted, {
    path: sessionPath,
    json: { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
  }),
  post('notifications/cancelled for an unknown request on a live session -> 202', accepted, {
    path: sessionPath,
    json: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'nope' } },
  }),
];

// ---------------------------------------------------------------------------------------------------

describe('gateway security: auth, CORS, Origin/Host, allowedServers and bad input over real HTTP', {
  timeout: 120_000,
}, () => {
  let open: TestGateway;
  let authed: TestGateway;
  const streams: RawSse[] = [];
  const ctx: Ctx = { port: { open: 0, auth: 0 }, sid: { open: '', auth: '' } };
  const gw = (which: Which) => (which === 'open' ? open : authed);

  async function liveSession(which: Which): Promise<{ stream: RawSse; sid: string }> {
    const stream = await openRawSse(`${gw(which).url}/sse`, which === 'auth' ? BEARER : {});
    streams.push(stream);
    assert.equal(stream.status, 200);
    const endpoint = await stream.next((e) => e.event === 'endpoint');
    const sid = new URL(endpoint.data, 'http://x').searchParams.get('sessionId');
    assert.ok(sid);
    return { stream, sid };
  }

  async function run(c: Case): Promise<Reply> {
    casesTried += 1;
    const g = gw(c.on);
    const method = c.method ?? 'GET';
    const path = typeof c.path === 'function' ? c.path(ctx) : c.path;
    const extra = typeof c.headers === 'function' ? c.headers(ctx) : (c.headers ?? {});
    const headers = c.json !== undefined ? { ...JSON_CT, ...extra } : extra;
    const body = c.json !== undefined ? JSON.stringify(c.json) : c.body;
    if (c.raw) {
      assert.ok(typeof body !== 'function', 'raw cases send plain bodies');
      return viaHttp(ctx.port[c.on], method, path, headers, body);
    }
    return viaFetch(`${g.url}${path}`, method, headers, body);
  }

  before(async () => {
    const servers = {
      echo: { command: node, args: [fixturePath('echo-server')] },
      notify: { command: node, args: [fixturePath('notify-server')] },
    };
    [open, authed] = await Promise.all([
      startTestGateway(servers, { maxBodyBytes: MAX_BODY }),
      startTestGateway(servers, {
        authenticate: { bearer: { token: TOKEN } },
        allowedServers: ['echo'],
        allowedOrigins: [APP_ORIGIN],
      }),
    ]);
    ctx.port = { open: Number(new URL(open.url).port), auth: Number(new URL(authed.url).port) };
    ctx.sid = { open: (await liveSession('open')).sid, auth: (await liveSession('auth')).sid };
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await Promise.all([open?.stop(), authed?.stop()]);
    console.log(`gateway-security: ${casesTried} cases tried (${requestsSent} HTTP requests)`);
  });

  const tables: Array<[string, Case[]]> = [
    ['bearer', [...bearerCases, ...extraBearerCases, ...sessionAuthCases]],
    ['cors', corsCases],
    ['origin/host', originCases],
    ['allowedServers', allowedServerCases],
    ['bad input', inputCases],
  ];
  for (const [group, cases] of tables) {
    describe(group, () => {
      for (const c of cases) {
        test(c.name, async () => {
          const reply = await run(c);
          verify(c, reply);
        });
      }
    });
  }

  test('a session POST with the token answers on the session stream, not in the body', async () => {
    casesTried += 1;
    const { stream, sid } = await liveSession('auth');
    const reply = await viaFetch(
      `${authed.url}/sse/messages?sessionId=${encodeURIComponent(sid)}`,
      'POST',
      { ...JSON_CT, ...BEARER },
      JSON.stringify({ jsonrpc: '2.0', id: 'auth-1', method: 'ping' }),
    );
    assert.equal(reply.status, 202);
    assert.equal(reply.text, '');
    const answer = await stream.next((e) => e.event === 'message');
    assert.deepEqual(JSON.parse(answer.data), { jsonrpc: '2.0', id: 'auth-1', result: {} });
  });

  test('a response for an unknown id on a live session -> 202 and nothing on the stream', async () => {
    casesTried += 1;
    const { stream, sid } = await liveSession('open');
    const url = `${open.url}/sse/messages?sessionId=${encodeURIComponent(sid)}`;
    const stray = await viaFetch(
      url,
      'POST',
      JSON_CT,
      JSON.stringify({ jsonrpc: '2.0', id: 'mcpr-999', result: {} }),
    );
    assert.equal(stray.status, 202);
    assert.equal(stray.text, '');
    const strayError = await viaFetch(
      url,
      'POST',
      JSON_CT,
      JSON.stringify({ jsonrpc: '2.0', id: 'mcpr-998', error: { code: -1, message: 'x' } }),
    );
    assert.equal(strayError.status, 202);
    // A ping after them: once its answer is on the stream, anything the stray responses caused would be too.
    const marker = await viaFetch(
      url,
      'POST',
      JSON_CT,
      JSON.stringify({ jsonrpc: '2.0', id: 'marker', method: 'ping' }),
    );
    assert.equal(marker.status, 202);
    await stream.next((e) => e.event === 'message' && JSON.parse(e.data).id === 'marker');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const messages = stream.events.filter((e) => e.event !== 'endpoint').map((e) => JSON.parse(e.data));
    assert.deepEqual(messages, [{ jsonrpc: '2.0', id: 'marker', result: {} }]);
  });

  test('concurrent garbage does not disturb a live session', async () => {
    casesTried += 1;
    const { client } = await connectSse(`${open.url}/sse`);
    try {
      const garbage = Array.from({ length: 40 }, (_, i) =>
        viaFetch(
          `${open.url}/sse/messages`,
          'POST',
          JSON_CT,
          i % 2 ? '{"jsonrpc":' : pingOfSize(MAX_BODY + 1),
        ),
      );
      const result = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
      const statuses = (await Promise.all(garbage)).map((r) => r.status);
      assert.deepEqual([...new Set(statuses)].sort(), [400, 413]);
      assert.deepEqual(result.content, [{ type: 'text', text: 'still here' }]);
    } finally {
      await client.close();
    }
  });

  test('afterwards both gateways are healthy and a fresh SDK session can call echo', async () => {
    casesTried += 1;
    for (const [which, headers] of [
      ['open', {}],
      ['auth', BEARER],
    ] as const) {
      const health = await viaFetch(`${gw(which).url}/health`, 'GET', headers, undefined);
      assert.equal(health.status, 200, `${which}: /health`);
      assert.equal(health.json?.status, 'ok');
      const { client } = await connectSse(`${gw(which).url}/sse`, { headers });
      try {
        const result = await client.request(
          { method: 'tools/call', params: { name: 'echo', arguments: { text: `alive-${which}` } } },
          CallToolResultSchema,
        );
        assert.deepEqual(result.content, [{ type: 'text', text: `alive-${which}` }]);
      } finally {
        await client.close();
      }
    }
  });
});
