import { createLogger, isLogLevel, LOG_LEVEL_ENV, type Logger } from '../../src/shared/logger.js';

/** Tests log nothing unless MCP_RUNNER_LOG_LEVEL asks for it. */
export function testLogger(): Logger {
  const env = process.env[LOG_LEVEL_ENV];
  return createLogger({ level: isLogLevel(env) ? env : 'silent' });
}
