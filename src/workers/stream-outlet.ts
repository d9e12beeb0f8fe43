import type { DeliverFrame } from '../shared/frames.js';
import type { Outlet } from './outlet.js';
import type { SseStream } from './sse-stream.js';

/** A long-lived SSE stream (legacy GET /sse, or a Streamable HTTP GET) as an outlet. */
export class StreamOutlet implements Outlet {
  readonly kind = 'stream';
  readonly stream: SseStream;
  /** '' for the aggregated endpoint, else the server this stream belongs to (for server-status events). */
  readonly target: string;
  readonly legacy: boolean;

  constructor(stream: SseStream, target: string, legacy: boolean) {
    this.stream = stream;
    this.target = target;
    this.legacy = legacy;
  }

  get bufferedBytes(): number {
    return this.stream.bufferedBytes;
  }

  deliver(frame: DeliverFrame): void {
    this.stream.event('message', JSON.stringify(frame.msg), frame.eventId);
    if (frame.final) this.stream.end();
  }

  reply(): void {
    // Streams are not request outlets; a reply addressed here has nowhere to go.
  }

  close(): void {
    this.stream.end();
  }
}
