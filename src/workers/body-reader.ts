import { RpcErrorCode } from '../shared/json-rpc.js';
import { mediaType, parseJsonRpc } from './access-control.js';
import type { HttpExchange } from './http/http-exchange.js';

export type BodyFailure = 'too-large' | 'aborted';

/**
 * Reads a request body up to `maxBytes` and hands it to `onBody` once complete. A declared Content-Length
 * over the limit is refused before a byte is read; a body that grows past the limit is refused as soon as
 * it does. The engine lends each chunk only for the duration of its callback: a body that arrives in one
 * chunk (nearly every JSON-RPC message) is handed over as that loan, with no copy, so `onBody` must be
 * done with the bytes when it returns. Bodies in several chunks are copied and joined.
 */
export function readBody(
  exchange: HttpExchange,
  maxBytes: number,
  onBody: (bytes: Uint8Array) => void,
  onFailure: (reason: BodyFailure) => void,
): void {
  const declared = exchange.info.contentLength;
  if (declared !== undefined && declared > maxBytes) {
    onFailure('too-large');
    return;
  }
  let chunks: Buffer[] | undefined;
  let size = 0;
  let settled = false;
  exchange.onAbort(() => {
    if (settled) return;
    settled = true;
    onFailure('aborted');
  });
  exchange.onData((chunk, isLast) => {
    if (settled) return;
    size += chunk.byteLength;
    if (size > maxBytes) {
      settled = true;
      onFailure('too-large');
      return;
    }
    if (isLast && !chunks) {
      settled = true;
      onBody(chunk);
      return;
    }
    chunks ??= [];
    chunks.push(Buffer.from(chunk));
    if (isLast) {
      settled = true;
      const body = Buffer.concat(chunks, size);
      chunks = undefined; // the abort listener's closure outlives the body; it need not keep the parts
      onBody(body);
    }
  });
}

/** Answers 415 and returns false unless the request says its body is JSON. */
export function requireJsonBody(exchange: HttpExchange): boolean {
  if (mediaType(exchange.info.contentType) === 'application/json') return true;
  exchange.sendRpcError(
    415,
    RpcErrorCode.INVALID_REQUEST,
    'Unsupported Media Type: Content-Type must be application/json',
  );
  return false;
}

/**
 * Reads and checks a JSON-RPC POST body: 413 past `maxBytes`, 400 when it is not JSON or not a JSON-RPC
 * message (or, unless `allowBatch`, when it is a batch). Gives the parsed message or batch and the text
 * it came from; undefined when it has already answered (or the client left).
 */
export function readJsonRpcBody(
  exchange: HttpExchange,
  maxBytes: number,
  allowBatch: boolean,
): Promise<
  { message?: Record<string, unknown>; batch?: Array<Record<string, unknown>>; text: string } | undefined
> {
  return new Promise((resolve) =>
    readBody(
      exchange,
      maxBytes,
      (bytes) => {
        // Parsed while the bytes are still lent to us: what comes out is text and objects of our own.
        const parsed = parseJsonRpc(bytes, { allowBatch });
        if (parsed.ok) {
          resolve(parsed);
          return;
        }
        exchange.sendRpcError(parsed.status, parsed.code, parsed.error);
        resolve(undefined);
      },
      (reason) => {
        if (reason === 'too-large') {
          exchange.sendRpcError(
            413,
            RpcErrorCode.INVALID_REQUEST,
            `Content Too Large: the limit is ${maxBytes} bytes`,
          );
        }
        resolve(undefined);
      },
    ),
  );
}
