/**
 * Lets at most `limit` new connections of one origin wait for the server's first byte at a time. A closed
 * loop of N sessions starts with N first calls at once; opened together, 1000 connections overflowed the
 * target's listen backlog (512), and the kernel dropped SYNs that are only retried after 1 s: 1.3 s calls
 * at 1000 sessions. The gate holds until the first byte, not the handshake, which the kernel completes
 * before the server has accepted anything.
 */
export class ConnectGate {
  readonly #limit: number;
  #inside = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Runs `start` now or when a place is free; whoever was let in must call `leave` exactly once. */
  enter(start: () => void): void {
    if (this.#inside < this.#limit) {
      this.#inside += 1;
      start();
    } else this.#waiting.push(start);
  }

  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inside -= 1;
  }
}
