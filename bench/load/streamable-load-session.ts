import { EchoCall } from './echo-call.js';
import { EventStream, type EventStreamListener } from './event-stream.js';
import type { Exchange } from './http-connection.js';
import { type HttpPool, poolFor } from './http-pool.js';
import { requestHead, send, withBody, withoutBody } from './http-request.js';
import {
  AnswerBook,
  echoCall,
  type LoadSession,
  modernEchoCall,
  OPEN_TIMEOUT_MS,
  payloadText,
} from './load-session.js';
import type { ResponseHead } from './response-parser.js';
import { type SseListener, SseParser } from './sse-parser.js';

const ACCEPT = 'application/json, text/event-stream';
const PROTOCOL = '2025-11-25';

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
});

/** The answer to DELETE (or to anything else sent and forgotten) is not looked at. */
const IGNORED: Exchange = {
  onHead: () => true,
  onBody: () => {},
  onEnd: () => {},
  onFail: () => {},
};

/**
 * A Streamable HTTP session as the official SDK client runs it: initialize (protocol 2025-11-25), the
 * initialized notification, a GET stream, then one POST per call, answered as JSON or as an SSE stream.
 * As a `modern` (2026-07-28) client there is no session at all: every call is a POST of its own with
 * the revision's headers and `_meta`.
 */
export class StreamableLoadSession implements LoadSession {
  readonly #pool: HttpPool;
  readonly #path: string;
  readonly #marker: string;
  readonly #book = new AnswerBook();
  /** Calls whose POST has not been answered yet: abandoning the session aborts them. */
  readonly #posting = new Set<StreamableCall>();
  #stream: EventStream | undefined;
  #sessionId = '';
  /** A POST in this session, up to Content-Length. */
  #postHead = '';
  #nextId = 1;
  readonly #modern: boolean;

  /** The echo tool's name where this session calls it (`echo__echo` on a namespaced `/mcp`). */
  readonly #tool: string;

  constructor(origin: string, path: string, marker: string, era: '2025' | 'modern' = '2025', tool = 'echo') {
    this.#pool = poolFor(origin);
    this.#path = path;
    this.#marker = marker;
    this.#modern = era === 'modern';
    this.#tool = tool;
  }

  get misdelivered(): number {
    return this.#book.misdelivered;
  }

  async open(): Promise<void> {
    if (this.#modern) {
      this.#postHead = requestHead('POST', this.#path, this.#pool, {
        'Content-Type': 'application/json',
        Accept: ACCEPT,
        'MCP-Protocol-Version': '2026-07-28',
        'Mcp-Method': 'tools/call',
        'Mcp-Name': this.#tool,
      });
      return;
    }
    const init = await send(
      this.#pool,
      withBody(
        requestHead('POST', this.#path, this.#pool, { 'Content-Type': 'application/json', Accept: ACCEPT }),
        INITIALIZE,
      ),
      OPEN_TIMEOUT_MS,
    );
    if (init.status !== 200 || !init.sessionId) throw new Error(`initialize answered ${init.status}`);
    this.#sessionId = init.sessionId;
    const sessionHeaders = { 'Mcp-Session-Id': init.sessionId, 'MCP-Protocol-Version': PROTOCOL };
    this.#postHead = requestHead('POST', this.#path, this.#pool, {
      'Content-Type': 'application/json',
      Accept: ACCEPT,
      ...sessionHeaders,
    });
    await send(
      this.#pool,
      withBody(this.#postHead, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })),
      OPEN_TIMEOUT_MS,
    );
    const get = withoutBody(
      requestHead('GET', this.#path, this.#pool, { Accept: 'text/event-stream', ...sessionHeaders }),
    );
    // Open once the GET is answered, whatever the status: a server may decline the stream (405).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#stream?.close();
        reject(new Error(`GET ${this.#path} not answered within ${OPEN_TIMEOUT_MS / 1000} s`));
      }, OPEN_TIMEOUT_MS);
      const listener: EventStreamListener = {
        onStreamHead: () => {
          clearTimeout(timer);
          resolve();
        },
        onStreamEnd: (error) => {
          clearTimeout(timer);
          if (error) reject(error);
        },
        onEvent: () => {}, // nothing is expected on the GET stream of an echo server
      };
      this.#stream = new EventStream(this.#pool, get, listener);
    });
  }

  call(payloadBytes: number): Promise<boolean> {
    const id = this.#nextId++;
    const text = payloadText(this.#marker, id, payloadBytes);
    return new Promise((resolve) => {
      const call = new StreamableCall(this.#book, this.#posting, id, text, resolve);
      const body = this.#modern ? modernEchoCall(id, text, this.#tool) : echoCall(id, text, this.#tool);
      call.send(this.#pool.acquire(), withBody(this.#postHead, body));
    });
  }

  abandon(): void {
    this.#stream?.close();
    this.#book.close();
    for (const call of this.#posting) call.abort();
  }

  close(): void {
    this.abandon();
    if (this.#sessionId) {
      const head = requestHead('DELETE', this.#path, this.#pool, {
        'Mcp-Session-Id': this.#sessionId,
        'MCP-Protocol-Version': PROTOCOL,
      });
      this.#pool.acquire().request(withoutBody(head), IGNORED);
    }
  }
}

/** One call: a POST whose answer is its body, as JSON or as an event stream that ends after the answer. */
class StreamableCall extends EchoCall implements SseListener {
  #status = 0;
  #events: SseParser | undefined;

  answered(ok: boolean): void {
    this.resolve(ok);
  }

  onHead(head: ResponseHead): boolean {
    this.#status = head.status;
    if (head.status !== 200 || head.contentType.startsWith('application/json')) return true;
    this.#events = new SseParser(this);
    return false;
  }

  onBody(buffer: Buffer, start: number, end: number): void {
    if (this.#events) this.#events.feed(buffer, start, end);
    else if (this.#status === 200) this.book.settle(buffer.toString('utf8', start, end));
  }

  onEvent(_type: string, data: string): void {
    if (data) this.book.settle(data);
  }

  /** A body without this call's answer (or a status other than 200) fails the call; no-op once answered. */
  onEnd(): void {
    this.posted();
    this.book.forget(this.id);
  }

  onFail(): void {
    this.onEnd();
  }
}
