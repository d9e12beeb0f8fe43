/**
 * Bytes kept across socket reads. The generator reads every socket into one shared buffer that the next
 * read overwrites, so whatever must outlive a read (a head or line cut by a read, a body that arrives in
 * pieces) is copied here; it grows on demand and is reused, so the steady state allocates nothing.
 */
export class ByteScratch {
  #bytes: Buffer | undefined;
  length = 0;

  get bytes(): Buffer {
    return this.#bytes ?? Buffer.alloc(0);
  }

  append(source: Buffer, start: number, end: number): void {
    const needed = this.length + (end - start);
    if (!this.#bytes || this.#bytes.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(256, needed * 2));
      if (this.#bytes) this.#bytes.copy(grown, 0, 0, this.length);
      this.#bytes = grown;
    }
    source.copy(this.#bytes, this.length, start, end);
    this.length = needed;
  }

  clear(): void {
    this.length = 0;
  }
}
