import fc from 'fast-check';
import { type Expectation, ROUTES, UI_FILES } from './gateway-contract.js';

/**
 * Request targets aimed at the router: traversal and encoded slashes inside `/servers/{name}`, near
 * misses of real routes, unicode, junk queries and very long paths, with any method. Only targets node's
 * HTTP client will send (printable ASCII); raw bytes in paths go over a socket elsewhere.
 */

const SERVER_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '..%2f',
  '%2e%2e%2f',
  '..%2F..%2F',
  'echo%2f..',
  'echo%2F..%2F..%2Fstatus',
  'echo/..',
  'echo/../..',
  'echo%00',
  'echo%0d%0a',
  'ech%6f',
  'ECHO',
  'Echo',
  'echo%20',
  'echo.',
  'echo;x',
  'echo%3fx',
  'echo%23',
  '%C3%A9cho',
  '%EF%BC%8E%EF%BC%8E',
  '%C0%AE%C0%AE',
  '%252e%252e',
  '%u002e%u002e',
  '\\..\\',
  '%5c..%5c',
  '',
  '*',
  '__proto__',
  'constructor',
  'nope',
];

const TAILS = [
  'mcp',
  'sse',
  'messages',
  'mcp/',
  'sse/',
  '',
  'mcp/../sse',
  'status',
  'health',
  'mcp%2f',
  'MCP',
  'mcp?x=1',
];

const NEAR_MISSES = [
  '/mcp/..',
  '/./mcp',
  '//mcp',
  '/mcp%20',
  '/mcp;',
  '/mcp/',
  '/MCP',
  '/mcp.json',
  '/sse/../status',
  '/sse/messages/',
  '/sse/messages/../../status',
  '/health/',
  '/health/../status',
  '/status/',
  '/%2fstatus',
  '/%73tatus',
  '/servers',
  '/servers/',
  '/servers/echo',
  '/servers/echo/',
  '/servers/echo/mcp/extra',
  '/servers/echo/sse/messages',
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/../status',
  '/.well-known/%2e%2e/status',
  '/',
  '/*',
  '/health',
  '/status',
  '/status/events',
  '/status/events/',
  '/metrics',
  '/ui',
  '/ui/',
  '/ui/app.js',
  '/ui/App.js',
  '/ui/app.js/',
  '/ui/../package.json',
  '/ui/..%2fpackage.json',
  '/ui/%2e%2e%2fpackage.json',
  '/ui/index.html',
  '/ui/.env',
  '/favicon.ico',
  '/index.html',
  '/admin',
  '/%00',
  '/sse%00',
  '/mcp#frag',
];

const safeSegment = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,20}$/);
const encodedSegment = fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent);
const query = fc.oneof(
  fc.constant(''),
  fc.constant('?'),
  fc.constant('?sessionId='),
  fc.constant('?sessionId=%00'),
  fc
    .array(fc.tuple(safeSegment, encodedSegment), { maxLength: 3 })
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.integer({ min: 1000, max: 6000 }).map((n) => `?x=${'q'.repeat(n)}`),
);

export const pathArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({ name: fc.constantFrom(...SERVER_SEGMENTS), tail: fc.constantFrom(...TAILS), q: query })
    .map(({ name, tail, q }) => `/servers/${name}/${tail}${q}`),
  fc.record({ p: fc.constantFrom(...NEAR_MISSES), q: query }).map(({ p, q }) => `${p}${q}`),
  fc
    .record({
      segments: fc.array(fc.oneof(safeSegment, encodedSegment), { minLength: 1, maxLength: 6 }),
      q: query,
    })
    .map(({ segments, q }) => `/${segments.join('/')}${q}`),
  fc
    .record({ name: encodedSegment, tail: fc.constantFrom('mcp', 'sse', 'messages') })
    .map(({ name, tail }) => `/servers/${name}/${tail}`),
  fc.integer({ min: 1000, max: 8000 }).map((n) => `/${'a'.repeat(n)}`),
  fc.integer({ min: 100, max: 2000 }).map((n) => `/servers/${'n'.repeat(n)}/mcp`),
);

/** Methods both engines' parsers accept; others reach the routes on uWS only (Node's parser says 400). */
const STANDARD = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'PROPFIND', 'TRACE'];
const STANDARD_METHODS = new Set([...STANDARD, 'HEAD']);

/** HEAD is left out: its answers carry a body, which node's client rejects (see the HEAD test). */
export const methodArb = fc.constantFrom(...STANDARD, 'FOO');

const SERVER_ROUTE = /^\/servers\/([^/]*)\/(mcp|sse|messages)$/;
const UI_ROUTE = /^\/ui\/([^/]+)$/;

/**
 * The README's routing contract: known routes answer their methods (others 405), an unknown server in
 * `/servers/{name}/...` is 404 (or 405 for a method the route never takes), anything else is 404, and
 * OPTIONS is a CORS preflight (204) anywhere. The target is matched as sent: no decoding, no dot
 * segments resolved, so a 2xx is only possible on a route's exact path.
 */
export function routeExpectation(method: string, target: string, long: boolean): Expectation {
  // A request target has no fragment: a `#` stays part of the path as sent.
  const path = target.split('?', 1)[0]!;
  const close = long ? { mayClose: true } : {};
  const withLong = (statuses: number[]) => {
    const all = long ? [...statuses, 431, 400, 414] : statuses;
    // Node's parser refuses a method it does not know (400) before any route sees it; uWS routes any token.
    return STANDARD_METHODS.has(method) ? all : [...all, 400];
  };
  if (method === 'OPTIONS') return { statuses: withLong([204]), because: 'CORS preflight', ...close };
  const route = ROUTES.find((r) => r.path === path);
  if (route) {
    if (route.methods.includes(method)) return { because: `${method} ${path} is a route`, ...close };
    return { statuses: withLong([405]), because: `${method} not allowed on ${path}`, ...close };
  }
  const ui = UI_ROUTE.exec(path);
  if (ui) {
    if (method !== 'GET')
      return { statuses: withLong([405]), because: `${method} not allowed on /ui/`, ...close };
    if (UI_FILES.includes(ui[1]!))
      return { statuses: withLong([200]), because: 'a status page file', ...close };
    return { statuses: withLong([404]), no2xx: true, because: 'not a status page file', ...close };
  }
  if (SERVER_ROUTE.test(path))
    return { statuses: withLong([404, 405]), no2xx: true, because: 'unknown server', ...close };
  return { statuses: withLong([404]), no2xx: true, because: 'no such route', ...close };
}
