import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { JsonRpcConnection } from '../src/main/json-rpc-connection.js';
import {
  CancelledError,
  ConnectionClosedError,
  JsonRpcError,
  RequestTimeoutError,
} from '../src/shared/errors.js';
import { testLogger } from './support/quiet-logger.js';

/** A connection wired to an in-memory "server" whose lines the test reads and writes by hand. */
function pair() {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const connection = new JsonRpcConnection(
    { readable: fromServer, writable: toServer },
    { name: 'mem', logger: testLogger(), defaultTimeoutMs: 5000 },
  );
  const sent: Array<Record<string, unknown>> = [];
  let buffered = '';
  toServer.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      sent.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  const reply = (message: object) => fromServer.write(`${JSON.stringify(message)}\n`);
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { connection, sent, reply, flush, fromServer };
}

describe('JsonRpcConnection', () => {
  // Request timers are unref'd (a pending request must not keep a program alive); with in-memory
  // streams nothing else holds the event loop open while a test waits.
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => {}, 1000);
  });
  after(() => clearInterval(keepAlive));

  test('matches 100 concurrent answers given in reverse order', async () => {
    const { connection, sent, reply, flush } = pair();
    const calls = Array.from({ length: 100 }, (_, i) => connection.request('echo', { n: i }));
    await flush();
    assert.equal(sent.length, 100);
    for (const message of [...sent].reverse()) {
      reply({ jsonrpc: '2.0', id: message.id, result: { n: (message.params as { n: number }).n } });
    }
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((r) => (r as { n: number }).n),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  test('error answers become JsonRpcError with the wire code', async () => {
    const { connection, sent, reply, flush } = pair();
    const call = connection.request('nope');
    await flush();
    reply({
      jsonrpc: '2.0',
      id: sent[0]!.id,
      error: { code: -32601, message: 'Method not found', data: { x: 1 } },
    });
    await assert.rejects(call, (error: unknown) => {
      assert.ok(error instanceof JsonRpcError);
      assert.equal(error.rpcCode, -32601);
      assert.deepEqual(error.data, { x: 1 });
      return true;
    });
  });

  test('a timeout rejects with RequestTimeoutError and sends notifications/cancelled', async () => {
    const { connection, sent, flush } = pair();
    await assert.rejects(connection.request('slow', {}, { timeoutMs: 30 }), RequestTimeoutError);
    await flush();
    const cancel = sent.find((m) => m.method === 'notifications/cancelled');
    assert.ok(cancel, 'cancellation was sent');
    assert.equal((cancel.params as { requestId: number }).requestId, sent[0]!.id);
  });

  test('progress extends the timeout and reaches the caller', async () => {
    const { connection, sent, reply, flush } = pair();
    const seen: number[] = [];
    const call = connection.request(
      'work',
      {},
      { timeoutMs: 80, resetTimeoutOnProgress: true, onProgress: (p) => seen.push(p.progress) },
    );
    await flush();
    const token = (sent[0]!.params as { _meta: { progressToken: number } })._meta.progressToken;
    for (let i = 1; i <= 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      reply({
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: token, progress: i },
      });
    }
    await new Promise((r) => setTimeout(r, 20));
    reply({ jsonrpc: '2.0', id: sent[0]!.id, result: { ok: true } });
    assert.deepEqual(await call, { ok: true });
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test('maxTotalTimeoutMs holds even while progress keeps arriving', async () => {
    const { connection, sent, reply, flush } = pair();
    const call = connection.request(
      'work',
      {},
      { timeoutMs: 60, resetTimeoutOnProgress: true, maxTotalTimeoutMs: 150, onProgress: () => {} },
    );
    await flush();
    const token = (sent[0]!.params as { _meta: { progressToken: number } })._meta.progressToken;
    const ticker = setInterval(
      () =>
        reply({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: token, progress: 1 },
        }),
      30,
    );
    try {
      await assert.rejects(call, RequestTimeoutError);
    } finally {
      clearInterval(ticker);
    }
  });

  test('abort signal cancels the request on both sides', async () => {
    const { connection, sent, flush } = pair();
    const controller = new AbortController();
    const call = connection.request('slow', {}, { signal: controller.signal });
    controller.abort();
    await assert.rejects(call, CancelledError);
    await flush();
    assert.ok(sent.some((m) => m.method === 'notifications/cancelled'));
  });

  test('closing rejects every pending request at once', async () => {
    const { connection, fromServer } = pair();
    const calls = [connection.request('a'), connection.request('b')];
    fromServer.end();
    for (const call of calls) await assert.rejects(call, ConnectionClosedError);
    await assert.rejects(connection.request('c'), ConnectionClosedError);
    assert.equal(connection.pendingCount, 0);
  });

  test('non-JSON lines and unknown ids are skipped; incoming requests get answers', async () => {
    const { connection, sent, reply, flush, fromServer } = pair();
    connection.onrequest = (request) => ({ echoed: request.method });
    fromServer.write('this is not json\n{"partial":\n');
    reply({ jsonrpc: '2.0', id: 999, result: {} });
    reply({ jsonrpc: '2.0', id: 's1', method: 'roots/list' });
    reply({ jsonrpc: '2.0', id: 's2', method: 'ping' });
    await flush();
    await flush();
    assert.deepEqual(
      sent.filter((m) => m.id === 's1'),
      [{ jsonrpc: '2.0', id: 's1', result: { echoed: 'roots/list' } }],
    );
    assert.equal(connection.closed, false);
  });
});
