import { randomBytes } from 'node:crypto';
import { toJsonRpcError } from '../../../shared/error-wire.js';
import { CancelledError } from '../../../shared/errors.js';
import { type ClientMessageFrame, FrameKind, type MainToWorkerFrame } from '../../../shared/frames.js';
import { isObject, type JsonRpcId, RpcErrorCode } from '../../../shared/json-rpc.js';
import type { Logger } from '../../../shared/logger.js';
import { isMcpLoggingLevel } from '../../../shared/mcp-log-levels.js';
import { MetaKey, ModernErrorCode } from '../../../shared/modern-protocol.js';
import { ClientSession, type OutletRef } from '../client-session.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { RequestDispatcher } from '../request-dispatcher.js';
import { InputRequiredBridge, type ModernCall } from './input-required-bridge.js';
import { ListenStream, readListenFilter } from './listen-stream.js';
import {
  discoverResult,
  modernError,
  modernResult,
  REMOVED_METHODS,
  withoutModernMeta,
} from './modern-result.js';
import { paramHeaderMismatch, paramHeadersOf } from './param-headers.js';

type Params = Record<string, unknown>;

/** What the edge needs of the router: ending a session, keeping a listener's, writing to it. */
export interface ModernSessions {
  end(session: ClientSession, reason: string): void;
  /** False at maxSessions. */
  register(session: ClientSession): boolean;
  send(session: ClientSession, message: Params): void;
  /** A client's answer to a backend's request (the hub's answerServerRequest). */
  answer(session: ClientSession, message: Params): void;
}

export interface ModernEdgeOptions {
  /** Answers are `private` (no shared cache may keep them) when callers must authenticate. */
  authenticated: boolean;
  /** How long a call waits for its caller's input (see InputRequiredBridge). */
  inputRequiredTimeoutMs?: number;
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
  readonly #sessions: ModernSessions;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #cacheScope: 'public' | 'private';
  /** Calls by the HTTP request now waiting for them (`shard:outlet`): closing it cancels the call. */
  readonly #open = new Map<string, ModernCall>();
  /** Calls by their session, for the backend requests the hub hands over. */
  readonly #calls = new Map<ClientSession, ModernCall>();
  readonly #bridge: InputRequiredBridge;
  #nextCall = 1;
  /** Open `subscriptions/listen` streams, by `shard:outlet`: closing one ends its subscriptions. */
  readonly #listening = new Map<string, ClientSession>();

  constructor(
    dispatcher: RequestDispatcher,
    send: (shard: number, frame: MainToWorkerFrame) => number,
    sessions: ModernSessions,
    logger: Logger,
    options: ModernEdgeOptions,
    metrics?: GatewayMetrics,
  ) {
    this.#dispatcher = dispatcher;
    this.#send = send;
    this.#sessions = sessions;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#cacheScope = options.authenticated ? 'private' : 'public';
    this.#bridge = new InputRequiredBridge(
      {
        deliver: (own, message) => this.#deliver(own, message),
        resumed: (call) => this.#resumed(call),
        parked: (call) => this.#open.delete(outletKey(call.own.shard, call.own.outlet)),
        abandon: (call, reason) => this.#abandon(call, reason),
        answer: (session, message) => this.#sessions.answer(session, message),
        serverInfo: (target) => this.#serverInfo(target),
      },
      options.inputRequiredTimeoutMs,
    );
  }

  /** Calls in flight, waiting ones included (for /status and leak checks). */
  get openCount(): number {
    return this.#calls.size;
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
    if (method === 'subscriptions/listen') {
      void this.#listen(own, frame, id, params);
      return;
    }
    if (params && 'inputResponses' in params && !isObject(params.inputResponses)) {
      this.#reply(own, 400, id, {
        code: RpcErrorCode.INVALID_PARAMS,
        message: 'Invalid params: inputResponses must be an object of answers, by the keys of inputRequests',
      });
      return;
    }
    if (params && 'requestState' in params) {
      this.#resume({ own, frame, id, method, params }, params);
      return;
    }
    this.#start({ own, frame, id, method, params });
  }

  /** A tool call is checked against its tool's mirrored parameters first (the list is cached). */
  #start(request: Incoming): void {
    const { own, frame, id, method, params } = request;
    if (method !== 'tools/call' || typeof params?.name !== 'string') {
      this.#run(request);
      return;
    }
    const check = (tool: Params | undefined) => {
      const wrong = tool && paramHeaderMismatch(paramHeadersOf(tool), params.arguments, frame.mcpParams);
      if (wrong) {
        this.#metrics?.request(method, 'error');
        this.#reply(own, 400, id, {
          code: ModernErrorCode.HEADER_MISMATCH,
          message: `Header mismatch: ${wrong}`,
        });
      } else this.#run(request);
    };
    const tool = this.#dispatcher.tool(frame.target, params.name);
    if (tool instanceof Promise) tool.then(check, () => check(undefined));
    else check(tool);
  }

  #run({ own, frame, id, method, params }: Incoming): void {
    const session = this.#session(frame.target, params);
    if (method === 'server/discover') {
      this.#answer(
        own,
        id,
        method,
        session.target,
        discoverResult(this.#dispatcher.describe(session.target)),
      );
      return;
    }
    const call: ModernCall = {
      id: String(this.#nextCall++),
      session,
      method,
      params,
      principal: frame.principal ?? '',
      own,
      requestId: id,
      phase: 'running',
      round: 0,
      asked: new Map(),
    };
    this.#resumed(call);
    let result: unknown;
    try {
      result = this.#dispatcher.handle(
        { session, id, relatedTo: frame.sseOk ? own : undefined },
        method,
        withoutModernMeta(params),
      );
    } catch (error) {
      this.#finish(call, { error });
      return;
    }
    if (result instanceof Promise)
      result.then(
        (value: unknown) => this.#finish(call, { value }),
        (error: unknown) => this.#finish(call, { error }),
      );
    else this.#finish(call, { value: result });
  }

  /**
   * A backend request (sampling, elicitation, roots) meant for the caller of a stateless request: taken
   * over by the multi-round-trip bridge. False when the session is not a running modern call's.
   */
  inputRequest(session: ClientSession, request: Params): boolean {
    const call = this.#calls.get(session);
    if (!call) return false;
    this.#bridge.ask(call, request);
    return true;
  }

  /** A call's outcome: to its current HTTP request, or kept for the retry while the caller is away. */
  #finish(call: ModernCall, outcome: { value: unknown } | { error: unknown }): void {
    if (!this.#calls.has(call.session)) return; // cancelled: the client is gone
    if (call.phase === 'awaiting-input') {
      call.outcome = outcome;
      return;
    }
    this.#open.delete(outletKey(call.own.shard, call.own.outlet));
    this.#calls.delete(call.session);
    this.#bridge.forget(call);
    if ('value' in outcome) {
      // A 2026-07-28 backend's own rounds pass through; its state comes back to us sealed in ours.
      const value =
        isObject(outcome.value) && outcome.value.resultType === 'input_required'
          ? this.#bridge.wrap(call, outcome.value)
          : outcome.value;
      this.#answer(call.own, call.requestId, call.method, call.session.target, value);
    } else this.#fail(call.own, call.requestId, call.method, outcome.error);
  }

  /** The call answers on its current HTTP request; closing that request cancels it. */
  #resumed(call: ModernCall): void {
    this.#open.set(outletKey(call.own.shard, call.own.outlet), call);
    this.#calls.set(call.session, call);
    if (call.outcome) {
      const outcome = call.outcome;
      call.outcome = undefined;
      this.#finish(call, outcome);
    }
  }

  #abandon(call: ModernCall, reason: string): void {
    this.#open.delete(outletKey(call.own.shard, call.own.outlet));
    this.#calls.delete(call.session);
    this.#bridge.forget(call);
    this.#metrics?.request(call.method, 'cancelled');
    this.#sessions.end(call.session, reason);
  }

  /** A retry with `requestState`: continues a waiting call, or is refused before reaching any backend. */
  #resume(request: Incoming, params: Params): void {
    const { own, frame, id, method } = request;
    const resumed = this.#bridge.resume(own, id, method, params, frame.principal ?? '');
    if (resumed && 'error' in resumed) {
      this.#metrics?.request(method, 'error');
      this.#deliver(own, { jsonrpc: '2.0', id, error: resumed.error });
    } else if (resumed) {
      this.#start({ ...request, params: { ...params, requestState: resumed.forward } });
    } else {
      // The call's progress and log lines follow it to the retry's stream.
      const call = this.#open.get(outletKey(own.shard, own.outlet));
      for (const inflight of call?.session.inflight?.values() ?? [])
        inflight.replyTo = frame.sseOk ? own : undefined;
    }
  }

  /** The worker says a request's response stream closed: if it was still being answered, that cancels it. */
  outletClosed(shard: number, outlet: number): void {
    const key = outletKey(shard, outlet);
    const listener = this.#listening.get(key);
    if (listener) {
      this.#listening.delete(key);
      this.#sessions.end(listener, 'the client closed the listen stream');
      return;
    }
    const call = this.#open.get(key);
    if (call?.phase === 'running') this.#abandon(call, 'the client closed the response stream');
  }

  /**
   * `subscriptions/listen`: a session of its own that lives as long as the stream, so the hub's fan-out
   * of change notifications reaches it; resource subscriptions go to the backends as any session's do
   * (reference-counted there, released when the stream closes). The acknowledgement says what is honoured:
   * list changes for what the endpoint offers, and the URIs whose subscription a backend accepted.
   */
  async #listen(
    own: OutletRef,
    frame: ClientMessageFrame,
    id: JsonRpcId,
    params: Params | undefined,
  ): Promise<void> {
    if (!frame.sseOk) {
      this.#reply(own, 400, id, {
        code: RpcErrorCode.INVALID_REQUEST,
        message: 'subscriptions/listen is answered with an SSE stream: send Accept: text/event-stream',
      });
      return;
    }
    const filter = readListenFilter(params?.notifications);
    const session = this.#session(frame.target, params, randomBytes(18).toString('base64url'));
    session.listen = new ListenStream(id, filter, this.#serverInfo(frame.target));
    session.stream = own;
    if (!this.#sessions.register(session)) {
      this.#reply(own, 503, id, {
        code: RpcErrorCode.CONNECTION_CLOSED,
        message: 'The gateway is at its session limit (sseProxy.maxSessions); try again later.',
      });
      return;
    }
    this.#listening.set(outletKey(own.shard, own.outlet), session);
    const offered = this.#dispatcher.describe(session.target).capabilities;
    const honoured: Params = {};
    if (filter.toolsListChanged) honoured.toolsListChanged = true;
    if (filter.promptsListChanged && offered.prompts) honoured.promptsListChanged = true;
    if (filter.resourcesListChanged && offered.resources) honoured.resourcesListChanged = true;
    if (filter.resourceSubscriptions) {
      const accepted: string[] = [];
      for (const uri of filter.resourceSubscriptions) {
        try {
          await this.#dispatcher.handle({ session, id, relatedTo: undefined }, 'resources/subscribe', {
            uri,
          });
          accepted.push(uri);
        } catch (error) {
          this.#logger.debug({ uri, err: error }, 'a listen stream could not subscribe to a resource');
        }
      }
      honoured.resourceSubscriptions = accepted;
    }
    if (session.closed) return; // the client left while the subscriptions were being made
    this.#metrics?.request('subscriptions/listen', 'ok');
    for (const message of session.listen.acknowledge(honoured)) this.#sessions.send(session, message);
  }

  #session(target: string, params: Params | undefined, sid = ''): ClientSession {
    const session = new ClientSession(sid, 'streamable', target, sid === '');
    session.era = 'modern';
    const meta = isObject(params?._meta) ? params._meta : {};
    session.protocolVersion = meta[MetaKey.PROTOCOL_VERSION] as string;
    const capabilities = meta[MetaKey.CLIENT_CAPABILITIES];
    if (isObject(capabilities)) session.clientCapabilities = capabilities;
    const clientInfo = meta[MetaKey.CLIENT_INFO];
    if (isObject(clientInfo)) session.clientInfo = clientInfo;
    const level = meta[MetaKey.LOG_LEVEL];
    if (isMcpLoggingLevel(level)) session.logLevel = level;
    session.initialized = true;
    return session;
  }

  #answer(own: OutletRef, id: JsonRpcId, method: string, target: string, value: unknown): void {
    this.#metrics?.request(method, 'ok');
    const result = modernResult(method, value, this.#serverInfo(target), this.#cacheScope);
    this.#deliver(own, { jsonrpc: '2.0', id, result });
  }

  #serverInfo(target: string): Params {
    try {
      return this.#dispatcher.serverInfo(target);
    } catch {
      // The backend went away after answering: name the gateway rather than fail a good answer.
      return this.#dispatcher.serverInfo('');
    }
  }

  #fail(own: OutletRef, id: JsonRpcId, method: string, error: unknown): void {
    if (error instanceof CancelledError) return;
    this.#metrics?.request(method, 'error');
    const wire = modernError(toJsonRpcError(error));
    if (wire.code === RpcErrorCode.METHOD_NOT_FOUND) {
      this.#reply(own, 404, id, wire);
      return;
    }
    // A backend's own MissingRequiredClientCapability: the transport wants it with 400.
    if (wire.code === ModernErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY) {
      this.#reply(own, 400, id, wire);
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

/** A 2026-07-28 request as it arrived: where it answers, its frame, id, method and params. */
interface Incoming {
  own: OutletRef;
  frame: ClientMessageFrame;
  id: JsonRpcId;
  method: string;
  params: Params | undefined;
}

/** The key of a worker's outlet: calls and listen streams are found by the HTTP request they answer on. */
const outletKey = (shard: number, outlet: number) => `${shard}:${outlet}`;
