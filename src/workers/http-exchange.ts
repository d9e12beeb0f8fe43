import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { CORS_EXPOSE_HEADERS } from './http-guard.js';

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

/** The request facts a handler needs, copied out synchronously (uWS frees the request after the callback). */
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
  contentLength: number | undefined;
}

export function readRequest(req: HttpRequest): RequestInfo {
  const length = req.getHeader('content-length');
  return {
    method: req.getCaseSensitiveMethod().toUpperCase(),
    path: req.getUrl(),
    rawQuery: req.getQuery() ?? '',
    authorization: req.getHeader('authorization'),
    origin: req.getHeader('origin'),
    host: req.getHeader('host'),
    contentType: req.getHeader('content-type'),
    accept: req.getHeader('accept'),
    sessionId: req.getHeader('mcp-session-id'),
    protocolVersion: req.getHeader('mcp-protocol-version'),
    lastEventId: req.getHeader('last-event-id'),
    contentLength: length ? Number(length) : undefined,
  };
}

/**
 * One HTTP request/response pair. Tracks whether the client went away (after which uWS forbids touching
 * the response), corks every write (one syscall per burst, and uWS requires it outside its callbacks),
 * and adds the CORS headers every answer to a permitted browser origin needs.
 */
export class HttpExchange {
  readonly res: HttpResponse;
  readonly info: RequestInfo;
  /** The client went away: uWS forbids touching the response from now on. */
  aborted = false;
  /** We answered, or handed the response to a stream: the one-shot helpers below are spent. */
  responded = false;
  #onAbort: Array<() => void> = [];

  constructor(res: HttpResponse, info: RequestInfo) {
    this.res = res;
    this.info = info;
    res.onAborted(() => {
      this.aborted = true;
      const listeners = this.#onAbort;
      this.#onAbort = [];
      for (const listener of listeners) listener();
    });
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
      this.res.writeHeader('Access-Control-Allow-Origin', this.info.origin);
      this.res.writeHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
      this.res.writeHeader('Vary', 'Origin');
    }
  }

  /** Writes a complete answer and ends the response. `headers` may repeat names. */
  send(
    status: number,
    body: string,
    contentType?: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ): void {
    if (!this.open) return;
    this.responded = true;
    this.#onAbort = [];
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.writeCommonHeaders();
      if (contentType && body.length > 0) this.res.writeHeader('Content-Type', contentType);
      for (const [name, value] of headers) this.res.writeHeader(name, value);
      this.res.end(body);
    });
  }

  sendJson(status: number, body: unknown, headers: ReadonlyArray<readonly [string, string]> = []): void {
    this.send(status, JSON.stringify(body), 'application/json', headers);
  }

  /** A JSON-RPC error as the body of an HTTP error status (id null: the request could not be read). */
  sendRpcError(
    status: number,
    code: number,
    message: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ): void {
    this.sendJson(status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
  }
}
