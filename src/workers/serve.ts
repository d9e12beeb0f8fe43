import uWS from 'uWebSockets.js';
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { FRAME_VERSION, FrameKind } from '../shared/frames.js';
import { RpcErrorCode } from '../shared/json-rpc.js';
import { createLogger } from '../shared/logger.js';
import type { WorkerOptions, WorkerStats } from '../shared/worker-options.js';
import { admit, answerPreflight } from './access-control.js';
import { HttpExchange, readRequest } from './http-exchange.js';
import { openLegacyStream, postLegacyMessage } from './legacy-sse-routes.js';
import { StaticAssets } from './static-assets.js';
import { deleteStreamable, getStreamable, postStreamable } from './streamable-http-routes.js';
import { WorkerShard } from './worker-shard.js';

export interface ServeTask {
  options: WorkerOptions;
  dataPort: MessagePort;
  controlPort: MessagePort;
}

/** What the main thread can ask of a worker over the control port (comlink). */
export interface WorkerControl {
  /** Resolves with the bound port once the listen socket is open; rejects if it cannot be opened. */
  ready(): Promise<number>;
  stats(): WorkerStats;
  /** Stop accepting connections; open streams carry on. */
  drain(): void;
  /** Ends every stream and request, closes every socket; the serve task then resolves. */
  shutdown(reason: string): void;
  /** Test hook: throw an uncaught error inside this worker, as a bug would. */
  crashForTest(): void;
}

type Handler = (exchange: HttpExchange, params: string[]) => void | Promise<void>;

/**
 * The piscina task that is one worker's whole life: it serves HTTP until told to shut down. Faults are
 * contained here: a uWS socket still open when a worker thread dies aborts the whole process, so an
 * uncaught error closes every socket first and then fails the task, and the main thread replaces us.
 */
export default async function serve(task: ServeTask): Promise<WorkerStats> {
  const { options } = task;
  if (options.frameVersion !== FRAME_VERSION) {
    throw new Error(`frame version mismatch: main ${options.frameVersion}, worker ${FRAME_VERSION}`);
  }
  const logger = createLogger({ level: options.logLevel, name: 'mcp-runner-worker' }).child({
    shard: options.shard,
  });
  const shard = new WorkerShard(options, task.dataPort, logger);
  const assets = new StaticAssets();
  const digest = options.tokenDigest ? Buffer.from(options.tokenDigest) : undefined;
  const app = uWS.App();
  let listenSocket: uWS.us_listen_socket | false = false;
  let closed = false;

  let finish!: (stats: WorkerStats) => void;
  let fail!: (error: Error) => void;
  const finished = new Promise<WorkerStats>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const closeSockets = () => {
    if (closed) return;
    closed = true;
    if (listenSocket) uWS.us_listen_socket_close(listenSocket);
    listenSocket = false;
    app.close();
    shard.stop();
  };

  const onFault = (error: unknown) => {
    logger.error({ err: error }, 'worker fault; closing its sockets so it can be replaced');
    try {
      shard.closeAllOutlets('worker failed');
    } catch {
      // Closing is best effort; the sockets are closed below regardless.
    }
    closeSockets();
    fail(error instanceof Error ? error : new Error(String(error)));
  };
  process.on('uncaughtException', onFault);
  process.on('unhandledRejection', onFault);

  const route =
    (exchangeHandler: Handler, paramCount = 0, requireToken = true) =>
    (res: uWS.HttpResponse, req: uWS.HttpRequest) => {
      const params: string[] = [];
      for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i) ?? '');
      const exchange = new HttpExchange(res, readRequest(req));
      if (!admit(exchange, options, digest, requireToken)) return;
      try {
        const result = exchangeHandler(exchange, params);
        if (result) result.catch((error: unknown) => internalError(exchange, error));
      } catch (error) {
        internalError(exchange, error);
      }
    };
  const internalError = (exchange: HttpExchange, error: unknown) => {
    logger.error({ err: error, path: exchange.info.path }, 'request handler failed');
    if (exchange.open) exchange.sendRpcError(500, RpcErrorCode.INTERNAL_ERROR, 'Internal error');
  };
  const knownServer = (exchange: HttpExchange, name: string): boolean => {
    if (options.servers.includes(name)) return true;
    exchange.sendRpcError(404, RpcErrorCode.INVALID_PARAMS, `Unknown server "${name}"`);
    return false;
  };
  const serveAsset = (exchange: HttpExchange, file: string) => {
    if (!assets.serve(exchange, file))
      exchange.sendRpcError(404, RpcErrorCode.INVALID_REQUEST, `Not Found: ${exchange.info.path}`);
  };
  const methodNotAllowed = (allow: string) => (exchange: HttpExchange) =>
    exchange.sendRpcError(405, RpcErrorCode.INVALID_REQUEST, `Method Not Allowed: use ${allow}`, [
      ['Allow', allow],
    ]);
  const statusQuery = (what: 'health' | 'status' | 'metrics') => (exchange: HttpExchange) => {
    const outletId = shard.openRequestOutlet(exchange);
    shard.send({ k: FrameKind.STATUS_QUERY, outlet: outletId, what });
  };

  app
    .options('/*', (res, req) => answerPreflight(new HttpExchange(res, readRequest(req)), options))
    // HEAD must never carry a body (a keep-alive client would read it as the next response), and no
    // endpoint here has a use for it.
    .head('/*', (res) => {
      res.cork(() =>
        res.writeStatus('405 Method Not Allowed').writeHeader('Allow', 'GET, POST, DELETE').endWithoutBody(),
      );
    })
    .get(
      '/sse',
      route((ex) => openLegacyStream(shard, ex, '', '/sse/messages')),
    )
    .post(
      '/sse/messages',
      route((ex) => postLegacyMessage(shard, ex, '')),
    )
    .any('/sse', route(methodNotAllowed('GET')))
    .any('/sse/messages', route(methodNotAllowed('POST')))
    .get(
      '/servers/:name/sse',
      route((ex, [name = '']) => {
        if (knownServer(ex, name)) openLegacyStream(shard, ex, name, `/servers/${name}/messages`);
      }, 1),
    )
    .post(
      '/servers/:name/messages',
      route((ex, [name = '']) => (knownServer(ex, name) ? postLegacyMessage(shard, ex, name) : undefined), 1),
    )
    .any('/servers/:name/sse', route(methodNotAllowed('GET')))
    .any('/servers/:name/messages', route(methodNotAllowed('POST')))
    .post(
      '/mcp',
      route((ex) => postStreamable(shard, ex, '')),
    )
    .get(
      '/mcp',
      route((ex) => getStreamable(shard, ex, '')),
    )
    .del(
      '/mcp',
      route((ex) => deleteStreamable(shard, ex, '')),
    )
    .any('/mcp', route(methodNotAllowed('GET, POST, DELETE')))
    .post(
      '/servers/:name/mcp',
      route((ex, [name = '']) => (knownServer(ex, name) ? postStreamable(shard, ex, name) : undefined), 1),
    )
    .get(
      '/servers/:name/mcp',
      route((ex, [name = '']) => {
        if (knownServer(ex, name)) getStreamable(shard, ex, name);
      }, 1),
    )
    .del(
      '/servers/:name/mcp',
      route((ex, [name = '']) => {
        if (knownServer(ex, name)) deleteStreamable(shard, ex, name);
      }, 1),
    )
    .any('/servers/:name/mcp', route(methodNotAllowed('GET, POST, DELETE')))
    // OAuth discovery: there is no authorization server here. A 401 would send clients into an OAuth flow
    // that cannot succeed; a 404 tells them to use the static token they were given.
    .any(
      '/.well-known/*',
      route(
        (ex) => ex.sendRpcError(404, RpcErrorCode.INVALID_REQUEST, `Not Found: ${ex.info.path}`),
        0,
        false,
      ),
    )
    // The status page: its files carry no data and are served without the token (the page asks for it);
    // Origin and Host are checked as everywhere.
    .get(
      '/',
      route((ex) => serveAsset(ex, 'index.html'), 0, false),
    )
    .get(
      '/ui/:file',
      route((ex, [file = '']) => serveAsset(ex, file), 1, false),
    )
    .get(
      '/status/events',
      route((ex) => shard.statusFeed.watch(ex)),
    )
    .any('/', route(methodNotAllowed('GET')))
    .any('/ui/:file', route(methodNotAllowed('GET')))
    .any('/status/events', route(methodNotAllowed('GET')))
    .get('/health', route(statusQuery('health')))
    .get('/status', route(statusQuery('status')))
    .get('/metrics', route(statusQuery('metrics')))
    .any('/health', route(methodNotAllowed('GET')))
    .any('/status', route(methodNotAllowed('GET')))
    .any('/metrics', route(methodNotAllowed('GET')))
    .any(
      '/*',
      route((ex) => ex.sendRpcError(404, RpcErrorCode.INVALID_REQUEST, `Not Found: ${ex.info.path}`)),
    );

  const ready = new Promise<number>((resolve, reject) => {
    app.listen(options.host, options.port, (socket) => {
      if (!socket) {
        reject(new Error(`worker ${options.shard} could not listen on ${options.host}:${options.port}`));
        closeSockets();
        finish(shard.stats());
        return;
      }
      listenSocket = socket;
      resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
    });
  });
  ready.catch(() => {}); // observed by the main thread through the control port

  const control: WorkerControl = {
    ready: () => ready,
    stats: () => shard.stats(),
    drain: () => {
      logger.debug('drain requested');
      shard.draining = true;
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = false;
    },
    shutdown: (reason) => {
      logger.debug('shutdown requested');
      shard.draining = true;
      shard.closeAllOutlets(reason);
      const stats = shard.stats();
      closeSockets();
      logger.debug({ stats }, 'sockets closed');
      // Resolve the task after this call's reply has been posted.
      setImmediate(() => finish(stats));
    },
    crashForTest: () => {
      setTimeout(() => {
        throw new Error('crash requested by test');
      }, 0);
    },
  };
  Comlink.expose(control, nodeEndpoint(task.controlPort));

  try {
    return await finished;
  } finally {
    process.off('uncaughtException', onFault);
    process.off('unhandledRejection', onFault);
    // The control port is left for the main thread to close: closing it here could drop the reply to
    // the very shutdown call that ended this task, which is still in flight.
  }
}
