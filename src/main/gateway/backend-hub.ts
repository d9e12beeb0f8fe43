import { CancelledError, JsonRpcError } from '../../shared/errors.js';
import {
  isObject,
  type JsonRpcNotification,
  type JsonRpcRequest,
  RpcErrorCode,
} from '../../shared/json-rpc.js';
import type { Logger } from '../../shared/logger.js';
import type { McpClient, McpLoggingLevel } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { AggregateCatalog, CatalogKind } from './aggregate-catalog.js';
import { type ClientSession, idKey, type OutletRef } from './client-session.js';
import { LOG_LEVEL_RANK } from './log-levels.js';

/** What the hub needs from the session layer: the sessions, and a way to reach a client. */
export interface SessionDirectory {
  sessions(): Iterable<ClientSession>;
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
  /** Per server: sessions with calls in flight on it, and how many. */
  readonly #busy = new Map<string, Map<ClientSession, number>>();
  /** Per server: subscribed URI -> number of sessions subscribed. */
  readonly #subscriptions = new Map<string, Map<string, number>>();

  constructor(
    supervisor: Supervisor,
    catalog: AggregateCatalog,
    directory: SessionDirectory,
    logger: Logger,
  ) {
    this.#supervisor = supervisor;
    this.#catalog = catalog;
    this.#directory = directory;
    this.#logger = logger;
  }

  /** Wires a backend's new client (after every start or restart) into the hub. */
  attach(server: string, client: McpClient): void {
    client.onNotification((message) => this.#onNotification(server, message));
    for (const method of Object.keys(CAPABILITY_FOR_REQUEST)) {
      client.setRequestHandler(method, (_params, request) => this.#onServerRequest(server, request));
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

  /** Sends a client request to a backend and resolves with the backend's result. */
  async forward(request: ForwardRequest): Promise<unknown> {
    const { session, server } = request;
    const client = this.clientOf(server);
    const config = this.#supervisor.get(server).config;
    const controller = new AbortController();
    const key = idKey(request.clientId);
    session.inflight.set(key, { server, controller, replyTo: request.relatedTo });
    this.#markBusy(server, session, 1);
    const meta = isObject(request.params?._meta) ? request.params._meta : undefined;
    const clientToken = meta?.progressToken;
    let params = request.params;
    if (clientToken !== undefined) {
      const { progressToken: _dropped, ...restMeta } = meta as Record<string, unknown>;
      params = { ...request.params, _meta: restMeta };
    }
    try {
      return await client.request(request.method, params, {
        signal: controller.signal,
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
      });
    } finally {
      if (session.inflight.get(key)?.controller === controller) session.inflight.delete(key);
      this.#markBusy(server, session, -1);
    }
  }

  /** A client's `notifications/cancelled`: stop the matching call (its backend is told by the connection). */
  cancel(session: ClientSession, requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const call = session.inflight.get(idKey(requestId));
    if (!call) return; // unknown or already answered: nothing to do (spec: ignore)
    call.controller.abort(new CancelledError('Cancelled by the client.'));
  }

  /** Ends everything a session has going on backends (it closed, expired or was deleted). */
  releaseSession(session: ClientSession): void {
    for (const call of session.inflight.values())
      call.controller.abort(new CancelledError('The session ended.'));
    session.inflight.clear();
    for (const pending of session.serverRequests.values()) {
      clearTimeout(pending.timer);
      pending.reject(
        new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The client session ended before answering.'),
      );
    }
    session.serverRequests.clear();
    for (const busy of this.#busy.values()) busy.delete(session);
    for (const [server, uris] of [...session.subscriptions]) {
      for (const uri of [...uris]) void this.unsubscribe(session, server, uri);
    }
  }

  /**
   * `resources/subscribe`, reference-counted: the backend hears one subscribe per URI however many
   * sessions subscribe, and one unsubscribe when the last of them leaves.
   */
  async subscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    let uris = session.subscriptions.get(server);
    if (uris?.has(uri)) return;
    const counts = this.#subscriptionCounts(server);
    const count = counts.get(uri) ?? 0;
    if (count === 0) await this.clientOf(server).request('resources/subscribe', { uri });
    counts.set(uri, (counts.get(uri) ?? 0) + 1);
    if (!uris) {
      uris = new Set();
      session.subscriptions.set(server, uris);
    }
    uris.add(uri);
  }

  async unsubscribe(session: ClientSession, server: string, uri: string): Promise<void> {
    const uris = session.subscriptions.get(server);
    if (!uris?.delete(uri)) return;
    const counts = this.#subscriptionCounts(server);
    const left = (counts.get(uri) ?? 1) - 1;
    if (left > 0) {
      counts.set(uri, left);
      return;
    }
    counts.delete(uri);
    if (this.#supervisor.get(server).status !== 'running') return;
    await this.clientOf(server)
      .request('resources/unsubscribe', { uri })
      .catch((error: unknown) =>
        this.#logger.warn({ server, uri, err: error }, 'backend unsubscribe failed'),
      );
  }

  /** Subscriptions live on the backend process: after a restart they are gone, so the counts restart too. */
  forgetSubscriptions(server: string): void {
    this.#subscriptions.delete(server);
    for (const session of this.#directory.sessions()) session.subscriptions.delete(server);
  }

  #subscriptionCounts(server: string): Map<string, number> {
    let counts = this.#subscriptions.get(server);
    if (!counts) {
      counts = new Map();
      this.#subscriptions.set(server, counts);
    }
    return counts;
  }

  /** Sets each backend's log level to the most verbose level any of its sessions asked for. */
  async syncLogLevel(server: string): Promise<void> {
    let lowest: McpLoggingLevel | undefined;
    for (const session of this.#directory.sessions()) {
      if (!session.sees(server) || !session.logLevel) continue;
      if (!lowest || LOG_LEVEL_RANK[session.logLevel] < LOG_LEVEL_RANK[lowest]) lowest = session.logLevel;
    }
    if (!lowest) return;
    const client =
      this.#supervisor.get(server).status === 'running' ? this.#supervisor.get(server).client : undefined;
    if (!client?.serverCapabilities.logging) return;
    await client.setLoggingLevel(lowest).catch((error: unknown) => {
      this.#logger.warn({ server, err: error }, 'could not set the backend log level');
    });
  }

  #markBusy(server: string, session: ClientSession, delta: number): void {
    let busy = this.#busy.get(server);
    if (!busy) {
      busy = new Map();
      this.#busy.set(server, busy);
    }
    const count = (busy.get(session) ?? 0) + delta;
    if (count > 0) busy.set(session, count);
    else busy.delete(session);
  }

  #onNotification(server: string, message: JsonRpcNotification): void {
    const kind = LIST_CHANGED[message.method];
    if (kind) {
      this.#catalog.invalidate(server, kind);
      if (kind === 'resources') this.#catalog.invalidate(server, 'resourceTemplates');
      this.#fanOut(server, message, () => true);
      return;
    }
    switch (message.method) {
      case 'notifications/message': {
        const level = message.params?.level as McpLoggingLevel | undefined;
        const rank = level ? (LOG_LEVEL_RANK[level] ?? 0) : 0;
        this.#fanOut(server, message, (s) => s.logLevel !== undefined && rank >= LOG_LEVEL_RANK[s.logLevel]);
        return;
      }
      case 'notifications/resources/updated': {
        const uri = message.params?.uri;
        if (typeof uri !== 'string') return;
        this.#fanOut(server, message, (s) => {
          const uris = s.subscriptions.get(server);
          return uris !== undefined && [...uris].some((sub) => coversUri(sub, uri));
        });
        return;
      }
      default:
        this.#logger.debug({ server, method: message.method }, 'backend notification not routed');
    }
  }

  #fanOut(server: string, message: JsonRpcNotification, wanted: (session: ClientSession) => boolean): void {
    const msg = message as unknown as Record<string, unknown>;
    for (const session of this.#directory.sessions()) {
      if (!session.closed && session.sees(server) && wanted(session))
        this.#directory.sendToSession(session, msg);
    }
  }

  /**
   * A backend asks a client something. stdio carries no link to the request that caused it, so the rule
   * is: the one session that has a call in flight on this backend and declared the capability gets it.
   * None or several: the backend gets an error (roots/list gets an empty list), never a broadcast.
   */
  async #onServerRequest(server: string, request: JsonRpcRequest): Promise<unknown> {
    const capability = CAPABILITY_FOR_REQUEST[request.method]!;
    const busy = [...(this.#busy.get(server)?.keys() ?? [])].filter(
      (s) => !s.closed && s.clientCapabilities[capability] !== undefined,
    );
    if (busy.length !== 1) {
      if (request.method === 'roots/list') return { roots: [] };
      const why =
        busy.length === 0
          ? 'no client session that supports it is waiting on this server'
          : `${busy.length} client sessions could be meant`;
      throw new JsonRpcError(RpcErrorCode.METHOD_NOT_FOUND, `${request.method} cannot be routed: ${why}.`);
    }
    const session = busy[0]!;
    const related = [...session.inflight.values()].find((call) => call.server === server)?.replyTo;
    const id = session.nextServerRequestId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        session.serverRequests.delete(id);
        reject(
          new JsonRpcError(
            RpcErrorCode.REQUEST_TIMEOUT,
            `The client did not answer ${request.method} in time.`,
          ),
        );
      }, SERVER_REQUEST_TIMEOUT_MS);
      timer.unref();
      session.serverRequests.set(id, { resolve, reject, timer });
      const sent = this.#directory.sendToSession(
        session,
        { jsonrpc: '2.0', id, method: request.method, ...(request.params ? { params: request.params } : {}) },
        related,
      );
      if (!sent) {
        clearTimeout(timer);
        session.serverRequests.delete(id);
        reject(
          new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The client session has no open stream to ask on.'),
        );
      }
    });
  }

  /** A client's answer to a request we forwarded from a backend. */
  answerServerRequest(session: ClientSession, message: Record<string, unknown>): void {
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id ? session.serverRequests.get(id) : undefined;
    if (!pending || !id) return;
    session.serverRequests.delete(id);
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
