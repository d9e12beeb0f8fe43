import type { HttpExchange } from './http-exchange.js';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/**
 * Reads a request body up to `maxBytes`. A declared Content-Length over the limit is refused before a
 * byte is read; a body that grows past the limit is refused as soon as it does. uWS hands out chunks
 * that are only valid during the callback, so each is copied.
 */
export function readBody(exchange: HttpExchange, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = exchange.info.contentLength;
    if (declared !== undefined && declared > maxBytes) {
      resolve({ ok: false, reason: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    exchange.onAbort(() => {
      if (!settled) {
        settled = true;
        resolve({ ok: false, reason: 'aborted' });
      }
    });
    exchange.res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        settled = true;
        resolve({ ok: false, reason: 'too-large' });
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) {
        settled = true;
        resolve({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
      }
    });
  });
}
