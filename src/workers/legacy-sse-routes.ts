import { FrameKind } from '../shared/frames.js';
import { RpcErrorCode } from '../shared/json-rpc.js';
import { readJsonRpcBody, requireJsonBody } from './body-reader.js';
import type { HttpExchange } from './http/http-exchange.js';
import { SseStream } from './sse-stream.js';
import { StreamOutlet } from './stream-outlet.js';
import type { WorkerShard } from './worker-shard.js';

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05): `GET <base>/sse` opens the session's event
 * stream, whose first event names the URL to POST messages to; `POST <base>/messages?sessionId=...`
 * answers 202 and the JSON-RPC reply arrives on the stream. `base` is '' for the aggregated endpoint and
 * `/servers/{name}` for one server.
 */

/** GET /sse: a new session and its stream. */
export function openLegacyStream(
  shard: WorkerShard,
  exchange: HttpExchange,
  target: string,
  messagesPath: string,
): void {
  if (shard.draining) {
    exchange.sendRpcError(503, RpcErrorCode.CONNECTION_CLOSED, 'The gateway is shutting down');
    return;
  }
  const sid = shard.newSessionId();
  let outletId = 0;
  const stream = new SseStream(exchange, {
    maxBufferedBytes: shard.options.sseBufferBytes,
    onClose: (reason) => {
      if (reason === 'slow') shard.slowClientDropped(sid, shard.options.sseBufferBytes);
      shard.legacySessions.delete(sid);
      shard.removeOutlet(outletId, false);
      // The legacy session lives exactly as long as its stream.
      if (reason !== 'server') shard.send({ k: FrameKind.CLOSE_SESSION, sid });
    },
  });
  // A path-absolute URI: the SDK client resolves it against the stream URL and insists on same origin.
  // It is written when the main thread confirms the session (see StreamOutlet.reply).
  const endpoint = `${messagesPath}?sessionId=${encodeURIComponent(sid)}`;
  outletId = shard.addOutlet(new StreamOutlet(stream, target, true, endpoint));
  shard.legacySessions.set(sid, target);
  shard.send({ k: FrameKind.OPEN_SESSION, sid, transport: 'sse', target, outlet: outletId });
}

/** POST /sse/messages: one JSON-RPC message from a client. */
export async function postLegacyMessage(
  shard: WorkerShard,
  exchange: HttpExchange,
  target: string,
): Promise<void> {
  if (!requireJsonBody(exchange)) return;
  const sid = new URLSearchParams(exchange.info.rawQuery).get('sessionId') ?? '';
  const body = await readJsonRpcBody(exchange, shard.options.maxBodyBytes, false);
  if (!body) return;
  shard.countRequest();
  // A session this worker knows to be live: 202 at once, without a round trip to main for it (the answer
  // travels on the session's stream). Otherwise main knows, and answers 202 or 404.
  const accepted = sid !== '' && shard.legacySessions.get(sid) === target;
  if (accepted) exchange.send(202, '');
  shard.send({
    k: FrameKind.CLIENT_MESSAGE,
    sid,
    transport: 'sse',
    target,
    outlet: accepted ? 0 : shard.openRequestOutlet(exchange),
    viaStream: sid !== '',
    sseOk: false,
    ...(accepted ? { accepted } : {}),
    json: body.text,
  });
}
