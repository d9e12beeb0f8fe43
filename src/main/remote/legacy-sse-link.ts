import type { ExitInfo } from '../server-process.js';
import { authHint, type LinkOptions, RemoteLink } from './remote-link.js';
import { readSseMessages } from './sse-events.js';

/**
 * A 2024-11-05 HTTP+SSE backend behind a newline-delimited JSON-RPC link: the GET stream's first event
 * names where to POST (`endpoint`), its `message` events are the server's lines, and each line written is
 * POSTed there. The link ends, as a process exits, when the stream ends or a POST says the session is gone.
 */
export class LegacySseLink extends RemoteLink {
  readonly #options: LinkOptions;
  readonly #endpoint: Promise<URL>;
  /** The stream the transport probe already opened, and what aborts it. */
  readonly #given: { response: Response; abort: AbortController } | undefined;

  constructor(options: LinkOptions, given?: { response: Response; abort: AbortController }) {
    super();
    this.#options = options;
    this.#given = given;
    this.#endpoint = this.#open(given?.response);
    this.#endpoint.catch(() => {});
  }

  protected override end(info: ExitInfo): void {
    this.#given?.abort.abort();
    super.end(info);
  }

  /** Reads the stream: resolves with the POST endpoint, then passes every message on. */
  #open(given?: Response): Promise<URL> {
    return new Promise((resolve, reject) => {
      const run = async () => {
        const response =
          given ??
          (await fetch(this.#options.url, {
            headers: { ...this.#options.headers, accept: 'text/event-stream' },
            signal: this.aborted.signal,
          }));
        if (!response.ok || !response.body)
          throw new Error(
            `GET answered HTTP ${response.status}.${authHint(response.status, this.#options.name)}`,
          );
        for await (const { event, data } of readSseMessages(response.body)) {
          if (event === 'endpoint') resolve(new URL(data, this.#options.url));
          else if (event === 'message') this.#deliverText(data);
        }
        throw new Error('the remote closed its SSE stream');
      };
      run().catch((error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        reject(new Error(why));
        if (!this.aborted.signal.aborted) this.end({ code: null, signal: null, reason: why });
      });
    });
  }

  /** A message event's data: one JSON-RPC message, passed on as a line. */
  #deliverText(data: string): void {
    try {
      this.deliver(JSON.parse(data));
    } catch {
      this.#options.logger.warn({ data: data.slice(0, 200) }, 'the remote sent an event that is not JSON');
    }
  }

  protected async send(line: string): Promise<void> {
    try {
      const endpoint = await this.#endpoint;
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { ...this.#options.headers, 'content-type': 'application/json' },
        body: line,
        signal: this.aborted.signal,
      });
      await response.body?.cancel();
      if (response.status === 404)
        this.end({ code: null, signal: null, reason: 'the remote no longer knows our session (404)' });
    } catch (error) {
      if (!this.aborted.signal.aborted)
        this.end({
          code: null,
          signal: null,
          reason: `cannot reach the remote: ${error instanceof Error ? error.message : String(error)}`,
        });
    }
  }
}
