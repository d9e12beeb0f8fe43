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

/** How long opening a session may wait for any one answer before the session counts as refused. */
export const OPEN_TIMEOUT_MS = 60_000;

/** The echo text of call `id` in session `marker`, padded to the payload size. */
export function payloadText(marker: string, id: number, payloadBytes: number): string {
  return `${marker}:${id}:`.padEnd(payloadBytes, 'x');
}

/** The same bytes `JSON.stringify` gives for this message, without building the object first. */
export function echoCall(id: number, text: string, tool = 'echo'): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${tool}","arguments":{"text":${JSON.stringify(text)}}}}`;
}

/** The same call as a 2026-07-28 client sends it: its version, identity and capabilities in `_meta`. */
const MODERN_META =
  '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}';

export function modernEchoCall(id: number, text: string, tool = 'echo'): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${tool}","arguments":{"text":${JSON.stringify(text)}},${MODERN_META}}}`;
}

/** A call waiting for its answer. */
export interface PendingCall {
  readonly text: string;
  /** Called once: true for the right text, false for a wrong text, an error, or a call given up on. */
  answered(ok: boolean): void;
}

/** Checks one answer against what this session has in flight. */
export class AnswerBook {
  readonly #pending = new Map<number, PendingCall>();
  #closed = false;
  misdelivered = 0;

  expect(id: number, call: PendingCall): void {
    if (this.#closed) call.answered(false);
    else this.#pending.set(id, call);
  }

  forget(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.answered(false);
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
      pending.answered(false); // an error for our own request: an error, not a misdelivery
      return;
    }
    const text = message.result?.content?.[0]?.text;
    if (text !== pending.text) this.misdelivered += 1;
    pending.answered(text === pending.text);
  }

  /** Ends the session's bookkeeping: what is still waiting fails, and nothing later counts. */
  close(): void {
    this.#closed = true;
    this.failAll();
  }

  failAll(): void {
    const waiting = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of waiting) pending.answered(false);
  }
}
