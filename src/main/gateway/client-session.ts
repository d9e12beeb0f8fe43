import type { Transport } from '../../shared/frames.js';
import type { JsonRpcId } from '../../shared/json-rpc.js';
import type { ManagedServer } from '../managed-server.js';
import type { McpLoggingLevel } from '../mcp-client.js';
import type { ListenStream } from './era/listen-stream.js';
import type { ReplayLog } from './replay-log.js';

/**
 * Where a message for a client goes: an outlet in one worker. On Streamable HTTP sessions it also names
 * the logical stream the message belongs to, which outlives a dropped connection: when the client
 * resumes with Last-Event-ID the ref is pointed at the new connection.
 */
export interface OutletRef {
  shard: number;
  outlet: number;
  /** Stream number in the session's replay log (Streamable HTTP only). */
  stream?: number;
  /** The connection is gone; messages are only logged until the client resumes. */
  detached?: boolean;
}

/** A client request being served by a backend. */
export interface InflightCall {
  server: string;
  /** Stops the call (its backend is told with notifications/cancelled). */
  cancel: (error: Error) => void;
  /** Where this call's progress, related server requests and response go. */
  replyTo: OutletRef | undefined;
}

/** A request a backend sent to this session's client, waiting for the client's answer. */
export interface PendingServerRequest {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** What the backend side needs from the session layer: the sessions, a way to reach a client, and to end one. */
export interface SessionDirectory {
  sessions(): Iterable<ClientSession>;
  closeSession(session: ClientSession, reason: string): void;
  /** Sends a message to a session: on `via` when given (a request's own stream), else its stream. */
  sendToSession(session: ClientSession, msg: Record<string, unknown>, via?: OutletRef): boolean;
}

/** Where a session's traffic about its call on `server` goes: that call's stream, if it has one. */
export function replyToFor(session: ClientSession, server: string): OutletRef | undefined {
  for (const call of session.inflight?.values() ?? []) if (call.server === server) return call.replyTo;
  return undefined;
}

/** Key for a client's JSON-RPC id that keeps its type: `1` and `"1"` are different requests. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}

const NO_CAPABILITIES: Record<string, unknown> = Object.freeze({});

/**
 * One client session, owned by the main thread. Every message of the session passes through here, so
 * this is also where per-session protocol state lives: the negotiated version, what the client can do,
 * its log level and subscriptions, and what it has in flight.
 */
export class ClientSession {
  readonly sid: string;
  readonly transport: Transport;
  /** '' for the aggregated endpoint, else the one server this session talks to. */
  readonly target: string;
  /** Sessions made for a single POST without a session id (the original crate's clients, 2026-07-28). */
  readonly ephemeral: boolean;
  /** `modern`: one stateless 2026-07-28 request, its client's metadata taken from its `_meta`. */
  era: 'legacy' | 'modern' = 'legacy';
  /** A 2026-07-28 `subscriptions/listen` stream: what it opted in to (the session lives as long as it). */
  listen: ListenStream | undefined;
  /** The session's stream for messages not tied to a POST (legacy stream, Streamable HTTP GET). */
  stream: OutletRef | undefined;
  protocolVersion: string | undefined;
  clientCapabilities: Record<string, unknown> = NO_CAPABILITIES;
  /** What the client says it is (`clientInfo` of initialize or of `_meta`), told to modern backends. */
  clientInfo: Record<string, unknown> | undefined;
  logLevel: McpLoggingLevel | undefined;
  initialized = false;
  closed = false;
  lastActivity = Date.now();
  // The maps below are made on first use: most sessions never need most of them, and an idle session
  // should cost little (10,000 idle sessions is a supported load).
  /** Client requests in flight on backends, by `idKey` of the client's id. */
  inflight: Map<string, InflightCall> | undefined;
  /** Backend requests forwarded to this client and not answered yet, by the id given to the client. */
  serverRequests: Map<string, PendingServerRequest> | undefined;
  /** Resource URIs this session subscribed to, per server. */
  subscriptions: Map<string, Set<string>> | undefined;
  /** `sessionMode: "isolated"` servers: this session's own process of each (starting or started). */
  isolated: Map<string, Promise<ManagedServer>> | undefined;
  /** Streamable HTTP: the events kept for Last-Event-ID resumption (absent when replay is off). */
  replay: ReplayLog | undefined;
  #nextServerRequestId = 1;

  constructor(sid: string, transport: Transport, target: string, ephemeral = false) {
    this.sid = sid;
    this.transport = transport;
    this.target = target;
    this.ephemeral = ephemeral;
  }

  /** Whether this session sees the given server's traffic (its own server, or any, when aggregated). */
  sees(server: string): boolean {
    return this.target === '' || this.target === server;
  }

  // Writers go through these, which make the map on first use.
  inflightMap(): Map<string, InflightCall> {
    this.inflight ??= new Map();
    return this.inflight;
  }

  serverRequestMap(): Map<string, PendingServerRequest> {
    this.serverRequests ??= new Map();
    return this.serverRequests;
  }

  subscriptionMap(): Map<string, Set<string>> {
    this.subscriptions ??= new Map();
    return this.subscriptions;
  }

  isolatedMap(): Map<string, Promise<ManagedServer>> {
    this.isolated ??= new Map();
    return this.isolated;
  }

  /** Nothing in flight either way: the session may be reaped when idle. */
  get quiet(): boolean {
    return !this.inflight?.size && !this.serverRequests?.size;
  }

  /** Ids for requests the gateway sends to this client; unique within the session. */
  nextServerRequestId(): string {
    return `mcpr-${this.#nextServerRequestId++}`;
  }
}
