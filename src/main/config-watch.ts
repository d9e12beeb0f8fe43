import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../shared/logger.js';
import { loadConfigFile } from './config/load-config.js';
import type { McpRunner } from './mcp-runner.js';

/** Editors write a file in bursts (truncate, write, rename): one reload for a burst. */
const SETTLE_MS = 250;

/**
 * Hot reload for the CLI: the config file is watched (its directory, since editors replace the file) and
 * `SIGHUP` asks too. A new file is validated first: an invalid one is logged with why and changes
 * nothing; a valid one is applied by `McpRunner.reload`. Reloads run one at a time.
 */
export class ConfigWatch {
  readonly #path: string;
  readonly #runner: McpRunner;
  readonly #logger: Logger;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  readonly #onHangup = () => this.reload('SIGHUP');

  constructor(path: string, runner: McpRunner, logger: Logger) {
    this.#path = resolve(path);
    this.#runner = runner;
    this.#logger = logger.child({ component: 'config-reload' });
  }

  start(): void {
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), (_event, file) => {
        if (file !== null && file !== name) return;
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.reload('the file changed'), SETTLE_MS);
      });
      this.#watcher.on('error', (error) => this.#logger.warn({ err: error }, 'config file watch failed'));
    } catch (error) {
      this.#logger.warn({ err: error }, 'cannot watch the config file; SIGHUP still reloads it');
    }
    process.on('SIGHUP', this.#onHangup);
  }

  stop(): void {
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    process.off('SIGHUP', this.#onHangup);
  }

  /** Validates and applies the file; resolves when done (whatever the outcome, which is logged). */
  reload(why: string): Promise<void> {
    this.#queue = this.#queue.then(() => this.#reload(why));
    return this.#queue;
  }

  async #reload(why: string): Promise<void> {
    let next: Awaited<ReturnType<typeof loadConfigFile>>;
    try {
      next = await loadConfigFile(this.#path);
    } catch (error) {
      this.#logger.error(
        { err: error, why },
        `config reload refused, still running on the previous config: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    try {
      const report = await this.#runner.reload(next);
      if (report.needsRestart.length > 0)
        this.#logger.warn(
          { keys: report.needsRestart },
          `config reloaded, but sseProxy.${report.needsRestart.join(', sseProxy.')} change only with a restart`,
        );
      for (const { name, error } of report.failed)
        this.#logger.error({ server: name, err: error }, 'a server of the new config did not start');
    } catch (error) {
      this.#logger.error({ err: error, why }, 'config reload failed');
    }
  }
}
