import { ByteScratch } from './byte-scratch.js';
import { type BodySink, ChunkedDecoder } from './chunked-decoder.js';

/** The parts of a response head the generator reads; one object per parser, overwritten by each response. */
export interface ResponseHead {
  status: number;
  contentType: string;
  sessionId: string;
  /** The connection cannot carry another request (Connection: close, HTTP/1.0, or a body ended by close). */
  closes: boolean;
}

export interface ResponseListener extends BodySink {
  /** Return true to get the body in one `onBody` call at its end, false to get it as it arrives. */
  onHead(head: ResponseHead): boolean;
}

const HEAD = 0;
const BY_LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;
const DONE = 4;

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/** Compares a header name in `text` at `at` with a lower-case name, ignoring ASCII case, without slicing. */
function nameIs(text: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const want = lower.charCodeAt(i);
    const got = text.charCodeAt(at + i);
    if (got !== want && !(want >= 97 && want <= 122 && got === want - 32)) return false;
  }
  return true;
}

/**
 * An incremental HTTP/1.1 response parser for one response at a time on a keep-alive connection. The
 * head is turned into one latin1 string and only the five headers the generator needs are sliced out;
 * the body is framed by Content-Length, chunked encoding, or the connection's end.
 */
export class ResponseParser {
  readonly head: ResponseHead = { status: 0, contentType: '', sessionId: '', closes: false };
  #state = HEAD;
  #listener: ResponseListener | undefined;
  #whole = false;
  #remaining = 0;
  readonly #chunked = new ChunkedDecoder();
  readonly #pending = new ByteScratch();
  readonly #collect: BodySink = {
    onBody: (buffer, start, end) => this.#pending.append(buffer, start, end),
  };

  get complete(): boolean {
    return this.#state === DONE;
  }

  /** Starts on the response to a new request. */
  reset(listener: ResponseListener): void {
    this.#listener = listener;
    this.#state = HEAD;
    this.#pending.clear();
  }

  /**
   * Parses `buffer[start, end)`, calling the listener synchronously. Returns the offset just past the
   * response once it is complete (anything after it was not asked for), or `end`. Throws on bad input.
   */
  feed(buffer: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end && this.#state !== DONE) {
      switch (this.#state) {
        case HEAD:
          at = this.#readHead(buffer, at, end);
          break;
        case BY_LENGTH: {
          const take = Math.min(this.#remaining, end - at);
          this.#remaining -= take;
          if (this.#whole && this.#remaining === 0 && this.#pending.length === 0) {
            this.#state = DONE;
            this.#listener!.onBody(buffer, at, at + take); // the whole body in this read: no copy
          } else {
            this.#deliver(buffer, at, at + take);
            if (this.#remaining === 0) this.#finishBody();
          }
          at += take;
          break;
        }
        case CHUNKED:
          at = this.#chunked.feed(buffer, at, end, this.#whole ? this.#collect : this.#listener!);
          if (this.#chunked.done) this.#finishBody();
          break;
        case UNTIL_CLOSE:
          this.#deliver(buffer, at, end);
          at = end;
          break;
      }
    }
    return at;
  }

  /** The connection ended: true when that completes the response (a body delimited by the close). */
  finishAtClose(): boolean {
    if (this.#state === DONE) return true;
    if (this.#state !== UNTIL_CLOSE) return false;
    this.#finishBody();
    return true;
  }

  #deliver(buffer: Buffer, start: number, end: number): void {
    if (start === end) return;
    if (this.#whole) this.#pending.append(buffer, start, end);
    else this.#listener!.onBody(buffer, start, end);
  }

  #finishBody(): void {
    this.#state = DONE;
    if (this.#whole && this.#pending.length > 0)
      this.#listener!.onBody(this.#pending.bytes, 0, this.#pending.length);
  }

  #readHead(buffer: Buffer, start: number, end: number): number {
    if (this.#pending.length === 0) {
      const found = buffer.indexOf(HEAD_END, start);
      if (found !== -1 && found + 4 <= end) {
        this.#parseHead(buffer.toString('latin1', start, found));
        return found + 4;
      }
      this.#pending.append(buffer, start, end);
      return end;
    }
    // A head cut by a read: search again across the seam.
    const before = this.#pending.length;
    this.#pending.append(buffer, start, end);
    const found = this.#pending.bytes.indexOf(HEAD_END, Math.max(0, before - 3));
    if (found === -1 || found + 4 > this.#pending.length) {
      if (this.#pending.length > MAX_HEAD) throw new Error('response head too large');
      return end;
    }
    const text = this.#pending.bytes.toString('latin1', 0, found);
    this.#pending.clear();
    this.#parseHead(text);
    return start + (found + 4 - before);
  }

  #parseHead(text: string): void {
    const head = this.head;
    if (!text.startsWith('HTTP/1.') || text.charCodeAt(12) !== 32)
      throw new Error(`not an HTTP/1 status line: ${text.slice(0, 40)}`);
    const status = Number(text.slice(9, 12));
    if (!Number.isInteger(status) || status < 100) throw new Error(`bad status in ${text.slice(0, 40)}`);
    head.status = status;
    head.contentType = '';
    head.sessionId = '';
    head.closes = text.charCodeAt(7) === 48; // HTTP/1.0: no keep-alive unless negotiated, which we never do
    let chunked = false;
    let length = -1;
    let lineStart = text.indexOf('\r\n');
    while (lineStart !== -1) {
      lineStart += 2;
      const next = text.indexOf('\r\n', lineStart);
      const lineEnd = next === -1 ? text.length : next;
      const colon = text.indexOf(':', lineStart);
      if (colon !== -1 && colon < lineEnd) {
        // Dispatch on the name's length first, so most headers cost one comparison and no string.
        switch (colon - lineStart) {
          case 10:
            if (nameIs(text, lineStart, 'connection'))
              head.closes ||= text
                .slice(colon + 1, lineEnd)
                .toLowerCase()
                .includes('close');
            break;
          case 12:
            if (nameIs(text, lineStart, 'content-type'))
              head.contentType = text.slice(colon + 1, lineEnd).trim();
            break;
          case 14:
            if (nameIs(text, lineStart, 'content-length')) {
              const value = text.slice(colon + 1, lineEnd).trim();
              if (!/^\d+$/.test(value)) throw new Error(`bad Content-Length ${value}`);
              length = Number(value);
            } else if (nameIs(text, lineStart, 'mcp-session-id'))
              head.sessionId = text.slice(colon + 1, lineEnd).trim();
            break;
          case 17:
            if (nameIs(text, lineStart, 'transfer-encoding'))
              chunked = text
                .slice(colon + 1, lineEnd)
                .trim()
                .toLowerCase()
                .endsWith('chunked');
            break;
        }
      }
      lineStart = next;
    }
    if (status < 200) {
      if (status === 101) throw new Error('unexpected protocol switch');
      return; // an interim response: the real one follows
    }
    this.#whole = this.#listener!.onHead(head);
    if (status === 204 || status === 304) this.#state = DONE;
    else if (chunked) {
      this.#chunked.reset();
      this.#state = CHUNKED;
    } else if (length >= 0) {
      this.#remaining = length;
      this.#state = length === 0 ? DONE : BY_LENGTH;
    } else {
      head.closes = true;
      this.#state = UNTIL_CLOSE;
    }
  }
}
