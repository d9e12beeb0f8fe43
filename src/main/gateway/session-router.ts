import { toJsonRpcError } from '../../shared/error-wire.js';
import { CancelledError } from '../../shared/errors.js';
import {
  type ClientMessageFrame,
  FrameKind,
  type MainToWorkerFrame,
  type WorkerToMainFrame,
} from '../../shared/frames.js';
import { isObject, type JsonRpcId } from '../../shared/json-rpc.js';
import { type Logger, shortId } from '../../shared/logger.js';
import type { BackendHub, SessionDirectory } from './backend-hub.js';
import { ClientSession, type OutletRef } from './client-session.js';
import type { RequestDispatcher } from './request-dispatcher.js';

export interface RouterOptions {
  maxSessions: number;
  sessionIdleTimeoutMs: number;
}

/** Sends a frame to one worker. */
export type FrameSender = (shard: number, frame: MainToWorkerFrame) => void;

/** Answers GET /health and /status (the gateway gathers what the workers know). */
export type StatusProvider = (
  what: 'health' | 'status',
) => Promise<{ status: number; body: Record<string, unknown> }>;

const SESSION_NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null };

/**
 * The main thread's handler for everything workers send: it owns the sessions, answers or forwards each
 * client message, and addresses every reply to the outlet it belongs to, so a session only ever sees its
 * own messages.
 */
export class SessionRouter implements SessionDirectory {
  readonly #sessions = new Map<string, ClientSession>();
  /** Stream outlets by `shard:outlet`, to learn which session lost its stream. */
  readonly #streams = new Map<string, ClientSession>();
  readonly #send: FrameSender;
  readonly #options: RouterOptions;
  readonly #logger: Logger;
  #hub!: BackendHub;
  #dispatcher!: RequestDispatcher;
  #status!: StatusProvider;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(send: FrameSender, options: RouterOptions, logger: Logger) {
    this.#send = send;
    this.#options = options;
    this.#logger = logger;
  }

  /** Completes the wiring (the hub and the dispatcher need the router as their directory first). */
  connect(hub: BackendHub, dispatcher: RequestDispatcher, status: StatusProvider): void {
    this.#hub = hub;
    this.#dispatcher = dispatcher;
    this.#status = status;
    const every = Math.max(1000, Math.min(30_000, Math.floor(this.#options.sessionIdleTimeoutMs / 4)));
    this.#sweeper = setInterval(() => this.sweepIdle(), every);
    this.#sweeper.unref();
  }

  sessions(): Iterable<ClientSession> {
    return this.#sessions.values();
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Pending backend calls of all sessions (for /status and leak checks). */
  inflightCount(): number {
    let n = 0;
    for (const session of this.#sessions.values()) n += session.inflight.size;
    return n;
  }

  onFrame(shard: number, frame: WorkerToMainFrame): void {
    switch (frame.k) {
      case FrameKind.OPEN_SESSION:
        this.#openSession(shard, frame.sid, frame.transport, frame.target, frame.outlet);
        return;
      case FrameKind.CLIENT_MESSAGE:
        this.#onClientMessage(shard, frame);
        return;
      case FrameKind.OUTLET_CLOSED: {
        const session = this.#streams.get(`${shard}:${frame.outlet}`);
        if (session) this.#detachStream(session);
        return;
      }
      case FrameKind.CLOSE_SESSION: {
        const session = this.#sessions.get(frame.sid);
        if (session) this.closeSession(session, 'closed by the client');
        if (frame.outlet !== undefined)
          this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status: session ? 200 : 404 });
        return;
      }
      case FrameKind.OPEN_STREAM: {
        const session = this.#sessions.get(frame.sid);
        const reply = (status: number, body?: Record<string, unknown>) =>
          this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status, ...(body ? { body } : {}) });
        if (!session || session.target !== frame.target || session.transport !== 'streamable') {
          reply(404, SESSION_NOT_FOUND);
          return;
        }
        if (session.stream) {
          // One GET stream per session: a second one could receive a message twice or never.
          reply(409, {
            jsonrpc: '2.0',
            error: { code: -32000, message: 'Conflict: this session already has an open GET stream' },
            id: null,
          });
          return;
        }
        session.stream = { shard, outlet: frame.outlet };
        session.lastActivity = Date.now();
        this.#streams.set(`${shard}:${frame.outlet}`, session);
        reply(200);
        return;
      }
      case FrameKind.STATUS_QUERY:
        void this.#status(frame.what).then(
          ({ status, body }) => this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status, body }),
          (error: unknown) =>
            this.#send(shard, {
              k: FrameKind.REPLY,
              outlet: frame.outlet,
              status: 503,
              body: { error: String(error) },
            }),
        );
        return;
    }
  }

  sendToSession(session: ClientSession, msg: Record<string, unknown>, via?: OutletRef): boolean {
    const target = via ?? session.stream;
    if (!target || session.closed) return false;
    this.#send(target.shard, { k: FrameKind.DELIVER, outlet: target.outlet, msg });
    return true;
  }

  /** Ends a session: its backend calls are cancelled, its subscriptions released, its stream ended. */
  closeSession(session: ClientSession, reason: string): void {
    if (session.closed) return;
    session.closed = true;
    this.#sessions.delete(session.sid);
    this.#hub.releaseSession(session);
    if (session.stream) {
      this.#streams.delete(`${session.stream.shard}:${session.stream.outlet}`);
      this.#send(session.stream.shard, { k: FrameKind.CLOSE_OUTLET, outlet: session.stream.outlet, reason });
      session.stream = undefined;
    }
    this.#logger.debug({ session: shortId(session.sid), reason }, 'session closed');
  }

  /** Ends every session on a worker that died: their streams died with it. */
  dropShard(shard: number): void {
    for (const [key, session] of [...this.#streams]) {
      if (key.startsWith(`${shard}:`)) {
        this.#streams.delete(key);
        session.stream = undefined;
        if (session.transport === 'sse') this.closeSession(session, 'worker replaced');
      }
    }
  }

  closeAll(reason: string): void {
    for (const session of [...this.#sessions.values()]) this.closeSession(session, reason);
  }

  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
  }

  /**
   * Closes sessions with nothing in flight and no client message for the idle timeout, open stream or
   * not: a client that vanished without closing its connection must not pin a session forever, and SDK
   * clients whose legacy stream ends reconnect and get a new session on their own.
   */
  sweepIdle(now = Date.now()): void {
    const cutoff = now - this.#options.sessionIdleTimeoutMs;
    for (const session of [...this.#sessions.values()]) {
      if (session.inflight.size === 0 && session.serverRequests.size === 0 && session.lastActivity < cutoff) {
        this.closeSession(session, 'idle timeout');
      }
    }
  }

  #openSession(
    shard: number,
    sid: string,
    transport: 'sse' | 'streamable',
    target: string,
    outlet?: number,
  ): ClientSession | undefined {
    if (this.#sessions.size >= this.#options.maxSessions) {
      this.#logger.warn({ max: this.#options.maxSessions }, 'session refused: maxSessions reached');
      if (outlet !== undefined)
        this.#send(shard, { k: FrameKind.CLOSE_OUTLET, outlet, reason: 'too many sessions' });
      return undefined;
    }
    const session = new ClientSession(sid, transport, target);
    this.#sessions.set(sid, session);
    if (outlet !== undefined) {
      session.stream = { shard, outlet };
      this.#streams.set(`${shard}:${outlet}`, session);
      // Registered: the worker may now tell the client where to POST.
      this.#send(shard, { k: FrameKind.REPLY, outlet, status: 200 });
    }
    return session;
  }

  #detachStream(session: ClientSession): void {
    if (!session.stream) return;
    this.#streams.delete(`${session.stream.shard}:${session.stream.outlet}`);
    session.stream = undefined;
    session.lastActivity = Date.now();
    if (session.transport === 'sse') this.closeSession(session, 'stream closed');
  }

  #onClientMessage(shard: number, frame: ClientMessageFrame): void {
    const reply = (status: number, body?: Record<string, unknown>) =>
      this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status, ...(body ? { body } : {}) });
    let session: ClientSession | undefined;
    if (frame.sid) {
      session = this.#sessions.get(frame.sid);
      if (!session || session.target !== frame.target || session.transport !== frame.transport) {
        reply(404, SESSION_NOT_FOUND);
        return;
      }
    } else {
      session = new ClientSession('', frame.transport, frame.target, true);
    }
    session.lastActivity = Date.now();
    const msg = frame.msg;
    const own: OutletRef = { shard, outlet: frame.outlet };

    if (typeof msg.method === 'string' && 'id' in msg) {
      // A legacy POST is acknowledged at once; its answer travels on the session's stream.
      if (frame.viaStream) reply(202);
      const answerTo = frame.viaStream ? session.stream : own;
      const relatedTo = frame.viaStream ? session.stream : frame.sseOk ? own : session.stream;
      void this.#answer(
        session,
        msg.id as JsonRpcId,
        msg.method,
        msg.params as Record<string, unknown> | undefined,
        answerTo,
        relatedTo,
        !frame.viaStream,
      );
      return;
    }
    if (typeof msg.method === 'string') {
      this.#onNotification(session, msg.method, msg.params);
    } else {
      this.#hub.answerServerRequest(session, msg);
    }
    reply(202);
  }

  async #answer(
    session: ClientSession,
    id: JsonRpcId,
    method: string,
    params: Record<string, unknown> | undefined,
    answerTo: OutletRef | undefined,
    relatedTo: OutletRef | undefined,
    final: boolean,
  ): Promise<void> {
    let response: Record<string, unknown>;
    try {
      const result = await this.#dispatcher.handle({ session, id, relatedTo }, method, params);
      response = { jsonrpc: '2.0', id, result: result ?? {} };
    } catch (error) {
      if (error instanceof CancelledError) {
        // The client cancelled: it expects no answer. A POST outlet still needs closing.
        if (final && answerTo)
          this.#send(answerTo.shard, { k: FrameKind.REPLY, outlet: answerTo.outlet, status: 202 });
        return;
      }
      response = { jsonrpc: '2.0', id, error: toJsonRpcError(error) };
    }
    if (!answerTo) return; // the stream is gone; nobody is left to tell
    this.#send(answerTo.shard, {
      k: FrameKind.DELIVER,
      outlet: answerTo.outlet,
      msg: response,
      ...(final ? { final } : {}),
    });
  }

  #onNotification(session: ClientSession, method: string, params: unknown): void {
    switch (method) {
      case 'notifications/initialized':
        session.initialized = true;
        return;
      case 'notifications/cancelled':
        if (isObject(params)) this.#hub.cancel(session, params.requestId);
        return;
      default:
        // roots/list_changed and anything newer: nothing to route for a shared backend.
        this.#logger.debug({ session: shortId(session.sid), method }, 'client notification ignored');
    }
  }
}
