import { CORS_EXPOSE_HEADERS } from '../http-guard.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Status lines made once: every answer writes one. */
const STATUS_LINES = new Map(
  Object.entries(STATUS_TEXT).map(([code, text]) => [Number(code), `${code} ${text}`]),
);

export function statusLine(status: number): string {
  return STATUS_LINES.get(status) ?? `${status} Status`;
}

/** The request facts a handler needs, copied out when the request arrives (uWS frees it after its callback). */
export interface RequestInfo {
  method: string;
  path: string;
  /** The query string as sent, without `?`; parsed only where a route reads it. */
  rawQuery: string;
  authorization: string;
  origin: string;
  host: string;
  contentType: string;
  accept: string;
  sessionId: string;
  protocolVersion: string;
  lastEventId: string;
  /** 2026-07-28's mirrored request headers: the body's `method`, and its `params.name` or `params.uri`. */
  mcpMethod: string;
  mcpName: string;
  /** `Mcp-Param-{Name}` headers of a `tools/call` (lower-cased `name`), when it has any. */
  mcpParams?: Record<string, string>;
  contentLength: number | undefined;
}

/** 2026-07-28's headers mirrored from tool parameters (`x-mcp-header`), lower-cased as both engines give names. */
const MCP_PARAM_PREFIX = 'mcp-param-';

/** Keeps a header if it is an `Mcp-Param-{Name}` one (`name` lower-cased), by `Name`. */
export function noteMcpParam(info: RequestInfo, name: string, value: string): void {
  if (!name.startsWith(MCP_PARAM_PREFIX)) return;
  info.mcpParams ??= {};
  info.mcpParams[name.slice(MCP_PARAM_PREFIX.length)] = value;
}

/** Header lines of an answer; names may repeat. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * One HTTP request/response pair: the engine boundary's only per-request type. The routes, streams and
 * guards above it use this class and nothing of the engine; each engine (`uws-engine.ts`,
 * `node-engine.ts`) implements the abstract primitives below over its own response object.
 *
 * The primitives follow uWS's model, the stricter of the two: the status line and headers are
 * written before the body and leave with its first bytes; `write` says false when the socket pushed
 * back, and `onWritable` is called once it drained; after the client went away (`onAbort`) nothing may
 * be written. This class adds what every answer needs: abort bookkeeping, one-shot answers, and the CORS
 * headers for a permitted browser origin.
 */
export abstract class HttpExchange {
  readonly info: RequestInfo;
  /** The client went away: the response must not be touched from now on. */
  aborted = false;
  /** We answered, or handed the response to a stream: the one-shot helpers below are spent. */
  responded = false;
  #onAbort: Array<() => void> = [];

  constructor(info: RequestInfo) {
    this.info = info;
  }

  /** Runs `writes` as one burst: whatever they write leaves in as few syscalls as the engine can. */
  abstract cork(writes: () => void): void;
  /** Starts the answer. `line` is a status line such as `200 OK` (see {@link statusLine}). */
  abstract writeStatus(line: string): void;
  abstract writeHeader(name: string, value: string): void;
  /** Writes body bytes (the head goes with the first); false when the socket pushed back. */
  abstract write(chunk: string): boolean;
  /** Ends the answer after `body`; a complete answer written in one go gets a Content-Length. */
  abstract end(body?: string): void;
  /** Ends an answer that must carry no body at all (HEAD). */
  abstract endWithoutBody(): void;
  /** Drops the connection at once; the abort listeners run. */
  abstract close(): void;
  /**
   * Body chunks as they arrive. A chunk is lent for the duration of the call only (uWS reuses its
   * memory): copy what must outlive it. The last chunk has `isLast` (it may be empty).
   */
  abstract onData(handler: (chunk: Uint8Array, isLast: boolean) => void): void;
  /** Called when the socket drained after `write` returned false. */
  abstract onWritable(handler: () => boolean): void;

  /** The engine calls this once when the client goes away before the answer has ended. */
  protected clientLeft(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.#onAbort;
    this.#onAbort = [];
    for (const listener of listeners) listener();
  }

  /** True while a one-shot answer can still be sent. */
  get open(): boolean {
    return !this.aborted && !this.responded;
  }

  onAbort(listener: () => void): void {
    if (this.aborted) return;
    this.#onAbort.push(listener);
  }

  /** Header lines common to every answer: CORS for browser clients whose Origin was accepted. */
  writeCommonHeaders(): void {
    if (this.info.origin) {
      this.writeHeader('Access-Control-Allow-Origin', this.info.origin);
      this.writeHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
      this.writeHeader('Vary', 'Origin');
    }
  }

  /** Writes a complete answer and ends the response. `headers` may repeat names. */
  send(status: number, body: string, contentType?: string, headers: HeaderList = []): void {
    if (!this.open) return;
    this.responded = true;
    this.#onAbort = [];
    this.cork(() => {
      this.writeStatus(statusLine(status));
      this.writeCommonHeaders();
      if (contentType && body.length > 0) this.writeHeader('Content-Type', contentType);
      for (const [name, value] of headers) this.writeHeader(name, value);
      this.end(body);
    });
  }

  sendJson(status: number, body: unknown, headers: HeaderList = []): void {
    this.send(status, JSON.stringify(body), 'application/json', headers);
  }

  /** A JSON-RPC error as the body of an HTTP error status (id null: the request could not be read). */
  sendRpcError(status: number, code: number, message: string, headers: HeaderList = []): void {
    this.sendJson(status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
  }
}
