import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/free-port.js';
import { measure, type Row } from './load/measure.js';
import type { Target } from './load/targets.js';
import { machineInfo, writeResults } from './micro-harness.js';

/**
 * `npm run bench:remote -- [--sessions 100] [--duration 5]`
 *
 * One MCP server (the v1 SDK fixture test/fixtures/http-server) behind the gateway twice: over stdio as a
 * child process, and as a remote Streamable HTTP backend on loopback. The load generator calls `echo` on
 * each server's own endpoint (`/servers/{name}/mcp`, Streamable HTTP sessions), in one run.
 */
const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '100' }, duration: { type: 'string', default: '5' } },
});
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'dist/test/fixtures/http-server.js');

function child(args: string[], ready: (text: string) => boolean): Promise<ChildProcess> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready(out)) resolve(proc);
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

const remotePort = await freePort();
const remote = await child([fixture, String(remotePort)], (out) => out.includes('listening'));
const port = await freePort();
const config = join(mkdtempSync(join(tmpdir(), 'mcpr-remote-bench-')), 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    mcpServers: {
      stdio: { command: process.execPath, args: [fixture, '--stdio'] },
      remote: { type: 'http', url: `http://127.0.0.1:${remotePort}/mcp` },
    },
    sseProxy: { port, workers: 1, maxSessions: 1_000_000 },
  }),
);
const gateway = await child(
  [join(root, 'dist/src/main/cli.js'), '--config', config, '--log-level', 'warn'],
  (out) => out.includes('RESTARTS'),
);
const origin = `http://127.0.0.1:${port}`;
const target = (name: string, server: string): Target => ({
  name,
  origin,
  ssePath: `/servers/${server}/sse`,
  mcpPath: `/servers/${server}/mcp`,
  tool: 'echo',
  pid: gateway.pid!,
  stop: async () => {},
});
const options = {
  sessions: Number(values.sessions),
  durationS: Number(values.duration),
  inflight: 1,
  payload: 64,
};
const rows: Row[] = [];
try {
  for (const each of [
    target('the server over stdio', 'stdio'),
    target('the same server, remote Streamable HTTP', 'remote'),
  ])
    rows.push(await measure(each, 'streamable', options));
} finally {
  // The gateway first: a remote that vanished under it would only make it reconnect.
  const stopped = new Promise((resolve) => gateway.once('exit', resolve));
  gateway.kill('SIGTERM');
  await stopped;
  remote.kill('SIGTERM');
}
const table = [
  '| backend | sessions | calls/s | p50 ms | p99 ms | errors | misdelivered |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.target} | ${options.sessions} | ${Math.round(r.callsPerSecond)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.misdelivered} |`,
  ),
].join('\n');
const ratio = rows[1]!.callsPerSecond / rows[0]!.callsPerSecond;
const command = `npm run bench:remote -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(`${table}\n\nremote / stdio: ${ratio.toFixed(2)}x\ncommand: ${command}`);
const file = writeResults('remote-latest.json', { machine: machineInfo(), command, rows });
writeFileSync(
  file.replace(/\.json$/, '.md'),
  `${table}\n\nremote / stdio: ${ratio.toFixed(2)}x\n\ncommand: \`${command}\`\n`,
);
process.exit(0);
