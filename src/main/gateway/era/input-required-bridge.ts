import { isObject, type JsonRpcId, RpcErrorCode } from '../../../shared/json-rpc.js';
import type { ClientSession, OutletRef } from '../client-session.js';
import { digestOf, RequestStateCodec } from './request-state.js';

type Params = Record<string, unknown>;

/** One 2026-07-28 request being served: its session, where its answer goes now, and its rounds. */
export interface ModernCall {
  readonly id: string;
  readonly session: ClientSession;
  readonly method: string;
  /**
   * Digest of method, name or uri, and arguments: a retry must be the same request. Made only when a
   * round needs it (see {@link bindingOf}): most calls never ask for input, and hashing every call's
   * arguments showed in profiles.
   */
  binding?: string;
  /** The request's params, for the binding. */
  readonly params: Params | undefined;
  /** Digest of the caller's credentials. */
  readonly principal: string;
  /** The HTTP request the answer goes to: the first, then each retry's. */
  own: OutletRef;
  /** The JSON-RPC id of the request now being answered (a retry has its own). */
  requestId: JsonRpcId;
  phase: 'running' | 'awaiting-input';
  round: number;
  /** Backend requests asked of the caller in this round, by the key given to the caller. */
  asked: Map<string, string>;
  /** The backend answered while the caller was away: given to the retry. */
  outcome?: { value: unknown } | { error: unknown };
}

/** A call's binding, made on first use. */
export function bindingOf(call: ModernCall): string {
  call.binding ??= InputRequiredBridge.binding(call.method, call.params);
  return call.binding;
}

/** What the bridge needs of the edge. */
export interface BridgeHost {
  /** Writes a final answer to an HTTP request. */
  deliver(own: OutletRef, message: Params): void;
  /** The call answers on `own` again: its result or next round goes there, and closing it cancels. */
  resumed(call: ModernCall): void;
  /** The call is waiting for its caller: closing the last response no longer cancels it. */
  parked(call: ModernCall): void;
  /** Gives up a call (cancelled on the backend, its asks rejected). */
  abandon(call: ModernCall, reason: string): void;
  /** Resolves one of the backend's requests to the client (the hub's answerServerRequest). */
  answer(session: ClientSession, message: Params): void;
  serverInfo(target: string): unknown;
}

/**
 * Multi round-trip requests, from a 2025 backend to a 2026-07-28 caller. A backend asks `sampling/
 * createMessage`, `elicitation/create` or `roots/list` in the middle of a call; a modern caller has no
 * stream for server requests, so the call's HTTP request is answered with an `InputRequiredResult`
 * (the backend's requests as `inputRequests`, and a sealed `requestState`), the backend call stays
 * waiting, and the caller's retry with `inputResponses` answers the backend and carries the call on.
 *
 * A state is bound to the call, its round (so it is good once), the original request and the caller's
 * credentials, and it expires; a state that fails any of that is refused before anything reaches a
 * backend. A call whose caller does not come back within `waitMs` (sseProxy.inputRequiredTimeoutMs) is
 * cancelled. What a
 * waiting call holds: its session record, the backend's requests (their params, as the backend sent
 * them), and at most one stored outcome.
 */
export class InputRequiredBridge {
  readonly #host: BridgeHost;
  readonly #codec: RequestStateCodec;
  readonly #waitMs: number;
  readonly #waiting = new Map<string, { call: ModernCall; timer: NodeJS.Timeout }>();
  readonly #pending = new Map<ModernCall, Array<{ id: string; method: string; params: unknown }>>();

  constructor(host: BridgeHost, waitMs = 120_000, codec = new RequestStateCodec()) {
    this.#host = host;
    this.#waitMs = waitMs;
    this.#codec = codec;
  }

  static binding(method: string, params: Params | undefined): string {
    return digestOf([method, params?.name ?? params?.uri ?? null, params?.arguments ?? null]);
  }

  /**
   * A backend request for the caller of `call`. Requests that arrive in the same turn go out together,
   * as one InputRequiredResult.
   */
  ask(call: ModernCall, request: Params): void {
    let batch = this.#pending.get(call);
    if (!batch) {
      batch = [];
      this.#pending.set(call, batch);
      setImmediate(() => this.#flush(call));
    }
    batch.push({ id: String(request.id), method: String(request.method), params: request.params });
  }

  #flush(call: ModernCall): void {
    const batch = this.#pending.get(call) ?? [];
    this.#pending.delete(call);
    if (call.session.closed) return; // cancelled meanwhile: its asks were rejected with it
    const inputRequests: Params = {};
    batch.forEach((request, n) => {
      const key = `r${call.round}.${n}`;
      call.asked.set(key, request.id);
      inputRequests[key] = {
        method: request.method,
        ...(request.params === undefined ? {} : { params: request.params }),
      };
    });
    call.phase = 'awaiting-input';
    const requestState = this.#codec.seal({
      i: this.#codec.instance,
      c: call.id,
      r: call.round,
      e: Date.now() + this.#waitMs,
      b: bindingOf(call),
      p: call.principal,
    });
    this.#host.parked(call);
    const timer = setTimeout(() => {
      this.#waiting.delete(call.id);
      this.#host.abandon(call, 'the caller did not come back with the input it was asked for');
    }, this.#waitMs);
    timer.unref();
    this.#waiting.set(call.id, { call, timer });
    this.#host.deliver(call.own, {
      jsonrpc: '2.0',
      id: call.requestId,
      result: {
        resultType: 'input_required',
        inputRequests,
        requestState,
        _meta: { 'io.modelcontextprotocol/serverInfo': this.#host.serverInfo(call.session.target) },
      },
    });
  }

  /**
   * A 2026-07-28 backend's own `input_required` on its way to a modern caller: its `requestState` is
   * sealed inside one of ours, bound like ours to the caller and the request, so the retry comes back
   * through the same checks (and a later cluster can verify it anywhere).
   */
  wrap(call: ModernCall, result: Params): Params {
    if (typeof result.requestState !== 'string') return result;
    const requestState = this.#codec.seal({
      i: this.#codec.instance,
      c: '',
      r: 0,
      e: Date.now() + this.#waitMs,
      b: bindingOf(call),
      p: call.principal,
      s: result.requestState,
    });
    return { ...result, requestState };
  }

  /**
   * A retry carrying `requestState`: continues the waiting call it names, on `own`; or, for a wrapped
   * backend state, says which inner state to forward. Returns an error to answer with when the state is
   * forged, expired, used, or not this caller's or this request's.
   */
  resume(
    own: OutletRef,
    requestId: JsonRpcId,
    method: string,
    params: Params,
    principal: string,
  ): { error: { code: number; message: string } } | { forward: string } | undefined {
    const opened = this.#codec.open(params.requestState);
    if (!opened.ok)
      return {
        error: { code: RpcErrorCode.INVALID_PARAMS, message: `Invalid requestState: ${opened.why}.` },
      };
    const { payload } = opened;
    if (payload.s !== undefined) {
      const wrong = this.#mismatch(payload.b, payload.p, method, params, principal);
      return wrong ? { error: wrong } : { forward: payload.s };
    }
    const waiting = this.#waiting.get(payload.c);
    if (!waiting || waiting.call.round !== payload.r)
      return {
        error: {
          code: RpcErrorCode.INVALID_PARAMS,
          message:
            'Invalid requestState: it was already used, or its call has ended; send the request again without it.',
        },
      };
    const { call, timer } = waiting;
    const wrong =
      call.method === method
        ? this.#mismatch(payload.b, payload.p, method, params, principal)
        : this.#mismatch('', payload.p, method, params, principal);
    if (wrong) return { error: wrong };
    clearTimeout(timer);
    this.#waiting.delete(call.id);
    const responses = isObject(params.inputResponses) ? params.inputResponses : {};
    for (const [key, serverRequestId] of call.asked) {
      const response = responses[key];
      this.#host.answer(
        call.session,
        response === undefined
          ? {
              jsonrpc: '2.0',
              id: serverRequestId,
              error: {
                code: RpcErrorCode.INVALID_PARAMS,
                message: `The client sent no input response for ${key}.`,
              },
            }
          : { jsonrpc: '2.0', id: serverRequestId, result: response },
      );
    }
    call.asked.clear();
    call.round += 1;
    call.own = own;
    call.requestId = requestId;
    call.phase = 'running';
    this.#host.resumed(call);
    return undefined;
  }

  #mismatch(
    binding: string,
    statePrincipal: string,
    method: string,
    params: Params,
    principal: string,
  ): { code: number; message: string } | undefined {
    if (binding !== InputRequiredBridge.binding(method, params))
      return {
        code: RpcErrorCode.INVALID_PARAMS,
        message: 'Invalid requestState: it belongs to another request.',
      };
    if (statePrincipal !== principal)
      return {
        code: RpcErrorCode.INVALID_PARAMS,
        message: 'Invalid requestState: it belongs to another caller.',
      };
    return undefined;
  }

  /** A call that ended (answered or cancelled) no longer waits. */
  forget(call: ModernCall): void {
    const waiting = this.#waiting.get(call.id);
    if (waiting?.call === call) {
      clearTimeout(waiting.timer);
      this.#waiting.delete(call.id);
    }
    this.#pending.delete(call);
  }
}
