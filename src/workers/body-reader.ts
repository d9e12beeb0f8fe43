import { RpcErrorCode } from '../shared/json-rpc.js';
import { mediaType, parseJsonRpc } from './access-control.js';
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
 * Reads and checks one JSON-RPC message from a POST body: 413 past `maxBytes`, 400 when it is not JSON
 * or not a JSON-RPC message. Returns undefined when it has already answered (or the client left).
 */
export async function readJsonRpcMessage(
  exchange: HttpExchange,
  maxBytes: number,
): Promise<{ message: Record<string, unknown>; text: string } | undefined> {
  const body = await readJsonRpcBody(exchange, maxBytes, false);
  return body?.message ? { message: body.message, text: body.text } : undefined;
}

/** Like `readJsonRpcMessage`, but a batch may come instead of one message when `allowBatch`. */
export async function readJsonRpcBody(
  exchange: HttpExchange,
  maxBytes: number,
  allowBatch: boolean,
): Promise<
  { message?: Record<string, unknown>; batch?: Array<Record<string, unknown>>; text: string } | undefined
> {
  const body = await readBody(exchange, maxBytes);
  if (!body.ok) {
    if (body.reason === 'too-large') {
      exchange.sendRpcError(
        413,
        RpcErrorCode.INVALID_REQUEST,
        `Content Too Large: the limit is ${maxBytes} bytes`,
      );
    }
    return undefined;
  }
  const parsed = parseJsonRpc(body.body, { allowBatch });
  if (!parsed.ok) {
    exchange.sendRpcError(parsed.status, parsed.code, parsed.error);
    return undefined;
  }
  return parsed;
}
