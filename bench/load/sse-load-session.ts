import { EchoCall } from './echo-call.js';
import { EventStream, type EventStreamListener } from './event-stream.js';
import { type HttpPool, poolFor } from './http-pool.js';
import { requestHead, withBody, withoutBody } from './http-request.js';
import { AnswerBook, echoCall, type LoadSession, OPEN_TIMEOUT_MS, payloadText } from './load-session.js';
import type { ResponseHead } from './response-parser.js';

/**
 * A legacy HTTP+SSE session (2024-11-05): a GET stream whose first event names the POST endpoint; every
 * answer arrives on the stream. No SDK, so the generator spends its CPU on traffic, not on validation.
 */
export class SseLoadSession implements LoadSession, EventStreamListener {
  readonly #pool: HttpPool;
  readonly #path: string;
  readonly #marker: string;
  readonly #book = new AnswerBook();
  /** Calls whose POST has not been answered yet: closing the session aborts them. */
  readonly #posting = new Set<LegacyCall>();
  #stream: EventStream | undefined;
  /** The POST request to the endpoint, up to Content-Length. */
  #postHead = '';
  #nextId = 1;
  #opening: { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | undefined;

  readonly #tool: string;

  constructor(origin: string, path: string, marker: string, tool = 'echo') {
    this.#pool = poolFor(origin);
    this.#path = path;
    this.#marker = marker;
    this.#tool = tool;
  }

  get misdelivered(): number {
    return this.#book.misdelivered;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.#openFailed(new Error(`no endpoint event within ${OPEN_TIMEOUT_MS / 1000} s`)),
        OPEN_TIMEOUT_MS,
      );
      this.#opening = { resolve, reject, timer };
      this.#stream = new EventStream(
        this.#pool,
        withoutBody(requestHead('GET', this.#path, this.#pool, { Accept: 'text/event-stream' })),
        this,
      );
    });
  }

  onStreamHead(status: number): void {
    if (status !== 200) this.#openFailed(new Error(`GET ${this.#path} answered ${status}`));
  }

  onEvent(type: string, data: string): void {
    if (type === 'message') this.#book.settle(data);
    else if (type === 'endpoint') {
      const endpoint = new URL(data, `http://${this.#pool.host}:${this.#pool.port}${this.#path}`);
      this.#postHead = requestHead('POST', endpoint.pathname + endpoint.search, this.#pool, {
        'Content-Type': 'application/json',
      });
      const opening = this.#opening;
      this.#opening = undefined;
      if (opening) {
        clearTimeout(opening.timer);
        opening.resolve();
      }
    }
  }

  onStreamEnd(error?: Error): void {
    this.#openFailed(error ?? new Error(`GET ${this.#path} ended before the endpoint event`));
    this.#book.failAll();
  }

  #openFailed(error: Error): void {
    const opening = this.#opening;
    if (!opening) return;
    this.#opening = undefined;
    clearTimeout(opening.timer);
    this.#stream?.close();
    opening.reject(error);
  }

  call(payloadBytes: number): Promise<boolean> {
    const id = this.#nextId++;
    const text = payloadText(this.#marker, id, payloadBytes);
    return new Promise((resolve) => {
      const call = new LegacyCall(this.#book, this.#posting, id, text, resolve);
      call.send(this.#pool.acquire(), withBody(this.#postHead, echoCall(id, text, this.#tool)));
    });
  }

  close(): void {
    this.#openFailed(new Error('session closed while opening'));
    this.#stream?.close();
    this.#book.close();
    for (const call of this.#posting) call.abort();
  }

  /** A legacy session has nothing to say when it leaves: closing its stream is all there is. */
  abandon(): void {
    this.close();
  }
}

/**
 * One call: its POST (202 or 200 expected, body ignored) and its answer on the stream, in either order.
 * It ends when both are in, so a session never has more POSTs out than calls, and the pool stays at
 * about one connection per call in flight.
 */
class LegacyCall extends EchoCall {
  #accepted = false;
  #posted = false;
  #answer: boolean | undefined;
  #done = false;

  answered(ok: boolean): void {
    this.#answer = ok;
    if (this.#posted) this.#finish(ok);
  }

  onHead(head: ResponseHead): boolean {
    this.#accepted = head.status === 202 || head.status === 200;
    return true;
  }

  onBody(): void {}

  onEnd(): void {
    this.#posted = true;
    this.posted();
    if (!this.#accepted) {
      this.book.forget(this.id);
      this.#finish(false);
    } else if (this.#answer !== undefined) this.#finish(this.#answer);
  }

  onFail(): void {
    this.#posted = true;
    this.posted();
    this.book.forget(this.id);
    this.#finish(false);
  }

  #finish(ok: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.resolve(ok);
  }
}
