import { createHash } from 'node:crypto';
import type { SseProxyConfig } from '../config/config-schema.js';

/** Workers get only a digest of the bearer token: the token itself stays in the main thread. */
export function tokenDigestOf(config: SseProxyConfig): Uint8Array | undefined {
  const token = config.authenticate?.bearer.token;
  return token === undefined
    ? undefined
    : new Uint8Array(createHash('sha256').update(token, 'utf8').digest());
}
