import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestGateway } from './gateway.js';
import { isAlive } from './processes.js';

/**
 * A test gateway (startTestGateway, same defaults) in a process of its own, for inputs that may kill
 * it: the test survives the crash, sees how the process ended, and can start another.
 */
export interface GatewayProcess {
  port: number;
  url: string;
  /** Backend pids, so a crashed gateway's orphaned children can be stopped. */
  backendPids: number[];
  alive(): boolean;
  /** Exit code or signal and the tail of stderr, once the process has ended. */
  exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
  stop(): Promise<void>;
}

const thisFile = fileURLToPath(import.meta.url);

export function startGatewayProcess(
  mcpServers: Record<string, Record<string, unknown>>,
  sseProxy: Record<string, unknown>,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [thisFile, JSON.stringify({ mcpServers, sseProxy })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal, stderr });
    }),
  );
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const { port, backendPids } = JSON.parse(line) as { port: number; backendPids: number[] };
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        backendPids,
        alive: () => running,
        exited,
        async stop() {
          if (running) {
            child.kill('SIGTERM');
            await exited;
          }
          for (const pid of backendPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
        },
      });
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`gateway process ended during startup (${code ?? signal}): ${stderr.slice(-2000)}`)),
    );
  });
}

async function main(config: string): Promise<void> {
  const { mcpServers, sseProxy } = JSON.parse(config) as {
    mcpServers: Record<string, Record<string, unknown>>;
    sseProxy: Record<string, unknown>;
  };
  const gw = await startTestGateway(mcpServers, sseProxy);
  const backendPids = Object.values(gw.runner.getAllServerStatuses()).flatMap((s) => (s.pid ? [s.pid] : []));
  process.stdout.write(`${JSON.stringify({ port: gw.gateway.port, backendPids })}\n`);
  process.once('SIGTERM', () => {
    void gw.stop().then(() => process.exit(0));
  });
}

if (process.argv[1] === thisFile && process.argv[2]) await main(process.argv[2]);
