import type { FuzzBody } from './json-rpc-bodies.js';

/**
 * What the gateway must answer, from the README's endpoint table and security defaults, as a function
 * of facts about a request. Where the README leaves a choice (which of two refusals comes first, a
 * lenient reading of a header), the expectation lists every acceptable answer instead of guessing.
 */

export type EndpointKind = 'streamable' | 'legacy-post' | 'legacy-stream' | 'health' | 'status';

export interface Endpoint {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  kind: EndpointKind;
}

export const ENDPOINTS: readonly Endpoint[] = [
  { method: 'POST', path: '/mcp', kind: 'streamable' },
  { method: 'GET', path: '/mcp', kind: 'streamable' },
  { method: 'DELETE', path: '/mcp', kind: 'streamable' },
  { method: 'POST', path: '/servers/echo/mcp', kind: 'streamable' },
  { method: 'GET', path: '/servers/echo/mcp', kind: 'streamable' },
  { method: 'DELETE', path: '/servers/echo/mcp', kind: 'streamable' },
  { method: 'GET', path: '/sse', kind: 'legacy-stream' },
  { method: 'POST', path: '/sse/messages', kind: 'legacy-post' },
  { method: 'GET', path: '/servers/echo/sse', kind: 'legacy-stream' },
  { method: 'POST', path: '/servers/echo/messages', kind: 'legacy-post' },
  { method: 'GET', path: '/health', kind: 'health' },
  { method: 'GET', path: '/status', kind: 'status' },
];

/** Every route the gateway has, with the methods each allows (others get 405 with Allow). */
export const ROUTES: ReadonlyArray<{ path: string; methods: readonly string[] }> = [
  { path: '/mcp', methods: ['GET', 'POST', 'DELETE'] },
  { path: '/servers/echo/mcp', methods: ['GET', 'POST', 'DELETE'] },
  { path: '/sse', methods: ['GET'] },
  { path: '/sse/messages', methods: ['POST'] },
  { path: '/servers/echo/sse', methods: ['GET'] },
  { path: '/servers/echo/messages', methods: ['POST'] },
  { path: '/health', methods: ['GET'] },
  { path: '/status', methods: ['GET'] },
  { path: '/status/events', methods: ['GET'] },
  { path: '/metrics', methods: ['GET'] },
  { path: '/', methods: ['GET'] },
];

/** The status page's files: `/ui/{file}` answers GET with one of these, 404 for any other name. */
export const UI_FILES: readonly string[] = [
  'index.html',
  'app.js',
  'style.css',
  'sse-reader.js',
  'mcp-session.js',
  'schema-form.js',
  'result-view.js',
];

/**
 * Which session id a request carries. `fresh`: a Streamable HTTP session the fuzzer just initialized;
 * `attacker`: a live legacy session the fuzzer owns; `forged`: a near miss of a real id; `cross`: a
 * real id of a session on another endpoint family or server; `random`: junk; `victim`: the exact id of
 * a watched session (only ever sent on requests that must be refused before any session lookup).
 */
export type SessionChoice = 'none' | 'fresh' | 'attacker' | 'forged' | 'cross' | 'random' | 'victim';

/** `ok`: the README says this passes; `bad`: it says this is refused; `either`: it leaves it open. */
export type Verdict = 'ok' | 'bad' | 'either';

export interface RequestFacts {
  endpoint: Endpoint;
  session: SessionChoice;
  /** Negotiated protocol version of a `fresh` session. */
  freshVersion?: string;
  body?: FuzzBody;
  /** Accept header, judged for this endpoint's method. */
  accept: Verdict;
  contentType: Verdict;
  /** MCP-Protocol-Version header. */
  protocolVersion: Verdict;
  /** Origin and Host checks. */
  origin: Verdict;
  /** The bearer token check. */
  auth: Verdict;
  /** Headers big enough that the HTTP layer may refuse them (431) or drop the connection. */
  oversized: boolean;
}

export interface Expectation {
  /** Allowed statuses; undefined: any status below 500. */
  statuses?: number[];
  /** The JSON-RPC error code a 400 must carry. */
  code400?: number;
  /** A 2xx would mean the request reached something it must not. */
  no2xx?: boolean;
  /** Dropping the connection instead of answering is acceptable. */
  mayClose?: boolean;
  /** A 200 must be the JSON-RPC answer to exactly these request ids (JSON text); `batch`: as an array. */
  answers?: { ids: string[]; batch: boolean };
  /** Why, for failure messages. */
  because: string;
}

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

const anything = (because: string, extra: Partial<Expectation> = {}): Expectation => ({ because, ...extra });

function forgedLike(session: SessionChoice): boolean {
  return session === 'forged' || session === 'cross' || session === 'random';
}

/** The answer to a POST body once every header check has passed. */
function bodyExpectation(f: RequestFacts, streamable: boolean): Expectation {
  const body = f.body;
  const noSession = !forgedLike(f.session);
  if (!body) return anything('no body');
  switch (body.kind) {
    case 'too-large':
      return { statuses: [413], mayClose: true, because: 'body over maxBodyBytes' };
    case 'bad-utf8':
      return { statuses: [400], code400: PARSE_ERROR, because: 'body is not UTF-8' };
    case 'too-deep':
      return {
        statuses: [400],
        code400: INVALID_REQUEST,
        because: 'JSON nested deeper than the gateway accepts',
      };
    case 'malformed':
      return { statuses: [400], code400: PARSE_ERROR, because: 'body is not JSON' };
    case 'bad-shape':
      return { statuses: [400], code400: INVALID_REQUEST, because: 'not a JSON-RPC message' };
    case 'unknown':
      return anything('spec-ambiguous body', { no2xx: !noSession });
    case 'batch':
      if (!streamable) return { statuses: [400], code400: INVALID_REQUEST, because: 'batch on legacy SSE' };
      if (!body.batchValid) return { statuses: [400], code400: INVALID_REQUEST, because: 'invalid batch' };
      if (f.session === 'none') return { statuses: [400], because: 'batch without Mcp-Session-Id' };
      if (forgedLike(f.session)) return { statuses: [404], because: 'batch on an unknown session' };
      if (f.freshVersion !== '2025-03-26')
        return { statuses: [400], code400: INVALID_REQUEST, because: `batch on a ${f.freshVersion} session` };
      return body.requestIds.length > 0
        ? { statuses: [200], answers: { ids: body.requestIds, batch: true }, because: 'batch on 2025-03-26' }
        : { statuses: [202], because: 'batch of notifications and responses' };
  }
  const isRequest = body.kind === 'request';
  if (streamable) {
    if (body.initialize) {
      return f.session === 'none'
        ? { statuses: [200], answers: { ids: body.requestIds, batch: false }, because: 'initialize' }
        : { statuses: [400], because: 'initialize with Mcp-Session-Id' };
    }
    if (f.session === 'none') return { statuses: [400], because: 'no Mcp-Session-Id' };
    if (forgedLike(f.session)) return { statuses: [404], because: 'unknown session' };
    return isRequest
      ? {
          statuses: [200],
          answers: { ids: body.requestIds, batch: false },
          because: 'request on a live session',
        }
      : { statuses: [202], because: `${body.kind} on a live session` };
  }
  if (forgedLike(f.session)) return { statuses: [404], because: 'unknown legacy session' };
  if (f.session === 'attacker') return { statuses: [202], because: 'message to a live legacy session' };
  return isRequest
    ? {
        statuses: [200],
        answers: { ids: body.requestIds, batch: false },
        because: 'sessionless legacy request',
      }
    : { statuses: [202], because: `sessionless legacy ${body.kind}` };
}

/**
 * Header checks that refuse: with one or more certainly failing, the answer is one of their statuses,
 * or of a check that may fail (the README does not order them).
 */
function refusals(checks: Array<[Verdict, number, string]>): Expectation | 'pass' | 'unsure' {
  const failing = checks.filter(([v]) => v === 'bad');
  if (failing.length > 0) {
    const possible = checks.filter(([v]) => v !== 'ok');
    return {
      statuses: [...new Set(possible.map(([, s]) => s))],
      because: failing.map(([, , why]) => why).join(' + '),
    };
  }
  return checks.some(([v]) => v === 'either') ? 'unsure' : 'pass';
}

export function expectedAnswer(f: RequestFacts): Expectation {
  const mayClose = f.oversized;
  // Only these endpoints read a session id; elsewhere a forged one is just another header.
  const readsSession = f.endpoint.kind === 'streamable' || f.endpoint.kind === 'legacy-post';
  const base = (e: Expectation): Expectation => {
    const withSession = readsSession && forgedLike(f.session) ? { ...e, no2xx: true } : e;
    if (!f.oversized) return withSession;
    // The HTTP layer may refuse big headers first (431) or drop the connection.
    return {
      ...withSession,
      statuses: withSession.statuses ? [...withSession.statuses, 431, 400] : undefined,
      mayClose,
    };
  };
  if (f.origin === 'bad') return base({ statuses: [403], because: 'Origin or Host not allowed' });
  if (f.auth === 'bad') {
    return base({
      statuses: f.origin === 'either' ? [401, 403] : [401],
      because: 'no valid bearer token',
    });
  }
  if (f.origin === 'either' || f.auth === 'either') {
    return base(anything('access check left open', { no2xx: readsSession && f.session === 'victim' }));
  }
  const { endpoint } = f;
  switch (endpoint.kind) {
    case 'health':
    case 'status':
      return base({ statuses: [200], because: endpoint.path });
    case 'legacy-stream':
      return base({ statuses: [200], because: 'opens a legacy stream' });
    case 'legacy-post': {
      const pre = refusals([[f.contentType, 415, 'Content-Type']]);
      if (pre === 'unsure') return base(anything('Content-Type left open'));
      return base(pre === 'pass' ? bodyExpectation(f, false) : pre);
    }
    case 'streamable':
      break;
  }
  const hasSession = f.session !== 'none';
  if (endpoint.method === 'POST') {
    const pre = refusals([
      [f.accept, 406, 'Accept'],
      [f.contentType, 415, 'Content-Type'],
      [f.protocolVersion, 400, 'MCP-Protocol-Version'],
    ]);
    if (pre === 'unsure') return base(anything('a header check left open'));
    return base(pre === 'pass' ? bodyExpectation(f, true) : pre);
  }
  const pre = refusals([
    ...(endpoint.method === 'GET' ? [[f.accept, 406, 'Accept'] as [Verdict, number, string]] : []),
    [f.protocolVersion, 400, 'MCP-Protocol-Version'],
    [hasSession ? 'ok' : 'bad', 400, 'no Mcp-Session-Id'],
  ]);
  if (pre === 'unsure') return base(anything('a header check left open'));
  if (pre !== 'pass') return base(pre);
  if (forgedLike(f.session)) return base({ statuses: [404], because: 'unknown session' });
  return base({ statuses: [200], because: `${endpoint.method} on a live session` });
}
