import { FrameKind } from '../shared/frames.js';
import { RpcErrorCode } from '../shared/json-rpc.js';
import { isModernProtocolVersion, isSupportedProtocolVersion } from '../shared/protocol-versions.js';
import { readJsonRpcBody, requireJsonBody } from './body-reader.js';
import { isModernPost, postModern, refuseModernStreamOrDelete } from './era/modern-post.js';
import type { HttpExchange } from './http/http-exchange.js';
import { PendingStreamOutlet } from './pending-stream-outlet.js';
import type { WorkerShard } from './worker-shard.js';

/**
 * Streamable HTTP at `<base>/mcp`, both eras. 2025 (2025-03-26 to 2025-11-25): POST carries one
 * JSON-RPC message and is answered as JSON or as an SSE stream; GET opens the session's server-to-client
 * stream; DELETE ends the session. `Mcp-Session-Id` is issued on the initialize response and required
 * afterwards. 2026-07-28 requests carry no session and go their own way (`era/modern-post.ts`).
 */

const MISSING_SESSION = 'Bad Request: Mcp-Session-Id header is required';

/** `accept` lower-cased by the caller (one header, several questions). */
function accepts(accept: string, type: string): boolean {
  return accept.includes(type) || accept.includes('*/*');
}

/** A present MCP-Protocol-Version must name a version we speak; a missing one means the negotiated one. */
function badVersion(exchange: HttpExchange): boolean {
  const version = exchange.info.protocolVersion;
  if (!version || isSupportedProtocolVersion(version)) return false;
  exchange.sendRpcError(
    400,
    RpcErrorCode.INVALID_REQUEST,
    `Bad Request: unsupported MCP-Protocol-Version "${version}"`,
  );
  return true;
}

export async function postStreamable(
  shard: WorkerShard,
  exchange: HttpExchange,
  target: string,
): Promise<void> {
  const { info } = exchange;
  const accept = info.accept.toLowerCase();
  if (!accepts(accept, 'application/json') && !accepts(accept, 'text/event-stream')) {
    exchange.sendRpcError(
      406,
      RpcErrorCode.INVALID_REQUEST,
      'Not Acceptable: accept application/json or text/event-stream',
    );
    return;
  }
  if (!requireJsonBody(exchange)) return;
  // A session's requests are checked before the body is read; without one, the body may say it is modern.
  if (info.sessionId && !isModernProtocolVersion(info.protocolVersion) && badVersion(exchange)) return;
  const body = await readJsonRpcBody(exchange, shard.options.maxBodyBytes, true);
  if (!body) return;
  if (isModernPost(info, body)) {
    postModern(shard, exchange, target, body, accepts(accept, 'text/event-stream'));
    return;
  }
  if (badVersion(exchange)) return;
  const { batch } = body;
  // For a batch, `msg` is its first message, for the checks here only.
  const msg = body.message ?? batch![0]!;
  const isInitialize = !batch && msg.method === 'initialize' && 'id' in msg;
  let sid = info.sessionId;
  let issued: string | undefined;
  if (isInitialize) {
    if (sid) {
      exchange.sendRpcError(
        400,
        RpcErrorCode.INVALID_REQUEST,
        'Invalid Request: initialize must not carry Mcp-Session-Id',
      );
      return;
    }
    if (shard.draining) {
      exchange.sendRpcError(503, RpcErrorCode.CONNECTION_CLOSED, 'The gateway is shutting down');
      return;
    }
    sid = shard.newSessionId();
    issued = sid;
    // Same port as the message that follows, so the main thread sees the session first.
    shard.send({ k: FrameKind.OPEN_SESSION, sid, transport: 'streamable', target });
  } else if (!sid) {
    exchange.sendRpcError(400, RpcErrorCode.CONNECTION_CLOSED, MISSING_SESSION);
    return;
  }
  const sseOk = accepts(accept, 'text/event-stream');
  const outletId = shard.openRequestOutlet(exchange, {
    sseOk,
    ...(issued ? { sessionIdHeader: issued } : {}),
  });
  shard.countRequest();
  shard.send({
    k: FrameKind.CLIENT_MESSAGE,
    sid,
    transport: 'streamable',
    target,
    outlet: outletId,
    viaStream: false,
    sseOk,
    ...(info.protocolVersion ? { version: info.protocolVersion } : {}),
    json: body.text,
  });
}

export function getStreamable(shard: WorkerShard, exchange: HttpExchange, target: string): void {
  const { info } = exchange;
  if (refuseModernStreamOrDelete(exchange)) return;
  if (!accepts(info.accept.toLowerCase(), 'text/event-stream')) {
    exchange.sendRpcError(
      406,
      RpcErrorCode.INVALID_REQUEST,
      'Not Acceptable: GET needs Accept: text/event-stream',
    );
    return;
  }
  if (badVersion(exchange)) return;
  if (!info.sessionId) {
    exchange.sendRpcError(400, RpcErrorCode.CONNECTION_CLOSED, MISSING_SESSION);
    return;
  }
  let outletId = 0;
  const sid = info.sessionId;
  const outlet = new PendingStreamOutlet(exchange, shard.options.sseBufferBytes, (reason) => {
    if (reason === 'slow') shard.slowClientDropped(sid, shard.options.sseBufferBytes);
    shard.removeOutlet(outletId, true);
  });
  outletId = shard.addOutlet(outlet);
  shard.send({
    k: FrameKind.OPEN_STREAM,
    sid: info.sessionId,
    target,
    outlet: outletId,
    ...(info.lastEventId ? { lastEventId: info.lastEventId } : {}),
  });
}

export function deleteStreamable(shard: WorkerShard, exchange: HttpExchange, target: string): void {
  if (refuseModernStreamOrDelete(exchange)) return;
  if (badVersion(exchange)) return;
  if (!exchange.info.sessionId) {
    exchange.sendRpcError(400, RpcErrorCode.CONNECTION_CLOSED, MISSING_SESSION);
    return;
  }
  const outletId = shard.openRequestOutlet(exchange);
  shard.send({ k: FrameKind.CLOSE_SESSION, sid: exchange.info.sessionId, outlet: outletId, target });
}
