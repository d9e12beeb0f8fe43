import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpExchange } from '../src/workers/http/http-exchange.js';
import { type RouteMethod, RouteTable } from '../src/workers/route-table.js';

/** A table shaped like the gateway's, each handler answering with its own name. */
function table(): { routes: RouteTable; names: Map<unknown, string> } {
  const names = new Map<unknown, string>();
  const routes = new RouteTable();
  const add = (method: RouteMethod, pattern: string) => {
    const handler = (_exchange: HttpExchange, _params: string[]) => {};
    names.set(handler, `${method} ${pattern}`);
    routes.add(method, pattern, handler);
  };
  add('OPTIONS', '/*');
  add('HEAD', '/*');
  add('GET', '/sse');
  add('*', '/sse');
  add('GET', '/servers/:name/sse');
  add('*', '/servers/:name/sse');
  add('*', '/.well-known/*');
  add('GET', '/');
  add('GET', '/ui/:file');
  add('*', '/');
  add('*', '/*');
  return { routes, names };
}

// Each row was checked against uWebSockets.js itself (uwebsockets 3.0.6 on Node 20) with the same
// routes: both engines must route exactly as it does.
const CASES: Array<[string, string, string, string[]]> = [
  ['HEAD', '/sse', 'HEAD /*', []],
  ['OPTIONS', '/sse', 'OPTIONS /*', []],
  ['GET', '/sse', 'GET /sse', []],
  ['PUT', '/sse', '* /sse', []],
  ['HEAD', '/servers/a/sse', 'HEAD /*', []],
  ['GET', '/servers/a/sse', 'GET /servers/:name/sse', ['a']],
  ['PUT', '/servers/a/sse', '* /servers/:name/sse', ['a']],
  ['GET', '/servers/a/sse/x', '* /*', []],
  ['GET', '/servers//sse', '* /*', []],
  ['GET', '/.well-known/x/y', '* /.well-known/*', []],
  ['GET', '/.well-known', '* /*', []],
  ['POST', '/', '* /', []],
  ['GET', '/', 'GET /', []],
  ['GET', '/ui/app.js', 'GET /ui/:file', ['app.js']],
  ['GET', '/ui/', '* /*', []],
  ['GET', '/ui/a/b', '* /*', []],
  ['GET', '/sse/', '* /*', []],
  ['GET', '//sse', '* /*', []],
  ['GET', '/SSE', '* /*', []],
  ['GET', '/servers/%2e%2e/sse', 'GET /servers/:name/sse', ['%2e%2e']],
];

test('routes match as uWS matches them: own method first, then literal, parameter, wildcard', () => {
  const { routes, names } = table();
  for (const [method, path, expected, params] of CASES) {
    const match = routes.match(method, path);
    assert.ok(match, `${method} ${path} matched nothing`);
    assert.equal(names.get(match.handler), expected, `${method} ${path}`);
    assert.deepEqual(match.params, params, `${method} ${path} params`);
  }
  // A target that is no path never reaches uWS's router (its parser answers 505); Node's parser passes
  // `OPTIONS *` and `GET *` on, and they must land on the catch-all, not match nothing.
  assert.equal(names.get(routes.match('GET', '*')?.handler), '* /*');
  assert.equal(names.get(routes.match('OPTIONS', '*')?.handler), 'OPTIONS /*');
});
