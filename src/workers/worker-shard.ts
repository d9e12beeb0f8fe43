import { randomBytes } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import { receiveMessageOnPort, threadId } from 'node:worker_threads';
import { FrameBatcher, readFrameBatch } from '../shared/frame-batcher.js';
import { FrameKind, type MainToWorkerFrame, type WorkerToMainFrame } from '../shared/frames.js';
import type { Logger } from '../shared/logger.js';
import { shortId } from '../shared/logger.js';
import type { WorkerOptions, WorkerStats } from '../shared/worker-options.js';
import type { HttpExchange } from './http/http-exchange.js';
import type { Outlet } from './outlet.js';
import { RequestOutlet } from './request-outlet.js';
import { StatusFeed } from './status-feed.js';
import { StreamOutlet } from './stream-outlet.js';

/**
 * This worker's state: its outlets by number, its link to the main thread, and counters. Session ids are
 * made here: 144 random bits, prefixed by the shard number so the main thread can tell which worker
 * holds a legacy session's stream.
 */
export class WorkerShard {
  readonly options: WorkerOptions;
  readonly logger: Logger;
  readonly #port: MessagePort;
  readonly #frames: FrameBatcher;
  readonly #outlets = new Map<number, Outlet>();
  /**
   * Live legacy sessions, on this worker or another: session id -> endpoint ('' for /sse). Kept here from
   * this worker's own streams and the main thread's LEGACY_SESSION frames for the others'.
   */
  readonly legacySessions = new Map<string, string>();
  readonly statusFeed: StatusFeed = new StatusFeed(this);
  #nextOutlet: number;
  #keepAlive: NodeJS.Timeout | undefined;
  #slowDropped = 0;
  #requests = 0;
  draining = false;

  constructor(options: WorkerOptions, port: MessagePort, logger: Logger) {
    this.options = options;
    this.#nextOutlet = options.firstOutlet;
    this.logger = logger;
    this.#port = port;
    this.#frames = new FrameBatcher(port);
    port.on('message', (batch: Uint8Array) => this.#onBatch(batch));
    this.#keepAlive = setInterval(() => this.#sendKeepAlives(), options.keepAliveMs);
  }

  newSessionId(): string {
    return `${this.options.shard.toString(36)}-${randomBytes(18).toString('base64url')}`;
  }

  addOutlet(outlet: Outlet): number {
    const id = this.#nextOutlet++;
    this.#outlets.set(id, outlet);
    return id;
  }

  /** Registers a request waiting for the main thread's answer; it unregisters itself when it ends. */
  openRequestOutlet(
    exchange: HttpExchange,
    options: { sseOk: boolean; sessionIdHeader?: string } = { sseOk: false },
  ): number {
    let id = 0;
    const outlet = new RequestOutlet(exchange, {
      ...options,
      maxBufferedBytes: this.options.sseBufferBytes,
      onClose: (reason) => {
        if (reason === 'slow')
          this.slowClientDropped(options.sessionIdHeader ?? '', this.options.sseBufferBytes);
        this.removeOutlet(id, true);
      },
    });
    id = this.addOutlet(outlet);
    return id;
  }

  /** Forgets an outlet; `tellMain` when the client side ended it, so main stops addressing it. */
  removeOutlet(id: number, tellMain: boolean): void {
    if (!this.#outlets.delete(id)) return;
    if (tellMain) this.send({ k: FrameKind.OUTLET_CLOSED, outlet: id });
  }

  countRequest(): void {
    this.#requests += 1;
  }

  slowClientDropped(sessionId: string, bufferedLimit: number): void {
    this.#slowDropped += 1;
    this.logger.warn(
      { session: shortId(sessionId), limitBytes: bufferedLimit },
      'SSE client read too slowly; disconnected (sseBufferBytes exceeded)',
    );
  }

  send(frame: WorkerToMainFrame): void {
    this.#frames.send(frame);
  }

  /** Sends what is queued at once (before the worker stops answering). */
  flushFrames(): void {
    this.#frames.flush();
  }

  /**
   * A server changed state: every legacy stream that can see that server, and every status page, gets a
   * server-status event.
   */
  broadcastStatus(status: Record<string, unknown>): void {
    const data = JSON.stringify(status);
    this.statusFeed.serverStatus(data);
    for (const outlet of this.#outlets.values()) {
      if (
        outlet instanceof StreamOutlet &&
        outlet.legacy &&
        (outlet.target === '' || outlet.target === status.name)
      ) {
        outlet.stream.event('server-status', data);
      }
    }
  }

  stats(): WorkerStats {
    let streams = 0;
    let pending = 0;
    let buffered = 0;
    for (const outlet of this.#outlets.values()) {
      if (outlet.kind === 'stream') streams += 1;
      else pending += 1;
      buffered += outlet.bufferedBytes;
    }
    return {
      shard: this.options.shard,
      threadId,
      httpEngine: this.options.httpEngine,
      streams,
      pendingRequests: pending,
      bufferedBytes: buffered,
      slowClientsDropped: this.#slowDropped,
      requests: this.#requests,
      legacySessions: this.legacySessions.size,
      heapUsedBytes: getHeapStatistics().used_heap_size,
    };
  }

  /** Ends every open stream and waiting request (shutdown). */
  closeAllOutlets(reason: string): void {
    for (const [id, outlet] of [...this.#outlets]) {
      this.#outlets.delete(id);
      outlet.close(reason);
    }
  }

  stop(): void {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    // The data port stays open until the main thread closes it, for the same reason as the control port.
    this.#port.removeAllListeners('message');
  }

  #sendKeepAlives(): void {
    for (const outlet of this.#outlets.values()) outlet.keepAlive();
  }

  #onBatch(batch: Uint8Array): void {
    readFrameBatch<MainToWorkerFrame>(
      batch,
      (frame) => this.#onFrame(frame),
      (error) =>
        this.logger.error({ err: error }, 'a frame from the main thread could not be decoded; dropped'),
    );
  }

  /**
   * Handles every frame the main thread has already sent. Messages on two ports are not ordered: the
   * control port's shutdown may arrive before the data port's last answers (a listen stream's closing
   * result), which were sent first and must still go out.
   */
  drainFrames(): void {
    for (let message = receiveMessageOnPort(this.#port); message; message = receiveMessageOnPort(this.#port))
      this.#onBatch(message.message as Uint8Array);
  }

  #onFrame(frame: MainToWorkerFrame): void {
    switch (frame.k) {
      case FrameKind.DELIVER: {
        const outlet = this.#outlets.get(frame.outlet);
        if (!outlet) return;
        outlet.deliver(frame);
        if (frame.final) this.#outlets.delete(frame.outlet);
        return;
      }
      case FrameKind.REPLY: {
        const outlet = this.#outlets.get(frame.outlet);
        if (!outlet) return;
        // A reply ends a request outlet; to a stream it is a confirmation, and the stream goes on.
        if (outlet.kind === 'request') this.#outlets.delete(frame.outlet);
        outlet.reply(frame);
        return;
      }
      case FrameKind.CLOSE_OUTLET: {
        const outlet = this.#outlets.get(frame.outlet);
        if (!outlet) return;
        this.#outlets.delete(frame.outlet);
        outlet.close(frame.reason);
        return;
      }
      case FrameKind.SERVER_STATUS:
        this.broadcastStatus(frame.status);
        return;
      case FrameKind.LEGACY_SESSION:
        if (frame.live) this.legacySessions.set(frame.sid, frame.target);
        else this.legacySessions.delete(frame.sid);
        return;
    }
  }
}
