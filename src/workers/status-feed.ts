import type { DeliverFrame, ReplyFrame } from '../shared/frames.js';
import { FrameKind } from '../shared/frames.js';
import type { HttpExchange } from './http/http-exchange.js';
import type { Outlet } from './outlet.js';
import { SseStream } from './sse-stream.js';
import type { WorkerShard } from './worker-shard.js';

/** How often watchers get a fresh `/status` snapshot (in-flight counts, worker counters, uptime). */
export const STATUS_SNAPSHOT_INTERVAL_MS = 2_000;

/**
 * `GET /status/events`: the gateway's own status as server-sent events, for the status page and for
 * operators' scripts. Every watcher on this worker shares one outlet, so the main thread builds one
 * snapshot per interval per worker however many pages are open, and only while one is:
 * - `status`: the whole `/status` body, at once on connect and then every interval;
 * - `server-status`: a server's state change, the moment the supervisor reports it.
 */
export class StatusFeed implements Outlet {
  readonly kind = 'stream';
  readonly #shard: WorkerShard;
  readonly #watchers = new Set<SseStream>();
  #outlet = 0;
  #timer: NodeJS.Timeout | undefined;
  /** A snapshot was asked for and not answered yet; a watcher joining now gets that one. */
  #queryInFlight = false;

  constructor(shard: WorkerShard) {
    this.#shard = shard;
  }

  get bufferedBytes(): number {
    let bytes = 0;
    for (const watcher of this.#watchers) bytes += watcher.bufferedBytes;
    return bytes;
  }

  get watchers(): number {
    return this.#watchers.size;
  }

  watch(exchange: HttpExchange): void {
    const maxBufferedBytes = this.#shard.options.sseBufferBytes;
    const stream = new SseStream(exchange, {
      maxBufferedBytes,
      onClose: (reason) => {
        if (reason === 'slow') this.#shard.slowClientDropped('', maxBufferedBytes);
        this.#watchers.delete(stream);
        if (this.#watchers.size === 0) this.#idle();
      },
    });
    // Headers go out now, so the page knows it is connected before the first snapshot arrives.
    stream.comment('status feed');
    this.#watchers.add(stream);
    if (this.#outlet === 0) this.#outlet = this.#shard.addOutlet(this);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#query(), STATUS_SNAPSHOT_INTERVAL_MS);
      this.#timer.unref();
    }
    this.#query();
  }

  /** A server changed state (from the main thread's supervisor). */
  serverStatus(data: string): void {
    for (const watcher of this.#watchers) watcher.event('server-status', data);
  }

  /** The main thread's `/status` snapshot. */
  reply(frame: ReplyFrame): void {
    this.#queryInFlight = false;
    if (frame.status !== 200 || frame.body === undefined) return;
    const data = JSON.stringify(frame.body);
    for (const watcher of this.#watchers) watcher.event('status', data);
  }

  deliver(_frame: DeliverFrame): void {
    // Nothing is addressed to the feed but snapshots.
  }

  keepAlive(): void {
    for (const watcher of this.#watchers) watcher.comment('keepalive');
  }

  close(): void {
    for (const watcher of [...this.#watchers]) watcher.end();
    this.#idle();
  }

  #query(): void {
    // One question at a time: a main thread slow to answer is not buried under more of them.
    if (this.#queryInFlight || this.#outlet === 0) return;
    this.#queryInFlight = true;
    this.#shard.send({ k: FrameKind.STATUS_QUERY, outlet: this.#outlet, what: 'status' });
  }

  #idle(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#outlet !== 0) this.#shard.removeOutlet(this.#outlet, false);
    this.#outlet = 0;
    this.#queryInFlight = false;
  }
}
