import { JsonRpcError } from '../../shared/errors.js';
import { isObject, type JsonRpcId, RpcErrorCode } from '../../shared/json-rpc.js';
import { isMcpLoggingLevel } from '../../shared/mcp-log-levels.js';
import { negotiateProtocolVersion } from '../../shared/protocol-versions.js';
import { CLIENT_INFO } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import type { AggregateCatalog, CatalogKind, NamedItem } from './aggregate-catalog.js';
import type { BackendHub } from './backend-hub.js';
import type { ClientSession, OutletRef } from './client-session.js';
import { backendName, toBackendNames, toExposedList, unknownName } from './naming/exposed-names.js';

export interface RequestContext {
  session: ClientSession;
  id: JsonRpcId;
  /** Where progress and server-to-client requests related to this request go. */
  relatedTo: OutletRef | undefined;
}

type Params = Record<string, unknown>;

/** A tool or prompt's server and the name that server shows it by. */
type Named = { server: string; name: string };

const AGGREGATE_INSTRUCTIONS =
  'This is mcp-runner, a gateway that serves several MCP servers as one. Tools and prompts are named ' +
  '{server}__{name} (unless the gateway is configured otherwise) and carry a "server" field naming the ' +
  'server that provides them; resources keep their URIs.';

function invalidParams(message: string, data?: unknown): JsonRpcError {
  return new JsonRpcError(RpcErrorCode.INVALID_PARAMS, message, data);
}

function stringParam(params: Params | undefined, key: string): string {
  const value = params?.[key];
  if (typeof value !== 'string' || value === '')
    throw invalidParams(`params.${key} must be a non-empty string`);
  return value;
}

/**
 * Tasks (2025-11-25) belong to the connection that created them; on a backend shared by many sessions any
 * session could list, read or cancel another's. The gateway advertises no `tasks` capability, and refuses
 * what a client could still send.
 */
function refuseTasks(method: string, params: Params | undefined): void {
  if (method.startsWith('tasks/'))
    throw new JsonRpcError(
      RpcErrorCode.METHOD_NOT_FOUND,
      `Method not found: ${method} (the gateway does not offer tasks)`,
    );
  if (params?.task !== undefined)
    throw invalidParams(
      'Task-augmented requests are not supported by the gateway; send the request without params.task.',
    );
}

/**
 * Answers one client request for a session: locally where the gateway owns the answer (initialize,
 * ping, logging level, the aggregated lists), otherwise by forwarding to the backend that owns it.
 */
export class RequestDispatcher {
  readonly #hub: BackendHub;
  readonly #catalog: AggregateCatalog;
  readonly #supervisor: Supervisor;
  readonly #servers: readonly string[];

  constructor(
    hub: BackendHub,
    catalog: AggregateCatalog,
    supervisor: Supervisor,
    servers: readonly string[],
  ) {
    this.#hub = hub;
    this.#catalog = catalog;
    this.#supervisor = supervisor;
    this.#servers = servers;
  }

  /**
   * The result, or a promise of it. Not an async function: a call routed to a known backend, the common
   * case, then costs one promise (the backend's answer) instead of one per layer.
   */
  handle(ctx: RequestContext, method: string, params: Params | undefined): unknown {
    const { session } = ctx;
    refuseTasks(method, params);
    switch (method) {
      case 'initialize':
        return this.#initialize(session, params);
      case 'ping':
        return {};
      case 'logging/setLevel':
        return this.#setLogLevel(session, params);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#subscription(session, method, params);
    }
    if (session.target === '') return this.#aggregate(ctx, method, params);
    const exposure = this.#catalog.exposure(session.target);
    const result = this.#forward(ctx, session.target, method, toBackendNames(exposure, method, params));
    if (method !== 'tools/list' && method !== 'prompts/list') return result;
    return result.then((listed) => toExposedList(exposure, method, listed));
  }

  async #setLogLevel(session: ClientSession, params: Params | undefined): Promise<unknown> {
    const level = params?.level;
    if (!isMcpLoggingLevel(level)) throw invalidParams(`Invalid log level ${JSON.stringify(level)}`);
    session.logLevel = level;
    await Promise.all(this.#serversOf(session).map((server) => this.#hub.syncLogLevel(server, session)));
    return {};
  }

  async #subscription(
    session: ClientSession,
    method: 'resources/subscribe' | 'resources/unsubscribe',
    params: Params | undefined,
  ): Promise<unknown> {
    const uri = stringParam(params, 'uri');
    const server = session.target || (await this.#serverForResource(uri));
    this.#requireCapability(server, 'resources', 'subscribe');
    if (method === 'resources/subscribe') await this.#hub.subscribe(session, server, uri);
    else await this.#hub.unsubscribe(session, server, uri);
    return {};
  }

  #initialize(session: ClientSession, params: Params | undefined): unknown {
    const version = negotiateProtocolVersion(params?.protocolVersion);
    session.protocolVersion = version;
    session.clientCapabilities = isObject(params?.capabilities) ? params.capabilities : {};
    if (isObject(params?.clientInfo)) session.clientInfo = params.clientInfo;
    return { ...this.describe(session.target), protocolVersion: version };
  }

  /**
   * Who answers on an endpoint and what it offers: the backend's own initialize result (without tasks)
   * for a per-server endpoint, the union of the backends for the aggregated one. What initialize and
   * server/discover are made of.
   */
  describe(target: string): { capabilities: Params; serverInfo: Params; instructions?: string } {
    if (target !== '') {
      const backend = this.#hub.clientOf(target).initializeResult!;
      // Tasks are bound to the connection that created them; across shared sessions they would leak.
      const { tasks: _tasks, ...capabilities } = backend.capabilities;
      const { protocolVersion: _version, ...rest } = backend;
      return { ...rest, capabilities } as { capabilities: Params; serverInfo: Params; instructions?: string };
    }
    return {
      capabilities: this.#aggregateCapabilities(),
      serverInfo: this.serverInfo(''),
      instructions: AGGREGATE_INSTRUCTIONS,
    };
  }

  /** A tool's definition on an endpoint, from the cached lists (see AggregateCatalog.tool). */
  tool(target: string, name: string): Params | undefined | Promise<Params | undefined> {
    return this.#catalog.tool(target, name);
  }

  /**
   * Who answers on an endpoint, alone: what every 2026-07-28 result names in its `_meta`, so it must not
   * cost what {@link describe} does (the union of every backend's capabilities, on `/mcp`).
   */
  serverInfo(target: string): Params {
    if (target !== '') return this.#hub.clientOf(target).initializeResult!.serverInfo as unknown as Params;
    return { name: CLIENT_INFO.name, version: CLIENT_INFO.version };
  }

  /** What the aggregated server can offer: the union of what its running backends declared. */
  #aggregateCapabilities(): Params {
    const has = { resources: false, subscribe: false, prompts: false, logging: false, completions: false };
    for (const server of this.#servers) {
      const managed = this.#supervisor.get(server);
      if (managed.status !== 'running') continue;
      const caps = managed.client.serverCapabilities;
      if (caps.resources) has.resources = true;
      if (isObject(caps.resources) && caps.resources.subscribe) has.subscribe = true;
      if (caps.prompts) has.prompts = true;
      if (caps.logging) has.logging = true;
      if (caps.completions) has.completions = true;
    }
    const capabilities: Params = { tools: { listChanged: true } };
    if (has.resources) capabilities.resources = { listChanged: true, subscribe: has.subscribe };
    if (has.prompts) capabilities.prompts = { listChanged: true };
    if (has.logging) capabilities.logging = {};
    if (has.completions) capabilities.completions = {};
    return capabilities;
  }

  #aggregate(ctx: RequestContext, method: string, params: Params | undefined): unknown {
    switch (method) {
      case 'tools/call':
        return this.#forwardNamed(ctx, method, params, 'tools', 'tool');
      case 'prompts/get':
        return this.#forwardNamed(ctx, method, params, 'prompts', 'prompt');
    }
    return this.#aggregateSlow(ctx, method, params);
  }

  /**
   * A call by name (a tool, a prompt) on an aggregated endpoint: to the server its namespaced name
   * says, or `params.server` names, or the only one offering that bare name; in the backend's own name.
   */
  #forwardNamed(
    ctx: RequestContext,
    method: string,
    params: Params | undefined,
    kind: CatalogKind,
    noun: 'tool' | 'prompt',
  ): Promise<unknown> {
    const name = stringParam(params, 'name');
    const { server: explicit, ...forwarded } = params ?? {};
    const send = ({ server, name: shown }: Named) =>
      this.#forward(ctx, server, method, {
        ...forwarded,
        name: backendName(this.#catalog.exposure(server), noun, shown),
      });
    const named = this.#named(kind, name, explicit, noun);
    return named instanceof Promise ? named.then(send) : send(named);
  }

  /**
   * Which server a tool or prompt named on an aggregated endpoint belongs to, and the name that server
   * shows it by. At once when the catalog has the lists (the usual case), so the call needs no promise
   * of its own. A namespaced name is looked up first; a bare one (with or without `params.server`, the
   * original crate's way) still works.
   */
  #named(kind: CatalogKind, name: string, explicit: unknown, noun: string): Named | Promise<Named> {
    const namespaced = this.#catalog.aggregatedNow(kind, name);
    const found = (item: NamedItem | undefined) =>
      item && (explicit === undefined || item.server === explicit)
        ? { server: item.server, name: item.item.name as string }
        : undefined;
    if (namespaced === 'pending')
      return this.#catalog
        .aggregated(kind, name)
        .then((item) => found(item) ?? this.#pick(kind, name, explicit, noun));
    return found(namespaced) ?? this.#pick(kind, name, explicit, noun);
  }

  async #aggregateSlow(ctx: RequestContext, method: string, params: Params | undefined): Promise<unknown> {
    // The aggregated lists come in one page: a cursor can only be one this endpoint never gave.
    if (method.endsWith('/list') && params?.cursor !== undefined)
      throw invalidParams('Invalid cursor: the aggregated lists are not paginated; list without a cursor.');
    switch (method) {
      case 'tools/list':
        return { tools: await this.#catalog.list('tools') };
      case 'resources/list':
        return { resources: await this.#catalog.list('resources') };
      case 'resources/templates/list':
        return { resourceTemplates: await this.#catalog.list('resourceTemplates') };
      case 'prompts/list':
        return { prompts: await this.#catalog.list('prompts') };
      case 'resources/read': {
        const uri = stringParam(params, 'uri');
        return this.#forward(ctx, await this.#serverForResource(uri), method, params);
      }
      case 'completion/complete': {
        const routed = await this.#routeCompletion(params);
        return this.#forward(ctx, routed.server, method, routed.params);
      }
      default:
        throw new JsonRpcError(RpcErrorCode.METHOD_NOT_FOUND, `Method not found: ${method}`);
    }
  }

  #forward(
    ctx: RequestContext,
    server: string,
    method: string,
    params: Params | undefined,
  ): Promise<unknown> {
    return this.#hub.forward({
      session: ctx.session,
      server,
      method,
      params,
      clientId: ctx.id,
      relatedTo: ctx.relatedTo,
    });
  }

  /** A bare name: the server `params.server` names, else the only one offering it. */
  #pick(kind: CatalogKind, name: string, explicit: unknown, noun: string): Named | Promise<Named> {
    if (explicit !== undefined) {
      if (typeof explicit !== 'string' || !this.#servers.includes(explicit)) {
        throw invalidParams(
          `Unknown server ${JSON.stringify(explicit)}. Servers: ${this.#servers.join(', ')}`,
        );
      }
      return { server: explicit, name };
    }
    const sole = this.#catalog.soleServerNow(kind, name);
    return sole !== undefined
      ? { server: sole, name }
      : this.#pickListed(kind, name, noun).then((server) => ({ server, name }));
  }

  async #pickListed(kind: CatalogKind, value: string, noun: string): Promise<string> {
    const offering = await this.#catalog.serversOffering(kind, 'name', value);
    if (offering.length === 1) return offering[0]!;
    if (offering.length === 0) {
      // A server that is down lists nothing: say so, or the client would think the name is wrong.
      const down = this.#servers
        .map((server) => ({ server, status: this.#supervisor.get(server).status }))
        .filter(({ status }) => status !== 'running');
      const note = down.length
        ? ` Not running now: ${down.map((d) => `${d.server} (${d.status})`).join(', ')}.`
        : '';
      throw unknownName(noun as 'tool', value, note, down.length ? { down } : undefined);
    }
    throw invalidParams(
      `The ${noun} "${value}" is offered by several servers (${offering.join(', ')}); name one in params.server.`,
      { [noun]: value, candidates: offering },
    );
  }

  async #serverForResource(uri: string): Promise<string> {
    const listed = await this.#catalog.serversOffering('resources', 'uri', uri);
    if (listed.length >= 1) return listed[0]!;
    // Several servers' templates fit: the first in the config gets it (reported in /status).
    const templated = await this.#catalog.serversMatchingTemplate(uri);
    if (templated.length >= 1) return templated[0]!;
    throw new JsonRpcError(RpcErrorCode.RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
  }

  /** Completion follows the prompt (by its name here, renamed back) or the template it refers to. */
  async #routeCompletion(
    params: Params | undefined,
  ): Promise<{ server: string; params: Params | undefined }> {
    const ref = isObject(params?.ref) ? params.ref : undefined;
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const { server: explicit, ...rest } = params ?? {};
      const { server, name } = await this.#named('prompts', ref.name, explicit, 'prompt');
      const original = backendName(this.#catalog.exposure(server), 'prompt', name);
      return { server, params: { ...rest, ref: { ...ref, name: original } } };
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const servers = await this.#catalog.serversOffering('resourceTemplates', 'uriTemplate', ref.uri);
      return { server: servers[0] ?? (await this.#serverForResource(ref.uri)), params };
    }
    throw invalidParams('params.ref must be {type: "ref/prompt", name} or {type: "ref/resource", uri}');
  }

  #requireCapability(server: string, capability: string, feature: string): void {
    const caps = this.#hub.clientOf(server).serverCapabilities[capability];
    if (!isObject(caps) || !caps[feature]) {
      throw new JsonRpcError(
        RpcErrorCode.METHOD_NOT_FOUND,
        `Server "${server}" does not support ${capability}/${feature}.`,
      );
    }
  }

  #serversOf(session: ClientSession): string[] {
    return session.target ? [session.target] : [...this.#servers];
  }
}
