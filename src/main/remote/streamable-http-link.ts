import { isObject } from '../../shared/json-rpc.js';
import { MetaKey, NAMED_METHODS } from '../../shared/modern-protocol.js';
import type { ExitInfo } from '../server-process.js';
import { authHint, type LinkOptions, RemoteLink } from './remote-link.js';
import { readSseEvents } from './sse-events.js';

/**
 * A Streamable HTTP backend behind the same newline-delimited JSON-RPC link a stdio process gives, so the
 * connection, the client and the supervisor work unchanged: each line written is POSTed (with the
 * session id the server gave, and the 2026-07-28 headers for modern requests), and what comes back, a
 * JSON body or an SSE stream, is read out line by line; after the 2025 handshake a GET stream carries the
 * server's own messages. The link ends, as a process exits, when the server forgets the session (404) or
 * cannot be reached: the supervisor then reconnects with its backoff, which makes a new session.
 */
export class StreamableHttpLink extends RemoteLink {
  readonly #options: LinkOptions;
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  /** The id of our `initialize`: its answer names the protocol version the later requests carry. */
  #initializeId: unknown;

  constructor(options: LinkOptions) {
    super();
    this.#options = options;
  }

  protected async send(line: string): Promise<void> {
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
    try {
      const response = await fetch(this.#options.url, {
        method: 'POST',
        headers,
        body: line,
        signal: this.aborted.signal,
      });
      if (message.method === 'initialize') {
        this.#sessionId = response.headers.get('mcp-session-id') ?? undefined;
        this.#initializeId = message.id;
      }
      await this.#read(response, message);
      if (message.method === 'notifications/initialized' && this.#sessionId) void this.#listen();
    } catch (error) {
      if (!this.aborted.signal.aborted)
        this.#fail(`cannot reach ${this.#options.url.href}: ${reason(error)}`);
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
    try {
      const response = await fetch(this.#options.url, {
        method: 'GET',
        headers: {
          ...this.#options.headers,
          accept: 'text/event-stream',
          'mcp-session-id': this.#sessionId!,
          ...(this.#protocolVersion ? { 'mcp-protocol-version': this.#protocolVersion } : {}),
        },
        signal: this.aborted.signal,
      });
      if (!response.ok || !response.body) return;
      for await (const data of readSseEvents(response.body)) this.#push(data);
    } catch (error) {
      if (!this.aborted.signal.aborted) this.#options.logger.debug({ err: error }, 'remote GET stream ended');
    }
  }

  /** One JSON-RPC message, or a batch, as the lines the connection reads. */
  #push(text: string): void {
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
      this.deliver(message);
    }
  }

  #fail(why: string): void {
    this.#options.logger.warn({ url: this.#options.url.href }, `remote link ended: ${why}`);
    this.end({ code: null, signal: null, reason: why });
  }

  override async stop(): Promise<ExitInfo> {
    if (!this.exitInfo && this.#sessionId) {
      // Politely end the upstream session; a remote that does not allow DELETE answers 405.
      await fetch(this.#options.url, {
        method: 'DELETE',
        headers: { ...this.#options.headers, 'mcp-session-id': this.#sessionId },
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
    }
    return super.stop();
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
