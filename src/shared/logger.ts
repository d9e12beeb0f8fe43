import { pino } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The structured logger every part of the package writes to (pino's interface). */
export type Logger = pino.Logger;

/** Environment variable that sets the log level when no flag or option does. */
export const LOG_LEVEL_ENV = 'MCP_RUNNER_LOG_LEVEL';

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Logs go to stderr as JSON lines, so stdout stays free for the CLI's own output (and, for a library
 * user, for whatever their program prints). A library default of `warn` keeps embedding programs quiet.
 */
export function createLogger(options: { level?: LogLevel | undefined; name?: string } = {}): Logger {
  const fromEnv = process.env[LOG_LEVEL_ENV];
  const level = options.level ?? (isLogLevel(fromEnv) ? fromEnv : 'warn');
  return pino(
    { name: options.name ?? 'mcp-runner', level, base: { pid: process.pid } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** Shortens a session id for logs: enough to correlate lines, too little to hijack a session. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
