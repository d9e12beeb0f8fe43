import { createHash } from 'node:crypto';
import { FrameKind } from '../../shared/frames.js';
import { isObject, type JsonRpcId, RpcErrorCode } from '../../shared/json-rpc.js';
import { isMcpLoggingLevel } from '../../shared/mcp-log-levels.js';
import {
  decodeHeaderValue,
  MetaKey,
  ModernErrorCode,
  metaProtocolVersion,
  NAMED_METHODS,
} from '../../shared/modern-protocol.js';
import { ALL_PROTOCOL_VERSIONS, isModernProtocolVersion } from '../../shared/protocol-versions.js';
import type { HttpExchange, RequestInfo } from '../http/http-exchange.js';
import type { WorkerShard } from '../worker-shard.js';

/**
 * The edge of the stateless revision (2026-07-28) on Streamable HTTP POSTs: which era a request belongs
 * to, and the checks its transport requires before anything reaches the main thread. Everything here is
 * answered from the request alone; the main thread sees only requests that passed.
 */

type Body = { message?: Record<string, unknown>; batch?: Array<Record<string, unknown>>; text: string };

/**
 * A request is modern when its body names a modern protocol version in `_meta`, or, for a request that
 * carries no session and is no initialize, when its MCP-Protocol-Version header does. An `Mcp-Session-Id`
 * or an initialize means the 2025 era (the transport's Backward Compatibility section); an inbound session
 * id on a request whose body says 2026-07-28 is ignored, as that revision says.
 */
export function isModernPost(info: RequestInfo, body: Body): boolean {
  if (body.batch) return !info.sessionId && isModernProtocolVersion(info.protocolVersion);
  const message = body.message!;
  if (message.method === 'initialize') return false;
  const version = metaProtocolVersion(message);
  if (version !== undefined) return isModernProtocolVersion(version) || !info.sessionId;
  return !info.sessionId && isModernProtocolVersion(info.protocolVersion);
}

interface Refusal {
  status: number;
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** A request missing a required field, or with an invalid one: 400 with Invalid Params (basic/index). */
const invalid = (message: string): Refusal => ({
  status: 400,
  code: RpcErrorCode.INVALID_PARAMS,
  message: `Invalid params: ${message}`,
});

const mismatch = (message: string): Refusal => ({
  status: 400,
  code: ModernErrorCode.HEADER_MISMATCH,
  message: `Header mismatch: ${message}`,
});

/** What is wrong with a modern request's headers and version, if anything (the transport's Server Validation). */
export function refuseModern(info: RequestInfo, message: Record<string, unknown>): Refusal | undefined {
  const version = metaProtocolVersion(message);
  const header = info.protocolVersion;
  if (!header) return mismatch('the MCP-Protocol-Version header is required');
  if (typeof version !== 'string')
    return mismatch(
      `MCP-Protocol-Version is "${header}" but params._meta["io.modelcontextprotocol/protocolVersion"] is missing`,
    );
  if (header !== version)
    return mismatch(`MCP-Protocol-Version header value '${header}' does not match body value '${version}'`);
  if (!isModernProtocolVersion(version))
    return {
      status: 400,
      code: ModernErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
      message: `Unsupported protocol version ${JSON.stringify(version)}; this gateway supports ${ALL_PROTOCOL_VERSIONS.join(', ')}`,
      data: { supported: ALL_PROTOCOL_VERSIONS, requested: version },
    };
  const meta = (message.params as { _meta: Record<string, unknown> })._meta;
  if (!isObject(meta[MetaKey.CLIENT_CAPABILITIES]))
    return invalid(
      `params._meta["${MetaKey.CLIENT_CAPABILITIES}"] is required (an object; {} declares no capabilities)`,
    );
  const level = meta[MetaKey.LOG_LEVEL];
  if (level !== undefined && !isMcpLoggingLevel(level))
    return invalid(
      `params._meta["${MetaKey.LOG_LEVEL}"] must be one of debug, info, notice, warning, error, critical, alert, emergency`,
    );
  const method = message.method;
  if (!info.mcpMethod) return mismatch('the Mcp-Method header is required');
  if (info.mcpMethod !== method)
    return mismatch(
      `Mcp-Method header value '${info.mcpMethod}' does not match body value '${String(method)}'`,
    );
  const field = typeof method === 'string' ? NAMED_METHODS[method] : undefined;
  if (field) {
    const params = message.params as Record<string, unknown> | undefined;
    const value = params?.[field];
    if (!info.mcpName) return mismatch(`the Mcp-Name header is required for ${method}`);
    const decoded = decodeHeaderValue(info.mcpName);
    if (decoded === undefined)
      return mismatch(`Mcp-Name header value '${info.mcpName}' is not valid Base64 of UTF-8`);
    if (decoded !== value)
      return mismatch(`Mcp-Name header value '${decoded}' does not match body value '${String(value)}'`);
  }
  return undefined;
}

/**
 * A modern POST: refused here when its headers or version are wrong (400 with the request's own id),
 * accepted with 202 when it is a notification (the revision defines none for clients on HTTP), else passed
 * to the main thread with no session: it carries everything the main thread needs in its `_meta`.
 */
export function postModern(
  shard: WorkerShard,
  exchange: HttpExchange,
  target: string,
  body: Body,
  sseOk: boolean,
): void {
  if (body.batch) {
    exchange.sendRpcError(
      400,
      RpcErrorCode.INVALID_REQUEST,
      'Invalid Request: 2026-07-28 has no JSON-RPC batches',
    );
    return;
  }
  const message = body.message!;
  const id = 'id' in message ? (message.id as JsonRpcId) : null;
  if (id === null) {
    // The revision defines no client notifications on HTTP, nor headers for them: accepted, and no more
    // (the SDK posts notifications/cancelled after closing a stream, which has cancelled already).
    exchange.send(202, '');
    return;
  }
  const refusal = refuseModern(exchange.info, message);
  if (refusal) {
    const error = {
      code: refusal.code,
      message: refusal.message,
      ...(refusal.data ? { data: refusal.data } : {}),
    };
    exchange.sendJson(refusal.status, { jsonrpc: '2.0', id, error });
    return;
  }
  const outletId = shard.openRequestOutlet(exchange, { sseOk });
  shard.countRequest();
  shard.send({
    k: FrameKind.CLIENT_MESSAGE,
    sid: '',
    transport: 'streamable',
    target,
    outlet: outletId,
    viaStream: false,
    sseOk,
    era: 'modern',
    ...(exchange.info.authorization ? { principal: principalOf(exchange.info.authorization) } : {}),
    ...(exchange.info.mcpParams && message.method === 'tools/call'
      ? { mcpParams: exchange.info.mcpParams }
      : {}),
    json: body.text,
  });
}

/** A digest of the caller's credentials: binds multi-round-trip state to them without carrying them. */
function principalOf(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64url').slice(0, 22);
}

/** GET and DELETE belong to the 2025 era's sessions: a modern client gets 405 (POST is all there is). */
export function refuseModernStreamOrDelete(exchange: HttpExchange): boolean {
  const { info } = exchange;
  if (info.sessionId || !isModernProtocolVersion(info.protocolVersion)) return false;
  exchange.sendRpcError(
    405,
    RpcErrorCode.INVALID_REQUEST,
    `Method Not Allowed: protocol ${info.protocolVersion} has no ${info.method} on this endpoint; POST each request`,
    [['Allow', 'POST']],
  );
  return true;
}
