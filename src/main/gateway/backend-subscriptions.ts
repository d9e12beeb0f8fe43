import type { Logger } from '../../shared/logger.js';
import type { McpClient } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { ClientSession, SessionDirectory } from './client-session.js';
import type { BackendListen } from './era/backend-listen.js';

/**
 * Resource subscriptions, reference-counted per backend process: the backend hears one subscribe per URI
 * however many sessions subscribe, and one unsubscribe when the last of them leaves. Shared servers hold
 * subscriptions on their primary process; an isolated session on its own process. A 2025 backend is
 * asked with `resources/subscribe`; a 2026-07-28 one through the gateway's listen stream on it.
 */
export class BackendSubscriptions {
  readonly #supervisor: Supervisor;
  readonly #directory: SessionDirectory;
  readonly #logger: Logger;
  readonly #clientFor: (session: ClientSession, server: string) => Promise<McpClient> | McpClient;
  readonly #listenOf: (client: McpClient) => BackendListen | undefined;
  /** Per backend process: subscribes still waiting for their answer, by URI. */
  #subscribing = new WeakMap<McpClient, Map<string, Promise<void>>>();
  /** Per backend process: subscribed URI -> number of sessions subscribed through it. */
  #counts = new WeakMap<McpClient, Map<string, number>>();

  constructor(
    supervisor: Supervisor,
    directory: SessionDirectory,
    logger: Logger,
    clientFor: (session: ClientSession, server: string) => Promise<McpClient> | McpClient,
    listenOf: (client: McpClient) => BackendListen | undefined,
  ) {
    this.#supervisor = supervisor;
    this.#directory = directory;
    this.#logger = logger;
    this.#clientFor = clientFor;
    this.#listenOf = listenOf;
  }

  async subscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    let uris = session.subscriptions?.get(server);
    if (uris?.has(uri)) return;
    const client = await this.#clientFor(session, server);
    const counts = this.#countsOf(client);
    const count = counts.get(uri) ?? 0;
    // Counted before the backend answers, so concurrent subscribers share the first one's request.
    counts.set(uri, count + 1);
    let pending = this.#subscribing.get(client);
    try {
      if (count === 0) {
        const request = this.#backendSubscribe(client, uri);
        if (!pending) {
          pending = new Map();
          this.#subscribing.set(client, pending);
        }
        pending.set(uri, request);
        await request.finally(() => pending!.delete(uri));
      } else await pending?.get(uri);
    } catch (error) {
      const left = (counts.get(uri) ?? 1) - 1;
      if (left > 0) counts.set(uri, left);
      else counts.delete(uri);
      throw error;
    }
    uris = session.subscriptions?.get(server);
    if (!uris) {
      uris = new Set();
      session.subscriptionMap().set(server, uris);
    }
    uris.add(uri);
  }

  async unsubscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    const uris = session.subscriptions?.get(server);
    if (!uris?.delete(uri)) return;
    const client = await this.#runningClient(session, server);
    if (!client) return; // the process is gone, and its subscriptions with it
    const counts = this.#countsOf(client);
    const left = (counts.get(uri) ?? 1) - 1;
    if (left > 0) {
      counts.set(uri, left);
      return;
    }
    counts.delete(uri);
    if (client.era === 'modern') {
      this.#listenOf(client)?.remove(uri);
      return;
    }
    await client
      .request('resources/unsubscribe', { uri })
      .catch((error: unknown) =>
        this.#logger.warn({ server, uri, err: error }, 'backend unsubscribe failed'),
      );
  }

  /**
   * Subscriptions live on the backend process: after a restart the new process knows none, so every
   * session's subscriptions to it are made again there (counted afresh), and updates keep coming.
   */
  renew(server: string): void {
    if (this.#supervisor.get(server).config.sessionMode === 'isolated') return;
    const wanted: Array<[ClientSession, string]> = [];
    for (const session of this.#directory.sessions()) {
      const uris = session.subscriptions?.get(server);
      if (!uris) continue;
      session.subscriptions!.delete(server);
      for (const uri of uris) wanted.push([session, uri]);
    }
    for (const [session, uri] of wanted)
      this.subscribe(session, server, uri).catch((error: unknown) =>
        this.#logger.warn({ server, uri, err: error }, 'could not subscribe again after a restart'),
      );
  }

  #backendSubscribe(client: McpClient, uri: string): Promise<void> {
    if (client.era === 'legacy') return client.request('resources/subscribe', { uri }).then(() => {});
    const listen = this.#listenOf(client);
    return listen ? listen.add(uri) : Promise.reject(new Error('The backend is not listened to yet.'));
  }

  async #runningClient(session: ClientSession, server: string): Promise<McpClient | undefined> {
    const managed =
      this.#supervisor.get(server).config.sessionMode === 'isolated'
        ? await session.isolated?.get(server)?.catch(() => undefined)
        : this.#supervisor.get(server);
    return managed?.status === 'running' ? managed.client : undefined;
  }

  #countsOf(client: McpClient): Map<string, number> {
    let counts = this.#counts.get(client);
    if (!counts) {
      counts = new Map();
      this.#counts.set(client, counts);
    }
    return counts;
  }
}
