import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startCli } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { connectStreamable } from './support/gateway.js';
import { fixturePath, repoRoot } from './support/paths.js';

const node = process.execPath;
const echo = { command: node, args: [fixturePath('echo-server')] };

/** Whether uWebSockets.js's binary loads on this Node, found out independently of the gateway. */
const uwsLoads = spawnSync(node, ['-e', "require('uWebSockets.js')"], { cwd: repoRoot }).status === 0;
/** Node's `listen({ reusePort })`: 22.12+ and 23.1+ (nodejs/node#55408). */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const nodeHasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

interface StatusBody {
  httpEngine: { name: string; reason: string };
  workers: Array<{ httpEngine: string }>;
}

async function engineReport(port: number): Promise<{ status: StatusBody; metrics: string; health: unknown }> {
  const base = `http://127.0.0.1:${port}`;
  const status = (await (await fetch(`${base}/status`)).json()) as StatusBody;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const health = await (await fetch(`${base}/health`)).json();
  return { status, metrics, health };
}

/** Runs the CLI until it exits by itself (for starts that must fail), with its output. */
function runCli(config: unknown, args: string[]): Promise<{ code: number | null; out: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'mcpr-engine-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(node, [join(repoRoot, 'dist/src/main/cli.js'), '--config', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

describe('HTTP engine choice', { timeout: 90_000 }, () => {
  test('--http-engine node: every worker serves with node:http, and /status, /metrics and the log say so', async () => {
    const port = await freePort();
    const cli = await startCli(
      { mcpServers: { echo }, sseProxy: { port, workers: 2 } },
      { logLevel: 'info', args: ['--http-engine', 'node'] },
    );
    try {
      const { status, metrics, health } = await engineReport(port);
      assert.equal(status.httpEngine.name, 'node');
      assert.match(status.httpEngine.reason, /asked for/);
      assert.match(metrics, /^mcp_runner_http_engine_info\{engine="node"\} 1$/m);
      assert.doesNotMatch(metrics, /engine="uws"/);
      // With reusePort every worker has its own listener; without it one worker serves, and says why.
      const workers = nodeHasReusePort ? 2 : 1;
      assert.equal(status.workers.length, workers);
      for (const worker of status.workers) assert.equal(worker.httpEngine, 'node');
      assert.deepEqual(health, { status: 'ok', workers, expectedWorkers: workers });
      if (!nodeHasReusePort)
        assert.match(status.httpEngine.reason, /no reusePort.*1 worker serves instead of 2/);
      assert.match(cli.stdout(), new RegExp(`with ${workers} worker thread\\(s\\), HTTP engine node`));
      assert.match(cli.stderr(), /"msg":"HTTP engine: node, because asked for/);
      // A real client over the engine: initialize, a session id, a call.
      const { client } = await connectStreamable(`http://127.0.0.1:${port}/servers/echo/mcp`);
      try {
        const result = await client.callTool({ name: 'echo', arguments: { text: 'over node:http' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'over node:http' }]);
      } finally {
        await client.close();
      }
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0, 'SIGTERM drains and exits 0');
    }
  });

  test(`auto picks ${uwsLoads ? 'uws, which loads here' : 'node, since uws does not load here'}, and logs why`, async () => {
    const port = await freePort();
    const cli = await startCli(
      { mcpServers: { echo }, sseProxy: { port, workers: 2, httpEngine: 'auto' } },
      { logLevel: 'info' },
    );
    try {
      const { status } = await engineReport(port);
      const expected = uwsLoads ? 'uws' : 'node';
      assert.equal(status.httpEngine.name, expected);
      for (const worker of status.workers) assert.equal(worker.httpEngine, expected);
      if (uwsLoads) assert.match(status.httpEngine.reason, /the uWS native binary loads on Node/);
      else assert.match(status.httpEngine.reason, /the uWS native binary does not load on Node .*GLIBC/);
      const line = cli
        .stderr()
        .split('\n')
        .filter((l) => l.includes('"msg":"HTTP engine: '));
      assert.equal(line.length, 1, 'exactly one log line names the engine');
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    }
  });

  test(`--http-engine uws ${uwsLoads ? 'serves with uWS here' : 'stops the start with MCPR_ERR_HTTP_ENGINE here'}`, async () => {
    const port = await freePort();
    const config = { mcpServers: { echo }, sseProxy: { port, workers: 2 } };
    if (uwsLoads) {
      const cli = await startCli(config, { args: ['--http-engine', 'uws'] });
      try {
        const { status } = await engineReport(port);
        assert.equal(status.httpEngine.name, 'uws');
        assert.equal(status.workers.length, 2);
      } finally {
        cli.child.kill('SIGTERM');
        assert.equal(await cli.exited, 0);
      }
      return;
    }
    const { code, out } = await runCli(config, ['--http-engine', 'uws']);
    assert.equal(code, 2);
    assert.match(out, /The HTTP engine "uws" cannot run here: the uWS native binary does not load on Node/);
    assert.match(out, /GLIBC_2\.38/);
    assert.match(out, /Use --http-engine node/);
    assert.match(out, /\[MCPR_ERR_HTTP_ENGINE\]/);
  });

  test('an unknown engine is refused by the flag and by the config, naming the choices', async () => {
    const flag = await runCli({ mcpServers: { echo } }, ['--http-engine', 'fast']);
    assert.notEqual(flag.code, 0);
    assert.match(
      flag.out,
      /--http-engine <engine>' argument 'fast' is invalid\. Allowed choices are auto, uws, node/,
    );
    const config = await runCli({ mcpServers: { echo }, sseProxy: { httpEngine: 'fast' } }, []);
    assert.equal(config.code, 2);
    assert.match(config.out, /sseProxy\.httpEngine/);
    assert.match(config.out, /MCPR_ERR_CONFIG_VALIDATION/);
  });
});
