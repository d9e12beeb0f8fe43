/** MCP's log levels (`logging/setLevel`, and 2026-07-28's per-request `logLevel`). */
export type McpLoggingLevel =
  | 'debug'
  | 'info'
  | 'notice'
  | 'warning'
  | 'error'
  | 'critical'
  | 'alert'
  | 'emergency';

/** MCP log levels (RFC 5424 severities) from most to least verbose. */
export const LOG_LEVEL_RANK: Record<McpLoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

export function isMcpLoggingLevel(value: unknown): value is McpLoggingLevel {
  return typeof value === 'string' && Object.hasOwn(LOG_LEVEL_RANK, value);
}
