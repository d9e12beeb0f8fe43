import type { JsonRpcNotification } from '../../shared/json-rpc.js';
import type { Logger } from '../../shared/logger.js';
import { LOG_LEVEL_RANK } from '../../shared/mcp-log-levels.js';
import type { McpClient, McpLoggingLevel } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { AggregateCatalog, CatalogKind } from './aggregate-catalog.js';
import type { BusyLedger } from './busy-ledger.js';
import { type ClientSession, replyToFor, type SessionDirectory } from './client-session.js';

/**
 * Whether a subscription to `subscribed` covers an update of `uri`: the same resource, or one under it
 * (the spec lets an update name a sub-resource). A longer name that merely starts the same way
 * (`text/700` against `text/70`) is another resource.
 */
export function coversUri(subscribed: string, uri: string): boolean {
  if (uri === subscribed) return true;
  const base = subscribed.endsWith('/') ? subscribed : `${subscribed}/`;
  return uri.startsWith(base);
}

const LIST_CHANGED: Record<string, CatalogKind> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/resources/list_changed': 'resources',
  'notifications/prompts/list_changed': 'prompts',
};

/**
 * Where a backend's notifications go: list changes drop the cached lists and reach every session that
 * sees the server; resource updates reach the sessions subscribed to the resource; log lines reach the
 * sessions that asked for their level (a 2025 backend's), or the one caller they can belong to (a 2026
 * backend's, and any line for a stateless caller). An isolated process's go to its own session alone.
 */
export class BackendNotifications {
  readonly #supervisor: Supervisor;
  readonly #catalog: AggregateCatalog;
  readonly #directory: SessionDirectory;
  readonly #logger: Logger;
  readonly #busy: BusyLedger;

  constructor(
    supervisor: Supervisor,
    catalog: AggregateCatalog,
    directory: SessionDirectory,
    logger: Logger,
    busy: BusyLedger,
  ) {
    this.#supervisor = supervisor;
    this.#catalog = catalog;
    this.#directory = directory;
    this.#logger = logger;
    this.#busy = busy;
  }

  route(server: string, client: McpClient, message: JsonRpcNotification, owner?: ClientSession): void {
    const kind = LIST_CHANGED[message.method];
    const isolatedServer = !owner && this.#supervisor.get(server).config.sessionMode === 'isolated';
    if (kind) {
      if (!owner) {
        this.#catalog.invalidate(server, kind);
        if (kind === 'resources') this.#catalog.invalidate(server, 'resourceTemplates');
      }
      // An isolated server's primary only serves the aggregated lists; its sessions have their own.
      this.#fanOut(server, message, (s) => !isolatedServer || s.target === '', owner);
      return;
    }
    if (isolatedServer) return; // the primary of an isolated server does no session's work
    const fanOut = (wanted: (session: ClientSession) => boolean) =>
      this.#fanOut(server, message, wanted, owner);
    switch (message.method) {
      case 'notifications/message': {
        const level = message.params?.level as McpLoggingLevel | undefined;
        const rank = level ? (LOG_LEVEL_RANK[level] ?? 0) : 0;
        const wants = (s: ClientSession) => s.logLevel !== undefined && rank >= LOG_LEVEL_RANK[s.logLevel];
        // A 2025 backend logs for every session it serves, as a 2025 server does for its one client.
        if (client.era === 'legacy') fanOut((s) => s.era === 'legacy' && wants(s));
        else if (owner) fanOut(wants);
        if (owner) return;
        // A request's own log lines (all a 2026 backend sends, and all a stateless caller may see): stdio
        // says nothing of which request a line belongs to, so it goes to a caller only when that caller
        // is the only one on the process.
        const sole = this.#busy.sole(client);
        if (sole && (sole.era === 'modern' || client.era === 'modern') && wants(sole))
          this.#directory.sendToSession(
            sole,
            message as unknown as Record<string, unknown>,
            replyToFor(sole, server),
          );
        return;
      }
      case 'notifications/resources/updated': {
        const uri = message.params?.uri;
        if (typeof uri !== 'string') return;
        fanOut((s) => {
          const uris = s.subscriptions?.get(server);
          return uris !== undefined && [...uris].some((sub) => coversUri(sub, uri));
        });
        return;
      }
      default:
        this.#logger.debug({ server, method: message.method }, 'backend notification not routed');
    }
  }

  /** To every session of the server that wants it; to the owner alone for an isolated process. */
  #fanOut(
    server: string,
    message: JsonRpcNotification,
    wanted: (session: ClientSession) => boolean,
    owner: ClientSession | undefined,
  ): void {
    const msg = message as unknown as Record<string, unknown>;
    const audience = owner ? [owner] : this.#directory.sessions();
    for (const session of audience) {
      if (!session.closed && session.sees(server) && wanted(session))
        this.#directory.sendToSession(session, msg);
    }
  }
}
