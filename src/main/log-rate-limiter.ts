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

  constructor(maxPerWindow = 50, windowMs = 1000) {
    this.#maxPerWindow = maxPerWindow;
    this.#windowMs = windowMs;
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
      return -1;
    }
    this.#count += 1;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
