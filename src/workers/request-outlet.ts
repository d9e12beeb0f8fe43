import type { DeliverFrame, ReplyFrame } from '../shared/frames.js';
import type { HttpExchange } from './http-exchange.js';
import type { Outlet } from './outlet.js';
import { SseStream, sseEvent, ssePrimingEvent } from './sse-stream.js';

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
 * How long a POST stream's priming event waits for the answer. The spec has the server prime a stream
 * it opens at once; one whose answer is ready within this window is not opened at all, but answered as
 * JSON: one write instead of two, and nothing for the replay log to keep. A slower call is primed when
 * the window ends.
 */
export const PRIMING_HOLD_MS = 5;

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
  /** A priming event not written yet, held briefly: an answer that comes first makes it unnecessary. */
  #priming: { text: string; sessionId: string | undefined } | undefined;
  #primingTimer: NodeJS.Timeout | undefined;
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
    // A held priming event has nothing to prime when the request ends with a plain reply (a 202 for a
    // call the client cancelled, say): the reply goes out as it is.
    this.#dropPriming();
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

  deliver(frame: DeliverFrame): void {
    if (this.#closed) return;
    if (frame.msg === undefined) {
      if (!this.#options.sseOk || !frame.eventId || this.#stream || this.#priming) return;
      this.#priming = { text: ssePrimingEvent(frame.eventId, frame.retry), sessionId: frame.sessionId };
      this.#primingTimer = setTimeout(this.#flushPriming, PRIMING_HOLD_MS);
      return;
    }
    const data = JSON.stringify(frame.msg);
    if (!this.#stream && frame.final) {
      // Nothing was written yet: the answer alone, as JSON. A held priming event is dropped with its
      // stream, since there is nothing left to resume.
      this.#dropPriming();
      this.#exchange.send(200, data, 'application/json', this.#headers(frame.sessionId));
      this.#finish();
      return;
    }
    if (!this.#stream && !this.#options.sseOk) return; // main only streams when sseOk; be safe anyway
    // Priming, messages and the answer that arrive in one turn leave in one write.
    const text = `${this.#takePriming()}${sseEvent('message', data, frame.eventId)}`;
    const stream = this.#open(frame.sessionId);
    if (frame.final) stream.end(text);
    else stream.write(text);
  }

  #takePriming(): string {
    const text = this.#priming?.text ?? '';
    this.#dropPriming();
    return text;
  }

  #dropPriming(): void {
    this.#priming = undefined;
    if (this.#primingTimer) clearTimeout(this.#primingTimer);
    this.#primingTimer = undefined;
  }

  readonly #flushPriming = (): void => {
    if (!this.#priming || this.#closed) return;
    const { sessionId } = this.#priming;
    this.#open(sessionId).write(this.#takePriming());
  };

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
    this.#flushPriming();
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
    this.#dropPriming();
    this.#options.onClose(reason);
  }
}
