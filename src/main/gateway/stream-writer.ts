import { FrameKind } from '../../shared/frames.js';
import { type Logger, shortId } from '../../shared/logger.js';
import type { ClientSession, OutletRef } from './client-session.js';
import type { LoggedEvent } from './replay-log.js';
import type { FrameSender } from './session-router.js';

type Message = Record<string, unknown>;

/** The `retry:` hint given with priming events: how long a client waits before it resumes. */
export const SSE_RETRY_MS = 1000;

/**
 * Writes messages to a session's streams in the workers: each serialised once here (the worker writes
 * the text as it is), numbered and kept for resumption on a Streamable HTTP stream, with the priming
 * event a 2025-11-25 stream is owed before its first message.
 */
export class StreamWriter {
  readonly #send: FrameSender;
  readonly #logger: Logger;

  constructor(send: FrameSender, logger: Logger) {
    this.#send = send;
    this.#logger = logger;
  }

  /**
   * Writes a message to a stream. It is serialised here, once: the worker writes the text as it is. On a
   * resumable stream it is numbered and kept in the session's replay log first, even when the connection
   * is gone, so a client that resumes gets it.
   */
  deliver(session: ClientSession, ref: OutletRef, msg: Message | Message[], final: boolean): void {
    // A batch's answers one by one, so one that cannot be serialised does not cost the others theirs.
    const json = Array.isArray(msg)
      ? `[${msg.map((m) => this.#serialise(session, m) ?? 'null').join(',')}]`
      : this.#serialise(session, msg);
    if (json === undefined) return;
    const replay = session.replay;
    if (!replay || ref.stream === undefined) {
      if (!ref.detached) this.sendJson(ref, json, undefined, final);
      return;
    }
    // Anything but the answer makes the stream an SSE stream: its priming event goes first.
    if (!final) this.primeIfOwed(session, ref);
    const write = (eventId: string): number =>
      ref.detached ? Buffer.byteLength(json) : this.sendJson(ref, json, eventId, final);
    if (!replay.record(ref.stream, json, final, write) && !ref.detached)
      this.sendJson(ref, json, undefined, final);
  }

  /**
   * A message's JSON. One that cannot be serialised (a backend answering with absurdly nested JSON) is
   * logged, and an answer gets an error answer in its place, not silence; anything else is dropped.
   */
  #serialise(session: ClientSession, msg: Message): string | undefined {
    try {
      return JSON.stringify(msg);
    } catch (error) {
      this.#logger.warn({ session: shortId(session.sid), err: error }, 'a message could not be passed on');
      if (!('id' in msg) || 'method' in msg) return undefined;
      return JSON.stringify({
        jsonrpc: '2.0',
        id: msg.id,
        error: { code: -32603, message: 'The answer could not be passed on to the client.' },
      });
    }
  }

  sendJson(ref: OutletRef, json: string, eventId: string | undefined, final: boolean): number {
    return this.#send(ref.shard, {
      k: FrameKind.DELIVER,
      outlet: ref.outlet,
      json,
      ...(eventId ? { eventId } : {}),
      ...(final ? { final } : {}),
    });
  }

  /** Sends a POST stream the priming event it still owes (see PrimingScheduler), if it owes one. */
  primeIfOwed(session: ClientSession, ref: OutletRef): void {
    if (session.closed || ref.stream === undefined) return;
    const eventId = session.replay?.takePriming(ref.stream);
    if (eventId && !ref.detached) this.sendPriming(ref.shard, ref.outlet, eventId);
  }

  /** A priming event: an id to resume from, no data, and how long to wait before resuming. */
  sendPriming(shard: number, outlet: number, eventId: string): void {
    this.#send(shard, { k: FrameKind.DELIVER, outlet, eventId, retry: SSE_RETRY_MS });
  }

  /** Sends missed events again, with their ids; a POST stream's answer ends the connection. */
  replay(shard: number, outlet: number, events: readonly LoggedEvent[]): void {
    for (const event of events) this.sendJson({ shard, outlet }, event.json, event.id, event.final);
  }
}
