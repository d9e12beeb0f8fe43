import { createParser } from 'eventsource-parser';
import { AnswerBook, agent, echoCall, type LoadSession, payloadText } from './load-session.js';

/**
 * A legacy HTTP+SSE session (2024-11-05): a GET stream whose first event names the POST endpoint; every
 * answer arrives on the stream. No SDK, so the generator spends its CPU on traffic, not on validation.
 */
export class SseLoadSession implements LoadSession {
  readonly #origin: string;
  readonly #path: string;
  readonly #marker: string;
  readonly #book = new AnswerBook();
  readonly #controller = new AbortController();
  #endpoint = '';
  #nextId = 1;

  constructor(origin: string, path: string, marker: string) {
    this.#origin = origin;
    this.#path = path;
    this.#marker = marker;
  }

  get misdelivered(): number {
    return this.#book.misdelivered;
  }

  async open(): Promise<void> {
    const { statusCode, body } = await agent.request({
      origin: this.#origin,
      path: this.#path,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal: this.#controller.signal,
    });
    if (statusCode !== 200) throw new Error(`GET ${this.#path} answered ${statusCode}`);
    let ready!: () => void;
    const endpointSeen = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const parser = createParser({
      onEvent: (event) => {
        if (event.event === 'endpoint') {
          const endpoint = new URL(event.data, this.#origin + this.#path);
          this.#endpoint = endpoint.pathname + endpoint.search;
          ready();
        } else if (event.event === undefined || event.event === 'message') {
          this.#book.settle(event.data);
        }
      },
    });
    void (async () => {
      try {
        for await (const chunk of body) parser.feed(chunk.toString());
      } catch {
        // closed
      }
      this.#book.failAll();
    })();
    await endpointSeen;
  }

  async call(payloadBytes: number): Promise<boolean> {
    const id = this.#nextId++;
    const text = payloadText(this.#marker, id, payloadBytes);
    const answered = this.#book.expect(id, text);
    try {
      const { statusCode, body } = await agent.request({
        origin: this.#origin,
        path: this.#endpoint,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: echoCall(id, text),
      });
      await body.dump();
      if (statusCode !== 202 && statusCode !== 200) {
        this.#book.forget(id);
        return false;
      }
    } catch {
      this.#book.forget(id);
      return false;
    }
    return answered;
  }

  close(): void {
    this.#controller.abort();
    this.#book.close();
  }

  /** A legacy session has nothing to say when it leaves: closing its stream is all there is. */
  abandon(): void {
    this.close();
  }
}
