import { RpcErrorCode } from '../shared/json-rpc.js';
import type { WorkerOptions } from '../shared/worker-options.js';
import type { HttpExchange } from './http/http-exchange.js';
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  checkBearer,
  checkOriginAndHost,
  isAllowedOrigin,
} from './http-guard.js';

const MAX_PREFLIGHT_AGE_S = '86400';

/**
 * The checks every request passes, in this order: Origin/Host (403), then the bearer token (401). Both
 * come before any session lookup, so a refused request learns nothing about which sessions exist.
 * Returns false when it has already answered the request.
 */
export function admit(
  exchange: HttpExchange,
  options: WorkerOptions,
  digest: Buffer | undefined,
  requireToken = true,
): boolean {
  const { info } = exchange;
  const policy = { allowedOrigins: options.allowedOrigins, loopbackOnly: options.loopbackOnly };
  if (!checkOriginAndHost(info.origin, info.host, policy)) {
    // Never echo a refused origin back in CORS headers.
    exchange.info.origin = '';
    exchange.sendRpcError(403, RpcErrorCode.INVALID_REQUEST, 'Forbidden: Origin or Host not allowed');
    return false;
  }
  if (!requireToken) return true;
  const auth = checkBearer(info.authorization, digest);
  if (auth === 'missing') {
    exchange.sendRpcError(401, RpcErrorCode.INVALID_REQUEST, 'Unauthorized: a bearer token is required', [
      ['WWW-Authenticate', 'Bearer realm="mcp-runner"'],
    ]);
    return false;
  }
  if (auth === 'invalid') {
    exchange.sendRpcError(401, RpcErrorCode.INVALID_REQUEST, 'Unauthorized: invalid bearer token', [
      ['WWW-Authenticate', 'Bearer realm="mcp-runner", error="invalid_token"'],
    ]);
    return false;
  }
  return true;
}

/** CORS preflight: answered without auth (browsers never send credentials on it), Origin still checked. */
export function answerPreflight(exchange: HttpExchange, options: WorkerOptions): void {
  const policy = { allowedOrigins: options.allowedOrigins, loopbackOnly: options.loopbackOnly };
  if (exchange.info.origin && !isAllowedOrigin(exchange.info.origin, policy)) {
    exchange.info.origin = '';
    exchange.send(403, '');
    return;
  }
  exchange.send(204, '', undefined, [
    ['Access-Control-Allow-Methods', CORS_ALLOW_METHODS],
    ['Access-Control-Allow-Headers', CORS_ALLOW_HEADERS],
    ['Access-Control-Max-Age', MAX_PREFLIGHT_AGE_S],
  ]);
}

/** Media type of a Content-Type header without parameters, lower-cased. */
export function mediaType(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type ParseFailure = { ok: false; status: number; code: number; error: string };
type CheckedMessage = { ok: true; message: Record<string, unknown> };

/** A checked body: the parsed message or batch, and the text it was parsed from (passed on as it is). */
export type ParsedBody =
  | { ok: true; message: Record<string, unknown>; batch?: undefined; text: string }
  | { ok: true; batch: Array<Record<string, unknown>>; message?: undefined; text: string }
  | ParseFailure;

/**
 * Deepest JSON nesting accepted. Every layer of the gateway (msgpackr between threads, the backend's own
 * parser) recurses per level; far below where any of them runs out of stack, and far above what a real
 * MCP message uses.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * Whether the JSON text nests arrays and objects deeper than `max`, by a scan of the raw bytes (brackets
 * inside strings do not count). A body shorter than 2 x max bytes cannot, so small messages skip it.
 */
export function nestingBeyond(body: Uint8Array, max: number): boolean {
  if (body.length <= 2 * max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/** With the `u` flag a surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Largest JSON-RPC batch accepted (as in the official SDK), so one POST cannot fan out unboundedly. */
export const MAX_BATCH_MESSAGES = 100;

function invalid(error: string): ParseFailure {
  return { ok: false, status: 400, code: RpcErrorCode.INVALID_REQUEST, error };
}

/**
 * Parses and shape-checks a JSON-RPC POST body. Batches are refused unless `allowBatch` (Streamable
 * HTTP, where protocol 2025-03-26 has them; whether the session may use them is decided by the main
 * thread, which knows its version). A batch never carries initialize and holds 1 to 100 messages.
 */
export function parseJsonRpc(body: Uint8Array, options: { allowBatch?: boolean } = {}): ParsedBody {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    // Decoding leniently would swap bad bytes for U+FFFD and silently change the client's ids.
    return {
      ok: false,
      status: 400,
      code: RpcErrorCode.PARSE_ERROR,
      error: 'Parse error: the body is not valid UTF-8',
    };
  }
  if (nestingBeyond(body, MAX_JSON_DEPTH)) {
    return invalid(
      `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels; no MCP message needs that`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      status: 400,
      code: RpcErrorCode.PARSE_ERROR,
      error: `Parse error: ${(error as Error).message}`,
    };
  }
  if (!Array.isArray(value)) {
    const checked = checkMessage(value);
    return checked.ok ? { ok: true, message: checked.message, text } : checked;
  }
  if (!options.allowBatch)
    return invalid('Invalid Request: JSON-RPC batches are not supported; send one message per POST');
  if (value.length === 0 || value.length > MAX_BATCH_MESSAGES)
    return invalid(`Invalid Request: a batch must hold 1 to ${MAX_BATCH_MESSAGES} messages`);
  const batch: Array<Record<string, unknown>> = [];
  for (const item of value) {
    const checked = checkMessage(item);
    if (!checked.ok) return { ...checked, error: `${checked.error} (in the batch)` };
    if (checked.message.method === 'initialize')
      return invalid('Invalid Request: initialize must be sent on its own, not in a batch');
    batch.push(checked.message);
  }
  return { ok: true, batch, text };
}

function checkMessage(value: unknown): CheckedMessage | ParseFailure {
  if (Array.isArray(value)) return invalid('Invalid Request: batches cannot be nested');
  if (typeof value !== 'object' || value === null) {
    return invalid('Invalid Request: the body must be a JSON-RPC message object');
  }
  const msg = value as Record<string, unknown>;
  if (msg.jsonrpc !== '2.0') {
    return {
      ok: false,
      status: 400,
      code: RpcErrorCode.INVALID_REQUEST,
      error: 'Invalid Request: "jsonrpc" must be "2.0"',
    };
  }
  const hasId = 'id' in msg;
  // An id must come back exactly as sent. A lone surrogate cannot (it is not encodable as UTF-8), nor can
  // an integer beyond 2^53 - 1: JSON.parse has already rounded it, and the answer would name another id.
  const validId =
    (typeof msg.id === 'string' && !LONE_SURROGATE.test(msg.id)) ||
    (typeof msg.id === 'number' &&
      Number.isFinite(msg.id) &&
      (Number.isSafeInteger(msg.id) || !Number.isInteger(msg.id)));
  if (typeof msg.method === 'string') {
    if (hasId && !validId) {
      return {
        ok: false,
        status: 400,
        code: RpcErrorCode.INVALID_REQUEST,
        error:
          'Invalid Request: "id" must be a string of well-formed Unicode or a number that survives JSON exactly ' +
          '(integers within ±9007199254740991); send large ids as strings',
      };
    }
    if (
      'params' in msg &&
      (typeof msg.params !== 'object' || msg.params === null || Array.isArray(msg.params))
    ) {
      return {
        ok: false,
        status: 400,
        code: RpcErrorCode.INVALID_REQUEST,
        error: 'Invalid Request: "params" must be an object',
      };
    }
    return { ok: true, message: msg };
  }
  if (msg.method === undefined && hasId && ('result' in msg || 'error' in msg))
    return { ok: true, message: msg };
  return {
    ok: false,
    status: 400,
    code: RpcErrorCode.INVALID_REQUEST,
    error: 'Invalid Request: not a JSON-RPC request, notification or response',
  };
}
