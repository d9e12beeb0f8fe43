import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startCli } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { postJson } from './support/gateway.js';
import { TEST_HTTP_ENGINE } from './support/http-engine.js';
import { fixturePath } from './support/paths.js';

const node = process.execPath;
const TOKEN = 'tok-3f9a7c1e5b2d4e6f8a0b';

describe('gateway logs', { timeout: 60_000 }, () => {
  test('at trace level the bearer token never appears in any log line, of main or of the workers', async () => {
    const port = await freePort();
    const cli = await startCli(
      {
        mcpServers: { echo: { command: node, args: [fixturePath('echo-server')], requestTimeoutMs: 300 } },
        sseProxy: {
          port,
          workers: 2,
          httpEngine: TEST_HTTP_ENGINE,
          authenticate: { bearer: { token: '${GATEWAY_TOKEN}' } },
        },
      },
      { logLevel: 'trace', env: { ...process.env, GATEWAY_TOKEN: TOKEN } },
    );
    try {
      const url = `http://127.0.0.1:${port}/mcp`;
      const accept = { accept: 'application/json, text/event-stream' };
      const init = await postJson(
        url,
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'logs', version: '1' },
          },
        },
        { ...accept, authorization: `Bearer ${TOKEN}` },
      );
      assert.equal(init.status, 200);
      const session = {
        ...accept,
        authorization: `Bearer ${TOKEN}`,
        'mcp-session-id': init.headers.get('mcp-session-id')!,
      };
      // Requests that fail in every way the gateway logs: a timeout, an unknown tool, bad tokens, the token
      // in the query string, a malformed body.
      const timedOut = await postJson(
        url,
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 5000 } } },
        session,
      );
      assert.match(timedOut.text, /-32001/);
      await postJson(url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'nope' } }, session);
      assert.equal((await postJson(url, '{"jsonrpc":', session)).status, 400);
      assert.equal(
        (
          await postJson(
            url,
            { jsonrpc: '2.0', id: 4, method: 'ping' },
            { authorization: `Bearer ${TOKEN}x` },
          )
        ).status,
        401,
      );
      assert.equal(
        (await postJson(`${url}?access_token=${TOKEN}`, { jsonrpc: '2.0', id: 5, method: 'ping' })).status,
        401,
      );
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
      assert.ok(cli.stderr().length > 1000, 'trace logging produced lines to check');
      assert.ok(
        !cli.stderr().includes(TOKEN) && !cli.stdout().includes(TOKEN),
        'the token is nowhere in the logs',
      );
      // The failed call is logged with what an operator needs to find it.
      const failed = cli
        .stderr()
        .split('\n')
        .filter((line) => line.includes('"request failed"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const timeout = failed.find((entry) => entry.requestId === 2);
      assert.ok(timeout, `a "request failed" line for the timed-out call: ${failed.length} such lines`);
      assert.equal(timeout.method, 'tools/call');
      assert.equal(typeof timeout.session, 'string');
      assert.equal(timeout.level, 40, 'a timeout is a warning');
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
