import type { Logger } from '../../../shared/logger.js';
import type { AggregateCatalog } from '../aggregate-catalog.js';

/** How long after a server (re)starts the lists are compared: servers starting together are seen at once. */
const SETTLE_MS = 300;

/**
 * Says in the log, once each, what several servers offer alike on the aggregated endpoints and which one
 * gets it: after the servers start, and again after any restart (a new version may list new things).
 */
export class ConflictReport {
  readonly #catalog: AggregateCatalog;
  readonly #logger: Logger;
  readonly #reported = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(catalog: AggregateCatalog, logger: Logger) {
    this.#catalog = catalog;
    this.#logger = logger;
  }

  schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#report();
    }, SETTLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #report(): Promise<void> {
    for (const conflict of await this.#catalog.conflicts()) {
      const key = `${conflict.kind}\0${conflict.key}\0${conflict.servers.join('\0')}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#logger.warn(
        conflict,
        `${conflict.servers.join(' and ')} both offer ${conflict.kind} ${conflict.key} on the aggregated endpoints; ${conflict.routedTo} (first in the config) gets its requests`,
      );
    }
  }
}
