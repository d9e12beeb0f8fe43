import { createLogger, isLogLevel, LOG_LEVEL_ENV, type LogLevel } from '../shared/logger.js';
import { formatStatusTable } from './cli-format.js';
import { loadConfigFile } from './config/load-config.js';
import { ConfigWatch } from './config-watch.js';
import { McpRunner } from './mcp-runner.js';
import { capYoungGeneration, DEFAULT_MAIN_SEMI_SPACE_MIB } from './young-generation-cap.js';

/** How long SIGINT/SIGTERM may take to drain sessions and stop the servers before the process gives up. */
const SHUTDOWN_DEADLINE_MS = 20_000;

export interface ServeOptions {
  config: string;
  workers?: number;
  port?: number;
  host?: string;
  httpEngine?: 'auto' | 'uws' | 'node';
  logLevel?: LogLevel;
  /** Cap on the main thread's semi-space in MiB; 0 leaves V8's own (see young-generation-cap.ts). */
  mainSemiSpace?: number;
}

/**
 * `mcp-runner --config FILE`: start every server, print their statuses, and run until SIGINT/SIGTERM,
 * then stop everything by the ladder and exit 0.
 */
export async function runGatewayCommand(options: ServeOptions): Promise<void> {
  const env = process.env[LOG_LEVEL_ENV];
  const level = options.logLevel ?? (isLogLevel(env) ? env : 'info');
  const logger = createLogger({ level });
  const semiSpace = options.mainSemiSpace ?? DEFAULT_MAIN_SEMI_SPACE_MIB;
  // The CLI owns its process; a library user's process keeps its own V8 settings.
  if (semiSpace > 0) capYoungGeneration(semiSpace);
  const config = await loadConfigFile(options.config);
  const runner = new McpRunner(config, { logger, logLevel: level });
  const overrides = {
    address: options.host,
    port: options.port,
    workers: options.workers,
    httpEngine: options.httpEngine,
  };
  const wantsGateway = config.sseProxy !== undefined || Object.values(overrides).some((v) => v !== undefined);
  const shutdown = waitForShutdownSignal();
  let failed: number;
  if (wantsGateway) {
    const result = await runner.startAllWithProxy(overrides);
    failed = result.failed.length;
    const gateway = result.gateway;
    console.log(
      `mcp-runner gateway on ${gateway.url} with ${gateway.workers} worker thread(s), HTTP engine ${gateway.httpEngine?.engine}`,
    );
    console.log(`  Streamable HTTP: ${gateway.url}/mcp`);
    console.log(`  legacy SSE:      ${gateway.url}/sse`);
    console.log(`  per server:      ${gateway.url}/servers/{name}/mcp, ${gateway.url}/servers/{name}/sse`);
    console.log(`  status page:     ${gateway.url}/ (live status and a tool explorer)`);
    console.log(
      `  health, status:  ${gateway.url}/health, ${gateway.url}/status, ${gateway.url}/status/events, ${gateway.url}/metrics`,
    );
  } else {
    failed = (await runner.supervisor.startAll()).failed.length;
  }
  console.log(formatStatusTable(runner.supervisor.statuses()));
  if (failed > 0) console.log(`${failed} server(s) failed to start; the others are being served.`);
  // Hot reload: the file is watched, and SIGHUP asks too.
  const watch = new ConfigWatch(options.config, runner, logger);
  watch.start();
  runner.onStatusChange((change) => {
    logger.info(
      { server: change.name, status: change.status, previous: change.previous },
      'server status changed',
    );
  });
  const signal = await shutdown;
  watch.stop();
  console.log(`${signal}: shutting down...`);
  // A safety net, not the plan: a stop that hangs must not leave an unkillable-looking process behind.
  setTimeout(() => {
    logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting anyway');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  await runner.close();
  console.log('Stopped.');
}

function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
