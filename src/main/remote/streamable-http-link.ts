import { PassThrough, type Readable, type Writable } from 'node:stream';
import { isObject } from '../../shared/json-rpc.js';
import type { Logger } from '../../shared/logger.js';
import { MetaKey, NAMED_METHODS } from '../../shared/modern-protocol.js';
import type { ExitInfo } from '../server-process.js';
import { lineSink } from './line-sink.js';
import { readSseEvents } from './sse-events.js';

/** What a remote backend looks like to the supervisor: the lines of a stdio process, and its end. */
export interface BackendChannel {
  readonly pid: number | undefined;
  /** JSON-RPC lines from the server. */
  readonly stdout: Readable;
  /** JSON-RPC lines to the server. */
  readonly stdin: Writable;
  readonly exited: Promise<ExitInfo>;
  readonly exitInfo: ExitInfo | undefined;
  stop(): Promise<ExitInfo>;
  kill(): Promise<ExitInfo>;
}

export interface LinkOptions {
  name: string;
  url: URL;
  headers: Record<string, string>;
  logger: Logger;
}

/** A remote that answers this way wants credentials the config does not give it. */
export function authHint(status: number, name: string): string {
  return status === 401 || status === 403
    ? ` The remote wants authorization: set mcpServers.${name}.headers (e.g. "Authorization": "Bearer \${env:TOKEN}"); mcp-runner does not run an OAuth login for remote backends.`
    : '';
}

/**
 * A Streamable HTTP backend behind the same newline-delimited JSON-RPC link a stdio process gives, so the
 * connection, the client and the supervisor work unchanged: each line written is POSTed (with the
 * session id the server gave, and the 2026-07-28 headers for modern requests), and what comes back, a
 * JSON body or an SSE stream, is read out line by line; after the 2025 handshake a GET stream carries the
 * server's own messages. The link ends, as a process exits, when the server forgets the session (404) or
 * cannot be reached: the supervisor then reconnects with its backoff, which makes a new session.
 */
export class StreamableHttpLink implements BackendChannel {
  readonly pid = undefined;
  readonly stdout = new PassThrough();
  readonly stdin: Writable;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  readonly #options: LinkOptions;
  readonly #aborts = new Set<AbortController>();
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  /** The id of our `initialize`: its answer names the protocol version the later requests carry. */
  #initializeId: unknown;
  #end!: (info: ExitInfo) => void;

  constructor(options: LinkOptions) {
    this.#options = options;
    this.exited = new Promise((resolve) => {
      this.#end = (info) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        for (const abort of this.#aborts) abort.abort();
        this.stdout.end();
        resolve(info);
      };
    });
    this.stdin = lineSink((line) => void this.#post(line));
  }

  async #post(line: string): Promise<void> {
    if (this.exitInfo) return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const headers: Record<string, string> = {
      ...this.#options.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...this.#eraHeaders(message),
    };
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      const response = await fetch(this.#options.url, {
        method: 'POST',
        headers,
        body: line,
        signal: abort.signal,
      });
      if (message.method === 'initialize') {
        this.#sessionId = response.headers.get('mcp-session-id') ?? undefined;
        this.#initializeId = message.id;
      }
      await this.#read(response, message);
      if (message.method === 'notifications/initialized' && this.#sessionId) void this.#listen();
    } catch (error) {
      if (!abort.signal.aborted) this.#fail(`cannot reach ${this.#options.url.href}: ${reason(error)}`);
    } finally {
      this.#aborts.delete(abort);
    }
  }

  /** The session (2025) or per-request (2026-07-28) headers a message needs. */
  #eraHeaders(message: Record<string, unknown>): Record<string, string> {
    const params = isObject(message.params) ? message.params : undefined;
    const meta = isObject(params?._meta) ? params._meta : undefined;
    const modern = meta?.[MetaKey.PROTOCOL_VERSION];
    if (typeof modern === 'string' && typeof message.method === 'string') {
      const field = NAMED_METHODS[message.method];
      const name = field ? params?.[field] : undefined;
      return {
        'mcp-protocol-version': modern,
        'mcp-method': message.method,
        ...(typeof name === 'string' ? { 'mcp-name': headerValue(name) } : {}),
      };
    }
    return {
      ...(this.#sessionId ? { 'mcp-session-id': this.#sessionId } : {}),
      ...(this.#protocolVersion ? { 'mcp-protocol-version': this.#protocolVersion } : {}),
    };
  }

  async #read(response: Response, sent: Record<string, unknown>): Promise<void> {
    if (response.status === 202) return;
    const type = response.headers.get('content-type') ?? '';
    if (response.status === 404 && this.#sessionId) {
      this.#fail('the remote no longer knows our session (404)');
      return;
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      // A JSON-RPC error in the body is the answer; anything else becomes one for the request.
      if (type.includes('application/json') && body.includes('"jsonrpc"')) {
        this.#push(body);
        return;
      }
      if ('id' in sent && sent.method !== undefined)
        this.#push(
          JSON.stringify({
            jsonrpc: '2.0',
            id: sent.id,
            error: {
              code: -32603,
              message: `The remote answered HTTP ${response.status}.${authHint(response.status, this.#options.name)}`,
            },
          }),
        );
      return;
    }
    if (type.includes('text/event-stream') && response.body) {
      for await (const data of readSseEvents(response.body)) this.#push(data);
      return;
    }
    const body = await response.text();
    if (body.trim()) this.#push(body);
  }

  /** The session's stream for the server's own messages; a server without one answers 405. */
  async #listen(): Promise<void> {
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      const response = await fetch(this.#options.url, {
        method: 'GET',
        headers: {
          ...this.#options.headers,
          accept: 'text/event-stream',
          'mcp-session-id': this.#sessionId!,
          ...(this.#protocolVersion ? { 'mcp-protocol-version': this.#protocolVersion } : {}),
        },
        signal: abort.signal,
      });
      if (!response.ok || !response.body) return;
      for await (const data of readSseEvents(response.body)) this.#push(data);
    } catch (error) {
      if (!abort.signal.aborted) this.#options.logger.debug({ err: error }, 'remote GET stream ended');
    } finally {
      this.#aborts.delete(abort);
    }
  }

  /** One JSON-RPC message, or a batch, as the lines the connection reads. */
  #push(text: string): void {
    if (this.exitInfo) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.#options.logger.warn({ text: text.slice(0, 200) }, 'the remote sent something that is not JSON');
      return;
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      if (
        isObject(message) &&
        message.id === this.#initializeId &&
        isObject(message.result) &&
        typeof message.result.protocolVersion === 'string'
      )
        this.#protocolVersion = message.result.protocolVersion;
      this.stdout.write(`${JSON.stringify(message)}\n`);
    }
  }

  #fail(why: string): void {
    this.#options.logger.warn({ url: this.#options.url.href }, `remote link ended: ${why}`);
    this.#end({ code: null, signal: null, reason: why });
  }

  async stop(): Promise<ExitInfo> {
    if (!this.exitInfo && this.#sessionId) {
      // Politely end the upstream session; a remote that does not allow DELETE answers 405.
      await fetch(this.#options.url, {
        method: 'DELETE',
        headers: { ...this.#options.headers, 'mcp-session-id': this.#sessionId },
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
    }
    this.#end({ code: 0, signal: null, reason: 'closed' });
    return this.exited;
  }

  kill(): Promise<ExitInfo> {
    this.#end({ code: null, signal: null, reason: 'closed' });
    return this.exited;
  }
}

function reason(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}

/** A name as the `Mcp-Name` header carries it: as is when plain ASCII, else the Base64 sentinel. */
function headerValue(value: string): string {
  return /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !value.startsWith('=?base64?')
    ? value
    : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
