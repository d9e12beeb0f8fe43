import { randomBytes } from 'node:crypto';
import type { OutletRef } from './client-session.js';

/** One message written to a stream, kept so a client that lost the connection can get it again. */
export interface LoggedEvent {
  seq: number;
  id: string;
  /** The message as the client gets it (serialised once, when it was first sent). */
  json: string;
  bytes: number;
  /** The response that completes a POST stream. */
  final: boolean;
  /** Position among all the session's events, for evicting the oldest first. */
  order: number;
}

interface LoggedStream {
  /** Where the stream's messages go now; re-pointed when the client resumes on a new connection. */
  ref: OutletRef;
  /** The client was given an id on this stream (a priming event), so it may come back for the rest. */
  primed: boolean;
  /** A priming event is owed once the priming window ends, unless the answer comes first. */
  primeLater: boolean;
  lastSeq: number;
  events: LoggedEvent[];
  done: boolean;
}

/** Completed POST streams kept for a client whose connection died as the answer was written. */
const DONE_STREAMS_KEPT = 4;

/** The standalone (GET) stream is number 0; POST streams count up from 1. */
export const STANDALONE_STREAM = 0;

/**
 * A Streamable HTTP session's event store. Every event id is `<tag>:<stream>:<seq>`: the tag is random
 * per session, so an id from another session resolves to nothing (GHSA-84j6-jc92-77jm), and the stream
 * number keeps replay to the stream that was cut (the spec forbids replaying another stream's messages).
 * Memory is capped per session: completed streams go first, then the oldest events.
 */
export class ReplayLog {
  readonly #tag = randomBytes(6).toString('base64url');
  readonly #maxBytes: number;
  readonly #streams = new Map<number, LoggedStream>();
  readonly #done: number[] = [];
  #nextStream = 1;
  #nextOrder = 0;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get bufferedBytes(): number {
    return this.#bytes;
  }

  /**
   * Starts logging a stream; POST streams get the next number, the GET stream is `STANDALONE_STREAM`.
   * `primeLater`: the stream is to be primed unless its answer comes within the priming window.
   */
  open(ref: OutletRef, stream = this.#nextStream++, primeLater = false): number {
    ref.stream = stream;
    const existing = this.#streams.get(stream);
    if (existing) existing.ref = ref;
    else this.#streams.set(stream, { ref, primed: false, primeLater, lastSeq: 0, events: [], done: false });
    return stream;
  }

  /**
   * The priming event id a stream still owes (its window ended, or a message other than the answer is
   * about to be written to it), once; undefined when it owes none: answered, not waiting, or gone.
   */
  takePriming(stream: number): string | undefined {
    const logged = this.#streams.get(stream);
    if (!logged?.primeLater || logged.primed || logged.done) return undefined;
    logged.primeLater = false;
    return this.primingId(stream);
  }

  /**
   * The id for a priming event: the newest event's on that stream, so resuming from it replays what
   * comes after.
   */
  primingId(stream: number): string {
    const logged = this.#streams.get(stream);
    if (logged) logged.primed = true;
    return this.#id(stream, logged?.lastSeq ?? 0);
  }

  /**
   * Numbers the next event of a stream and keeps it; `send` writes it and returns its encoded size.
   * Returns false when the stream is not logged (anymore).
   */
  record(stream: number, json: string, final: boolean, send: (eventId: string) => number): boolean {
    const logged = this.#streams.get(stream);
    if (!logged) return false;
    if (final && !logged.primed && logged.events.length === 0) {
      // An answer that comes first goes out as plain JSON: the client holds no event id and can never
      // ask for it again, so it is neither numbered nor kept.
      this.#streams.delete(stream);
      return false;
    }
    const seq = ++logged.lastSeq;
    const id = this.#id(stream, seq);
    const bytes = send(id);
    logged.events.push({ seq, id, json, bytes, final, order: this.#nextOrder++ });
    this.#bytes += bytes;
    if (final) this.finish(stream);
    this.#evict();
    return true;
  }

  /** A POST stream got its answer (or will get none): keep it briefly, then forget it. */
  finish(stream: number): void {
    const logged = this.#streams.get(stream);
    if (!logged || logged.done || stream === STANDALONE_STREAM) return;
    logged.done = true;
    this.#done.push(stream);
    while (this.#done.length > DONE_STREAMS_KEPT) this.#drop(this.#done.shift()!);
  }

  /**
   * Resolves a Last-Event-ID of this session: the stream it belongs to and the events after it.
   * Ids of other sessions, unknown streams and garbage give undefined.
   */
  resume(
    lastEventId: string,
  ): { stream: number; ref: OutletRef; done: boolean; missed: LoggedEvent[] } | undefined {
    const [tag, streamText, seqText, extra] = lastEventId.split(':');
    if (tag !== this.#tag || extra !== undefined || !streamText || !seqText) return undefined;
    const stream = Number(streamText);
    const seq = Number(seqText);
    if (!Number.isSafeInteger(stream) || !Number.isSafeInteger(seq)) return undefined;
    const logged = this.#streams.get(stream);
    if (!logged || seq > logged.lastSeq) return undefined;
    return {
      stream,
      ref: logged.ref,
      done: logged.done,
      missed: logged.events.filter((event) => event.seq > seq),
    };
  }

  #id(stream: number, seq: number): string {
    return `${this.#tag}:${stream}:${seq}`;
  }

  #drop(stream: number): void {
    const logged = this.#streams.get(stream);
    if (!logged) return;
    for (const event of logged.events) this.#bytes -= event.bytes;
    this.#streams.delete(stream);
  }

  #evict(): void {
    while (this.#bytes > this.#maxBytes) {
      if (this.#done.length > 0) {
        this.#drop(this.#done.shift()!);
        continue;
      }
      let oldest: LoggedStream | undefined;
      for (const logged of this.#streams.values()) {
        const first = logged.events[0];
        if (first && (!oldest || first.order < oldest.events[0]!.order)) oldest = logged;
      }
      if (!oldest) return;
      this.#bytes -= oldest.events.shift()!.bytes;
    }
  }
}
