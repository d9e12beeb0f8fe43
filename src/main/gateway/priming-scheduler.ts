import type { ClientSession, OutletRef } from './client-session.js';

/**
 * How long a POST stream's priming event waits for the answer. The spec has the server prime a stream
 * it opens at once; one whose answer is ready within this window is not opened at all but answered as
 * JSON: one write instead of two, and nothing for the replay log to number or keep. A slower call is
 * primed when the window ends, and stays resumable.
 */
export const PRIMING_DELAY_MS = 5;

interface Waiting {
  at: number;
  session: ClientSession;
  ref: OutletRef;
}

/** Past this many spent entries at the head of the queue, it is compacted. */
const COMPACT_AFTER = 1024;

/**
 * Primes the POST streams still waiting for their answer when their window ends. One timer serves every
 * waiting stream: all windows are the same length, so the queue is already in deadline order, and a
 * call costs an array push instead of a timer of its own.
 */
export class PrimingScheduler {
  readonly #prime: (session: ClientSession, ref: OutletRef) => void;
  readonly #delayMs: number;
  #queue: Array<Waiting | undefined> = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `prime` is called for each stream whose window ended; it decides whether priming is still due. */
  constructor(prime: (session: ClientSession, ref: OutletRef) => void, delayMs = PRIMING_DELAY_MS) {
    this.#prime = prime;
    this.#delayMs = delayMs;
  }

  schedule(session: ClientSession, ref: OutletRef): void {
    this.#queue.push({ at: performance.now() + this.#delayMs, session, ref });
    this.#timer ??= setTimeout(this.#run, this.#delayMs);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
  }

  readonly #run = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const waiting = queue[this.#head]!;
      if (waiting.at > now) break;
      queue[this.#head++] = undefined;
      try {
        this.#prime(waiting.session, waiting.ref);
      } catch {
        // One stream's trouble must not stop the others' priming, nor escape a timer and end the process.
      }
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    if (this.#head > COMPACT_AFTER) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#timer = setTimeout(this.#run, Math.max(1, this.#queue[this.#head]!.at - now));
  };
}
