import type { DeliverFrame, ReplyFrame } from '../shared/frames.js';
import type { HttpExchange } from './http/http-exchange.js';
import type { Outlet } from './outlet.js';
import { SseStream, sseEvent } from './sse-stream.js';

export interface RequestOutletOptions {
  /** The client accepts text/event-stream, so messages before the result can be streamed. */
  sseOk: boolean;
  maxBufferedBytes: number;
  /** Called once when the request is done; `slow` when its stream was cut off for reading too slowly. */
  onClose: (reason?: 'client' | 'slow' | 'server') => void;
  /** Streamable HTTP initialize: the new session's id, sent as Mcp-Session-Id on the answer. */
  sessionIdHeader?: string;
}

/**
 * An HTTP POST waiting for the main thread's answer. It ends in one of three ways: a plain reply (202,
 * 404, ...), a single JSON-RPC response as `application/json`, or, when notifications or requests come
 * before the response and the client accepts it, an SSE stream that ends after the response.
 */
export class RequestOutlet implements Outlet {
  readonly kind = 'request';
  readonly #exchange: HttpExchange;
  readonly #options: RequestOutletOptions;
  #stream: SseStream | undefined;
  #closed = false;

  constructor(exchange: HttpExchange, options: RequestOutletOptions) {
    this.#exchange = exchange;
    this.#options = options;
    exchange.onAbort(() => this.#finish());
  }

  get bufferedBytes(): number {
    return this.#stream?.bufferedBytes ?? 0;
  }

  keepAlive(): void {
    this.#stream?.comment('keepalive');
  }

  reply(frame: ReplyFrame): void {
    if (this.#closed) return;
    if (this.#stream) {
      this.#stream.end();
      return;
    }
    const headers = this.#headers(frame.sessionId);
    if (frame.text !== undefined) this.#exchange.send(frame.status, frame.text, frame.contentType, headers);
    else if (frame.body === undefined) this.#exchange.send(frame.status, '', undefined, headers);
    else this.#exchange.sendJson(frame.status, frame.body, headers);
    this.#finish();
  }

  /**
   * The main thread sends a priming event only for a call still unanswered after a few milliseconds
   * (see PrimingScheduler), so a quick answer arrives alone and goes out as JSON: one write, no SSE.
   */
  deliver(frame: DeliverFrame): void {
    if (this.#closed) return;
    if (frame.json === undefined) {
      if (this.#options.sseOk && frame.eventId) this.#open(frame.sessionId).prime(frame.eventId, frame.retry);
      return;
    }
    if (!this.#stream && frame.final) {
      // Nothing was written yet: the answer alone, as JSON.
      this.#exchange.send(200, frame.json, 'application/json', this.#headers(frame.sessionId));
      this.#finish();
      return;
    }
    if (!this.#stream && !this.#options.sseOk) return; // main only streams when sseOk; be safe anyway
    const text = sseEvent('message', frame.json, frame.eventId);
    const stream = this.#open(frame.sessionId);
    if (frame.final) stream.end(text);
    else stream.write(text);
  }

  #open(sessionId: string | undefined): SseStream {
    this.#stream ??= new SseStream(
      this.#exchange,
      { maxBufferedBytes: this.#options.maxBufferedBytes, onClose: (reason) => this.#finish(reason) },
      this.#headers(sessionId),
    );
    return this.#stream;
  }

  close(reason: string): void {
    if (this.#closed) return;
    if (this.#stream) this.#stream.end();
    else this.#exchange.sendJson(503, { jsonrpc: '2.0', error: { code: -32000, message: reason }, id: null });
    this.#finish();
  }

  #headers(fromFrame: string | undefined): Array<[string, string]> {
    const id = fromFrame ?? this.#options.sessionIdHeader;
    return id ? [['Mcp-Session-Id', id]] : [];
  }

  #finish(reason?: 'client' | 'slow' | 'server'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.onClose(reason);
  }
}
