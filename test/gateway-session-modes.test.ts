import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectStreamable, startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { isAlive, waitForAsync } from './support/processes.js';

const node = process.execPath;

interface ServerStatus {
  name: string;
  pid: number;
  inFlight: number;
  replicas?: ServerStatus[];
  isolatedProcesses?: number;
}

async function serverStatus(url: string, name: string): Promise<ServerStatus> {
  const body = (await (await fetch(`${url}/status`)).json()) as { servers: ServerStatus[] };
  return body.servers.find((s) => s.name === name)!;
}

function text(result: unknown): string {
  return ((result as { content: Array<{ text: string }> }).content[0] ?? { text: '' }).text;
}

describe('gateway: instances > 1 spread calls over processes, least loaded first', {
  timeout: 60_000,
}, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      echo: { command: node, args: [fixturePath('echo-server')], instances: 3 },
    });
  });
  after(() => gw.stop());

  test('three calls in flight land on three different processes', async () => {
    const before = await serverStatus(gw.url, 'echo');
    const pids = [before.pid, ...(before.replicas ?? []).map((r) => r.pid)];
    assert.equal(new Set(pids).size, 3, `three processes: ${JSON.stringify(before)}`);
    const { client } = await connectStreamable(`${gw.url}/servers/echo/mcp`);
    try {
      const calls = [1, 2, 3].map(() => client.callTool({ name: 'sleep', arguments: { ms: 3000 } }));
      let loads: number[] = [];
      const spread = await waitForAsync(async () => {
        const now = await serverStatus(gw.url, 'echo');
        loads = [now.inFlight, ...(now.replicas ?? []).map((r) => r.inFlight)];
        return loads.every((n) => n === 1);
      }, 2500);
      assert.ok(spread, `each process has exactly one call in flight: ${loads}`);
      await Promise.all(calls);
      // Idle again: a call goes to the first process, the primary.
      assert.equal(text(await client.callTool({ name: 'pid', arguments: {} })), String(before.pid));
    } finally {
      await client.close();
    }
  });
});

describe('gateway: sessionMode "isolated" gives each session its own process', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      {
        echo: {
          command: node,
          args: [fixturePath('echo-server')],
          sessionMode: 'isolated',
          maxProcesses: 2,
        },
        notify: { command: node, args: [fixturePath('notify-server')], sessionMode: 'isolated' },
      },
      { sessionIdleTimeoutMs: 3000 },
    );
  });
  after(() => gw.stop());

  test('two sessions see separate state; a third is refused at maxProcesses; DELETE frees a process', async () => {
    const a = await connectStreamable(`${gw.url}/servers/echo/mcp`);
    const b = await connectStreamable(`${gw.url}/mcp`); // the aggregated endpoint isolates too
    try {
      assert.equal(text(await a.client.callTool({ name: 'counter', arguments: {} })), '1');
      assert.equal(text(await a.client.callTool({ name: 'counter', arguments: {} })), '2');
      assert.equal(text(await b.client.callTool({ name: 'counter', arguments: {} })), '1', 'B has its own');
      assert.equal(text(await a.client.callTool({ name: 'counter', arguments: {} })), '3');
      const pidA = Number(text(await a.client.callTool({ name: 'pid', arguments: {} })));
      const pidB = Number(text(await b.client.callTool({ name: 'pid', arguments: {} })));
      const primary = await serverStatus(gw.url, 'echo');
      assert.equal(new Set([pidA, pidB, primary.pid]).size, 3, 'own processes, not the primary');
      assert.equal(primary.isolatedProcesses, 2);

      const c = await connectStreamable(`${gw.url}/servers/echo/mcp`);
      try {
        await assert.rejects(c.client.callTool({ name: 'counter', arguments: {} }), /maxProcesses/);
        await a.transport.terminateSession(); // DELETE: A's process is stopped
        assert.ok(await waitForAsync(async () => !isAlive(pidA), 5000), 'A’s process ended with its session');
        assert.equal(text(await c.client.callTool({ name: 'counter', arguments: {} })), '1');
      } finally {
        await c.transport.terminateSession().catch(() => {});
        await c.client.close();
      }
    } finally {
      await a.client.close();
      await b.transport.terminateSession().catch(() => {});
      await b.client.close();
    }
  });

  test('an idle session is reaped with its process', async () => {
    // The previous test's sessions ended with DELETE, whose answer comes before their processes have
    // exited; until then they still count against maxProcesses.
    assert.ok(
      await waitForAsync(
        async () => ((await serverStatus(gw.url, 'echo')).isolatedProcesses ?? 0) === 0,
        8000,
      ),
      'the previous sessions’ processes ended',
    );
    const a = await connectStreamable(`${gw.url}/servers/echo/mcp`);
    try {
      const pid = Number(text(await a.client.callTool({ name: 'pid', arguments: {} })));
      assert.ok(isAlive(pid));
      // sessionIdleTimeoutMs is 3 s here; nothing is in flight, so the sweep ends the session and its process.
      assert.ok(await waitForAsync(async () => !isAlive(pid), 8000), 'the idle process was reaped');
      await assert.rejects(a.client.callTool({ name: 'pid', arguments: {} }), /404|Session not found/);
    } finally {
      await a.client.close();
    }
  });

  test('an isolated process asks its own session for roots, even with no call in flight', async () => {
    const roots = [{ uri: 'file:///isolated/a', name: 'a' }];
    const a = await connectStreamable(`${gw.url}/servers/notify/mcp`, {
      capabilities: { roots: { listChanged: true } },
    });
    const b = await connectStreamable(`${gw.url}/servers/notify/mcp`, {
      capabilities: { roots: { listChanged: true } },
    });
    let askedB = 0;
    a.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots }));
    b.client.setRequestHandler(ListRootsRequestSchema, async () => {
      askedB += 1;
      return { roots: [] };
    });
    try {
      const result = await a.client.callTool({ name: 'roots', arguments: {} });
      assert.deepEqual(JSON.parse(text(result)), { roots });
      assert.equal(askedB, 0, 'the other session was not asked');
    } finally {
      for (const s of [a, b]) {
        await s.transport.terminateSession().catch(() => {});
        await s.client.close();
      }
    }
  });
});

describe('gateway: sessions that clients abandon give their isolated processes back', {
  timeout: 60_000,
}, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      {
        echo: { command: node, args: [fixturePath('echo-server')], sessionMode: 'isolated', maxProcesses: 2 },
      },
      { isolatedIdleTimeoutMs: 2000 },
    );
  });
  after(() => gw.stop());

  test('at maxProcesses a session its client left (no DELETE) is ended to make room; sessions in use are not', async () => {
    const url = `${gw.url}/servers/echo/mcp`;
    const a = await connectStreamable(url);
    const b = await connectStreamable(url);
    const c = await connectStreamable(url);
    try {
      const pidA = Number(text(await a.client.callTool({ name: 'pid', arguments: {} })));
      assert.equal(text(await b.client.callTool({ name: 'counter', arguments: {} })), '1');
      // A and B hold their GET streams: both in use, so C is refused at the cap.
      await assert.rejects(c.client.callTool({ name: 'counter', arguments: {} }), /maxProcesses.*in use/);
      // A's client goes away as the SDK clients do: its stream closes, no DELETE is sent.
      await a.client.close();
      assert.ok(
        await waitForAsync(async () => {
          try {
            return text(await c.client.callTool({ name: 'counter', arguments: {} })) === '1';
          } catch {
            return false; // A's stream may not have closed yet
          }
        }, 8000),
        'C got a process',
      );
      assert.ok(await waitForAsync(async () => !isAlive(pidA), 5000), 'A’s process was stopped');
      assert.equal(
        text(await b.client.callTool({ name: 'counter', arguments: {} })),
        '2',
        'B kept its process',
      );
    } finally {
      for (const s of [b, c]) {
        await s.transport.terminateSession().catch(() => {});
        await s.client.close();
      }
    }
  });

  test('an abandoned isolated session is closed after isolatedIdleTimeoutMs, long before sessionIdleTimeoutMs', async () => {
    assert.ok(
      await waitForAsync(
        async () => ((await serverStatus(gw.url, 'echo')).isolatedProcesses ?? 0) === 0,
        8000,
      ),
      'the previous sessions’ processes ended',
    );
    const d = await connectStreamable(`${gw.url}/servers/echo/mcp`);
    const pid = Number(text(await d.client.callTool({ name: 'pid', arguments: {} })));
    await d.client.close();
    assert.ok(await waitForAsync(async () => !isAlive(pid), 10_000), 'reaped with its process');
  });
});
