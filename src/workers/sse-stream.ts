import type { HttpExchange } from './http-exchange.js';

export interface SseStreamOptions {
  /** Bytes we may hold for a client that reads too slowly before it is cut off. */
  maxBufferedBytes: number;
  /** Called once when the stream ends, for whatever reason. */
  onClose: (reason: 'client' | 'slow' | 'server') => void;
}

/**
 * A server-sent-events response with a bounded buffer. uWS keeps whatever a write could not send and
 * reports backpressure; from then on events queue here until `onWritable` says the socket drained. A
 * client that lets more than `maxBufferedBytes` pile up is disconnected (documented policy: the gateway
 * never slows other sessions down and never grows without bound for one slow reader).
 */
export class SseStream {
  readonly #exchange: HttpExchange;
  readonly #options: SseStreamOptions;
  #queue: string[] = [];
  #queuedBytes = 0;
  /** Size of the chunk uWS is still holding after a write reported backpressure. */
  #heldBytes = 0;
  #closed = false;

  constructor(
    exchange: HttpExchange,
    options: SseStreamOptions,
    extraHeaders: ReadonlyArray<readonly [string, string]> = [],
  ) {
    this.#exchange = exchange;
    this.#options = options;
    const res = exchange.res;
    exchange.responded = true; // the exchange's one-shot helpers must not be used from here on
    exchange.onAbort(() => this.#finish('client'));
    res.cork(() => {
      res.writeStatus('200 OK');
      exchange.writeCommonHeaders();
      res.writeHeader('Content-Type', 'text/event-stream');
      res.writeHeader('Cache-Control', 'no-cache, no-transform');
      res.writeHeader('X-Accel-Buffering', 'no');
      for (const [name, value] of extraHeaders) res.writeHeader(name, value);
    });
    res.onWritable(() => this.#drain());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting for the client. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#heldBytes;
  }

  /** Writes one event; `data` must be a single line (JSON.stringify output is). */
  event(event: string | undefined, data: string, id?: string): void {
    let text = '';
    if (id !== undefined) text += `id: ${id}\n`;
    if (event !== undefined) text += `event: ${event}\n`;
    this.write(`${text}data: ${data}\n\n`);
  }

  /**
   * A priming event: an id with empty data, so the client has a Last-Event-ID to resume from before any
   * message arrives, and the reconnect delay it should use.
   */
  prime(id: string, retryMs?: number): void {
    this.write(`id: ${id}\n${retryMs === undefined ? '' : `retry: ${retryMs}\n`}data: \n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  /** Raw SSE text (already framed). */
  write(chunk: string): void {
    if (this.#closed) return;
    if (this.#queue.length > 0 || this.#heldBytes > 0) {
      this.#queue.push(chunk);
      this.#queuedBytes += Buffer.byteLength(chunk);
      if (this.bufferedBytes > this.#options.maxBufferedBytes) this.#cutOff();
      return;
    }
    let ok = true;
    this.#exchange.res.cork(() => {
      ok = this.#exchange.res.write(chunk);
    });
    if (!ok) this.#heldBytes = Buffer.byteLength(chunk);
  }

  /** Ends the stream politely (the client sees the end of the response). */
  end(): void {
    if (this.#closed) return;
    this.#exchange.res.cork(() => this.#exchange.res.end());
    this.#finish('server');
  }

  #drain(): boolean {
    this.#heldBytes = 0;
    while (this.#queue.length > 0 && !this.#closed) {
      const chunk = this.#queue.shift()!;
      const bytes = Buffer.byteLength(chunk);
      this.#queuedBytes -= bytes;
      let ok = true;
      this.#exchange.res.cork(() => {
        ok = this.#exchange.res.write(chunk);
      });
      if (!ok) {
        this.#heldBytes = bytes;
        return false;
      }
    }
    return true;
  }

  #cutOff(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#heldBytes = 0;
    // close() fires onAborted, which would report 'client': mark the real reason first.
    this.#finish('slow');
    this.#exchange.res.close();
  }

  #finish(reason: 'client' | 'slow' | 'server'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#options.onClose(reason);
  }
}
