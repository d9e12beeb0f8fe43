import {
  type FramePort,
  type MainToWorkerFrame,
  packFrame,
  unpackFrame,
  type WorkerToMainFrame,
} from './frames.js';

type Frame = WorkerToMainFrame | MainToWorkerFrame;

/**
 * Sends frames on one port, several per message: frames queued during one turn of the event loop leave
 * together at the end of it, in one buffer that is transferred, not copied. Under load many sessions'
 * messages cross a port per turn, and one `postMessage` per turn instead of one per frame takes that
 * cost off the main thread, which every message crosses. Order on the port is kept.
 *
 * Wire format of a batch: per frame, its msgpack length as a little-endian uint32, then its bytes.
 */
export class FrameBatcher {
  readonly #port: FramePort;
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  constructor(port: FramePort) {
    this.#port = port;
  }

  /** Queues a frame; returns its encoded size (what it costs to keep, for the replay log). */
  send(frame: Frame): number {
    const packed = packFrame(frame);
    const chunk = new Uint8Array(4 + packed.length);
    new DataView(chunk.buffer).setUint32(0, packed.length, true);
    chunk.set(packed, 4);
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#chunks.length === 1) setImmediate(this.flush);
    return packed.length;
  }

  /** Posts what is queued now (also called at the end of each turn). */
  readonly flush = (): void => {
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    let batch = chunks[0]!;
    if (chunks.length > 1) {
      batch = new Uint8Array(this.#bytes);
      let at = 0;
      for (const chunk of chunks) {
        batch.set(chunk, at);
        at += chunk.length;
      }
    }
    this.#chunks = [];
    this.#bytes = 0;
    try {
      this.#port.postMessage(batch, [batch.buffer as ArrayBuffer]);
    } catch {
      // The port was closed (a worker going away): its frames have nobody left to read them.
    }
  };
}

/**
 * Calls `each` with every frame of a batch, in order. A frame that cannot be decoded (msgpackr recurses
 * per level, so absurd nesting can exhaust the stack) goes to `onError` and the others still arrive:
 * an exception here would escape the port's listener and take the process down.
 */
export function readFrameBatch<T extends Frame>(
  batch: Uint8Array,
  each: (frame: T) => void,
  onError: (error: unknown) => void,
): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  let at = 0;
  while (at + 4 <= batch.byteLength) {
    const length = view.getUint32(at, true);
    let frame: T;
    try {
      frame = unpackFrame<T>(batch.subarray(at + 4, at + 4 + length));
    } catch (error) {
      onError(error);
      at += 4 + length;
      continue;
    }
    each(frame);
    at += 4 + length;
  }
}
