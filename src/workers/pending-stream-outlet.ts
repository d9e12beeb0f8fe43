import type { DeliverFrame, ReplyFrame } from '../shared/frames.js';
import type { HttpExchange } from './http/http-exchange.js';
import type { Outlet } from './outlet.js';
import { SseStream } from './sse-stream.js';

/**
 * A Streamable HTTP GET stream that waits for the main thread's word before answering: `200` opens the
 * SSE stream, anything else (404 unknown session, 409 a stream is already open) is sent as is. The status
 * must not be written before the session is known to exist.
 */
export class PendingStreamOutlet implements Outlet {
  readonly kind = 'stream';
  readonly #exchange: HttpExchange;
  readonly #maxBufferedBytes: number;
  readonly #onClose: (reason?: 'client' | 'slow' | 'server') => void;
  #stream: SseStream | undefined;
  #closed = false;

  constructor(
    exchange: HttpExchange,
    maxBufferedBytes: number,
    onClose: (reason?: 'client' | 'slow' | 'server') => void,
  ) {
    this.#exchange = exchange;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#onClose = onClose;
    exchange.onAbort(() => this.#finish());
  }

  get bufferedBytes(): number {
    return this.#stream?.bufferedBytes ?? 0;
  }

  keepAlive(): void {
    this.#stream?.comment('keepalive');
  }

  reply(frame: ReplyFrame): void {
    if (this.#closed || this.#stream) return;
    if (frame.status === 200) {
      this.#stream = new SseStream(this.#exchange, {
        maxBufferedBytes: this.#maxBufferedBytes,
        onClose: (reason) => this.#finish(reason),
      });
      // uWS ends the header block only with the first body bytes; a stream with nothing to say yet would
      // leave the client waiting for its status line until the first keep-alive.
      this.#stream.comment('open');
      return;
    }
    if (frame.body === undefined) this.#exchange.send(frame.status, '');
    else this.#exchange.sendJson(frame.status, frame.body);
    this.#finish();
  }

  /** Messages, a priming event (no msg), or on a resumed POST stream its answer (`final`), which ends it. */
  deliver(frame: DeliverFrame): void {
    const stream = this.#stream;
    if (!stream) return;
    if (frame.json === undefined) {
      if (frame.eventId) stream.prime(frame.eventId, frame.retry);
      return;
    }
    stream.event('message', frame.json, frame.eventId);
    if (frame.final) stream.end();
  }

  close(): void {
    if (this.#stream) this.#stream.end();
    else this.#exchange.send(503, '');
    this.#finish();
  }

  #finish(reason?: 'client' | 'slow' | 'server'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(reason);
  }
}
