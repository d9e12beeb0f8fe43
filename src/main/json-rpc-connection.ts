import type { Readable, Writable } from 'node:stream';
import {
  CancelledError,
  ConnectionClosedError,
  JsonRpcError,
  MessageTooLargeError,
  RequestTimeoutError,
  SerializationError,
} from '../shared/errors.js';
import {
  isNotification,
  isObject,
  isRequest,
  isResponse,
  type JsonRpcId,
  type JsonRpcNotification,
  type JsonRpcRequest,
  RpcErrorCode,
} from '../shared/json-rpc.js';
import type { Logger } from '../shared/logger.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './line-framer.js';
import { LogRateLimiter } from './log-rate-limiter.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** The two ends of a newline-delimited JSON-RPC link: for a child process, its stdout and stdin. */
export interface JsonRpcEndpoints {
  readable: Readable;
  writable: Writable;
}

export interface ProgressParams {
  progressToken: string | number;
  progress: number;
  total?: number;
  message?: string;
}

export interface RequestOptions {
  /** Milliseconds to wait for the answer before cancelling; defaults to the connection's. */
  timeoutMs?: number;
  /** Restart the timeout whenever progress for this request arrives. */
  resetTimeoutOnProgress?: boolean;
  /** Hard cap even while progress keeps arriving. */
  maxTotalTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Receives a function that cancels this request (as `signal` does, without an AbortController and its
   * listeners per request, which add up when a gateway has thousands in flight).
   */
  onCancelHandle?: (cancel: (error: Error) => void) => void;
  /** Receives `notifications/progress` for this request; asking for it adds a progress token. */
  onProgress?: (progress: ProgressParams) => void;
  /** Receives the request's JSON-RPC id (a `subscriptions/listen` is known by it). */
  onId?: (id: number) => void;
  /**
   * A long-lived request that is not work in flight (a `subscriptions/listen`): no timeout, and not in
   * `pendingCount`, so it neither makes its process look busy nor shows as in flight.
   */
  background?: boolean;
}

/** Answers a request the other side sent us; throw a JsonRpcError to answer with an error. */
export type IncomingRequestHandler = (request: JsonRpcRequest) => unknown | Promise<unknown>;

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  timeoutMs: number;
  startedAt: number;
  options: RequestOptions;
  onAbort: (() => void) | undefined;
}

export interface JsonRpcConnectionOptions {
  /** Used in error messages and logs (the server's name). */
  name: string;
  logger: Logger;
  maxMessageBytes?: number;
  defaultTimeoutMs?: number;
  /**
   * Called instead of closing when the readable side ends. An owner that knows more (a process that is
   * about to report its exit code) can close with a better reason, and must close soon.
   */
  onReadableEnd?: (reason: Error) => void;
}

/**
 * A JSON-RPC 2.0 peer over newline-delimited JSON: many requests in flight matched by id, per-request
 * timeouts that tell the other side with `notifications/cancelled`, progress routing, and incoming
 * requests and notifications handed to the owner. When the link closes every waiting request is
 * rejected at once, so nothing hangs on a dead process.
 */
export class JsonRpcConnection {
  readonly #endpoints: JsonRpcEndpoints;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #defaultTimeoutMs: number;
  readonly #framer: LineFramer;
  readonly #pending = new Map<number, Pending>();
  readonly #noiseLimiter = new LogRateLimiter(20, 1000, (suppressed) =>
    this.#logger.warn(
      { server: this.#name, suppressed },
      `${suppressed} more non-JSON-RPC lines on stdout dropped`,
    ),
  );
  #nextId = 1;
  /** How many of the pending requests are `background` ones. */
  #background = 0;
  #closed: Error | undefined;

  /** Notifications from the other side (progress for our own requests is routed before this). */
  onnotification: ((message: JsonRpcNotification) => void) | undefined;
  /** Requests from the other side; unset means every such request is answered "method not found". */
  onrequest: IncomingRequestHandler | undefined;
  /** Called once, with the reason, when the connection closes. */
  onclose: ((reason: Error) => void) | undefined;
  /** Lines waiting for the end of this event-loop turn (see #flush). */
  #outbox: string[] = [];

  constructor(endpoints: JsonRpcEndpoints, options: JsonRpcConnectionOptions) {
    this.#endpoints = endpoints;
    this.#name = options.name;
    this.#logger = options.logger;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#framer = new LineFramer(
      {
        onLine: (line) => this.#onLine(line),
        onOversize: (bytes) =>
          this.#logger.warn(
            { server: this.#name, bytes },
            new MessageTooLargeError(maxBytes, 'stdout line').message,
          ),
      },
      maxBytes,
    );
    endpoints.readable.on('data', (chunk: Buffer) => this.#framer.push(chunk));
    endpoints.readable.on('end', () => {
      const closedStdout = new ConnectionClosedError(`Server "${this.#name}" closed its stdout.`);
      if (options.onReadableEnd) options.onReadableEnd(closedStdout);
      else this.close(closedStdout);
    });
    endpoints.readable.on('error', (error) =>
      this.close(
        new ConnectionClosedError(`Reading from server "${this.#name}" failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    endpoints.writable.on('error', (error) =>
      this.close(
        new ConnectionClosedError(`Writing to server "${this.#name}" failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Requests sent and not yet answered. */
  get pendingCount(): number {
    return this.#pending.size - this.#background;
  }

  request<T = unknown>(
    method: string,
    params?: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (options.signal?.aborted) return Promise.reject(new CancelledError());
    const id = this.#nextId++;
    let outgoing = params;
    if (options.onProgress) {
      // The request id doubles as the progress token: unique on this connection by construction.
      const meta = isObject(params?._meta) ? params._meta : {};
      outgoing = { ...params, _meta: { ...meta, progressToken: id } };
    }
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
      const entry: Pending = {
        method,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
        timeoutMs,
        startedAt: Date.now(),
        options,
        onAbort: undefined,
      };
      this.#pending.set(id, entry);
      if (options.background) this.#background++;
      else this.#armTimer(id, entry, timeoutMs);
      options.onId?.(id);
      if (options.signal) {
        entry.onAbort = () =>
          this.#cancel(id, new CancelledError(`Request "${method}" was cancelled by the caller.`));
        options.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      options.onCancelHandle?.((error) => this.#cancel(id, error));
      try {
        this.#write({ jsonrpc: '2.0', id, method, ...(outgoing === undefined ? {} : { params: outgoing }) });
      } catch (error) {
        this.#settle(id);
        reject(error as Error);
      }
    });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Rejects every waiting request with `reason` and stops reading. Idempotent. */
  close(reason: Error = new ConnectionClosedError(`Connection to server "${this.#name}" was closed.`)): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#framer.reset();
    const pending = [...this.#pending.keys()];
    for (const id of pending) this.#settle(id)?.reject(reason);
    this.onclose?.(reason);
  }

  #armTimer(id: number, entry: Pending, ms: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(
      () => this.#cancel(id, new RequestTimeoutError(entry.method, entry.timeoutMs, this.#name)),
      ms,
    );
    // A pending request must not keep the process alive on its own.
    entry.timer.unref();
  }

  #cancel(id: number, error: Error): void {
    const entry = this.#settle(id);
    if (!entry) return;
    this.notify('notifications/cancelled', { requestId: id, reason: error.message });
    entry.reject(error);
  }

  #settle(id: number): Pending | undefined {
    const entry = this.#pending.get(id);
    if (!entry) return undefined;
    this.#pending.delete(id);
    if (entry.options.background) this.#background--;
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.onAbort) entry.options.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }

  #write(message: object): void {
    let line: string;
    try {
      line = `${JSON.stringify(message)}\n`;
    } catch (error) {
      throw new SerializationError(
        `Could not serialise a message for server "${this.#name}": ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    this.#outbox.push(line);
    if (this.#outbox.length === 1) setImmediate(this.#flush);
  }

  /**
   * Writes everything queued in this turn of the event loop as one chunk: under load many sessions'
   * requests arrive per turn, and one write instead of one per message saves a syscall each.
   */
  readonly #flush = (): void => {
    const lines = this.#outbox;
    if (lines.length === 0) return;
    this.#outbox = [];
    const writable = this.#endpoints.writable;
    if (writable.writableEnded || writable.destroyed) return;
    writable.write(lines.length === 1 ? lines[0]! : lines.join(''));
  };

  #onLine(line: Buffer): void {
    // Every JSON-RPC message is an object. Garbage is told apart by its first byte, before the string
    // copy and a throwing JSON.parse: a backend flooding stdout costs the main thread 8x less this way.
    let first = 0;
    while (first < line.length && (line[first] === 0x20 || line[first] === 0x09 || line[first] === 0x0d))
      first += 1;
    if (line[first] !== 0x7b) {
      this.#noise(line);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(line.toString('utf8'));
    } catch {
      this.#noise(line);
      return;
    }
    if (!isObject(message) || message.jsonrpc !== '2.0') {
      this.#noise(line);
      return;
    }
    if (isResponse(message)) this.#onResponse(message);
    else if (isRequest(message)) void this.#onRequest(message);
    else if (isNotification(message)) this.#onNotification(message);
    else this.#noise(line);
  }

  #noise(line: Buffer): void {
    const suppressed = this.#noiseLimiter.take();
    if (suppressed < 0) return;
    const text = line.length > 200 ? `${line.subarray(0, 200).toString('utf8')}…` : line.toString('utf8');
    this.#logger.warn(
      { server: this.#name, suppressed, bytes: line.length },
      `non-JSON-RPC line on stdout: ${text}`,
    );
  }

  #onResponse(message: Record<string, unknown>): void {
    const id = message.id;
    const entry = typeof id === 'number' ? this.#settle(id) : undefined;
    if (!entry) {
      this.#logger.debug({ server: this.#name, id }, 'response to an unknown request id dropped');
      return;
    }
    if ('error' in message) {
      const error = isObject(message.error) ? message.error : {};
      const code = typeof error.code === 'number' ? error.code : RpcErrorCode.INTERNAL_ERROR;
      const text = typeof error.message === 'string' ? error.message : 'Unknown error';
      entry.reject(new JsonRpcError(code, text, error.data));
    } else {
      entry.resolve(message.result);
    }
  }

  #onNotification(message: JsonRpcNotification): void {
    if (message.method === 'notifications/progress' && isObject(message.params)) {
      const token = message.params.progressToken;
      const entry = typeof token === 'number' ? this.#pending.get(token) : undefined;
      if (entry?.options.onProgress) {
        if (entry.options.resetTimeoutOnProgress) {
          const elapsed = Date.now() - entry.startedAt;
          const cap = entry.options.maxTotalTimeoutMs;
          if (cap !== undefined && elapsed >= cap) {
            this.#cancel(token as number, new RequestTimeoutError(entry.method, cap, this.#name));
            return;
          }
          const next = cap === undefined ? entry.timeoutMs : Math.min(entry.timeoutMs, cap - elapsed);
          this.#armTimer(token as number, entry, next);
        }
        entry.options.onProgress(message.params as unknown as ProgressParams);
        return;
      }
    }
    this.onnotification?.(message);
  }

  async #onRequest(message: JsonRpcRequest): Promise<void> {
    const handler = this.onrequest;
    try {
      if (!handler)
        throw new JsonRpcError(RpcErrorCode.METHOD_NOT_FOUND, `Method not found: ${message.method}`);
      const result = await handler(message);
      this.#write({ jsonrpc: '2.0', id: message.id, result: result ?? {} });
    } catch (error) {
      // The other side cancelled this request: it expects no answer.
      if (error instanceof CancelledError) return;
      const rpc =
        error instanceof JsonRpcError
          ? error
          : new JsonRpcError(
              RpcErrorCode.INTERNAL_ERROR,
              error instanceof Error ? error.message : String(error),
            );
      if (this.#closed) return;
      const body =
        rpc.data === undefined
          ? { code: rpc.rpcCode, message: rpc.message }
          : { code: rpc.rpcCode, message: rpc.message, data: rpc.data };
      this.#write({ jsonrpc: '2.0', id: message.id as JsonRpcId, error: body });
    }
  }
}
