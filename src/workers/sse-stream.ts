import type { HttpExchange } from './http/http-exchange.js';

export interface SseStreamOptions {
  /** Bytes we may hold for a client that reads too slowly before it is cut off. */
  maxBufferedBytes: number;
  /** Called once when the stream ends, for whatever reason. */
  onClose: (reason: 'client' | 'slow' | 'server') => void;
}

/** One SSE event's text; `data` must be a single line (JSON.stringify output is). */
export function sseEvent(event: string | undefined, data: string, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
}

/**
 * A priming event: an id with empty data, so the client has a Last-Event-ID to resume from before any
 * message arrives, and the reconnect delay it should use.
 */
export function ssePrimingEvent(id: string, retryMs?: number): string {
  return `id: ${id}\n${retryMs === undefined ? '' : `retry: ${retryMs}\n`}data: \n\n`;
}

/**
 * A server-sent-events response with a bounded buffer. The status line and headers go out with the
 * first bytes of the body (both engines hold them until then), so a stream that is opened, written and
 * ended in one turn leaves in one write. The engine keeps whatever a write could not send and reports
 * backpressure; from then on events queue here until `onWritable` says the socket drained. A client
 * that lets more than `maxBufferedBytes` pile up behind the message in transit is disconnected (documented policy: the gateway never
 * slows other sessions down and never grows without bound for one slow reader).
 */
export class SseStream {
  readonly #exchange: HttpExchange;
  readonly #options: SseStreamOptions;
  readonly #extraHeaders: ReadonlyArray<readonly [string, string]>;
  #headersWritten = false;
  #queue: string[] = [];
  #queuedBytes = 0;
  /** Size of the chunk the engine is still holding after a write reported backpressure. */
  #heldBytes = 0;
  /** end() was asked while data was still queued: end once it has drained. */
  #ending = false;
  #closed = false;

  constructor(
    exchange: HttpExchange,
    options: SseStreamOptions,
    extraHeaders: ReadonlyArray<readonly [string, string]> = [],
  ) {
    this.#exchange = exchange;
    this.#options = options;
    this.#extraHeaders = extraHeaders;
    exchange.responded = true; // the exchange's one-shot helpers must not be used from here on
    exchange.onAbort(() => this.#finish('client'));
    exchange.onWritable(() => this.#drain());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting for the client. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#heldBytes;
  }

  event(event: string | undefined, data: string, id?: string): void {
    this.write(sseEvent(event, data, id));
  }

  prime(id: string, retryMs?: number): void {
    this.write(ssePrimingEvent(id, retryMs));
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  /** Raw SSE text (already framed). */
  write(chunk: string): void {
    if (this.#closed || this.#ending) return;
    if (this.#queue.length > 0 || this.#heldBytes > 0) {
      this.#enqueue(chunk);
      return;
    }
    const res = this.#exchange;
    let ok = true;
    res.cork(() => {
      this.#writeHead();
      ok = res.write(chunk);
    });
    if (!ok) this.#heldBytes = Buffer.byteLength(chunk);
  }

  /**
   * Ends the stream politely (the client sees the end of the response), after `last` if given. With
   * nothing queued, it all leaves in one write; otherwise after what is queued has drained.
   */
  end(last = ''): void {
    if (this.#closed || this.#ending) return;
    if (this.#queue.length > 0 || this.#heldBytes > 0) {
      if (last) this.#enqueue(last);
      if (!this.#closed) this.#ending = true;
      return;
    }
    const res = this.#exchange;
    res.cork(() => {
      this.#writeHead();
      res.end(last);
    });
    this.#finish('server');
  }

  #writeHead(): void {
    if (this.#headersWritten) return;
    this.#headersWritten = true;
    const res = this.#exchange;
    res.writeStatus('200 OK');
    this.#exchange.writeCommonHeaders();
    res.writeHeader('Content-Type', 'text/event-stream');
    res.writeHeader('Cache-Control', 'no-cache, no-transform');
    res.writeHeader('X-Accel-Buffering', 'no');
    for (const [name, value] of this.#extraHeaders) res.writeHeader(name, value);
  }

  #enqueue(chunk: string): void {
    this.#queue.push(chunk);
    this.#queuedBytes += Buffer.byteLength(chunk);
    // The chunk the engine is still sending is not counted: one answer larger than the cap (a 20 MB result) is
    // not a slow reader. What piles up behind it is.
    if (this.#queuedBytes > this.#options.maxBufferedBytes) this.#cutOff();
  }

  #drain(): boolean {
    const wasHeld = this.#heldBytes > 0;
    this.#heldBytes = 0;
    const res = this.#exchange;
    // uWS sends what it buffered after a write that hit backpressure, but the tail of that write went out
    // only with the next write (a 5 MB event waited for the next keep-alive). A comment written on every
    // writable event, until one goes through whole, pushes the tail out.
    if (wasHeld && this.#queue.length === 0 && !this.#ending) {
      let flushed = true;
      res.cork(() => {
        flushed = res.write(': \n\n');
      });
      if (!flushed) this.#heldBytes = 4;
      return flushed;
    }
    while (this.#queue.length > 0 && !this.#closed) {
      const chunk = this.#queue.shift()!;
      const bytes = Buffer.byteLength(chunk);
      this.#queuedBytes -= bytes;
      let ok = true;
      res.cork(() => {
        ok = res.write(chunk);
      });
      if (!ok) {
        this.#heldBytes = bytes;
        return false;
      }
    }
    if (this.#ending && !this.#closed) {
      res.cork(() => res.end());
      this.#finish('server');
    }
    return true;
  }

  #cutOff(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#heldBytes = 0;
    // close() fires onAborted, which would report 'client': mark the real reason first.
    this.#finish('slow');
    this.#exchange.close();
  }

  #finish(reason: 'client' | 'slow' | 'server'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#options.onClose(reason);
  }
}
