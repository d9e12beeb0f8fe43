import {
  type ClientMessageFrame,
  FrameKind,
  type MainToWorkerFrame,
  type WorkerToMainFrame,
} from '../../shared/frames.js';
import { type Logger, shortId } from '../../shared/logger.js';
import { allowsPrimingEvents } from '../../shared/protocol-versions.js';
import type { BackendHub } from './backend-hub.js';
import { ClientSession, type OutletRef, type SessionDirectory } from './client-session.js';
import { LegacyEdge, parseClientMessage, SESSION_NOT_FOUND } from './era/legacy-edge.js';
import { ModernEdge } from './era/modern-edge.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { abandoned } from './isolated-processes.js';
import { PrimingScheduler } from './priming-scheduler.js';
import { ReplayLog, STANDALONE_STREAM } from './replay-log.js';
import type { RequestDispatcher } from './request-dispatcher.js';
import { StreamWriter } from './stream-writer.js';

export interface RouterOptions {
  maxSessions: number;
  sessionIdleTimeoutMs: number;
  /** Per Streamable HTTP session; 0 turns event ids and Last-Event-ID resumption off. */
  replayBufferBytes: number;
  /** Callers must authenticate: answers are marked `private` for caches (2026-07-28). */
  authenticated?: boolean;
  /** How long a 2026-07-28 call waits for its caller's input before it is cancelled. */
  inputRequiredTimeoutMs?: number;
  /** Idle time after which an abandoned session holding an isolated process is closed. */
  isolatedIdleTimeoutMs?: number;
}

/** Sends a frame to one worker and returns its encoded size. */
export type FrameSender = (shard: number, frame: MainToWorkerFrame) => number;

/** Answers GET /health, /status and /metrics (the gateway gathers what the workers know). */
export type StatusProvider = (
  what: 'health' | 'status' | 'metrics',
) => Promise<{ status: number; body?: Record<string, unknown>; text?: string; contentType?: string }>;

type Message = Record<string, unknown>;

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
  #modern!: ModernEdge;
  #legacy!: LegacyEdge;
  #status!: StatusProvider;
  #shards: () => Iterable<number> = () => [];
  #sweeper: NodeJS.Timeout | undefined;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #priming = new PrimingScheduler((session, ref) => this.#writer.primeIfOwed(session, ref));
  readonly #writer: StreamWriter;

  constructor(send: FrameSender, options: RouterOptions, logger: Logger, metrics?: GatewayMetrics) {
    this.#send = send;
    this.#writer = new StreamWriter(send, logger);
    this.#options = options;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /**
   * Completes the wiring (the hub and the dispatcher need the router as their directory first). `shards`
   * lists the workers now running, to tell them of legacy sessions.
   */
  connect(
    hub: BackendHub,
    dispatcher: RequestDispatcher,
    status: StatusProvider,
    shards?: () => Iterable<number>,
  ): void {
    this.#hub = hub;
    this.#modern = new ModernEdge(
      dispatcher,
      this.#send,
      {
        end: (session, reason) => this.closeSession(session, reason),
        register: (session) => this.registerListener(session),
        send: (session, message) => this.#writer.deliver(session, session.stream!, message, false),
        answer: (session, message) => this.#hub.answerServerRequest(session, message),
      },
      this.#logger,
      {
        authenticated: this.#options.authenticated ?? false,
        inputRequiredTimeoutMs: this.#options.inputRequiredTimeoutMs,
      },
      this.#metrics,
    );
    this.#legacy = new LegacyEdge({
      host: {
        addressable: (sid) => this.#addressable(sid),
        deliver: (session, ref, msg, final) => this.#writer.deliver(session, ref, msg, final),
        schedulePriming: (session, ref) => this.#priming.schedule(session, ref),
      },
      send: this.#send,
      hub,
      dispatcher,
      logger: this.#logger,
      metrics: this.#metrics,
    });
    this.#status = status;
    if (shards) this.#shards = shards;
    const shortest = Math.min(this.#options.sessionIdleTimeoutMs, this.#isolatedIdleMs);
    const every = Math.max(1000, Math.min(30_000, Math.floor(shortest / 4)));
    this.#sweeper = setInterval(() => this.sweepIdle(), every);
    this.#sweeper.unref();
  }

  sessions(): Iterable<ClientSession> {
    return this.#sessions.values();
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Pending backend calls of all sessions and stateless requests (for /status and leak checks). */
  inflightCount(): number {
    let n = this.#modern?.openCount ?? 0;
    for (const session of this.#sessions.values()) n += session.inflight?.size ?? 0;
    return n;
  }

  onFrame(shard: number, frame: WorkerToMainFrame): void {
    switch (frame.k) {
      case FrameKind.OPEN_SESSION:
        this.#openSession(shard, frame.sid, frame.transport, frame.target, frame.outlet);
        return;
      case FrameKind.CLIENT_MESSAGE:
        if (frame.era === 'modern') this.#onModernMessage(shard, frame);
        else this.#legacy.onClientMessage(shard, frame);
        return;
      case FrameKind.OUTLET_CLOSED: {
        const session = this.#streams.get(`${shard}:${frame.outlet}`);
        if (session) this.#detachStream(session);
        else this.#modern.outletClosed(shard, frame.outlet);
        return;
      }
      case FrameKind.CLOSE_SESSION: {
        const found = this.#addressable(frame.sid);
        // A DELETE names its endpoint: it may only end a Streamable HTTP session of that endpoint.
        const session =
          frame.target === undefined || (found?.target === frame.target && found.transport === 'streamable')
            ? found
            : undefined;
        if (session) this.closeSession(session, 'closed by the client');
        if (frame.outlet !== undefined)
          this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status: session ? 200 : 404 });
        return;
      }
      case FrameKind.OPEN_STREAM:
        this.#openStream(shard, frame.sid, frame.target, frame.outlet, frame.lastEventId);
        return;
      case FrameKind.STATUS_QUERY:
        void this.#status(frame.what).then(
          (answer) => this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, ...answer }),
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
    // A stateless caller has no stream for a backend's requests: they become a multi-round-trip result.
    if (session.era === 'modern' && !session.listen && 'id' in msg && typeof msg.method === 'string')
      return !session.closed && this.#modern.inputRequest(session, msg);
    const target = via ?? session.stream;
    if (!target || session.closed) return false;
    if (session.listen) {
      const admitted = session.listen.admit(msg);
      if (!admitted) return false;
      msg = admitted;
    }
    this.#writer.deliver(session, target, msg, false);
    return !target.detached;
  }

  /**
   * Keeps a 2026-07-28 listen stream's session among the sessions, so backends' change notifications
   * reach it. Refused (false) at `maxSessions`.
   */
  registerListener(session: ClientSession): boolean {
    if (this.#sessions.size >= this.#options.maxSessions) return false;
    this.#sessions.set(session.sid, session);
    return true;
  }

  /** A session a 2025-era client may address by its id: listen streams' sessions are not among them. */
  #addressable(sid: string): ClientSession | undefined {
    const session = this.#sessions.get(sid);
    return session?.era === 'legacy' ? session : undefined;
  }

  /** Ends a session: its backend calls are cancelled, its subscriptions released, its stream ended. */
  closeSession(session: ClientSession, reason: string): void {
    if (session.closed) return;
    session.closed = true;
    this.#sessions.delete(session.sid);
    if (session.transport === 'sse' && !session.ephemeral) this.#announceLegacy(session, false);
    this.#hub.releaseSession(session);
    session.replay = undefined;
    if (session.stream && !session.stream.detached) {
      this.#streams.delete(`${session.stream.shard}:${session.stream.outlet}`);
      if (session.listen) {
        // A listen stream ended by the gateway gets its request's result first: a graceful end.
        this.#writer.sendJson(session.stream, JSON.stringify(session.listen.completion()), undefined, true);
      } else {
        this.#send(session.stream.shard, {
          k: FrameKind.CLOSE_OUTLET,
          outlet: session.stream.outlet,
          reason,
        });
      }
      session.stream = undefined;
    }
    this.#logger.debug({ session: shortId(session.sid), reason }, 'session closed');
  }

  /** Ends every session on a worker that died: their streams died with it. */
  dropShard(shard: number): void {
    for (const [key, session] of [...this.#streams]) {
      if (key.startsWith(`${shard}:`)) {
        this.#streams.delete(key);
        if (session.transport === 'sse') this.closeSession(session, 'worker replaced');
        else this.#detachStream(session);
      }
    }
  }

  closeAll(reason: string): void {
    for (const session of [...this.#sessions.values()]) this.closeSession(session, reason);
  }

  stop(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#priming.stop();
  }

  /**
   * Closes sessions with nothing in flight and no client message for the idle timeout, open stream or
   * not: a client that vanished without closing its connection must not pin a session forever, and SDK
   * clients whose legacy stream ends reconnect and get a new session on their own.
   */
  sweepIdle(now = Date.now()): void {
    const cutoff = now - this.#options.sessionIdleTimeoutMs;
    // A session holding its own process that its client has left costs a process: it goes sooner.
    const isolatedCutoff = now - this.#isolatedIdleMs;
    for (const session of [...this.#sessions.values()]) {
      // A listen stream is quiet by nature; it ends when its stream does.
      if (!session.quiet || session.listen) continue;
      if (session.lastActivity < cutoff) this.closeSession(session, 'idle timeout');
      else if (session.isolated?.size && abandoned(session) && session.lastActivity < isolatedCutoff)
        this.closeSession(session, 'idle timeout (abandoned isolated session)');
    }
  }

  get #isolatedIdleMs(): number {
    return this.#options.isolatedIdleTimeoutMs ?? this.#options.sessionIdleTimeoutMs;
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
    if (transport === 'streamable' && this.#options.replayBufferBytes > 0)
      session.replay = new ReplayLog(this.#options.replayBufferBytes);
    this.#sessions.set(sid, session);
    if (outlet !== undefined) {
      session.stream = { shard, outlet };
      this.#streams.set(`${shard}:${outlet}`, session);
      // Told before the owner's confirmation below leaves, so the first POST usually finds them knowing.
      this.#announceLegacy(session, true);
      // Registered: the worker may now tell the client where to POST.
      this.#send(shard, { k: FrameKind.REPLY, outlet, status: 200 });
    }
    return session;
  }

  /**
   * Tells the workers that a legacy session began (all but the stream's own, which knows) or ended (all of
   * them: the owner too, since its stream may take a while to drain and close, and until then it would
   * still answer the session's POSTs with 202). The frame goes before any CLOSE_OUTLET on the same port.
   */
  #announceLegacy(session: ClientSession, live: boolean): void {
    const owner = live ? session.stream?.shard : undefined;
    for (const shard of this.#shards()) {
      if (shard !== owner)
        this.#send(shard, { k: FrameKind.LEGACY_SESSION, sid: session.sid, target: session.target, live });
    }
  }

  /**
   * The session's stream lost its connection. A legacy session ends with it. A Streamable HTTP session
   * goes on; with replay on, its stream stays as a detached log for the client to resume.
   */
  #detachStream(session: ClientSession): void {
    const stream = session.stream;
    if (!stream || stream.detached) return;
    this.#streams.delete(`${stream.shard}:${stream.outlet}`);
    session.lastActivity = Date.now();
    if (session.transport === 'sse') {
      session.stream = undefined;
      this.closeSession(session, 'stream closed');
    } else if (session.replay) stream.detached = true;
    else session.stream = undefined;
  }

  /**
   * Streamable HTTP GET. With a Last-Event-ID of this session, the stream it names is resumed: its missed
   * events are replayed and later ones follow on this connection (for a POST stream, up to its answer).
   * Otherwise it becomes the session's standalone stream; a second live one is refused with 409 so no
   * message can go to two streams or to a stream nobody reads.
   */
  #openStream(shard: number, sid: string, target: string, outlet: number, lastEventId?: string): void {
    const session = this.#addressable(sid);
    const reply = (status: number, body?: Record<string, unknown>) =>
      this.#send(shard, { k: FrameKind.REPLY, outlet, status, ...(body ? { body } : {}) });
    if (!session || session.target !== target || session.transport !== 'streamable') {
      reply(404, SESSION_NOT_FOUND);
      return;
    }
    session.lastActivity = Date.now();
    const resumed = lastEventId ? session.replay?.resume(lastEventId) : undefined;
    if (resumed && resumed.stream !== STANDALONE_STREAM) {
      reply(200);
      const { ref } = resumed;
      ref.shard = shard;
      ref.outlet = outlet;
      ref.detached = false;
      this.#writer.replay(shard, outlet, resumed.missed);
      if (resumed.done && !resumed.missed.some((event) => event.final))
        this.#send(shard, { k: FrameKind.CLOSE_OUTLET, outlet, reason: 'stream already complete' });
      return;
    }
    const current = session.stream;
    if (current && !current.detached) {
      if (!resumed) {
        reply(409, {
          jsonrpc: '2.0',
          error: { code: -32000, message: 'Conflict: this session already has an open GET stream' },
          id: null,
        });
        return;
      }
      // The client resumes the standalone stream: its old connection is dead even if we have not noticed.
      this.#streams.delete(`${current.shard}:${current.outlet}`);
      this.#send(current.shard, {
        k: FrameKind.CLOSE_OUTLET,
        outlet: current.outlet,
        reason: 'resumed elsewhere',
      });
    }
    const ref: OutletRef = { shard, outlet };
    session.stream = ref;
    this.#streams.set(`${shard}:${outlet}`, session);
    session.replay?.open(ref, STANDALONE_STREAM);
    reply(200);
    if (resumed) {
      this.#writer.replay(shard, outlet, resumed.missed);
    } else if (session.replay && allowsPrimingEvents(session.protocolVersion)) {
      this.#writer.sendPriming(shard, outlet, session.replay.primingId(STANDALONE_STREAM));
    }
  }

  /** A stateless (2026-07-28) request: one JSON-RPC request the worker has checked, no session. */
  #onModernMessage(shard: number, frame: ClientMessageFrame): void {
    const reply = (status: number, body?: Record<string, unknown>) =>
      this.#send(shard, { k: FrameKind.REPLY, outlet: frame.outlet, status, ...(body ? { body } : {}) });
    const parsed = parseClientMessage(frame, reply);
    if (parsed !== undefined) this.#modern.handle(shard, frame, parsed as Message);
  }
}
