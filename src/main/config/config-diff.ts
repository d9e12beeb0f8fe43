import { isDeepStrictEqual } from 'node:util';
import type { Config } from './config-schema.js';

/** What a new config changes about the servers. */
export interface ServerChange {
  added: string[];
  removed: string[];
  /** Servers whose entry differs in any way: they are restarted with the new one. */
  changed: string[];
}

/** What a reload did. */
export interface ReloadReport extends ServerChange {
  /** Added or changed servers that did not start. */
  failed: Array<{ name: string; error: Error }>;
  /** `sseProxy` keys whose change needs a new listener (a restart); not applied. */
  needsRestart: string[];
}

export function diffServers(current: Config, next: Config): ServerChange {
  const before = current.mcpServers;
  const after = next.mcpServers;
  return {
    added: Object.keys(after).filter((name) => !Object.hasOwn(before, name)),
    removed: Object.keys(before).filter((name) => !Object.hasOwn(after, name)),
    changed: Object.keys(after).filter(
      (name) => Object.hasOwn(before, name) && !isDeepStrictEqual(before[name], after[name]),
    ),
  };
}

/** `sseProxy` keys a reload cannot apply (all but `allowedServers`): the listener, workers, auth, limits. */
export function changedProxyKeys(current: Config, next: Config): string[] {
  const before: Record<string, unknown> = current.sseProxy ?? {};
  const after: Record<string, unknown> = next.sseProxy ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => key !== 'allowedServers' && !isDeepStrictEqual(before[key], after[key]));
}
