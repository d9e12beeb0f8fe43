import { toJsonRpcError } from '../../../shared/error-wire.js';
import { CancelledError, ConnectionClosedError, RequestTimeoutError } from '../../../shared/errors.js';
import { type ClientMessageFrame, FrameKind } from '../../../shared/frames.js';
import { isObject, type JsonRpcId } from '../../../shared/json-rpc.js';
import { type Logger, shortId } from '../../../shared/logger.js';
import { allowsPrimingEvents } from '../../../shared/protocol-versions.js';
import type { BackendHub } from '../backend-hub.js';
import { ClientSession, type OutletRef } from '../client-session.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { RequestDispatcher } from '../request-dispatcher.js';
import type { FrameSender } from '../session-router.js';

type Message = Record<string, unknown>;

/** A JSON-RPC response, or undefined when the request was cancelled (its client expects none). */
type Response = Message | undefined;

export const SESSION_NOT_FOUND = {
  jsonrpc: '2.0',
  error: { code: -32001, message: 'Session not found' },
  id: null,
};

/** Requests the gateway answers itself at once: their POST stream is not worth priming. */
const ANSWERED_LOCALLY = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/**
 * A client message's body. The worker checked this text; a frame that still does not parse is a bug,
 * answered (400, -32700), not thrown: undefined then.
 */
export function parseClientMessage(
  frame: ClientMessageFrame,
  reply: (status: number, body?: Record<string, unknown>) => void,
): unknown {
  try {
    return JSON.parse(frame.json);
  } catch {
    reply(400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    return undefined;
  }
}

/** What the 2025 edge needs of the router, which owns sessions, streams and delivery. */
export interface LegacyHost {
  /** A session a 2025 client may address by its id. */
  addressable(sid: string): ClientSession | undefined;
  /** Writes a message (or a batch's answers) to an outlet, numbered and kept when the stream resumes. */
  deliver(session: ClientSession, ref: OutletRef, msg: Message | Message[], final: boolean): void;
  /** Primes a POST stream that is still unanswered after the priming window. */
  schedulePriming(session: ClientSession, ref: OutletRef): void;
}

export interface LegacyEdgeParts {
  host: LegacyHost;
  send: FrameSender;
  hub: BackendHub;
  dispatcher: RequestDispatcher;
  logger: Logger;
  metrics: GatewayMetrics | undefined;
}

/**
 * The 2025 revisions' edge (2024-11-05 legacy SSE and 2025 Streamable HTTP sessions): a client message of
 * a session is answered, forwarded or taken note of, and the answer addressed to the session's stream or
 * to the POST it came on. The mirror of `modern-edge.ts`; both hand the dispatcher one internal shape.
 */
export class LegacyEdge {
  readonly #host: LegacyHost;
  readonly #send: FrameSender;
  readonly #hub: BackendHub;
  readonly #dispatcher: RequestDispatcher;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;

  constructor(parts: LegacyEdgeParts) {
    this.#host = parts.host;
    this.#send = parts.send;
    this.#hub = parts.hub;
    this.#dispatcher = parts.dispatcher;
    this.#logger = parts.logger;
    this.#metrics = parts.metrics;
  }

  onClientMessage(shard: number, frame: ClientMessageFrame): void {
    // A POST the worker has answered already: for a session that has just ended there is nobody to tell.
    const reply = frame.accepted
      ? () => {}
      : (status: number, body?: Record<string, unknown>) =>
          this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status, ...(body ? { body } : {}) });
    let session: ClientSession | undefined;
    if (frame.sid) {
      session = this.#host.addressable(frame.sid);
      if (!session || session.target !== frame.target || session.transport !== frame.transport) {
        reply(404, SESSION_NOT_FOUND);
        return;
      }
    } else {
      session = new ClientSession('', frame.transport, frame.target, true);
    }
    session.lastActivity = Date.now();
    const parsed = parseClientMessage(frame, reply);
    if (parsed === undefined) return;
    const own: OutletRef = { shard, outlet: frame.outlet };
    if (Array.isArray(parsed)) {
      this.#onBatch(session, parsed as Message[], own, frame.sseOk, reply);
      return;
    }
    const msg = parsed as Message;
    if (typeof msg.method === 'string' && 'id' in msg) {
      // A legacy POST is acknowledged at once; its answer travels on the session's stream.
      if (frame.viaStream) reply(202);
      else if (frame.sseOk && session.replay) this.#openPostStream(session, own, msg.method);
      const answerTo = frame.viaStream ? session.stream : own;
      const relatedTo = frame.viaStream ? session.stream : frame.sseOk ? own : session.stream;
      const response = this.#respond(
        session,
        msg.id as JsonRpcId,
        msg.method,
        msg.params as Message | undefined,
        relatedTo,
      );
      const final = !frame.viaStream;
      if (response instanceof Promise)
        response
          .then((answered) => this.#answer(session, answered, answerTo, final))
          .catch((error: unknown) => this.#logger.error({ err: error }, 'answering a request failed'));
      else this.#answer(session, response, answerTo, final);
      return;
    }
    if (typeof msg.method === 'string') {
      this.#onNotification(session, msg.method, msg.params);
    } else {
      this.#hub.answerServerRequest(session, msg);
    }
    reply(202);
  }

  #answer(session: ClientSession, response: Response, answerTo: OutletRef | undefined, final: boolean): void {
    if (!answerTo) return; // the stream is gone; nobody is left to tell
    if (response) this.#host.deliver(session, answerTo, response, final);
    else if (final) this.#endUnanswered(session, answerTo);
  }

  /**
   * The JSON-RPC response to one request: at once when the dispatcher answered synchronously (a routed
   * call whose backend is known), else a promise of it. Not an async function: most calls would pay for
   * promises and microtask turns they do not need.
   */
  #respond(
    session: ClientSession,
    id: JsonRpcId,
    method: string,
    params: Message | undefined,
    relatedTo: OutletRef | undefined,
  ): Response | Promise<Response> {
    let result: unknown;
    try {
      result = this.#dispatcher.handle({ session, id, relatedTo }, method, params);
    } catch (error) {
      return this.#failed(session, id, method, error);
    }
    if (result instanceof Promise)
      return result.then(
        (value: unknown) => this.#succeeded(id, method, value),
        (error: unknown) => this.#failed(session, id, method, error),
      );
    return this.#succeeded(id, method, result);
  }

  #succeeded(id: JsonRpcId, method: string, result: unknown): Message {
    this.#metrics?.request(method, 'ok');
    return { jsonrpc: '2.0', id, result: result ?? {} };
  }

  #failed(session: ClientSession, id: JsonRpcId, method: string, error: unknown): Response {
    const cancelled = error instanceof CancelledError;
    this.#metrics?.request(method, cancelled ? 'cancelled' : 'error');
    if (!cancelled) {
      // Timeouts and lost backends are the operator's business; a client's bad request is only debug.
      const serious = error instanceof RequestTimeoutError || error instanceof ConnectionClosedError;
      this.#logger[serious ? 'warn' : 'debug'](
        { session: shortId(session.sid), method, requestId: id, err: error },
        'request failed',
      );
    }
    return cancelled ? undefined : { jsonrpc: '2.0', id, error: toJsonRpcError(error) };
  }

  /** A POST whose requests were all cancelled still needs its HTTP answer. */
  #endUnanswered(session: ClientSession, answerTo: OutletRef): void {
    if (answerTo.stream !== undefined) session.replay?.finish(answerTo.stream);
    this.#send(answerTo.shard, { k: FrameKind.REPLY, outlet: answerTo.outlet, status: 202 });
  }

  /**
   * A JSON-RPC batch, which only protocol 2025-03-26 allows. Notifications and responses in it take
   * effect at once; the requests are answered together, as one array (a JSON body, or one SSE event
   * when messages had to be streamed first). Each request still reaches its backend as a single line.
   */
  #onBatch(
    session: ClientSession,
    batch: Message[],
    own: OutletRef,
    sseOk: boolean,
    reply: (status: number, body?: Record<string, unknown>) => void,
  ): void {
    if (session.protocolVersion !== '2025-03-26') {
      reply(400, {
        jsonrpc: '2.0',
        error: {
          code: -32600,
          message: `Invalid Request: JSON-RPC batches are only accepted on sessions at protocol version 2025-03-26 (this one is at ${session.protocolVersion ?? 'none'}); send one message per POST`,
        },
        id: null,
      });
      return;
    }
    const requests = batch.filter((m) => typeof m.method === 'string' && 'id' in m);
    for (const m of batch) {
      if (requests.includes(m)) continue;
      if (typeof m.method === 'string') this.#onNotification(session, m.method, m.params);
      else this.#hub.answerServerRequest(session, m);
    }
    if (requests.length === 0) {
      reply(202);
      return;
    }
    if (sseOk && session.replay) session.replay.open(own);
    const relatedTo = sseOk ? own : session.stream;
    void Promise.all(
      requests.map((m) =>
        this.#respond(
          session,
          m.id as JsonRpcId,
          m.method as string,
          m.params as Message | undefined,
          relatedTo,
        ),
      ),
    ).then((responses) => {
      const answered = responses.filter((r): r is Message => r !== undefined);
      if (answered.length > 0) this.#host.deliver(session, own, answered, true);
      else this.#endUnanswered(session, own);
    });
  }

  /**
   * Makes a POST's answer resumable. From 2025-11-25 on, a request that goes to a backend and is not
   * answered within the priming window gets its SSE stream, opened by a priming event: an id with no
   * data and a `retry` hint, so a client whose connection drops before the answer can resume with
   * Last-Event-ID. A quicker answer goes out alone, as JSON.
   */
  #openPostStream(session: ClientSession, own: OutletRef, method: string): void {
    const primeLater = !ANSWERED_LOCALLY.has(method) && allowsPrimingEvents(session.protocolVersion);
    session.replay!.open(own, undefined, primeLater);
    if (primeLater) this.#host.schedulePriming(session, own);
  }

  #onNotification(session: ClientSession, method: string, params: unknown): void {
    switch (method) {
      case 'notifications/initialized':
        session.initialized = true;
        return;
      case 'notifications/cancelled':
        if (isObject(params)) this.#hub.cancel(session, params.requestId);
        return;
      case 'notifications/roots/list_changed':
        // Only a session's own (isolated) processes asked it for roots; shared ones never do.
        this.#hub.notifyIsolated(session, method, params);
        return;
      default:
        this.#logger.debug({ session: shortId(session.sid), method }, 'client notification ignored');
    }
  }
}
