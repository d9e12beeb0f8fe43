import { Packr } from 'msgpackr';

/**
 * Every message that crosses a worker's data port, in one place. Each frame is msgpackr-encoded, with a
 * numeric kind in its first field `k`; frames travel in batches (see frame-batcher.ts); `FRAME_VERSION` is checked in the startup handshake so
 * a main thread and a worker built from different sources refuse to talk.
 *
 * Vocabulary: an *outlet* is something in a worker that a message for a client can be written to: an
 * open SSE stream or an HTTP request still waiting for its answer. Outlet ids are numbers unique within
 * one worker (shard); the main thread addresses an outlet as (shard, outlet).
 */
export const FRAME_VERSION = 3;

export const FrameKind = {
  // worker -> main
  OPEN_SESSION: 1,
  CLIENT_MESSAGE: 2,
  OUTLET_CLOSED: 3,
  CLOSE_SESSION: 4,
  OPEN_STREAM: 5,
  STATUS_QUERY: 6,
  // main -> worker
  DELIVER: 20,
  REPLY: 21,
  CLOSE_OUTLET: 22,
  SERVER_STATUS: 23,
  LEGACY_SESSION: 24,
} as const;

export type Transport = 'sse' | 'streamable';

/** A client opened a session (legacy: GET /sse; Streamable HTTP: POST initialize). */
export interface OpenSessionFrame {
  k: typeof FrameKind.OPEN_SESSION;
  sid: string;
  transport: Transport;
  /** '' for the aggregated endpoint, otherwise the server name of /servers/{name}/... */
  target: string;
  /** Legacy: the session's SSE stream. */
  outlet?: number;
}

/**
 * One JSON-RPC message from a client. `outlet` is where the HTTP answer goes: a legacy POST (which gets
 * 202/404 and whose JSON-RPC answer travels on the session stream), a POST without session (answered in
 * the body), or a Streamable HTTP POST (answered as JSON or as an SSE stream).
 */
export interface ClientMessageFrame {
  k: typeof FrameKind.CLIENT_MESSAGE;
  /** '' when the client sent no session id. */
  sid: string;
  transport: Transport;
  target: string;
  outlet: number;
  /** Legacy POST with a session: answer the HTTP request with 202 and send the JSON-RPC reply on the stream. */
  viaStream: boolean;
  /**
   * Legacy POST already answered 202 by the worker, which knows the session is live (it holds its stream,
   * or heard of it in a LEGACY_SESSION frame): main sends no reply (`outlet` is 0), and a message for a
   * session that has just ended is dropped.
   */
  accepted?: boolean;
  /** The outlet may become an SSE stream (the client accepts text/event-stream). */
  sseOk: boolean;
  /** The MCP-Protocol-Version header, when present. */
  version?: string;
  /** A stateless (2026-07-28) request the worker has checked: no session, its metadata in `_meta`. */
  era?: 'modern';
  /**
   * Modern requests: a digest of the caller's credentials (the Authorization header), so a multi-round-
   * trip state is continued only by the caller it was given to. Absent without credentials.
   */
  principal?: string;
  /** Modern `tools/call`: its `Mcp-Param-*` headers, by lower-cased name after the prefix. */
  mcpParams?: Record<string, string>;
  /**
   * The body as the client sent it, already checked by the worker: one JSON-RPC message, or a batch (an
   * array; Streamable HTTP, sessions at 2025-03-26). Text, not the parsed object: the main thread parses
   * it natively once, instead of msgpackr walking the object on both sides.
   */
  json: string;
}

/** The client went away from an outlet (stream closed, request aborted). */
export interface OutletClosedFrame {
  k: typeof FrameKind.OUTLET_CLOSED;
  outlet: number;
}

/** The session ended from the client side (DELETE, or the legacy stream closed). */
export interface CloseSessionFrame {
  k: typeof FrameKind.CLOSE_SESSION;
  sid: string;
  /** For DELETE: answer this outlet with 200/404. */
  outlet?: number;
  /** For DELETE: the endpoint it came to ('' for /mcp); a session of another endpoint is not found. */
  target?: string;
}

/** Streamable HTTP GET: a server-to-client stream for a session, possibly resuming after an event id. */
export interface OpenStreamFrame {
  k: typeof FrameKind.OPEN_STREAM;
  sid: string;
  target: string;
  outlet: number;
  /** The Last-Event-ID header: resume the stream that event belongs to. */
  lastEventId?: string;
}

/** GET /health or /status: the main thread answers the outlet with a REPLY. */
export interface StatusQueryFrame {
  k: typeof FrameKind.STATUS_QUERY;
  outlet: number;
  what: 'health' | 'status' | 'metrics';
}

/**
 * A JSON-RPC message for a client, to be written to an outlet. Without `json` it is a priming event: the
 * SSE stream starts (if it has not) with an event that carries only `eventId` and `retry`.
 */
export interface DeliverFrame {
  k: typeof FrameKind.DELIVER;
  outlet: number;
  /**
   * One message, or the array of responses to a batch, serialised once on the main thread: the worker
   * writes it as it is (a JSON body or an SSE `data:` line; JSON.stringify output is one line).
   */
  json?: string;
  /** SSE event id, when the stream is resumable. */
  eventId?: string;
  /** SSE `retry:` in milliseconds, sent with a priming event. */
  retry?: number;
  /** The reply that completes this outlet: end the HTTP response after it. */
  final?: boolean;
  /** Streamable HTTP: header to add when the outlet's response starts (the new session id). */
  sessionId?: string;
}

/**
 * A plain HTTP answer for a waiting request outlet. Addressed to a legacy stream outlet it confirms that
 * the session is registered, and the worker then sends the `endpoint` event.
 */
export interface ReplyFrame {
  k: typeof FrameKind.REPLY;
  outlet: number;
  status: number;
  /** JSON body (serialised by the worker); absent means an empty body. */
  body?: Record<string, unknown>;
  /** A body that is not JSON (the Prometheus text of /metrics), with its content type. */
  text?: string;
  contentType?: string;
  /** Streamable HTTP: the Mcp-Session-Id header to set. */
  sessionId?: string;
}

/** End an outlet from the server side (session expired or closed, worker draining). */
export interface CloseOutletFrame {
  k: typeof FrameKind.CLOSE_OUTLET;
  outlet: number;
  reason: string;
}

/** A server changed state: legacy SSE streams and status pages get a `server-status` event. */
export interface ServerStatusFrame {
  k: typeof FrameKind.SERVER_STATUS;
  status: Record<string, unknown>;
}

/**
 * A legacy session opened or ended on another worker. Every worker keeps the live legacy sessions, so it
 * can answer a POST for one with 202 itself, whichever worker the POST lands on (see `accepted`).
 */
export interface LegacySessionFrame {
  k: typeof FrameKind.LEGACY_SESSION;
  sid: string;
  target: string;
  live: boolean;
}

export type WorkerToMainFrame =
  | OpenSessionFrame
  | ClientMessageFrame
  | OutletClosedFrame
  | CloseSessionFrame
  | OpenStreamFrame
  | StatusQueryFrame;

export type MainToWorkerFrame =
  | DeliverFrame
  | ReplyFrame
  | CloseOutletFrame
  | ServerStatusFrame
  | LegacySessionFrame;

// Plain maps, no records or structured extensions: frames are short-lived and shapes vary per message.
const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * Encodes a frame. The result is a view into msgpackr's scratch buffer, valid only until the next call:
 * copy it before keeping it (the FrameBatcher copies it into its batch).
 */
export function packFrame(frame: WorkerToMainFrame | MainToWorkerFrame): Uint8Array {
  return packr.pack(frame);
}

export function unpackFrame<T extends WorkerToMainFrame | MainToWorkerFrame>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/** Minimal port shape, so both worker_threads MessagePorts and test doubles fit. */
export interface FramePort {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
}

/** One frame in a buffer of its own (the micro benchmarks time a single frame's round trip). */
export function encodeFrame(frame: WorkerToMainFrame | MainToWorkerFrame): Uint8Array {
  return new Uint8Array(packFrame(frame));
}

export const decodeFrame = unpackFrame;
