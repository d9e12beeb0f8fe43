import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectLegacyClient, connectModernClient, type EraClient } from './support/era-clients.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { fixturePath } from './support/paths.js';
import { waitForAsync } from './support/processes.js';

/**
 * The era matrix of issue 16: {2025, 2026-07-28} client x {2025, dual-era, 2026-only} backend x
 * {/servers/{name}/mcp, /mcp}, each driving the same features with the official SDKs on both sides.
 * Each backend kind gets a gateway of its own, so the names on `/mcp` are the backend's own.
 */
const node = process.execPath;

const BACKENDS = [
  { kind: '2025 backend (SDK v1)', args: [fixturePath('sdk-legacy-server')], modern: false },
  { kind: 'dual-era backend (SDK v2)', args: [fixturePath('modern-server')], modern: true },
  { kind: '2026-only backend (SDK v2)', args: [fixturePath('modern-server'), '--modern-only'], modern: true },
];

const CLIENTS: Record<'legacy' | 'modern', (url: string) => Promise<EraClient>> = {
  legacy: connectLegacyClient,
  modern: connectModernClient,
};

async function backendStatus(
  url: string,
): Promise<{ inflight: number; inFlight: number; protocolVersion?: string }> {
  const status = (await (await fetch(`${url}/status`)).json()) as {
    inflight: number;
    servers: Array<{ name: string; inFlight: number }>;
  };
  return { inflight: status.inflight, inFlight: status.servers.find((s) => s.name === 'be')?.inFlight ?? -1 };
}

for (const backend of BACKENDS) {
  describe(`era matrix: ${backend.kind}`, { timeout: 180_000 }, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway({ be: { command: node, args: backend.args } });
    });
    after(() => gw.stop());

    test('the gateway speaks to the backend in its own era', () => {
      const client = gw.runner.getClient('be');
      assert.equal(client.era, backend.modern ? 'modern' : 'legacy');
    });

    for (const path of ['/servers/be/mcp', '/mcp']) {
      for (const era of ['legacy', 'modern'] as const) {
        const label = `${era} client on ${path}`;
        // The aggregated endpoint names tools and prompts {server}__{name}; a server's own endpoint, bare.
        const n = (name: string) => (path === '/mcp' ? `be__${name}` : name);

        test(`${label}: tools, resources, prompts, completion, progress and logging`, async () => {
          const client = await CLIENTS[era](`${gw.url}${path}`);
          try {
            const names = await client.toolNames();
            for (const name of ['echo', 'slow', 'elicit', 'sample']) assert.ok(names.includes(n(name)), name);
            assert.equal(await client.call(n('add'), { a: 2, b: 40 }), '42');
            assert.match(await client.read('fixture://hello'), /^hello from /);
            assert.equal(await client.read('fixture://items/7'), 'item 7');
            assert.equal(await client.prompt(n('greet'), { name: 'Ada' }), 'Hello, Ada!');
            assert.deepEqual(
              await client.complete({ type: 'ref/prompt', name: n('greet') }, { name: 'name', value: 'A' }),
              ['Ada', 'Alan'],
            );
            assert.deepEqual(
              await client.complete(
                { type: 'ref/resource', uri: 'fixture://items/{id}' },
                { name: 'id', value: '1' },
              ),
              ['1', '10'],
            );
            const progress: number[] = [];
            assert.equal(
              await client.call(
                n('slow'),
                { ms: 150, steps: 3 },
                { onprogress: (p) => progress.push(p.progress) },
              ),
              'slept 150',
            );
            assert.deepEqual(progress, [1, 2, 3]);
            await client.logAt('info');
            assert.equal(
              await client.call(n('log'), { message: `hello from ${label}`, level: 'warning' }),
              'logged',
            );
            assert.ok(
              await waitForAsync(async () => client.logs.some((l) => l.data === `hello from ${label}`)),
              `the log line reached the client: ${JSON.stringify(client.logs)}`,
            );
            // Below the level asked for: not delivered.
            await client.call(n('log'), { message: 'too quiet', level: 'debug' });
            await client.call(n('echo'), { text: 'settle' });
            assert.ok(!client.logs.some((l) => l.data === 'too quiet'));
          } finally {
            await client.close();
          }
        });

        test(`${label}: elicitation and sampling round trips`, async () => {
          const client = await CLIENTS[era](`${gw.url}${path}`);
          try {
            assert.deepEqual(JSON.parse(await client.call(n('elicit'))), {
              action: 'accept',
              content: { name: 'Ada' },
            });
            assert.equal(await client.call(n('sample'), { prompt: 'hi' }), 'sampled(hi)');
            if (backend.modern) {
              // Roots cross only to a 2026 backend: a shared 2025 one is not told of them (it would
              // cache one session's roots for all).
              assert.deepEqual(JSON.parse(await client.call(n('roots'))), ['file:///work']);
              assert.equal(await client.call(n('interview')), 'Ada: sampled(about Ada)');
            }
          } finally {
            await client.close();
          }
          assert.ok(
            await waitForAsync(async () => {
              const s = await backendStatus(gw.url);
              return s.inflight === 0 && s.inFlight === 0;
            }),
            'nothing left in flight',
          );
        });

        test(`${label}: cancelling a call stops it on the backend`, async () => {
          const client = await CLIENTS[era](`${gw.url}${path}`);
          try {
            const before = Number(await client.call(n('cancellations')));
            const abort = new AbortController();
            const call = client.call(n('slow'), { ms: 20_000 }, { signal: abort.signal });
            call.catch(() => {});
            assert.ok(
              await waitForAsync(async () => (await backendStatus(gw.url)).inFlight === 1),
              'call reached the backend',
            );
            abort.abort();
            await assert.rejects(call);
            assert.ok(
              await waitForAsync(async () => Number(await client.call(n('cancellations'))) === before + 1),
              'the backend saw the cancellation',
            );
          } finally {
            await client.close();
          }
        });

        test(`${label}: list changes and resource updates reach the client`, async () => {
          const client = await CLIENTS[era](`${gw.url}${path}`);
          try {
            const watch = await client.watch('fixture://counter');
            const added = await client.call(n('add_tool'));
            assert.ok(
              await waitForAsync(async () => watch.toolsChanged() >= 1),
              'tools/list_changed arrived',
            );
            assert.ok((await client.toolNames()).includes(n(added)), `${added} is listed`);
            await client.call(n('bump'));
            assert.ok(
              await waitForAsync(async () => watch.updated().includes('fixture://counter')),
              'resources/updated arrived',
            );
            await watch.stop();
          } finally {
            await client.close();
          }
        });
      }
    }
  });
}
