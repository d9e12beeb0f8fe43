import { PassThrough, type Writable } from 'node:stream';
import type { ExitInfo } from '../server-process.js';
import { lineSink } from './line-sink.js';
import { readSseMessages } from './sse-events.js';
import { authHint, type BackendChannel, type LinkOptions } from './streamable-http-link.js';

/**
 * A 2024-11-05 HTTP+SSE backend behind a newline-delimited JSON-RPC link: the GET stream's first event
 * names where to POST (`endpoint`), its `message` events are the server's lines, and each line written is
 * POSTed there. The link ends, as a process exits, when the stream ends or a POST says the session is gone.
 */
export class LegacySseLink implements BackendChannel {
  readonly pid = undefined;
  readonly stdout = new PassThrough();
  readonly stdin: Writable;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  readonly #options: LinkOptions;
  readonly #abort = new AbortController();
  #endpoint: Promise<URL>;
  #end!: (info: ExitInfo) => void;

  constructor(options: LinkOptions, stream?: Response) {
    this.#options = options;
    this.exited = new Promise((resolve) => {
      this.#end = (info) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        this.#abort.abort();
        this.stdout.end();
        resolve(info);
      };
    });
    this.#endpoint = this.#open(stream);
    this.#endpoint.catch(() => {});
    this.stdin = lineSink((line) => void this.#post(line));
  }

  /** Reads the stream: resolves with the POST endpoint, then passes every message on. */
  #open(given?: Response): Promise<URL> {
    return new Promise((resolve, reject) => {
      const run = async () => {
        const response =
          given ??
          (await fetch(this.#options.url, {
            headers: { ...this.#options.headers, accept: 'text/event-stream' },
            signal: this.#abort.signal,
          }));
        if (!response.ok || !response.body)
          throw new Error(
            `GET answered HTTP ${response.status}.${authHint(response.status, this.#options.name)}`,
          );
        for await (const { event, data } of readSseMessages(response.body)) {
          if (event === 'endpoint') resolve(new URL(data, this.#options.url));
          else if (event === 'message') this.stdout.write(`${data.replace(/\n/g, '')}\n`);
        }
        throw new Error('the remote closed its SSE stream');
      };
      run().catch((error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        reject(new Error(why));
        if (!this.#abort.signal.aborted) this.#end({ code: null, signal: null, reason: why });
      });
    });
  }

  async #post(line: string): Promise<void> {
    try {
      const endpoint = await this.#endpoint;
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { ...this.#options.headers, 'content-type': 'application/json' },
        body: line,
        signal: this.#abort.signal,
      });
      await response.body?.cancel();
      if (response.status === 404)
        this.#end({ code: null, signal: null, reason: 'the remote no longer knows our session (404)' });
    } catch (error) {
      if (!this.#abort.signal.aborted)
        this.#end({
          code: null,
          signal: null,
          reason: `cannot reach the remote: ${error instanceof Error ? error.message : String(error)}`,
        });
    }
  }

  stop(): Promise<ExitInfo> {
    this.#end({ code: 0, signal: null, reason: 'closed' });
    return this.exited;
  }

  kill(): Promise<ExitInfo> {
    return this.stop();
  }
}
