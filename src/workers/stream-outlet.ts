import type { DeliverFrame } from '../shared/frames.js';
import type { Outlet } from './outlet.js';
import type { SseStream } from './sse-stream.js';

/** A long-lived SSE stream (legacy GET /sse, or a Streamable HTTP GET) as an outlet. */
export class StreamOutlet implements Outlet {
  readonly kind = 'stream';
  readonly stream: SseStream;
  /** '' for the aggregated endpoint, else the server this stream belongs to (for server-status events). */
  readonly target: string;
  readonly legacy: boolean;

  /**
   * Legacy streams: the `endpoint` event, held back until the main thread confirms the session exists.
   * Sent earlier, a client's first POST could land on another worker and reach the main thread before
   * the session did (messages from different ports are not ordered), and be refused with 404.
   */
  #pendingEndpoint: string | undefined;

  constructor(stream: SseStream, target: string, legacy: boolean, pendingEndpoint?: string) {
    this.stream = stream;
    this.target = target;
    this.legacy = legacy;
    this.#pendingEndpoint = pendingEndpoint;
  }

  get bufferedBytes(): number {
    return this.stream.bufferedBytes;
  }

  keepAlive(): void {
    this.stream.comment('keepalive');
  }

  deliver(frame: DeliverFrame): void {
    if (frame.json === undefined) return; // priming belongs to Streamable HTTP streams only
    this.stream.event('message', frame.json, frame.eventId);
    if (frame.final) this.stream.end();
  }

  /** The main thread's confirmation that the session is registered: now the client may POST. */
  reply(): void {
    if (this.#pendingEndpoint === undefined) return;
    this.stream.event('endpoint', this.#pendingEndpoint);
    this.#pendingEndpoint = undefined;
  }

  close(): void {
    this.stream.end();
  }
}
