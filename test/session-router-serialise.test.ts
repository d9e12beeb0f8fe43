import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SessionRouter } from '../src/main/gateway/session-router.js';
import { type DeliverFrame, FrameKind, type MainToWorkerFrame } from '../src/shared/frames.js';
import { createLogger } from '../src/shared/logger.js';

/**
 * A backend answer nested far deeper than JSON.stringify can recurse (JSON.parse takes it; a backend can
 * send it) must not leave the client's POST without an answer. Driven at the router, since no real
 * backend of ours answers a batch with such a thing; the single-message case is covered over HTTP.
 */
test('an answer that cannot be serialised becomes an error in its place, in a batch too', async () => {
  const sent: MainToWorkerFrame[] = [];
  const router = new SessionRouter(
    (_shard, frame) => {
      sent.push(frame);
      return 16;
    },
    { maxSessions: 10, sessionIdleTimeoutMs: 60_000, replayBufferBytes: 0 },
    createLogger({ level: 'silent' }),
  );
  const depth = 100_000;
  const deep = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown;
  const dispatcher = {
    handle(ctx: { session: { protocolVersion?: string } }, method: string) {
      if (method === 'initialize') {
        ctx.session.protocolVersion = '2025-03-26'; // the one version with batches
        return {};
      }
      return Promise.resolve(method === 'deep' ? { deep } : { fine: true });
    },
  };
  const hub = { releaseSession() {}, answerServerRequest() {}, cancel() {} };
  router.connect(hub as never, dispatcher as never, async () => ({ status: 200 }));
  router.onFrame(0, { k: FrameKind.OPEN_SESSION, sid: 's', transport: 'streamable', target: '' });
  const post = (outlet: number, body: unknown) =>
    router.onFrame(0, {
      k: FrameKind.CLIENT_MESSAGE,
      sid: 's',
      transport: 'streamable',
      target: '',
      outlet,
      viaStream: false,
      sseOk: false,
      json: JSON.stringify(body),
    });
  post(1, { jsonrpc: '2.0', id: 1, method: 'initialize' });
  post(2, { jsonrpc: '2.0', id: 2, method: 'deep' });
  post(3, [
    { jsonrpc: '2.0', id: 3, method: 'fine' },
    { jsonrpc: '2.0', id: 4, method: 'deep' },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  router.stop();
  const answer = (outlet: number) => {
    const frame = sent.find((f): f is DeliverFrame => f.k === FrameKind.DELIVER && f.outlet === outlet);
    assert.ok(frame?.json, `outlet ${outlet} got an answer`);
    return JSON.parse(frame.json) as unknown;
  };
  const couldNot = { code: -32603, message: 'The answer could not be passed on to the client.' };
  assert.deepEqual(answer(2), { jsonrpc: '2.0', id: 2, error: couldNot });
  assert.deepEqual(answer(3), [
    { jsonrpc: '2.0', id: 3, result: { fine: true } },
    { jsonrpc: '2.0', id: 4, error: couldNot },
  ]);
});
