import { CancelledError, JsonRpcError } from '../../shared/errors.js';
import { isObject, type JsonRpcRequest, RpcErrorCode } from '../../shared/json-rpc.js';
import type { Logger } from '../../shared/logger.js';
import { LOG_LEVEL_RANK } from '../../shared/mcp-log-levels.js';
import type { ServerConfig } from '../config/config-schema.js';
import type { McpClient, McpLoggingLevel, McpRequestOptions } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { AggregateCatalog } from './aggregate-catalog.js';
import { BackendNotifications } from './backend-notifications.js';
import { BackendSubscriptions } from './backend-subscriptions.js';
import { BusyLedger } from './busy-ledger.js';
import { CAPABILITY_FOR_REQUEST, ClientRequests, refuseUndeclared } from './client-requests.js';
import {
  type ClientSession,
  type InflightCall,
  idKey,
  type OutletRef,
  replyToFor,
  type SessionDirectory,
} from './client-session.js';
import { BackendListen, subscriptionIdOf } from './era/backend-listen.js';
import { relayInputRequests } from './era/input-request-relay.js';
import type { GatewayMetrics, RequestOutcome } from './gateway-metrics.js';
import { IsolatedProcesses } from './isolated-processes.js';
import { modernEnvelope } from './modern-envelope.js';

/** A client request on its way to a backend. */
export interface ForwardRequest {
  session: ClientSession;
  server: string;
  method: string;
  params: Record<string, unknown> | undefined;
  clientId: string | number;
  /** Where progress and related server-to-client requests for this call go. */
  relatedTo: OutletRef | undefined;
}

/**
 * What the gateway declares to shared backends: only what it can route to exactly one client. Not
 * `roots`: a shared backend would ask once, cache one session's answer and show it to every session.
 * An isolated process (one session's own) also gets `roots` when its session declared them.
 */
export const GATEWAY_CLIENT_CAPABILITIES = { sampling: {}, elicitation: {} };

/**
 * Multiplexes many client sessions onto shared backends. Ids need no table of their own: each forwarded
 * request gets a fresh backend id from the backend's JSON-RPC connection and its answer is routed back by
 * closure, so the client's id (with its type) is restored exactly. Progress tokens are replaced the same
 * way. Backend notifications fan out only to the sessions they concern; server-to-client requests go to
 * the one session that can be meant, or are refused, never broadcast.
 */
export class BackendHub {
  readonly #supervisor: Supervisor;
  readonly #directory: SessionDirectory;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #isolated: IsolatedProcesses;
  readonly #busy = new BusyLedger();
  readonly #notifications: BackendNotifications;
  /** Per backend process: its requests now waiting on a client, by backend id (for its cancellations). */
  readonly #asked = new Map<
    McpClient,
    Map<string, { session: ClientSession; id: string; via?: OutletRef }>
  >();
  /** Per 2026-07-28 backend process: the gateway's listen stream on it. */
  readonly #listens = new WeakMap<McpClient, BackendListen>();
  readonly #subscriptions: BackendSubscriptions;
  readonly #requests: ClientRequests;

  constructor(
    supervisor: Supervisor,
    catalog: AggregateCatalog,
    directory: SessionDirectory,
    logger: Logger,
    metrics?: GatewayMetrics,
  ) {
    this.#supervisor = supervisor;
    this.#directory = directory;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#requests = new ClientRequests(directory);
    this.#notifications = new BackendNotifications(supervisor, catalog, directory, logger, this.#busy);
    this.#subscriptions = new BackendSubscriptions(
      supervisor,
      directory,
      logger,
      (session, server) =>
        supervisor.get(server).config.sessionMode === 'isolated'
          ? this.clientFor(session, server)
          : this.clientOf(server),
      (client) => this.#listens.get(client),
    );
    this.#isolated = new IsolatedProcesses(
      supervisor,
      directory,
      (server, client, session) => this.attach(server, client, session),
      GATEWAY_CLIENT_CAPABILITIES,
      logger,
    );
  }

  /**
   * Wires a backend's new client (after every start or restart) into the hub. `owner` is set for an
   * isolated process: everything it sends concerns that one session.
   */
  attach(server: string, client: McpClient, owner?: ClientSession): void {
    client.onNotification((message) => {
      if (client.era === 'modern') {
        // Listen-stream traffic is the BackendListen's; a cancel from a modern server only ends a listen.
        if (message.method === 'notifications/cancelled' || subscriptionIdOf(message) !== undefined) return;
        this.#notifications.route(server, client, message, owner);
      } else if (message.method === 'notifications/cancelled')
        this.#onBackendCancelled(client, message.params);
      else this.#notifications.route(server, client, message, owner);
    });
    for (const method of Object.keys(CAPABILITY_FOR_REQUEST)) {
      client.setRequestHandler(method, (_params, request) =>
        this.#onServerRequest(server, client, request, owner),
      );
    }
    const connected = () => {
      if (client.era !== 'modern') return;
      const listen = new BackendListen(
        client,
        (message) => this.#notifications.route(server, client, message, owner),
        this.#logger.child({ server }),
      );
      this.#listens.set(client, listen);
      listen.start();
    };
    if (client.initializeResult) connected();
    else client.onConnected(connected);
  }

  /** The running client of a server, or a JSON-RPC error saying why there is none. */
  clientOf(server: string): McpClient {
    const managed = this.#supervisor.get(server);
    if (managed.status !== 'running') {
      throw new JsonRpcError(
        RpcErrorCode.CONNECTION_CLOSED,
        `Server "${server}" is not available (${managed.status}); retry shortly.`,
        { server, status: managed.status },
      );
    }
    return managed.client;
  }

  /**
   * The process that serves a session's request: in isolated mode the session's own (started on first
   * use), otherwise the least loaded of the server's running processes (fewest requests in flight).
   */
  async clientFor(session: ClientSession, server: string): Promise<McpClient> {
    if (this.#supervisor.get(server).config.sessionMode === 'isolated')
      return (await this.#isolated.processFor(session, server)).client;
    return this.#leastLoaded(server);
  }

  /**
   * Synchronous on purpose: the choice must be followed by the request in the same turn, or several
   * requests handled in one turn (a batch of frames) would all see the same loads and pick the same process.
   */
  #leastLoaded(server: string): McpClient {
    let best: McpClient | undefined;
    for (const instance of this.#supervisor.instancesOf(server)) {
      if (instance.status !== 'running') continue;
      const client = instance.client;
      if (!best || client.connection.pendingCount < best.connection.pendingCount) best = client;
    }
    return best ?? this.clientOf(server);
  }

  /** Sends a client request to a backend and resolves with the backend's result. */
  forward(request: ForwardRequest): Promise<unknown> {
    const { session, server } = request;
    try {
      const config = this.#supervisor.get(server).config;
      if (config.sessionMode === 'isolated')
        return this.#isolated
          .processFor(session, server)
          .then((managed) => this.#send(request, managed.client, config));
      return this.#send(request, this.#leastLoaded(server), config);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Not async on purpose: a forwarded call costs the backend's promise and one `then`, nothing more. */
  #send(request: ForwardRequest, client: McpClient, config: ServerConfig): Promise<unknown> {
    const { session, server } = request;
    const key = idKey(request.clientId);
    const call: InflightCall = { server, cancel: () => {}, replyTo: request.relatedTo };
    session.inflightMap().set(key, call);
    this.#busy.mark(client, session, 1);
    const meta = isObject(request.params?._meta) ? request.params._meta : undefined;
    const clientToken = meta?.progressToken;
    let params = request.params;
    if (clientToken !== undefined) {
      const { progressToken: _dropped, ...restMeta } = meta as Record<string, unknown>;
      params = { ...request.params, _meta: restMeta };
    }
    let era: Pick<McpRequestOptions, 'inputRequired'> = {};
    if (client.era === 'modern') {
      params = modernEnvelope(session, params);
      // A modern caller does its own rounds; a 2025 caller is asked on its stream, as a 2025 server would.
      era = {
        inputRequired:
          session.era === 'modern' ? 'return' : relayInputRequests(this.#requests, session, call),
      };
    }
    const started = performance.now();
    const done = (outcome: RequestOutcome) => {
      if (session.inflight?.get(key) === call) session.inflight?.delete(key);
      this.#busy.mark(client, session, -1);
      this.#metrics?.backendRequest(server, (performance.now() - started) / 1000, outcome);
    };
    return client
      .request(request.method, params, {
        onCancelHandle: (cancel) => {
          call.cancel = cancel;
        },
        timeoutMs: config.requestTimeoutMs,
        resetTimeoutOnProgress: true,
        maxTotalTimeoutMs: config.requestTimeoutMs * 10,
        ...era,
        ...(clientToken === undefined
          ? {}
          : {
              onProgress: (progress) => {
                const restored = { ...progress, progressToken: clientToken };
                // The call's stream now: a multi-round-trip retry moves it (ModernEdge).
                this.#directory.sendToSession(
                  session,
                  { jsonrpc: '2.0', method: 'notifications/progress', params: restored },
                  call.replyTo,
                );
              },
            }),
      })
      .then(
        (result) => {
          done('ok');
          // Written back in the 2025 shape: the 2026 result markers mean nothing to a 2025 client.
          return client.era === 'modern' && session.era === 'legacy' ? asLegacyResult(result) : result;
        },
        (error: unknown) => {
          done(error instanceof CancelledError ? 'cancelled' : 'error');
          throw error;
        },
      );
  }

  /** A client's `notifications/cancelled`: stop the matching call (its backend is told by the connection). */
  cancel(session: ClientSession, requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const call = session.inflight?.get(idKey(requestId));
    if (!call) return; // unknown or already answered: nothing to do (spec: ignore)
    call.cancel(new CancelledError('Cancelled by the client.'));
  }

  /** Ends everything a session has going on backends (it closed, expired or was deleted). */
  releaseSession(session: ClientSession): void {
    for (const call of session.inflight?.values() ?? [])
      call.cancel(new CancelledError('The session ended.'));
    session.inflight?.clear();
    this.#requests.release(session);
    this.#busy.forget(session);
    for (const [server, uris] of [...(session.subscriptions ?? [])]) {
      for (const uri of [...uris]) void this.unsubscribe(session, server, uri);
    }
    for (const starting of session.isolated?.values() ?? [])
      void starting.then((managed) => managed.stop()).catch(() => {});
    session.isolated?.clear();
  }

  /** A client notification a backend should hear: only an isolated process has one client to tell. */
  notifyIsolated(session: ClientSession, method: string, params: unknown): void {
    for (const starting of session.isolated?.values() ?? []) {
      void starting.then(
        (managed) => {
          if (managed.status === 'running' && managed.client.era === 'legacy')
            managed.client.connection.notify(method, isObject(params) ? params : undefined);
        },
        () => {},
      );
    }
  }

  /** `resources/subscribe`, reference-counted onto the backend (see BackendSubscriptions). */
  subscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    return this.#subscriptions.subscribe(session, server, uri);
  }

  unsubscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    return this.#subscriptions.unsubscribe(session, server, uri);
  }

  /** A server's process restarted: its sessions' resource subscriptions are made again on the new one. */
  renewSubscriptions(server: string): void {
    this.#subscriptions.renew(server);
  }

  /**
   * Sets each shared backend's log level to the most verbose level any of its sessions asked for (the
   * sessions then filter); an isolated process gets its own session's level.
   */
  async syncLogLevel(server: string, session?: ClientSession): Promise<void> {
    const warn = (error: unknown) =>
      this.#logger.warn({ server, err: error }, 'could not set the backend log level');
    if (this.#supervisor.get(server).config.sessionMode === 'isolated') {
      const managed = await session?.isolated?.get(server)?.catch(() => undefined);
      const client = managed?.status === 'running' ? managed.client : undefined;
      // A 2026-07-28 backend takes the level with each request instead.
      if (session?.logLevel && client?.era === 'legacy' && client.serverCapabilities.logging)
        await client.setLoggingLevel(session.logLevel).catch(warn);
      return;
    }
    let lowest: McpLoggingLevel | undefined;
    for (const each of this.#directory.sessions()) {
      if (!each.sees(server) || !each.logLevel) continue;
      if (!lowest || LOG_LEVEL_RANK[each.logLevel] < LOG_LEVEL_RANK[lowest]) lowest = each.logLevel;
    }
    if (!lowest) return;
    const level = lowest;
    await Promise.all(
      this.#supervisor.instancesOf(server).map(async (instance) => {
        if (instance.status !== 'running') return;
        const client = instance.client;
        if (client.era !== 'legacy' || !client.serverCapabilities.logging) return;
        await client.setLoggingLevel(level).catch(warn);
      }),
    );
  }

  /**
   * A backend asks a client something. stdio carries no link to the request that caused it, so the rule
   * is: the one session that has a call in flight on this backend and declared the capability gets it.
   * None or several: the backend gets -32601, as from a client without that capability; never a broadcast.
   */
  async #onServerRequest(
    server: string,
    client: McpClient,
    request: JsonRpcRequest,
    owner: ClientSession | undefined,
  ): Promise<unknown> {
    const capability = CAPABILITY_FOR_REQUEST[request.method]!;
    const candidates = owner ? [owner] : [...this.#busy.sessionsOn(client)];
    const busy = candidates.filter((s) => !s.closed && s.clientCapabilities[capability] !== undefined);
    if (busy.length !== 1) {
      const why =
        busy.length === 0
          ? 'no client session that supports it is waiting on this server'
          : `${busy.length} client sessions could be meant`;
      throw new JsonRpcError(RpcErrorCode.METHOD_NOT_FOUND, `${request.method} cannot be routed: ${why}.`);
    }
    const session = busy[0]!;
    refuseUndeclared(request.method, request.params, session);
    const related = replyToFor(session, server);
    let asked = this.#asked.get(client);
    if (!asked) {
      asked = new Map();
      this.#asked.set(client, asked);
    }
    const backendKey = idKey(request.id);
    return this.#requests
      .ask(session, request.method, request.params, related, (id) =>
        asked.set(backendKey, { session, id, ...(related ? { via: related } : {}) }),
      )
      .finally(() => {
        asked.delete(backendKey);
        if (asked.size === 0 && this.#asked.get(client) === asked) this.#asked.delete(client);
      });
  }

  /**
   * The backend gave up on a request it sent to a client: the client hears it with its own id (on the
   * stream the request went to), and the backend gets no answer for it.
   */
  #onBackendCancelled(client: McpClient, params: Record<string, unknown> | undefined): void {
    const requestId = params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const target = this.#asked.get(client)?.get(idKey(requestId));
    if (!target) return;
    const { session, id, via } = target;
    this.#requests.withdraw(session, id, via, typeof params?.reason === 'string' ? params.reason : undefined);
  }

  /** A client's answer to a request we forwarded from a backend. */
  answerServerRequest(session: ClientSession, message: Record<string, unknown>): void {
    this.#requests.answer(session, message);
  }
}

/** A 2026-07-28 result as a 2025 client reads it: without `resultType` and the cache hints. */
function asLegacyResult(result: unknown): unknown {
  if (!isObject(result) || !('resultType' in result)) return result;
  const { resultType: _type, ttlMs: _ttl, cacheScope: _scope, ...rest } = result;
  return rest;
}
