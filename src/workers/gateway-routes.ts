import { FrameKind } from '../shared/frames.js';
import { RpcErrorCode } from '../shared/json-rpc.js';
import type { Logger } from '../shared/logger.js';
import type { WorkerOptions } from '../shared/worker-options.js';
import { admit, answerPreflight } from './access-control.js';
import type { HttpExchange } from './http/http-exchange.js';
import { openLegacyStream, postLegacyMessage } from './legacy-sse-routes.js';
import { RouteTable } from './route-table.js';
import type { StaticAssets } from './static-assets.js';
import { deleteStreamable, getStreamable, postStreamable } from './streamable-http-routes.js';
import type { WorkerShard } from './worker-shard.js';

type Handler = (exchange: HttpExchange, params: string[]) => void | Promise<void>;

export interface RouteContext {
  shard: WorkerShard;
  options: WorkerOptions;
  assets: StaticAssets;
  digest: Buffer | undefined;
  logger: Logger;
}

/** Every endpoint the gateway serves, whichever HTTP engine carries it. */
export function buildRoutes({ shard, options, assets, digest, logger }: RouteContext): RouteTable {
  const route =
    (handler: Handler, requireToken = true) =>
    (exchange: HttpExchange, params: string[]) => {
      if (!admit(exchange, options, digest, requireToken)) return;
      try {
        const result = handler(exchange, params);
        if (result) result.catch((error: unknown) => internalError(exchange, error));
      } catch (error) {
        internalError(exchange, error);
      }
    };
  const internalError = (exchange: HttpExchange, error: unknown) => {
    logger.error({ err: error, path: exchange.info.path }, 'request handler failed');
    if (exchange.open) exchange.sendRpcError(500, RpcErrorCode.INTERNAL_ERROR, 'Internal error');
  };
  const notFound = (exchange: HttpExchange) =>
    exchange.sendRpcError(404, RpcErrorCode.INVALID_REQUEST, `Not Found: ${exchange.info.path}`);
  const knownServer = (exchange: HttpExchange, name: string): boolean => {
    if (options.servers.includes(name)) return true;
    exchange.sendRpcError(404, RpcErrorCode.INVALID_PARAMS, `Unknown server "${name}"`);
    return false;
  };
  /** A per-server route: 404 for a server that is not served here. */
  const named =
    (handler: (exchange: HttpExchange, name: string) => void | Promise<void>): Handler =>
    (exchange, [name = '']) =>
      knownServer(exchange, name) ? handler(exchange, name) : undefined;
  const serveAsset = (exchange: HttpExchange, file: string) => {
    if (!assets.serve(exchange, file)) notFound(exchange);
  };
  const methodNotAllowed = (allow: string) =>
    route((exchange) =>
      exchange.sendRpcError(405, RpcErrorCode.INVALID_REQUEST, `Method Not Allowed: use ${allow}`, [
        ['Allow', allow],
      ]),
    );
  const statusQuery = (what: 'health' | 'status' | 'metrics') =>
    route((exchange) => {
      const outletId = shard.openRequestOutlet(exchange);
      shard.send({ k: FrameKind.STATUS_QUERY, outlet: outletId, what });
    });

  return (
    new RouteTable()
      .add('OPTIONS', '/*', (exchange) => answerPreflight(exchange, options))
      // HEAD must never carry a body (a keep-alive client would read it as the next response), and no
      // endpoint here has a use for it.
      .add('HEAD', '/*', (exchange) => {
        exchange.responded = true;
        exchange.cork(() => {
          exchange.writeStatus('405 Method Not Allowed');
          exchange.writeHeader('Allow', 'GET, POST, DELETE');
          exchange.endWithoutBody();
        });
      })
      .add(
        'GET',
        '/sse',
        route((ex) => openLegacyStream(shard, ex, '', '/sse/messages')),
      )
      .add(
        'POST',
        '/sse/messages',
        route((ex) => postLegacyMessage(shard, ex, '')),
      )
      .add('*', '/sse', methodNotAllowed('GET'))
      .add('*', '/sse/messages', methodNotAllowed('POST'))
      .add(
        'GET',
        '/servers/:name/sse',
        route(named((ex, name) => openLegacyStream(shard, ex, name, `/servers/${name}/messages`))),
      )
      .add('POST', '/servers/:name/messages', route(named((ex, name) => postLegacyMessage(shard, ex, name))))
      .add('*', '/servers/:name/sse', methodNotAllowed('GET'))
      .add('*', '/servers/:name/messages', methodNotAllowed('POST'))
      .add(
        'POST',
        '/mcp',
        route((ex) => postStreamable(shard, ex, '')),
      )
      .add(
        'GET',
        '/mcp',
        route((ex) => getStreamable(shard, ex, '')),
      )
      .add(
        'DELETE',
        '/mcp',
        route((ex) => deleteStreamable(shard, ex, '')),
      )
      .add('*', '/mcp', methodNotAllowed('GET, POST, DELETE'))
      .add('POST', '/servers/:name/mcp', route(named((ex, name) => postStreamable(shard, ex, name))))
      .add('GET', '/servers/:name/mcp', route(named((ex, name) => getStreamable(shard, ex, name))))
      .add('DELETE', '/servers/:name/mcp', route(named((ex, name) => deleteStreamable(shard, ex, name))))
      .add('*', '/servers/:name/mcp', methodNotAllowed('GET, POST, DELETE'))
      // OAuth discovery: there is no authorization server here. A 401 would send clients into an OAuth
      // flow that cannot succeed; a 404 tells them to use the static token they were given.
      .add('*', '/.well-known/*', route(notFound, false))
      // The status page: its files carry no data and are served without the token (the page asks for
      // it); Origin and Host are checked as everywhere.
      .add(
        'GET',
        '/',
        route((ex) => serveAsset(ex, 'index.html'), false),
      )
      .add(
        'GET',
        '/ui/:file',
        route((ex, [file = '']) => serveAsset(ex, file), false),
      )
      .add(
        'GET',
        '/status/events',
        route((ex) => shard.statusFeed.watch(ex)),
      )
      .add('*', '/', methodNotAllowed('GET'))
      .add('*', '/ui/:file', methodNotAllowed('GET'))
      .add('*', '/status/events', methodNotAllowed('GET'))
      .add('GET', '/health', statusQuery('health'))
      .add('GET', '/status', statusQuery('status'))
      .add('GET', '/metrics', statusQuery('metrics'))
      .add('*', '/health', methodNotAllowed('GET'))
      .add('*', '/status', methodNotAllowed('GET'))
      .add('*', '/metrics', methodNotAllowed('GET'))
      .add('*', '/*', route(notFound))
  );
}
