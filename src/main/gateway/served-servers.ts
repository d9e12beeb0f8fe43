import type { Supervisor } from '../supervisor.js';
import type { SessionDirectory } from './client-session.js';

/** The servers the gateway serves: configured, not disabled, and allowed (`sseProxy.allowedServers`). */
export function servedServers(supervisor: Supervisor, allowed: readonly string[] | undefined): string[] {
  const enabled = supervisor.names().filter((name) => !supervisor.get(name).config.disabled);
  return allowed ? enabled.filter((name) => allowed.includes(name)) : enabled;
}

const LIST_CHANGED = [
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
];

/**
 * Tells the sessions that see a difference that their lists changed: every session of the aggregated
 * endpoints, and the sessions of a per-server endpoint whose server changed. Listen streams get what
 * they opted in to (the directory filters them).
 */
export function announceListChanges(directory: SessionDirectory, touched: ReadonlySet<string>): void {
  if (touched.size === 0) return;
  for (const session of [...directory.sessions()]) {
    if (session.closed || (session.target !== '' && !touched.has(session.target))) continue;
    for (const method of LIST_CHANGED) directory.sendToSession(session, { jsonrpc: '2.0', method });
  }
}
