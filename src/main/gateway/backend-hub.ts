import { CancelledError, JsonRpcError } from '../../shared/errors.js';
import {
  isObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
  RpcErrorCode,
} from '../../shared/json-rpc.js';
import type { Logger } from '../../shared/logger.js';
import type { ServerConfig } from '../config/config-schema.js';
import type { McpClient, McpLoggingLevel } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { AggregateCatalog, CatalogKind } from './aggregate-catalog.js';
import { type ClientSession, type InflightCall, idKey, type OutletRef } from './client-session.js';
import type { GatewayMetrics, RequestOutcome } from './gateway-metrics.js';
import { IsolatedProcesses } from './isolated-processes.js';
import { LOG_LEVEL_RANK } from './log-levels.js';

/** What the hub needs from the session layer: the sessions, a way to reach a client, and to end one. */
export interface SessionDirectory {
  sessions(): Iterable<ClientSession>;
  closeSession(session: ClientSession, reason: string): void;
  /** Sends a message to a session: on `via` when given (a request's own stream), else its stream. */
  sendToSession(session: ClientSession, msg: Record<string, unknown>, via?: OutletRef): boolean;
}

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
 * Whether a subscription to `subscribed` covers an update of `uri`: the same resource, or one under it
 * (the spec lets an update name a sub-resource). A longer name that merely starts the same way
 * (`text/700` against `text/70`) is another resource.
 */
export function coversUri(subscribed: string, uri: string): boolean {
  if (uri === subscribed) return true;
  const base = subscribed.endsWith('/') ? subscribed : `${subscribed}/`;
  return uri.startsWith(base);
}

/**
 * What the gateway declares to shared backends: only what it can route to exactly one client. Not
 * `roots`: a shared backend would ask once, cache one session's answer and show it to every session.
 * An isolated process (one session's own) also gets `roots` when its session declared them.
 */
export const GATEWAY_CLIENT_CAPABILITIES = { sampling: {}, elicitation: {} };

/**
 * Refuses what the chosen session did not declare: tool-enabled sampling without `sampling.tools`, and an
 * elicitation mode (`form` by default, or `url`) outside its `elicitation` capability (`{}` means form).
 */
function refuseUndeclaredMode(request: JsonRpcRequest, session: ClientSession): void {
  const params = request.params ?? {};
  const caps = session.clientCapabilities;
  if (
    request.method === 'sampling/createMessage' &&
    (params.tools !== undefined || params.toolChoice !== undefined)
  ) {
    if (!isObject(caps.sampling) || !isObject(caps.sampling.tools))
      throw new JsonRpcError(
        RpcErrorCode.INVALID_PARAMS,
        'The client did not declare sampling.tools; sampling with tools cannot be sent to it.',
      );
  }
  if (request.method === 'elicitation/create') {
    const mode = typeof params.mode === 'string' ? params.mode : 'form';
    const declared = isObject(caps.elicitation) ? caps.elicitation : {};
    const supported = Object.keys(declared).length === 0 ? mode === 'form' : isObject(declared[mode]);
    if (!supported)
      throw new JsonRpcError(
        RpcErrorCode.INVALID_PARAMS,
        `The client does not support elicitation mode "${mode}".`,
      );
  }
}

/** How long a client has to answer a backend's sampling/elicitation/roots request. */
export const SERVER_REQUEST_TIMEOUT_MS = 120_000;

const LIST_CHANGED: Record<string, CatalogKind> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/resources/list_changed': 'resources',
  'notifications/prompts/list_changed': 'prompts',
};

const CAPABILITY_FOR_REQUEST: Record<string, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * Multiplexes many client sessions onto shared backends. Ids need no table of their own: each forwarded
 * request gets a fresh backend id from the backend's JSON-RPC connection and its answer is routed back by
 * closure, so the client's id (with its type) is restored exactly. Progress tokens are replaced the same
 * way. Backend notifications fan out only to the sessions they concern; server-to-client requests go to
 * the one session that can be meant, or are refused, never broadcast.
 */
export class BackendHub {
  readonly #supervisor: Supervisor;
  readonly #catalog: AggregateCatalog;
  readonly #directory: SessionDirectory;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #isolated: IsolatedProcesses;
  /** Per backend process: sessions with calls in flight on it, and how many. */
  readonly #busy = new Map<McpClient, Map<ClientSession, number>>();
  /** Per backend process: its requests now waiting on a client, by backend id (for its cancellations). */
  readonly #asked = new Map<
    McpClient,
    Map<string, { session: ClientSession; id: string; via?: OutletRef }>
  >();
  /** Per backend process: backend subscribes still waiting for their answer, by URI. */
  #subscribing = new WeakMap<McpClient, Map<string, Promise<void>>>();
  /** Per backend process: subscribed URI -> number of sessions subscribed through it. */
  #subscriptions = new WeakMap<McpClient, Map<string, number>>();

  constructor(
    supervisor: Supervisor,
    catalog: AggregateCatalog,
    directory: SessionDirectory,
    logger: Logger,
    metrics?: GatewayMetrics,
  ) {
    this.#supervisor = supervisor;
    this.#catalog = catalog;
    this.#directory = directory;
    this.#logger = logger;
    this.#metrics = metrics;
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
      if (message.method === 'notifications/cancelled') this.#onBackendCancelled(client, message.params);
      else this.#onNotification(server, message, owner);
    });
    for (const method of Object.keys(CAPABILITY_FOR_REQUEST)) {
      client.setRequestHandler(method, (_params, request) =>
        this.#onServerRequest(server, client, request, owner),
      );
    }
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
    this.#markBusy(client, session, 1);
    const meta = isObject(request.params?._meta) ? request.params._meta : undefined;
    const clientToken = meta?.progressToken;
    let params = request.params;
    if (clientToken !== undefined) {
      const { progressToken: _dropped, ...restMeta } = meta as Record<string, unknown>;
      params = { ...request.params, _meta: restMeta };
    }
    const started = performance.now();
    const done = (outcome: RequestOutcome) => {
      if (session.inflight?.get(key) === call) session.inflight?.delete(key);
      this.#markBusy(client, session, -1);
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
        ...(clientToken === undefined
          ? {}
          : {
              onProgress: (progress) => {
                const restored = { ...progress, progressToken: clientToken };
                this.#directory.sendToSession(
                  session,
                  { jsonrpc: '2.0', method: 'notifications/progress', params: restored },
                  request.relatedTo,
                );
              },
            }),
      })
      .then(
        (result) => {
          done('ok');
          return result;
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
    for (const pending of session.serverRequests?.values() ?? []) {
      clearTimeout(pending.timer);
      pending.reject(
        new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The client session ended before answering.'),
      );
    }
    session.serverRequests?.clear();
    for (const busy of this.#busy.values()) busy.delete(session);
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
          if (managed.status === 'running')
            managed.client.connection.notify(method, isObject(params) ? params : undefined);
        },
        () => {},
      );
    }
  }

  /**
   * `resources/subscribe`, reference-counted: the backend hears one subscribe per URI however many
   * sessions subscribe, and one unsubscribe when the last of them leaves. Shared servers hold
   * subscriptions on their primary process; an isolated session on its own process.
   */
  async subscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    let uris = session.subscriptions?.get(server);
    if (uris?.has(uri)) return;
    const client = await this.#subscriptionClient(session, server);
    const counts = this.#subscriptionCounts(client);
    const count = counts.get(uri) ?? 0;
    // Counted before the backend answers, so concurrent subscribers share the first one's request.
    counts.set(uri, count + 1);
    let pending = this.#subscribing.get(client);
    try {
      if (count === 0) {
        const request = client.request('resources/subscribe', { uri }).then(() => {});
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
    const client = await this.#runningSubscriptionClient(session, server);
    if (!client) return; // the process is gone, and its subscriptions with it
    const counts = this.#subscriptionCounts(client);
    const left = (counts.get(uri) ?? 1) - 1;
    if (left > 0) {
      counts.set(uri, left);
      return;
    }
    counts.delete(uri);
    await client
      .request('resources/unsubscribe', { uri })
      .catch((error: unknown) =>
        this.#logger.warn({ server, uri, err: error }, 'backend unsubscribe failed'),
      );
  }

  #subscriptionClient(session: ClientSession, server: string): Promise<McpClient> | McpClient {
    return this.#supervisor.get(server).config.sessionMode === 'isolated'
      ? this.clientFor(session, server)
      : this.clientOf(server);
  }

  async #runningSubscriptionClient(session: ClientSession, server: string): Promise<McpClient | undefined> {
    const managed =
      this.#supervisor.get(server).config.sessionMode === 'isolated'
        ? await session.isolated?.get(server)?.catch(() => undefined)
        : this.#supervisor.get(server);
    return managed?.status === 'running' ? managed.client : undefined;
  }

  /** Subscriptions live on the backend process: after a restart they are gone, so the counts restart too. */
  forgetSubscriptions(server: string): void {
    if (this.#supervisor.get(server).config.sessionMode === 'isolated') return;
    for (const session of this.#directory.sessions()) session.subscriptions?.delete(server);
  }

  #subscriptionCounts(client: McpClient): Map<string, number> {
    let counts = this.#subscriptions.get(client);
    if (!counts) {
      counts = new Map();
      this.#subscriptions.set(client, counts);
    }
    return counts;
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
      if (session?.logLevel && managed?.status === 'running' && managed.client.serverCapabilities.logging)
        await managed.client.setLoggingLevel(session.logLevel).catch(warn);
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
        if (instance.status !== 'running' || !instance.client.serverCapabilities.logging) return;
        await instance.client.setLoggingLevel(level).catch(warn);
      }),
    );
  }

  #markBusy(client: McpClient, session: ClientSession, delta: number): void {
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

  #onNotification(server: string, message: JsonRpcNotification, owner?: ClientSession): void {
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
        fanOut((s) => s.logLevel !== undefined && rank >= LOG_LEVEL_RANK[s.logLevel]);
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
    const candidates = owner ? [owner] : [...(this.#busy.get(client)?.keys() ?? [])];
    const busy = candidates.filter((s) => !s.closed && s.clientCapabilities[capability] !== undefined);
    if (busy.length !== 1) {
      const why =
        busy.length === 0
          ? 'no client session that supports it is waiting on this server'
          : `${busy.length} client sessions could be meant`;
      throw new JsonRpcError(RpcErrorCode.METHOD_NOT_FOUND, `${request.method} cannot be routed: ${why}.`);
    }
    const session = busy[0]!;
    refuseUndeclaredMode(request, session);
    const related = [...(session.inflight?.values() ?? [])].find((call) => call.server === server)?.replyTo;
    const id = session.nextServerRequestId();
    let asked = this.#asked.get(client);
    if (!asked) {
      asked = new Map();
      this.#asked.set(client, asked);
    }
    const backendKey = idKey(request.id);
    asked.set(backendKey, { session, id, ...(related ? { via: related } : {}) });
    const forget = () => {
      asked.delete(backendKey);
      if (asked.size === 0 && this.#asked.get(client) === asked) this.#asked.delete(client);
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        session.serverRequests?.delete(id);
        reject(
          new JsonRpcError(
            RpcErrorCode.REQUEST_TIMEOUT,
            `The client did not answer ${request.method} in time.`,
          ),
        );
      }, SERVER_REQUEST_TIMEOUT_MS);
      timer.unref();
      session.serverRequestMap().set(id, { resolve, reject, timer });
      const sent = this.#directory.sendToSession(
        session,
        { jsonrpc: '2.0', id, method: request.method, ...(request.params ? { params: request.params } : {}) },
        related,
      );
      if (!sent) {
        clearTimeout(timer);
        session.serverRequests?.delete(id);
        reject(
          new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The client session has no open stream to ask on.'),
        );
      }
    }).finally(forget);
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
    const pending = session.serverRequests?.get(id);
    if (pending) {
      session.serverRequests?.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new CancelledError('Cancelled by the server.'));
    }
    const reason = typeof params?.reason === 'string' ? { reason: params.reason } : {};
    this.#directory.sendToSession(
      session,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, ...reason } },
      via,
    );
  }

  /** A client's answer to a request we forwarded from a backend. */
  answerServerRequest(session: ClientSession, message: Record<string, unknown>): void {
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id ? session.serverRequests?.get(id) : undefined;
    if (!pending || !id) return;
    session.serverRequests?.delete(id);
    clearTimeout(pending.timer);
    if (isObject(message.error)) {
      const code = typeof message.error.code === 'number' ? message.error.code : RpcErrorCode.INTERNAL_ERROR;
      const text = typeof message.error.message === 'string' ? message.error.message : 'Client error';
      pending.reject(new JsonRpcError(code, text, message.error.data));
    } else {
      pending.resolve(message.result);
    }
  }
}
