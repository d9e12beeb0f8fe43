import {
  type FramePort,
  type MainToWorkerFrame,
  packFrame,
  unpackFrame,
  type WorkerToMainFrame,
} from './frames.js';

type Frame = WorkerToMainFrame | MainToWorkerFrame;

/** First size of a batch buffer; later ones start at the size the previous batch reached. */
const MIN_BATCH_BYTES = 4096;
/** ...but not beyond this: one huge answer must not make every later batch huge. */
const MAX_BATCH_HINT_BYTES = 256 * 1024;

/**
 * Sends frames on one port, several per message: frames queued during one turn of the event loop leave
 * together at the end of it, in one buffer that is transferred, not copied. Under load many sessions'
 * messages cross a port per turn, and one `postMessage` per turn instead of one per frame takes that
 * cost off the main thread, which every message crosses. Order on the port is kept.
 *
 * Each frame is encoded straight into the batch's buffer: one allocation per batch, not one per frame
 * (every ArrayBuffer is a native allocation the garbage collector has to track and sweep).
 *
 * Wire format of a batch: per frame, its msgpack length as a little-endian uint32, then its bytes.
 */
export class FrameBatcher {
  readonly #port: FramePort;
  #buffer: Buffer | undefined;
  #length = 0;
  /** Size to give the next batch's buffer: what the last one needed, so a steady load allocates once. */
  #nextSize = MIN_BATCH_BYTES;

  constructor(port: FramePort) {
    this.#port = port;
  }

  /** Queues a frame; returns its encoded size (what it costs to keep, for the replay log). */
  send(frame: Frame): number {
    const packed = packFrame(frame);
    const needed = this.#length + 4 + packed.length;
    let buffer = this.#buffer;
    if (!buffer) {
      // Not zero-filled and not from Node's shared pool: the pool's slab cannot be transferred.
      buffer = Buffer.allocUnsafeSlow(Math.max(this.#nextSize, needed));
      this.#buffer = buffer;
      setImmediate(this.flush);
    } else if (needed > buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(buffer.length * 2, needed));
      buffer.copy(grown, 0, 0, this.#length);
      buffer = grown;
      this.#buffer = grown;
    }
    buffer.writeUInt32LE(packed.length, this.#length);
    buffer.set(packed, this.#length + 4);
    this.#length = needed;
    return packed.length;
  }

  /** Posts what is queued now (also called at the end of each turn). */
  readonly flush = (): void => {
    const buffer = this.#buffer;
    if (!buffer) return;
    const batch = new Uint8Array(buffer.buffer, buffer.byteOffset, this.#length);
    this.#nextSize = Math.min(MAX_BATCH_HINT_BYTES, Math.max(MIN_BATCH_BYTES, this.#length));
    this.#buffer = undefined;
    this.#length = 0;
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
