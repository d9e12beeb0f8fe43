import { createParser } from 'eventsource-parser';
import { AnswerBook, agent, echoCall, type LoadSession, payloadText } from './load-session.js';

const ACCEPT = 'application/json, text/event-stream';

/**
 * A Streamable HTTP session as the official SDK client runs it: initialize (protocol 2025-11-25), the
 * initialized notification, a GET stream, then one POST per call, answered as JSON or as an SSE stream.
 */
export class StreamableLoadSession implements LoadSession {
  readonly #origin: string;
  readonly #path: string;
  readonly #marker: string;
  readonly #book = new AnswerBook();
  readonly #controller = new AbortController();
  #sessionId = '';
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
    const init = await agent.request({
      origin: this.#origin,
      path: this.#path,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      }),
    });
    await init.body.dump();
    const sid = init.headers['mcp-session-id'];
    if (init.statusCode !== 200 || typeof sid !== 'string')
      throw new Error(`initialize answered ${init.statusCode}`);
    this.#sessionId = sid;
    const initialized = await this.#post(
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    );
    await initialized.body.dump();
    const get = await agent.request({
      origin: this.#origin,
      path: this.#path,
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      signal: this.#controller.signal,
    });
    if (get.statusCode === 200) {
      void (async () => {
        try {
          for await (const _ of get.body) {
            // nothing is expected on the GET stream of an echo server
          }
        } catch {
          // closed
        }
      })();
    } else await get.body.dump();
  }

  #post(body: string) {
    return agent.request({
      origin: this.#origin,
      path: this.#path,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: ACCEPT,
        'mcp-session-id': this.#sessionId,
        'mcp-protocol-version': '2025-11-25',
      },
      body,
    });
  }

  async call(payloadBytes: number): Promise<boolean> {
    const id = this.#nextId++;
    const text = payloadText(this.#marker, id, payloadBytes);
    const answered = this.#book.expect(id, text);
    try {
      const response = await this.#post(echoCall(id, text));
      const type = String(response.headers['content-type'] ?? '');
      const body = await response.body.text();
      if (response.statusCode !== 200) {
        this.#book.forget(id);
        return false;
      }
      if (type.startsWith('application/json')) this.#book.settle(body);
      else {
        const parser = createParser({ onEvent: (event) => event.data && this.#book.settle(event.data) });
        parser.feed(body);
      }
      this.#book.forget(id); // no answer in the body: a failure (no-op when it was settled)
    } catch {
      this.#book.forget(id);
      return false;
    }
    return answered;
  }

  abandon(): void {
    this.#controller.abort();
    this.#book.close();
  }

  close(): void {
    this.abandon();
    if (this.#sessionId) {
      void agent
        .request({
          origin: this.#origin,
          path: this.#path,
          method: 'DELETE',
          headers: { 'mcp-session-id': this.#sessionId },
        })
        .then(
          (r) => r.body.dump(),
          () => {},
        );
    }
  }
}
