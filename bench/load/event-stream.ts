import type { Exchange, HttpConnection } from './http-connection.js';
import type { HttpPool } from './http-pool.js';
import type { ResponseHead } from './response-parser.js';
import { type SseListener, SseParser } from './sse-parser.js';

export interface EventStreamListener extends SseListener {
  onStreamHead(status: number): void;
  /** The stream is over: ended by the server (no error) or cut, refused or closed by us (an error). */
  onStreamEnd(error?: Error): void;
}

/**
 * A GET whose body is an event stream, on a connection of its own that never goes back to the pool:
 * a stream occupies its connection for the session's life. Events are parsed only on a 200 answer.
 */
export class EventStream implements Exchange {
  readonly #connection: HttpConnection;
  readonly #listener: EventStreamListener;
  readonly #parser: SseParser;
  #ok = false;

  constructor(pool: HttpPool, request: string, listener: EventStreamListener) {
    this.#listener = listener;
    this.#parser = new SseParser(listener);
    this.#connection = pool.dedicated();
    this.#connection.request(request, this);
  }

  onHead(head: ResponseHead): boolean {
    this.#ok = head.status === 200;
    this.#listener.onStreamHead(head.status);
    return false;
  }

  onBody(buffer: Buffer, start: number, end: number): void {
    if (this.#ok) this.#parser.feed(buffer, start, end);
  }

  onEnd(): void {
    this.#listener.onStreamEnd();
  }

  onFail(error: Error): void {
    this.#listener.onStreamEnd(error);
  }

  close(): void {
    this.#connection.destroy();
  }
}
