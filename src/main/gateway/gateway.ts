import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { GatewayError } from '../../shared/errors.js';
import { FrameBatcher, readFrameBatch } from '../../shared/frame-batcher.js';
import {
  FRAME_VERSION,
  FrameKind,
  type MainToWorkerFrame,
  type WorkerToMainFrame,
} from '../../shared/frames.js';
import type { Logger, LogLevel } from '../../shared/logger.js';
import type { WorkerOptions, WorkerStats } from '../../shared/worker-options.js';
import type { ServeTask, WorkerControl } from '../../workers/serve.js';
import type { SseProxyConfig } from '../config/config-schema.js';
import type { ServerStatusInfo, StatusChange } from '../managed-server.js';
import type { Supervisor } from '../supervisor.js';
import { AggregateCatalog } from './aggregate-catalog.js';
import { BackendHub, GATEWAY_CLIENT_CAPABILITIES } from './backend-hub.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { chooseHttpEngine, type HttpEngineChoice } from './http-engine-choice.js';
import { choosePort, isLoopback } from './listen-port.js';
import { ConflictReport } from './naming/conflict-report.js';
import { RequestDispatcher } from './request-dispatcher.js';
import { announceListChanges, servedServers } from './served-servers.js';
import { SessionRouter } from './session-router.js';
import { type StatusAnswer, statusReport } from './status-report.js';
import { tokenDigestOf } from './token-digest.js';

/** Capabilities the gateway declares to backends: it can route each of these to a client session. */

const WORKER_RESTART_DELAY_MS = 200;
const WORKER_YOUNG_GENERATION_MB = 4;
const HEALTH_TIMEOUT_MS = 2_000;

interface WorkerSlot {
  shard: number;
  data: MessagePort;
  frames: FrameBatcher;
  controlPort: MessagePort;
  control: Comlink.Remote<WorkerControl>;
  task: Promise<WorkerStats>;
}

export interface GatewayOptions {
  logger: Logger;
  logLevel: LogLevel;
}

/**
 * The HTTP gateway: a fixed pool of worker threads, each serving the same port with one HTTP engine
 * (uWS or Node's own, see http-engine-choice.ts), and the main-thread router every message
 * crosses. A worker that fails is replaced; its sessions end and
 * everyone else's carry on.
 */
export class Gateway {
  readonly #supervisor: Supervisor;
  readonly #config: SseProxyConfig;
  readonly #servers: string[];
  readonly #logger: Logger;
  readonly #logLevel: LogLevel;
  readonly #router: SessionRouter;
  readonly #conflicts: ConflictReport;
  readonly #hub: BackendHub;
  readonly #catalog: AggregateCatalog;
  readonly #slots = new Map<number, WorkerSlot>();
  /** How many times each shard has been started: a replacement's outlet ids start past its predecessors'. */
  readonly #generations = new Map<number, number>();
  #pool: Piscina | undefined;
  #engine: HttpEngineChoice | undefined;
  readonly #metrics: GatewayMetrics;
  #port = 0;
  #stopping = false;
  #workerRestarts = 0;
  #unhook: Array<() => void> = [];

  constructor(supervisor: Supervisor, config: SseProxyConfig, options: GatewayOptions) {
    this.#supervisor = supervisor;
    this.#config = config;
    this.#logger = options.logger.child({ component: 'gateway' });
    this.#logLevel = options.logLevel;
    this.#servers = servedServers(supervisor, config.allowedServers);
    this.#metrics = new GatewayMetrics({
      sessions: () => [...this.#router.sessions()],
      inflight: () => this.#router.inflightCount(),
      servers: () => this.#servedStatuses(),
      workers: () => this.workerStats(),
    });
    this.#router = new SessionRouter(
      (shard, frame) => this.#sendFrame(shard, frame),
      {
        maxSessions: config.maxSessions,
        sessionIdleTimeoutMs: config.sessionIdleTimeoutMs,
        replayBufferBytes: config.replayBufferBytes,
        authenticated: tokenDigestOf(config) !== undefined,
        inputRequiredTimeoutMs: config.inputRequiredTimeoutMs,
        isolatedIdleTimeoutMs: config.isolatedIdleTimeoutMs,
      },
      this.#logger,
      this.#metrics,
    );
    this.#catalog = new AggregateCatalog(supervisor, this.#servers, this.#logger, config.namespace);
    this.#conflicts = new ConflictReport(this.#catalog, this.#logger);
    this.#hub = new BackendHub(supervisor, this.#catalog, this.#router, this.#logger, this.#metrics);
    const dispatcher = new RequestDispatcher(this.#hub, this.#catalog, supervisor, this.#servers);
    this.#router.connect(
      this.#hub,
      dispatcher,
      (what) => this.#statusReport(what),
      () => this.#slots.keys(),
    );
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.#config.address.includes(':') ? `[${this.#config.address}]` : this.#config.address;
    return `http://${host}:${this.#port}`;
  }

  /** Worker threads serving: the configured number, unless the engine's listeners cannot share a port. */
  get workers(): number {
    return this.#engine?.workers ?? this.#config.workers;
  }

  /** The workers' HTTP engine and why it was chosen; undefined before start. */
  get httpEngine(): Readonly<HttpEngineChoice> | undefined {
    return this.#engine;
  }

  /** Servers reachable through the gateway. */
  get servers(): readonly string[] {
    return this.#servers;
  }

  get router(): SessionRouter {
    return this.#router;
  }

  async start(): Promise<void> {
    const engine = await chooseHttpEngine(this.#config);
    this.#engine = engine;
    const log = engine.workers < this.#config.workers ? 'warn' : 'info';
    this.#logger[log](
      { engine: engine.engine, reusePort: engine.reusePort, workers: engine.workers },
      `HTTP engine: ${engine.engine}, because ${engine.reason}`,
    );
    this.#metrics.setHttpEngine(engine.engine);
    this.#port = await choosePort(this.#config.address, this.#config.port);
    this.#supervisor.setClientOptions({ capabilities: GATEWAY_CLIENT_CAPABILITIES });
    this.#unhook.push(this.#supervisor.addClientListener((name, client) => this.#hub.attach(name, client)));
    for (const name of this.#servers) {
      for (const managed of this.#supervisor.instancesOf(name))
        if (managed.status === 'running') this.#hub.attach(name, managed.client);
    }
    const onStatus = (change: StatusChange) => this.#onStatus(change);
    this.#supervisor.on('status', onStatus);
    this.#unhook.push(() => this.#supervisor.off('status', onStatus));

    const size = engine.workers;
    this.#pool = new Piscina({
      filename: new URL('../../workers/serve.js', import.meta.url).href,
      minThreads: size,
      maxThreads: size,
      // A worker parked in Atomics.wait between tasks would stall the event loop serving its sockets.
      atomics: 'disabled',
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      // Opening sessions makes garbage fast, and V8 then grows a worker's young generation to its 48 MiB
      // maximum and keeps it committed: 2.5 KiB of RSS per idle session that holds nothing. Most of that
      // garbage dies young, so a small young generation costs little (bench/README.md, tuning log).
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    // Errors outside any task (a worker failing to load) must be logged, not thrown in the main thread.
    this.#pool.on('error', (error: unknown) => this.#logger.error({ err: error }, 'worker thread error'));
    try {
      await Promise.all(Array.from({ length: size }, (_, shard) => this.#startWorker(shard)));
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#logger.info({ url: this.url, workers: size, engine: engine.engine }, 'gateway listening');
  }

  /** Graceful stop: no new connections, in-flight calls failed with an error, every socket closed. */
  /**
   * A reload changed the servers: serve `served` from now on (in the config's order). Sessions of a
   * per-server endpoint whose server is gone are closed; the workers learn the new set; with `announce`,
   * sessions that see a difference (`changed` servers, and any server added or gone) get list_changed.
   */
  async serve(served: readonly string[], changed: readonly string[], announce: boolean): Promise<void> {
    const before = new Set(this.#servers);
    const gone = [...before].filter((name) => !served.includes(name));
    const touched = new Set([...changed, ...gone, ...served.filter((name) => !before.has(name))]);
    // In place: the catalog and the dispatcher hold this array.
    this.#servers.splice(0, this.#servers.length, ...served);
    for (const name of touched) this.#catalog.forget(name);
    for (const session of [...this.#router.sessions()])
      if (session.target !== '' && gone.includes(session.target))
        this.#router.closeSession(session, 'its server was removed from the config');
    await Promise.allSettled([...this.#slots.values()].map((slot) => slot.control.setServers([...served])));
    if (announce) announceListChanges(this.#router, touched);
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#conflicts.stop();
    for (const unhook of this.#unhook) unhook();
    const slots = [...this.#slots.values()];
    await Promise.allSettled(slots.map((slot) => slot.control.drain()));
    this.#logger.debug('gateway stop: workers drained');
    this.#router.closeAll('the gateway is shutting down');
    this.#router.stop();
    for (const slot of slots) slot.frames.flush();
    // Messages on different ports are not ordered: the task's end may arrive before the call's reply.
    await Promise.allSettled(
      slots.map((slot) => Promise.race([slot.control.shutdown('the gateway is shutting down'), slot.task])),
    );
    this.#logger.debug('gateway stop: workers shut down');
    await Promise.allSettled(slots.map((slot) => slot.task));
    this.#logger.debug('gateway stop: serve tasks ended');
    for (const slot of slots) this.#closePorts(slot);
    this.#slots.clear();
    // Every socket is closed by now (a uWS one still open when its thread ends aborts the process).
    await this.#pool?.destroy();
    this.#pool = undefined;
  }

  async workerStats(): Promise<WorkerStats[]> {
    const slots = [...this.#slots.values()];
    const results = await Promise.allSettled(
      slots.map((slot) => withTimeout(slot.control.stats(), HEALTH_TIMEOUT_MS)),
    );
    return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** Test hook: makes a worker throw an uncaught error, as a bug in it would. */
  async crashWorkerForTest(shard: number): Promise<void> {
    const slot = this.#slots.get(shard);
    if (!slot) return;
    // The worker dies right after answering, and its task's end may overtake the reply.
    await Promise.race([
      slot.control.crashForTest(),
      slot.task.then(
        () => {},
        () => {},
      ),
    ]);
  }

  get workerRestarts(): number {
    return this.#workerRestarts;
  }

  async #startWorker(shard: number): Promise<void> {
    const data = new MessageChannel();
    const control = new MessageChannel();
    // Each start of a shard gets its own range of outlet ids (2^32 each; msgpack carries up to 2^53).
    const generation = this.#generations.get(shard) ?? 0;
    this.#generations.set(shard, generation + 1);
    const options: WorkerOptions = {
      shard,
      firstOutlet: generation * 2 ** 32 + 1,
      host: this.#config.address,
      port: this.#port,
      httpEngine: this.#engine!.engine,
      reusePort: this.#engine!.reusePort,
      frameVersion: FRAME_VERSION,
      tokenDigest: tokenDigestOf(this.#config),
      allowedOrigins: [...this.#config.allowedOrigins],
      loopbackOnly: isLoopback(this.#config.address),
      servers: this.#servers,
      maxBodyBytes: this.#config.maxBodyBytes,
      sseBufferBytes: this.#config.sseBufferBytes,
      keepAliveMs: this.#config.keepAliveMs,
      logLevel: this.#logLevel,
    };
    const task: ServeTask = { options, dataPort: data.port2, controlPort: control.port2 };
    const pool = this.#pool!;
    const running = pool.run(task, { transferList: [data.port2, control.port2] }) as Promise<WorkerStats>;
    const slot: WorkerSlot = {
      shard,
      data: data.port1,
      frames: new FrameBatcher(data.port1),
      controlPort: control.port1,
      control: Comlink.wrap<WorkerControl>(nodeEndpoint(control.port1)),
      task: running,
    };
    const onFrame = (frame: WorkerToMainFrame) => {
      try {
        this.#router.onFrame(shard, frame);
      } catch (error) {
        this.#logger.error({ err: error, shard }, 'frame handling failed');
      }
    };
    data.port1.on('message', (batch: Uint8Array) =>
      readFrameBatch(batch, onFrame, (error) =>
        this.#logger.error({ err: error, shard }, 'a frame from a worker could not be decoded; dropped'),
      ),
    );
    this.#slots.set(shard, slot);
    running.then(
      () => this.#onWorkerEnded(slot, undefined),
      (error: unknown) => this.#onWorkerEnded(slot, error),
    );
    const listening = slot.control.ready();
    const died = running.then(() => {
      throw new GatewayError(`Worker ${shard} ended during startup.`);
    });
    try {
      await Promise.race([listening, died]);
    } catch (error) {
      throw new GatewayError(
        `The gateway could not listen on ${this.#config.address}:${this.#port}: ${(error as Error).message}. ` +
          'Is another program using that port? Choose another with --port or sseProxy.port.',
        { cause: error },
      );
    }
  }

  #onWorkerEnded(slot: WorkerSlot, error: unknown): void {
    // While stopping, stop() owns the slots and closes their ports once every reply is in.
    if (this.#stopping || this.#slots.get(slot.shard) !== slot) return;
    this.#slots.delete(slot.shard);
    this.#closePorts(slot);
    this.#router.dropShard(slot.shard);
    this.#logger.error({ shard: slot.shard, err: error }, 'worker ended unexpectedly; replacing it');
    this.#workerRestarts += 1;
    setTimeout(() => {
      if (this.#stopping) return;
      this.#startWorker(slot.shard).catch((startError: unknown) =>
        this.#logger.error({ shard: slot.shard, err: startError }, 'replacing a worker failed'),
      );
    }, WORKER_RESTART_DELAY_MS).unref();
  }

  #closePorts(slot: WorkerSlot): void {
    slot.data.close();
    slot.controlPort.close();
  }

  #sendFrame(shard: number, frame: MainToWorkerFrame): number {
    const slot = this.#slots.get(shard);
    return slot ? slot.frames.send(frame) : 0;
  }

  #onStatus(change: StatusChange): void {
    if (!this.#servers.includes(change.name)) return;
    if (change.info.instance === 0 && (change.status === 'running' || change.status === 'failed')) {
      this.#catalog.invalidate(change.name);
      if (change.status === 'running') this.#hub.renewSubscriptions(change.name);
    }
    // A new process starts at the server's default level; give it the one its sessions asked for.
    if (change.status === 'running') {
      void this.#hub.syncLogLevel(change.name);
      this.#conflicts.schedule();
    }
    const { info } = change;
    const status = {
      name: info.name,
      instance: info.instance,
      status: info.status,
      previous: change.previous,
      pid: info.pid ?? null,
      restarts: info.restarts,
      lastError: info.lastError ?? null,
    };
    // On the data port, not the control port: ordered with the status snapshots, so a status page never
    // sees an older snapshot after a newer change.
    for (const slot of this.#slots.values()) slot.frames.send({ k: FrameKind.SERVER_STATUS, status });
  }

  /** The statuses of the servers served here (for /status and /metrics). */
  #servedStatuses(): ServerStatusInfo[] {
    return this.#supervisor.statuses().filter((s) => this.#servers.includes(s.name));
  }

  #statusReport(what: 'health' | 'status' | 'metrics'): Promise<StatusAnswer> {
    return statusReport(what, {
      metrics: this.#metrics,
      workerStats: () => this.workerStats(),
      expectedWorkers: this.workers,
      router: this.#router,
      servers: () => this.#servedStatuses(),
      engine: this.#engine,
      conflicts: () => this.#catalog.conflictsNow(),
      workerRestarts: this.#workerRestarts,
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
