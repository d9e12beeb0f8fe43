/** Receives body bytes; the range is only valid during the call (the buffer is reused by the next read). */
export interface BodySink {
  onBody(buffer: Buffer, start: number, end: number): void;
}

const CR = 13;
const LF = 10;

// States, one per place a chunk-size line, a data run or the trailer can be cut by a read.
const SIZE = 0;
const SIZE_EXTENSION = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER = 6;
const DONE = 7;

/** Largest chunk accepted: far above anything a target sends, and exact in a double. */
const MAX_CHUNK = 2 ** 40;

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Decodes a `Transfer-Encoding: chunked` body fed in pieces cut at any byte. Kept as a byte-level state
 * machine rather than a line splitter so that it never copies: data runs are handed on as ranges of the
 * read buffer, and the few bytes of a size line are folded into a number as they pass.
 */
export class ChunkedDecoder {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #trailerLineEmpty = true;

  get done(): boolean {
    return this.#state === DONE;
  }

  reset(): void {
    this.#state = SIZE;
    this.#size = 0;
    this.#digits = 0;
    this.#remaining = 0;
    this.#trailerLineEmpty = true;
  }

  /**
   * Decodes `buffer[start, end)`. Returns the offset just past the body's last byte once the body is
   * complete (bytes after it are not the body's), or `end` when more is needed. Throws on malformed input.
   */
  feed(buffer: Buffer, start: number, end: number, sink: BodySink): number {
    let at = start;
    while (at < end) {
      switch (this.#state) {
        case DATA: {
          const take = Math.min(this.#remaining, end - at);
          sink.onBody(buffer, at, at + take);
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = DATA_CR;
          break;
        }
        case SIZE: {
          const byte = buffer[at++]!;
          const digit = hexValue(byte);
          if (digit >= 0) {
            this.#size = this.#size * 16 + digit;
            this.#digits += 1;
            if (this.#size > MAX_CHUNK) throw new Error('chunk size too large');
          } else if (byte === CR) this.#state = SIZE_LF;
          else if (byte === LF) this.#sizeLineEnded();
          else if (byte === 0x3b || byte === 0x20 || byte === 0x09) this.#state = SIZE_EXTENSION;
          else throw new Error(`bad byte ${byte} in a chunk size`);
          break;
        }
        case SIZE_EXTENSION: {
          // Extensions carry nothing the generator needs: skip to the line's end.
          const byte = buffer[at++]!;
          if (byte === LF) this.#sizeLineEnded();
          break;
        }
        case SIZE_LF:
          if (buffer[at++] !== LF) throw new Error('chunk size line without LF');
          this.#sizeLineEnded();
          break;
        case DATA_CR: {
          const byte = buffer[at++]!;
          if (byte === CR) this.#state = DATA_LF;
          else if (byte === LF) this.#state = SIZE;
          else throw new Error('chunk data not followed by CRLF');
          break;
        }
        case DATA_LF:
          if (buffer[at++] !== LF) throw new Error('chunk data not followed by CRLF');
          this.#state = SIZE;
          break;
        case TRAILER: {
          const byte = buffer[at++]!;
          if (byte === LF) {
            if (this.#trailerLineEmpty) {
              this.#state = DONE;
              return at;
            }
            this.#trailerLineEmpty = true;
          } else if (byte !== CR) this.#trailerLineEmpty = false;
          break;
        }
        default:
          return at;
      }
    }
    return at;
  }

  #sizeLineEnded(): void {
    if (this.#digits === 0) throw new Error('chunk size line without a size');
    if (this.#size === 0) {
      this.#state = TRAILER;
      this.#trailerLineEmpty = true;
    } else {
      this.#state = DATA;
      this.#remaining = this.#size;
    }
    this.#size = 0;
    this.#digits = 0;
  }
}
