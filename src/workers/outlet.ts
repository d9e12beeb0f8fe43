import type { DeliverFrame, ReplyFrame } from '../shared/frames.js';

/**
 * Something in this worker that messages for a client are written to: an open SSE stream or an HTTP
 * request waiting for its answer. The main thread addresses outlets by number.
 */
export interface Outlet {
  readonly kind: 'stream' | 'request';
  deliver(frame: DeliverFrame): void;
  reply(frame: ReplyFrame): void;
  /** Server-side end (session closed, shutting down). */
  close(reason: string): void;
  /** Bytes waiting for a slow client. */
  readonly bufferedBytes: number;
  /** Writes an SSE comment if this outlet is an open stream, so idle connections are not cut by proxies. */
  keepAlive(): void;
}
