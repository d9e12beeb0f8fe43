import type { McpLoggingLevel } from '../mcp-client.js';

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
