import type { Exchange } from './http-connection.js';
import type { HttpPool } from './http-pool.js';
import type { ResponseHead } from './response-parser.js';

/**
 * The request line and headers of a request, up to (not including) Content-Length and the blank line:
 * built once per session and endpoint, so a call only appends its length and body.
 */
export function requestHead(
  method: string,
  path: string,
  pool: HttpPool,
  headers: Record<string, string>,
): string {
  let text = `${method} ${path} HTTP/1.1\r\nHost: ${pool.host}:${pool.port}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return text;
}

export function withBody(head: string, body: string): string {
  return `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export function withoutBody(head: string): string {
  return `${head}\r\n`;
}

export interface Answer {
  status: number;
  contentType: string;
  sessionId: string;
  body: string;
}

/** A request whose whole answer is awaited: the few requests that open a session, off the hot path. */
class AwaitedExchange implements Exchange {
  readonly #answer: Answer = { status: 0, contentType: '', sessionId: '', body: '' };
  readonly #resolve: (answer: Answer) => void;
  readonly #reject: (error: Error) => void;

  constructor(resolve: (answer: Answer) => void, reject: (error: Error) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  onHead(head: ResponseHead): boolean {
    this.#answer.status = head.status;
    this.#answer.contentType = head.contentType;
    this.#answer.sessionId = head.sessionId;
    return true;
  }

  onBody(buffer: Buffer, start: number, end: number): void {
    this.#answer.body = buffer.toString('utf8', start, end);
  }

  onEnd(): void {
    this.#resolve(this.#answer);
  }

  onFail(error: Error): void {
    this.#reject(error);
  }
}

/** Sends one request on a pooled connection; rejects on failure or after `timeoutMs` without an answer. */
export function send(pool: HttpPool, text: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const connection = pool.acquire();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      connection.destroy();
    }, timeoutMs);
    connection.request(
      text,
      new AwaitedExchange(
        (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        (error) => {
          clearTimeout(timer);
          reject(timedOut ? new Error(`no answer within ${timeoutMs / 1000} s`) : error);
        },
      ),
    );
  });
}
