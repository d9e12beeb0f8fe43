import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { FRAME_VERSION } from '../shared/frames.js';
import { createLogger } from '../shared/logger.js';
import type { WorkerOptions, WorkerStats } from '../shared/worker-options.js';
import { buildRoutes } from './gateway-routes.js';
import { loadHttpEngine } from './http/http-engine.js';
import type { HttpExchange } from './http/http-exchange.js';
import { StaticAssets } from './static-assets.js';
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
  /** The servers served at `/servers/{name}/*` from now on (a config reload changed them). */
  setServers(names: string[]): void;
  /** Test hook: throw an uncaught error inside this worker, as a bug would. */
  crashForTest(): void;
}

/**
 * The piscina task that is one worker's whole life: it serves HTTP until told to shut down. Faults are
 * contained here: a uWS socket still open when a worker thread dies aborts the whole process, so an
 * uncaught error closes every socket first (whichever engine serves) and then fails the task, and the
 * main thread replaces us.
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
  const engine = await loadHttpEngine(options.httpEngine);
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
    engine.closeAll();
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

  const routes = buildRoutes({ shard, options, assets, digest, logger });
  const onRequest = (exchange: HttpExchange) => {
    // Every request matches: the table ends in a catch-all 404.
    const { handler, params } = routes.match(exchange.info.method, exchange.info.path)!;
    handler(exchange, params);
  };

  const ready = engine.listen(
    { host: options.host, port: options.port, reusePort: options.reusePort },
    onRequest,
  );
  ready.catch((error: unknown) => {
    // Observed by the main thread through the control port; this task just ends.
    logger.debug({ err: error }, 'listen failed');
    closeSockets();
    finish(shard.stats());
  });

  const control: WorkerControl = {
    ready: () => ready,
    stats: () => shard.stats(),
    drain: () => {
      logger.debug('drain requested');
      shard.draining = true;
      engine.stopListening();
    },
    shutdown: (reason) => {
      logger.debug('shutdown requested');
      shard.draining = true;
      shard.drainFrames();
      shard.closeAllOutlets(reason);
      const stats = shard.stats();
      closeSockets();
      logger.debug({ stats }, 'sockets closed');
      // Resolve the task after this call's reply has been posted.
      setImmediate(() => finish(stats));
    },
    setServers: (names) => {
      options.servers = names;
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
