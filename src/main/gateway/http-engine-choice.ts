import { createServer, type Server } from 'node:net';
import { Worker } from 'node:worker_threads';
import { HttpEngineError } from '../../shared/errors.js';
import type { HttpEngineName } from '../../shared/worker-options.js';
import type { SseProxyConfig } from '../config/config-schema.js';

/** Which engine the workers run, why, and how many of them can share the port with it. */
export interface HttpEngineChoice {
  engine: HttpEngineName;
  /** One sentence for the log line and /status. */
  reason: string;
  reusePort: boolean;
  /** Worker threads to start: the configured number, or 1 where the listeners cannot share a port. */
  workers: number;
}

/**
 * Chooses the workers' HTTP engine before any of them starts: uWS where its native binary
 * loads (it is the faster), else Node's own `node:http`; `httpEngine` forces one. Forcing uWS where it
 * cannot load is an error that says why and what to do.
 */
export async function chooseHttpEngine(config: SseProxyConfig): Promise<HttpEngineChoice> {
  const wanted = config.httpEngine;
  if (wanted !== 'node') {
    const probe = await probeUws();
    if (probe.ok) {
      return {
        engine: 'uws',
        reason:
          wanted === 'uws'
            ? 'asked for (httpEngine "uws")'
            : `the uWS native binary loads on Node ${process.version} here`,
        reusePort: true,
        workers: config.workers,
      };
    }
    const why =
      probe.message.split('\n').find((line) => line.includes('GLIBC')) ?? probe.message.split('\n')[0];
    if (wanted === 'uws') {
      throw new HttpEngineError(
        `The HTTP engine "uws" cannot run here: the uWS native binary does not load on Node ${process.version} ` +
          `(${why}). Use --http-engine node (or sseProxy.httpEngine "node"), or leave it "auto" to pick ` +
          "Node's own HTTP server wherever uWS cannot load.",
        { data: { engine: 'uws', node: process.version } },
      );
    }
    return withNodeListeners(
      config,
      `the uWS native binary does not load on Node ${process.version} here (${why})`,
    );
  }
  return withNodeListeners(config, 'asked for (httpEngine "node")');
}

async function withNodeListeners(config: SseProxyConfig, reason: string): Promise<HttpEngineChoice> {
  const reusePort = await canSharePort(config.address);
  if (reusePort || config.workers === 1)
    return { engine: 'node', reason, reusePort, workers: config.workers };
  // Without SO_REUSEPORT a second worker cannot bind the port, and worker threads cannot hand each other
  // sockets; one worker serves every connection rather than the gateway failing to start.
  return {
    engine: 'node',
    reason:
      `${reason}; Node ${process.version} has no reusePort (22.12 and later have), so 1 worker serves ` +
      `instead of ${config.workers}`,
    reusePort: false,
    workers: 1,
  };
}

/** Loads the uWS engine in a throwaway worker thread: a failed native load must not take a pool worker. */
async function probeUws(): Promise<{ ok: true } | { ok: false; message: string }> {
  const worker = new Worker(new URL('../../workers/http/uws-load-probe.js', import.meta.url));
  const outcome = await new Promise<{ ok: boolean; message?: string }>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) => resolve({ ok: false, message: error.message }));
  });
  await worker.terminate();
  return outcome.ok ? { ok: true } : { ok: false, message: outcome.message ?? 'unknown error' };
}

/**
 * Whether two Node listeners can share one port here: binds a free port twice with `reusePort`. Node
 * before 22.12 ignores the option (the second bind fails), as does a system without SO_REUSEPORT.
 */
async function canSharePort(host: string): Promise<boolean> {
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, reusePort: true } as Parameters<Server['listen']>[0], () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const first = createServer();
  const second = createServer();
  try {
    const port = await listen(first, 0);
    await listen(second, port);
    return true;
  } catch {
    return false;
  } finally {
    for (const server of [first, second]) if (server.listening) server.close();
  }
}
