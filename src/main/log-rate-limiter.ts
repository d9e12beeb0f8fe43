/**
 * Lets through at most `maxPerWindow` events per window and counts the rest, so a backend flooding its
 * stderr or stdout cannot flood the gateway's log (or its memory).
 */
export class LogRateLimiter {
  readonly #maxPerWindow: number;
  readonly #windowMs: number;
  #windowStart = 0;
  #count = 0;
  #suppressed = 0;
  readonly #onSuppressed: ((count: number) => void) | undefined;
  #summary: NodeJS.Timeout | undefined;

  /**
   * `onSuppressed` hears of dropped events at the end of the window they were dropped in, unless a later
   * event let through already carried the count: a burst followed by silence is still reported.
   */
  constructor(maxPerWindow = 50, windowMs = 1000, onSuppressed?: (count: number) => void) {
    this.#maxPerWindow = maxPerWindow;
    this.#windowMs = windowMs;
    this.#onSuppressed = onSuppressed;
  }

  /**
   * Returns -1 when the event must be dropped; otherwise the number of events dropped since the last one
   * let through (so the caller can say "N lines suppressed").
   */
  take(now = Date.now()): number {
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#count = 0;
    }
    if (this.#count >= this.#maxPerWindow) {
      this.#suppressed += 1;
      if (this.#onSuppressed && !this.#summary) {
        this.#summary = setTimeout(() => this.#report(), this.#windowStart + this.#windowMs - now + 1);
        this.#summary.unref();
      }
      return -1;
    }
    this.#count += 1;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }

  #report(): void {
    this.#summary = undefined;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    if (suppressed > 0) this.#onSuppressed?.(suppressed);
  }
}
