import { CancelledError, JsonRpcError } from '../../shared/errors.js';
import { RpcErrorCode } from '../../shared/json-rpc.js';
import type { Logger } from '../../shared/logger.js';
import type { ManagedServer } from '../managed-server.js';
import type { McpClient } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { ClientSession } from './client-session.js';

/** What reclaiming needs of the session layer: the sessions, and ending one. */
export interface IsolatedSessions {
  sessions(): Iterable<ClientSession>;
  closeSession(session: ClientSession, reason: string): void;
}

/**
 * `sessionMode: "isolated"`: a process of its own per client session, started on the session's first
 * request and stopped when the session ends, at most `maxProcesses` per server.
 *
 * Clients abandon sessions (the SDK clients close without DELETE), and their processes would hold the
 * cap until the idle sweep. So at the cap, an abandoned session goes first: one with nothing in flight,
 * no backend request waiting on it and no open stream, the longest idle of them. It is ended as an idle
 * session would be, its process stopped, and the new session gets the slot. Sessions in use are never
 * taken; with none to reclaim the cap holds and the request is refused.
 */
export class IsolatedProcesses {
  readonly #supervisor: Supervisor;
  readonly #sessions: IsolatedSessions;
  readonly #attach: (server: string, client: McpClient, session: ClientSession) => void;
  readonly #capabilities: Record<string, unknown>;
  readonly #logger: Logger;

  constructor(
    supervisor: Supervisor,
    sessions: IsolatedSessions,
    attach: (server: string, client: McpClient, session: ClientSession) => void,
    capabilities: Record<string, unknown>,
    logger: Logger,
  ) {
    this.#supervisor = supervisor;
    this.#sessions = sessions;
    this.#attach = attach;
    this.#capabilities = capabilities;
    this.#logger = logger;
  }

  /** The session's own process of `server`, started (or restarted, if it died) on demand. */
  async processFor(session: ClientSession, server: string): Promise<ManagedServer> {
    const existing = session.isolated?.get(server);
    if (existing) {
      const managed = await existing;
      if (managed.status === 'running') return managed;
      // It died, and its state with it: the session goes on with a fresh process.
      if (session.isolated?.get(server) === existing) session.isolated?.delete(server);
      void managed.stop();
      return this.processFor(session, server);
    }
    // A process per session needs a session: a stateless caller would get (and pay for) one per request.
    if (session.era === 'modern')
      throw new JsonRpcError(
        RpcErrorCode.INVALID_REQUEST,
        `Server "${server}" runs one process per session (mcpServers.${server}.sessionMode "isolated"), and ` +
          'protocol 2026-07-28 has no sessions: connect with a 2025 client (initialize), or use sessionMode "shared".',
        { server, sessionMode: 'isolated' },
      );
    const { maxProcesses } = this.#supervisor.get(server).config;
    if (this.#supervisor.isolatedCount(server) >= maxProcesses && !(await this.#reclaim(server, session))) {
      throw new JsonRpcError(
        RpcErrorCode.CONNECTION_CLOSED,
        `Server "${server}" already runs ${maxProcesses} isolated session processes ` +
          `(mcpServers.${server}.maxProcesses), all held by sessions in use; retry when sessions end, or raise the cap.`,
        { server, maxProcesses },
      );
    }
    const capabilities = session.clientCapabilities.roots
      ? { ...this.#capabilities, roots: { listChanged: true } }
      : this.#capabilities;
    const starting = this.#supervisor.spawnIsolated(server, {
      clientOptions: { capabilities },
      onClient: (client) => this.#attach(server, client, session),
    });
    session.isolatedMap().set(server, starting);
    let managed: ManagedServer;
    try {
      managed = await starting;
    } catch (error) {
      if (session.isolated?.get(server) === starting) session.isolated?.delete(server);
      throw error;
    }
    if (session.closed) {
      void managed.stop();
      throw new CancelledError('The session ended.');
    }
    if (session.logLevel && managed.client.serverCapabilities.logging)
      await managed.client.setLoggingLevel(session.logLevel).catch(() => {});
    return managed;
  }

  /** Ends the longest-idle abandoned session holding a process of `server`; false when there is none. */
  async #reclaim(server: string, asking: ClientSession): Promise<boolean> {
    let victim: ClientSession | undefined;
    for (const session of this.#sessions.sessions()) {
      if (session === asking || !session.isolated?.has(server) || !abandoned(session)) continue;
      if (!victim || session.lastActivity < victim.lastActivity) victim = session;
    }
    if (!victim) return false;
    const process = victim.isolated!.get(server)!;
    this.#logger.info(
      { server, idleMs: Date.now() - victim.lastActivity },
      'isolated process cap reached; ending an abandoned session to make room',
    );
    this.#sessions.closeSession(
      victim,
      `its process was reclaimed for a new session (${server} at maxProcesses)`,
    );
    const managed = await process.catch(() => undefined);
    if (managed) await stopped(managed);
    return this.#supervisor.isolatedCount(server) < this.#supervisor.get(server).config.maxProcesses;
  }
}

/** Nothing in flight either way and nobody listening: a session its client has left. */
export function abandoned(session: ClientSession): boolean {
  return session.quiet && (!session.stream || session.stream.detached === true);
}

/** Resolves once the process has stopped (its stop was asked for when its session ended). */
function stopped(managed: ManagedServer): Promise<void> {
  if (managed.status === 'stopped' || managed.status === 'failed') return Promise.resolve();
  return new Promise((resolve) => {
    const onStatus = ({ status }: { status: string }) => {
      if (status !== 'stopped' && status !== 'failed') return;
      managed.off('status', onStatus);
      resolve();
    };
    managed.on('status', onStatus);
  });
}
