import { createParser } from 'eventsource-parser';

/**
 * A minimal legacy-SSE MCP client for load generation: one GET stream and POSTs, no SDK, so that the load
 * generator spends its CPU on traffic rather than on schema validation. It checks every answer: an
 * answer that is not for a request this session has in flight, or that carries another session's
 * payload, counts as misdelivered.
 */
export class LoadSession {
  readonly #base: string;
  readonly #marker: string;
  #endpoint = '';
  #controller = new AbortController();
  #nextId = 1;
  #pending = new Map<number, { resolve: (ok: boolean) => void; text: string }>();
  misdelivered = 0;

  constructor(base: string, marker: string) {
    this.#base = base;
    this.#marker = marker;
  }

  async open(): Promise<void> {
    const response = await fetch(`${this.#base}/sse`, {
      headers: { accept: 'text/event-stream' },
      signal: this.#controller.signal,
    });
    if (response.status !== 200 || !response.body) throw new Error(`GET /sse answered ${response.status}`);
    let ready!: () => void;
    const endpointSeen = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const parser = createParser({
      onEvent: (event) => {
        if (event.event === 'endpoint') {
          this.#endpoint = `${this.#base}${event.data}`;
          ready();
        } else if (event.event === 'message') {
          this.#onMessage(event.data);
        }
      },
    });
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
        }
      } catch {
        // closed
      }
      for (const pending of this.#pending.values()) pending.resolve(false);
      this.#pending.clear();
    })();
    await endpointSeen;
  }

  /** One tools/call of `echo`; resolves true when the right answer came back. */
  async call(payloadBytes: number): Promise<boolean> {
    const id = this.#nextId++;
    const text = `${this.#marker}:${id}:`.padEnd(payloadBytes, 'x');
    const answered = new Promise<boolean>((resolve) => this.#pending.set(id, { resolve, text }));
    const response = await fetch(this.#endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text } },
      }),
    });
    await response.arrayBuffer();
    if (response.status !== 202) {
      this.#pending.delete(id);
      return false;
    }
    return answered;
  }

  close(): void {
    this.#controller.abort();
  }

  #onMessage(data: string): void {
    let message: { id?: number; result?: { content?: Array<{ text?: string }> }; error?: unknown };
    try {
      message = JSON.parse(data);
    } catch {
      this.misdelivered += 1;
      return;
    }
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) {
      this.misdelivered += 1;
      return;
    }
    this.#pending.delete(message.id as number);
    if (message.error !== undefined) {
      pending.resolve(false); // an error answer to our own request: an error, not a misdelivery
      return;
    }
    const text = message.result?.content?.[0]?.text;
    if (text !== pending.text) this.misdelivered += 1;
    pending.resolve(text === pending.text);
  }
}
