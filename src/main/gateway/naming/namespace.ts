import { createHash } from 'node:crypto';

/** The longest tool or prompt name MCP allows (2025-11-25 and 2026-07-28). */
export const MAX_NAME_LENGTH = 128;

/**
 * A server's tool or prompt as the aggregated endpoints name it: `{server}{separator}{name}`, always
 * (not only on collision), so a name does not change when another server is added. Server names are
 * already of the characters tool names allow (the config's server-name rule). A name that would pass
 * 128 characters keeps its start and ends in a digest of the whole, so it stays unique and callable.
 */
export function namespacedName(server: string, name: string, separator: string): string {
  const full = `${server}${separator}${name}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_NAME_LENGTH - digest.length - 1)}-${digest}`;
}
