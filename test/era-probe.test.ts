import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { McpRunner } from '../src/index.js';
import { DISCOVER_PROBE_TIMEOUT_MS } from '../src/main/discover-probe.js';
import { fixturePath } from './support/paths.js';
import { testLogger } from './support/quiet-logger.js';

/**
 * The stdio Backward Compatibility probe (basic/transports/stdio.mdx): `server/discover` first; a
 * DiscoverResult means 2026-07-28, UnsupportedProtocolVersion means no version in common (no fallback),
 * any other error or no answer in time means a 2025 server and `initialize`. With real server processes.
 */
const node = process.execPath;

async function started(server: Record<string, unknown>): Promise<{ runner: McpRunner; ms: number }> {
  const runner = new McpRunner({ mcpServers: { s: server } } as never, {
    logger: testLogger(),
    logLevel: 'silent',
  });
  const begun = performance.now();
  try {
    await runner.startServer('s');
  } catch (error) {
    await runner.close();
    throw error;
  }
  return { runner, ms: performance.now() - begun };
}

async function eraOf(
  server: Record<string, unknown>,
): Promise<{ era: string; version?: string; ms: number }> {
  const { runner, ms } = await started(server);
  try {
    const client = runner.getClient('s');
    return { era: client.era, version: client.protocolVersion, ms };
  } finally {
    await runner.close();
  }
}

const echo = (...args: string[]) => ({ command: node, args: [fixturePath('echo-server'), ...args] });
const modern = (...args: string[]) => ({ command: node, args: [fixturePath('modern-server'), ...args] });

describe('era probe at start', { timeout: 60_000 }, () => {
  test('a DiscoverResult means 2026-07-28; dual-era and modern-only servers', async () => {
    assert.deepEqual((await eraOf(modern())).era, 'modern');
    const only = await eraOf(modern('--modern-only'));
    assert.deepEqual([only.era, only.version], ['modern', '2026-07-28']);
  });

  test('-32601 or -32602 to the probe: a 2025 server, initialize follows', async () => {
    const notFound = await eraOf(echo());
    assert.deepEqual([notFound.era, notFound.version], ['legacy', '2025-11-25']);
    assert.equal((await eraOf(echo('--discover', 'invalid-params'))).era, 'legacy');
  });

  test('no answer to the probe: a 2025 server, after the probe timeout', async () => {
    const silent = await eraOf(echo('--discover', 'silent'));
    assert.equal(silent.era, 'legacy');
    assert.ok(silent.ms >= DISCOVER_PROBE_TIMEOUT_MS, `waited ${Math.round(silent.ms)} ms`);
  });

  test('UnsupportedProtocolVersion to the probe: no version in common, the start fails without falling back', async () => {
    await assert.rejects(
      started(echo('--discover', 'unsupported-version')),
      /speaks only MCP versions \["2027-01-01"\].*Upgrade one of them/,
    );
  });

  test('era "legacy" skips the probe; era "modern" requires 2026-07-28', async () => {
    assert.equal((await eraOf({ ...modern(), era: 'legacy' })).era, 'legacy');
    assert.equal((await eraOf({ ...modern('--modern-only'), era: 'modern' })).era, 'modern');
    await assert.rejects(
      started({ ...echo(), era: 'modern' }),
      /did not answer server\/discover .*set mcpServers\.s\.era to "auto" or "legacy"/,
    );
  });
});
