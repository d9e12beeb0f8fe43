import type { Exchange, HttpConnection } from './http-connection.js';
import type { AnswerBook, PendingCall } from './load-session.js';
import type { ResponseHead } from './response-parser.js';

/**
 * One echo call of a load session: its POST, and the bookkeeping both transports share. The answer is
 * expected in the session's AnswerBook before the POST leaves, and a call whose POST is still out is
 * listed in `posting`, so closing the session can abort it. Each transport says how the POST's response
 * and the answer end the call.
 */
export abstract class EchoCall implements PendingCall, Exchange {
  readonly text: string;
  protected readonly book: AnswerBook;
  protected readonly id: number;
  protected readonly resolve: (ok: boolean) => void;
  readonly #posting: Set<EchoCall>;
  #connection: HttpConnection | undefined;

  constructor(
    book: AnswerBook,
    posting: Set<EchoCall>,
    id: number,
    text: string,
    resolve: (ok: boolean) => void,
  ) {
    this.text = text;
    this.book = book;
    this.#posting = posting;
    this.id = id;
    this.resolve = resolve;
  }

  send(connection: HttpConnection, request: string): void {
    this.book.expect(this.id, this);
    this.#posting.add(this);
    this.#connection = connection;
    connection.request(request, this);
  }

  abort(): void {
    this.#connection?.destroy();
  }

  /** The POST's response is over, complete or not. */
  protected posted(): void {
    this.#posting.delete(this);
  }

  abstract answered(ok: boolean): void;
  abstract onHead(head: ResponseHead): boolean;
  abstract onBody(buffer: Buffer, start: number, end: number): void;
  abstract onEnd(): void;
  abstract onFail(): void;
}
