import { ByteScratch } from './byte-scratch.js';

export interface SseListener {
  /** One dispatched event; `type` is `message` when the event named none. */
  onEvent(type: string, data: string, id: string): void;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

function fieldIs(buffer: Buffer, start: number, length: number, name: string): boolean {
  if (length !== name.length) return false;
  for (let i = 0; i < length; i++) if (buffer[start + i] !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * An incremental `text/event-stream` parser working on byte ranges of the read buffer: lines are found
 * with `indexOf`, only field values become strings, and only a line cut by a read is copied. Lines end
 * in LF or CRLF (a CRLF cut between reads included); a lone CR, which the format also allows but no
 * target sends, is not treated as a line end.
 */
export class SseParser {
  readonly #listener: SseListener;
  readonly #line = new ByteScratch();
  #data: string | undefined;
  #type = '';
  #id = '';

  constructor(listener: SseListener) {
    this.#listener = listener;
  }

  /** Parses `buffer[start, end)`; the range need not start or end on a line boundary. */
  feed(buffer: Buffer, start: number, end: number): void {
    let at = start;
    while (at < end) {
      const lf = buffer.indexOf(LF, at);
      if (lf === -1 || lf >= end) {
        this.#line.append(buffer, at, end);
        return;
      }
      if (this.#line.length > 0) {
        this.#line.append(buffer, at, lf);
        this.#field(this.#line.bytes, 0, this.#line.length);
        this.#line.clear();
      } else this.#field(buffer, at, lf);
      at = lf + 1;
    }
  }

  #field(buffer: Buffer, start: number, end: number): void {
    if (end > start && buffer[end - 1] === CR) end -= 1;
    if (end === start) {
      this.#dispatch();
      return;
    }
    if (buffer[start] === COLON) return; // a comment
    let colon = buffer.indexOf(COLON, start);
    if (colon === -1 || colon > end) colon = end;
    let value = colon + 1;
    if (value < end && buffer[value] === SPACE) value += 1;
    if (value > end) value = end;
    const nameLength = colon - start;
    if (fieldIs(buffer, start, nameLength, 'data')) {
      const text = buffer.toString('utf8', value, end);
      this.#data = this.#data === undefined ? text : `${this.#data}\n${text}`;
    } else if (fieldIs(buffer, start, nameLength, 'event')) this.#type = buffer.toString('utf8', value, end);
    else if (fieldIs(buffer, start, nameLength, 'id')) {
      const id = buffer.toString('utf8', value, end);
      if (!id.includes('\0')) this.#id = id;
    }
    // `retry` and unknown fields mean nothing to the generator.
  }

  #dispatch(): void {
    const data = this.#data;
    const type = this.#type || 'message';
    this.#data = undefined;
    this.#type = '';
    if (data !== undefined) this.#listener.onEvent(type, data, this.#id);
  }
}
