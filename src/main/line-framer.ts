/** Largest single message accepted from a backend's stdout before it is dropped as oversize. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface LineFramerHandlers {
  /** One complete line without its terminator; never empty. The buffer may be reused: copy to keep it. */
  onLine(line: Buffer): void;
  /** A line passed `maxLineBytes`; it is discarded up to its terminating newline. */
  onOversize?(bytesDropped: number): void;
}

/**
 * Splits a byte stream into newline-terminated lines (the stdio transport's framing). Pure: no I/O, so
 * it can be unit-tested and benchmarked alone.
 *
 * Chunks are kept as a list and joined once per line, so a multi-megabyte message arriving in 64 KiB
 * pieces costs one copy instead of a quadratic series of concatenations.
 */
export class LineFramer {
  readonly #handlers: LineFramerHandlers;
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  /** True while skipping the rest of an oversize line. */
  #discarding = false;
  #discardedBytes = 0;

  constructor(handlers: LineFramerHandlers, maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.#handlers = handlers;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Bytes held for an unfinished line (bounded by `maxLineBytes`). */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.#keep(chunk, start, chunk.length);
        return;
      }
      if (this.#discarding) {
        this.#finishDiscard(nl - start);
      } else if (this.#partBytes === 0) {
        this.#emit(chunk.subarray(start, nl));
      } else {
        this.#keep(chunk, start, nl);
        if (this.#discarding) {
          this.#finishDiscard(0);
        } else {
          const joined = Buffer.concat(this.#parts, this.#partBytes);
          this.#parts = [];
          this.#partBytes = 0;
          this.#emit(joined);
        }
      }
      start = nl + 1;
    }
  }

  /** Drops any unfinished line (the stream ended or was reset). */
  reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#discarding = false;
    this.#discardedBytes = 0;
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    const length = to - from;
    if (length === 0) return;
    if (this.#discarding) {
      this.#discardedBytes += length;
      return;
    }
    if (this.#partBytes + length > this.#maxLineBytes) {
      this.#discarding = true;
      this.#discardedBytes = this.#partBytes + length;
      this.#parts = [];
      this.#partBytes = 0;
      return;
    }
    // A subarray would pin the producer's whole chunk; chunks from a pipe are fresh per read, so
    // keeping the view is safe and avoids a copy.
    this.#parts.push(chunk.subarray(from, to));
    this.#partBytes += length;
  }

  #finishDiscard(extraBytes: number): void {
    const dropped = this.#discardedBytes + extraBytes;
    this.#discarding = false;
    this.#discardedBytes = 0;
    this.#handlers.onOversize?.(dropped);
  }

  #emit(line: Buffer): void {
    let end = line.length;
    if (end > 0 && line[end - 1] === CARRIAGE_RETURN) end -= 1;
    if (end === 0) return;
    if (end > this.#maxLineBytes) {
      this.#handlers.onOversize?.(end);
      return;
    }
    this.#handlers.onLine(end === line.length ? line : line.subarray(0, end));
  }
}
