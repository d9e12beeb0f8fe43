import type { McpClient } from '../mcp-client.js';
import type { ClientSession } from './client-session.js';

/**
 * Per backend process, the sessions with calls in flight on it and how many. It is how a backend's
 * message that names no request (a 2025 server's request to a client, a log line) can be attributed:
 * only when exactly one session can be meant.
 */
export class BusyLedger {
  readonly #busy = new Map<McpClient, Map<ClientSession, number>>();

  mark(client: McpClient, session: ClientSession, delta: number): void {
    let busy = this.#busy.get(client);
    if (!busy) {
      busy = new Map();
      this.#busy.set(client, busy);
    }
    const count = (busy.get(session) ?? 0) + delta;
    if (count > 0) busy.set(session, count);
    else {
      busy.delete(session);
      if (busy.size === 0) this.#busy.delete(client);
    }
  }

  sessionsOn(client: McpClient): Iterable<ClientSession> {
    return this.#busy.get(client)?.keys() ?? [];
  }

  /** The one session with calls in flight on a backend process, if there is exactly one. */
  sole(client: McpClient): ClientSession | undefined {
    const busy = this.#busy.get(client);
    if (busy?.size !== 1) return undefined;
    const [session] = busy.keys();
    return session?.closed ? undefined : session;
  }

  forget(session: ClientSession): void {
    for (const busy of this.#busy.values()) busy.delete(session);
  }
}
