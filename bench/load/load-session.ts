import { Agent } from 'undici';

/** One client session of the load generator, on whichever transport. */
export interface LoadSession {
  open(): Promise<void>;
  /** One `tools/call` of `echo`; true when exactly this session's answer came back. */
  call(payloadBytes: number): Promise<boolean>;
  /** Ends the session politely (Streamable HTTP: DELETE); calls still waiting resolve false. */
  close(): void;
  /** Drops the connections without a word, as a crashed client would. */
  abandon(): void;
  /** Answers that were not for a request of this session, or carried another session's text. */
  readonly misdelivered: number;
}

/**
 * One HTTP client for the whole generator: undici's pools keep connections alive and cost far less per
 * request than `fetch` (which builds WHATWG Request/Response objects around the same engine).
 */
export const agent = new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });

/** The echo text of call `id` in session `marker`, padded to the payload size. */
export function payloadText(marker: string, id: number, payloadBytes: number): string {
  return `${marker}:${id}:`.padEnd(payloadBytes, 'x');
}

export function echoCall(id: number, text: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text } },
  });
}

/** Checks one answer against what this session has in flight. */
export class AnswerBook {
  readonly #pending = new Map<number, { resolve: (ok: boolean) => void; text: string }>();
  #closed = false;
  misdelivered = 0;

  expect(id: number, text: string): Promise<boolean> {
    return new Promise((resolve) => this.#pending.set(id, { resolve, text }));
  }

  forget(id: number): void {
    this.#pending.get(id)?.resolve(false);
    this.#pending.delete(id);
  }

  /** A JSON-RPC message from the server. */
  settle(data: string): void {
    if (this.#closed) return; // a late answer to a call the run already gave up on at its end
    let message: { id?: unknown; result?: { content?: Array<{ text?: string }> }; error?: unknown };
    try {
      message = JSON.parse(data);
    } catch {
      this.misdelivered += 1;
      return;
    }
    if (message.id === undefined) return; // a notification
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) {
      this.misdelivered += 1;
      return;
    }
    this.#pending.delete(message.id as number);
    if (message.error !== undefined) {
      pending.resolve(false); // an error for our own request: an error, not a misdelivery
      return;
    }
    const text = message.result?.content?.[0]?.text;
    if (text !== pending.text) this.misdelivered += 1;
    pending.resolve(text === pending.text);
  }

  /** Ends the session's bookkeeping: what is still waiting fails, and nothing later counts. */
  close(): void {
    this.#closed = true;
    this.failAll();
  }

  failAll(): void {
    for (const pending of this.#pending.values()) pending.resolve(false);
    this.#pending.clear();
  }
}
