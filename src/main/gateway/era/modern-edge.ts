import { toJsonRpcError } from '../../../shared/error-wire.js';
import { CancelledError } from '../../../shared/errors.js';
import { type ClientMessageFrame, FrameKind, type MainToWorkerFrame } from '../../../shared/frames.js';
import { isObject, type JsonRpcId, RpcErrorCode } from '../../../shared/json-rpc.js';
import type { Logger } from '../../../shared/logger.js';
import { MetaKey } from '../../../shared/modern-protocol.js';
import { ALL_PROTOCOL_VERSIONS } from '../../../shared/protocol-versions.js';
import { ClientSession, type OutletRef } from '../client-session.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { isMcpLoggingLevel } from '../log-levels.js';
import type { RequestDispatcher } from '../request-dispatcher.js';

type Params = Record<string, unknown>;

/** Methods of the 2025 era that 2026-07-28 removed: a modern caller gets 404 and -32601 for them. */
const REMOVED_METHODS = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** Results a client may cache (`CacheableResult`), and for how long. */
const CACHE_TTL_MS: Readonly<Record<string, number>> = {
  // Lists change only on a config reload or a backend's list_changed; a minute bounds staleness for
  // clients that do not listen for changes.
  'tools/list': 60_000,
  'prompts/list': 60_000,
  'resources/list': 60_000,
  'resources/templates/list': 60_000,
  'server/discover': 60_000,
  // A resource's content belongs to its backend, which may change it at any moment.
  'resources/read': 0,
};

export interface ModernEdgeOptions {
  /** Answers are `private` (no shared cache may keep them) when callers must authenticate. */
  authenticated: boolean;
}

/**
 * The main thread's side of the 2026-07-28 edge: a stateless request, already checked by the worker, is
 * turned into the internal shape (a one-request session carrying the caller's version, capabilities and
 * log level from `_meta`) and routed like any other; its answer is written back in the modern shape
 * (`resultType`, cache hints, `serverInfo` in `_meta`, the error codes of 2026-07-28). The router and
 * the backend hub see only the internal shape, so backends of either era serve it.
 */
export class ModernEdge {
  readonly #dispatcher: RequestDispatcher;
  readonly #send: (shard: number, frame: MainToWorkerFrame) => number;
  readonly #end: (session: ClientSession, reason: string) => void;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #cacheScope: 'public' | 'private';
  /** Requests still being answered, by `shard:outlet`: closing one's response stream cancels it. */
  readonly #open = new Map<string, { session: ClientSession; method: string }>();

  constructor(
    dispatcher: RequestDispatcher,
    send: (shard: number, frame: MainToWorkerFrame) => number,
    end: (session: ClientSession, reason: string) => void,
    logger: Logger,
    options: ModernEdgeOptions,
    metrics?: GatewayMetrics,
  ) {
    this.#dispatcher = dispatcher;
    this.#send = send;
    this.#end = end;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#cacheScope = options.authenticated ? 'private' : 'public';
  }

  /** Requests in flight (for shutdown and /status). */
  get openCount(): number {
    return this.#open.size;
  }

  handle(shard: number, frame: ClientMessageFrame, message: Params): void {
    const own: OutletRef = { shard, outlet: frame.outlet };
    const id = message.id as JsonRpcId;
    const method = message.method as string;
    const params = isObject(message.params) ? message.params : undefined;
    if (REMOVED_METHODS.has(method)) {
      this.#reply(own, 404, id, {
        code: RpcErrorCode.METHOD_NOT_FOUND,
        message: `Method not found: ${method} is not part of protocol 2026-07-28`,
      });
      return;
    }
    const session = this.#session(frame.target, params);
    if (method === 'server/discover') {
      this.#answer(own, id, method, session.target, this.#discover(session.target));
      return;
    }
    const key = `${shard}:${frame.outlet}`;
    const entry = { session, method };
    this.#open.set(key, entry);
    let result: unknown;
    try {
      result = this.#dispatcher.handle(
        { session, id, relatedTo: frame.sseOk ? own : undefined },
        method,
        withoutModernMeta(params),
      );
    } catch (error) {
      this.#open.delete(key);
      this.#fail(own, id, method, error);
      return;
    }
    const settle = (value: unknown) => {
      if (this.#open.get(key) !== entry) return; // cancelled: the client is gone
      this.#open.delete(key);
      this.#answer(own, id, method, session.target, value);
    };
    const reject = (error: unknown) => {
      if (this.#open.get(key) !== entry) return;
      this.#open.delete(key);
      this.#fail(own, id, method, error);
    };
    if (result instanceof Promise) result.then(settle, reject);
    else settle(result);
  }

  /** The worker says a request's response stream closed: if it was still being answered, that cancels it. */
  outletClosed(shard: number, outlet: number): void {
    const key = `${shard}:${outlet}`;
    const entry = this.#open.get(key);
    if (!entry) return;
    this.#open.delete(key);
    this.#metrics?.request(entry.method, 'cancelled');
    this.#end(entry.session, 'the client closed the response stream');
  }

  #session(target: string, params: Params | undefined): ClientSession {
    const session = new ClientSession('', 'streamable', target, true);
    session.era = 'modern';
    const meta = isObject(params?._meta) ? params._meta : {};
    session.protocolVersion = meta[MetaKey.PROTOCOL_VERSION] as string;
    const capabilities = meta[MetaKey.CLIENT_CAPABILITIES];
    if (isObject(capabilities)) session.clientCapabilities = capabilities;
    const level = meta[MetaKey.LOG_LEVEL];
    if (isMcpLoggingLevel(level)) session.logLevel = level;
    session.initialized = true;
    return session;
  }

  /** `server/discover`: what the endpoint offers, from the backend's own description or the union. */
  #discover(target: string): Params {
    const { capabilities, serverInfo: _serverInfo, instructions } = this.#dispatcher.describe(target);
    return {
      supportedVersions: [...ALL_PROTOCOL_VERSIONS],
      capabilities: modernCapabilities(capabilities),
      ...(instructions ? { instructions } : {}),
    };
  }

  #answer(own: OutletRef, id: JsonRpcId, method: string, target: string, value: unknown): void {
    this.#metrics?.request(method, 'ok');
    const result: Params = isObject(value) ? { ...value } : {};
    result.resultType ??= 'complete';
    const ttl = CACHE_TTL_MS[method];
    if (ttl !== undefined) {
      result.ttlMs ??= ttl;
      result.cacheScope ??= this.#cacheScope;
    }
    const { serverInfo } = this.#describeSafely(target);
    result._meta = { ...(isObject(result._meta) ? result._meta : {}), [MetaKey.SERVER_INFO]: serverInfo };
    this.#deliver(own, { jsonrpc: '2.0', id, result });
  }

  #describeSafely(target: string): { serverInfo: Params } {
    try {
      return this.#dispatcher.describe(target);
    } catch {
      // The backend went away after answering: name the gateway rather than fail a good answer.
      return this.#dispatcher.describe('');
    }
  }

  #fail(own: OutletRef, id: JsonRpcId, method: string, error: unknown): void {
    if (error instanceof CancelledError) return;
    this.#metrics?.request(method, 'error');
    const wire = toJsonRpcError(error);
    // 2026-07-28 moved resource-not-found to Invalid Params.
    if (wire.code === RpcErrorCode.RESOURCE_NOT_FOUND) wire.code = RpcErrorCode.INVALID_PARAMS;
    if (wire.code === RpcErrorCode.METHOD_NOT_FOUND) {
      this.#reply(own, 404, id, wire);
      return;
    }
    this.#logger.debug({ method, requestId: id, err: error }, 'modern request failed');
    this.#deliver(own, { jsonrpc: '2.0', id, error: wire });
  }

  #deliver(own: OutletRef, message: Params): void {
    this.#send(own.shard, {
      k: FrameKind.DELIVER,
      outlet: own.outlet,
      json: JSON.stringify(message),
      final: true,
    });
  }

  #reply(own: OutletRef, status: number, id: JsonRpcId, error: { code: number; message: string }): void {
    this.#send(own.shard, {
      k: FrameKind.REPLY,
      outlet: own.outlet,
      status,
      body: { jsonrpc: '2.0', id, error },
    });
  }
}

/** `params` for the backend: the caller's era metadata stays here (a 2025 backend must not see it). */
function withoutModernMeta(params: Params | undefined): Params | undefined {
  if (!params || !isObject(params._meta)) return params;
  const meta: Params = {};
  for (const [key, value] of Object.entries(params._meta))
    if (!key.startsWith('io.modelcontextprotocol/')) meta[key] = value;
  const { _meta: _dropped, ...rest } = params;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}

/**
 * Capabilities as a 2026-07-28 caller may use them: list-change and resource-subscription flags promise
 * `subscriptions/listen`, which this gateway does not serve to modern callers yet.
 */
function modernCapabilities(capabilities: Params): Params {
  const out: Params = { ...capabilities };
  for (const kind of ['tools', 'prompts', 'resources']) {
    const entry = out[kind];
    if (!isObject(entry)) continue;
    const { listChanged: _listChanged, subscribe: _subscribe, ...rest } = entry;
    out[kind] = rest;
  }
  return out;
}
