import { createLogger, isLogLevel, LOG_LEVEL_ENV, type LogLevel } from '../shared/logger.js';
import { formatStatusTable } from './cli-format.js';
import { loadConfigFile } from './config/load-config.js';
import { McpRunner } from './mcp-runner.js';

export interface ServeOptions {
  config: string;
  workers?: number;
  port?: number;
  host?: string;
  logLevel?: LogLevel;
}

/**
 * `mcp-runner --config FILE`: start every server, print their statuses, and run until SIGINT/SIGTERM,
 * then stop everything by the ladder and exit 0.
 */
export async function runGatewayCommand(options: ServeOptions): Promise<void> {
  const env = process.env[LOG_LEVEL_ENV];
  const logger = createLogger({ level: options.logLevel ?? (isLogLevel(env) ? env : 'info') });
  const config = await loadConfigFile(options.config);
  const runner = new McpRunner(config, { logger });
  const result = await runner.supervisor.startAll();
  console.log(formatStatusTable(runner.supervisor.statuses()));
  if (result.failed.length > 0) {
    console.log(`${result.failed.length} server(s) failed to start; the others are running.`);
  }
  runner.onStatusChange((change) => {
    logger.info(
      { server: change.name, status: change.status, previous: change.previous },
      'server status changed',
    );
  });
  await waitForShutdownSignal();
  console.log('Shutting down...');
  await runner.stopAllServers();
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
