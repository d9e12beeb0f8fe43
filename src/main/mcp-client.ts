import {
  JsonRpcError,
  ResourceNotFoundError,
  ServerProcessError,
  ToolNotFoundError,
} from '../shared/errors.js';
import { isObject, type JsonRpcNotification, type JsonRpcRequest, RpcErrorCode } from '../shared/json-rpc.js';
import { MetaKey } from '../shared/modern-protocol.js';
import {
  isSupportedProtocolVersion,
  LATEST_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
} from '../shared/protocol-versions.js';
import { probeDiscover } from './discover-probe.js';
import { fulfilInputRequired, type InputRequestResolver, isInputRequired } from './input-required-loop.js';
import type { JsonRpcConnection, RequestOptions } from './json-rpc-connection.js';
import type {
  CallToolResult,
  InitializeResult,
  Prompt,
  Resource,
  ResourceTemplate,
  Tool,
} from './mcp-types.js';

/** Safety cap when following `nextCursor`, so a buggy server that loops its cursors cannot hang us. */
const MAX_PAGES = 1_000;

export const CLIENT_INFO = { name: 'mcp-runner', version: '0.1.0' } as const;

export type { McpLoggingLevel } from '../shared/mcp-log-levels.js';

import type { McpLoggingLevel } from '../shared/mcp-log-levels.js';

/** Answers a server→client request such as `sampling/createMessage` or `roots/list`. */
export type ServerRequestHandler = (params: Record<string, unknown>, request: JsonRpcRequest) => unknown;

/** Which revision a server speaks: `legacy` (2024-11-05 to 2025-11-25, initialize) or `modern` (2026-07-28). */
export type ServerEra = 'legacy' | 'modern';

/** What to speak to a server: find out (`auto`), or only one era. */
export type EraPreference = 'auto' | ServerEra;

export interface McpRequestOptions extends RequestOptions {
  /**
   * What to do when a 2026-07-28 server answers `input_required`: `return` hands the interim result to
   * the caller; a resolver supplies the inputs. Default: answer with the handlers registered through
   * `setRequestHandler` (as a 2025 server's requests are answered), retrying until the final result.
   */
  inputRequired?: 'return' | InputRequestResolver;
}

export interface McpClientOptions {
  /** Capabilities this client declares in `initialize`. Declare only what you handle. */
  capabilities?: Record<string, unknown>;
  clientInfo?: { name: string; version: string };
}

/**
 * An MCP client over one JSON-RPC connection. `initialize()` does the real handshake (the `initialize`
 * request with version negotiation, then `notifications/initialized`) and caches what the server said.
 */
export class McpClient {
  readonly serverName: string;
  readonly #connection: JsonRpcConnection;
  readonly #options: McpClientOptions;
  readonly #requestHandlers = new Map<string, ServerRequestHandler>();
  readonly #notificationListeners = new Set<(message: JsonRpcNotification) => void>();
  #initializeResult: InitializeResult | undefined;
  #era: ServerEra = 'legacy';
  #modernVersion: string = MODERN_PROTOCOL_VERSIONS[0];
  readonly #connectedListeners: Array<() => void> = [];

  constructor(serverName: string, connection: JsonRpcConnection, options: McpClientOptions = {}) {
    this.serverName = serverName;
    this.#connection = connection;
    this.#options = options;
    // A server's ping must be answered whatever the client declared (the spec requires it of both sides).
    this.#requestHandlers.set('ping', () => ({}));
    connection.onrequest = (request) => this.#onServerRequest(request);
    connection.onnotification = (message) => {
      for (const listener of this.#notificationListeners) listener(message);
    };
  }

  get connection(): JsonRpcConnection {
    return this.#connection;
  }

  /** The server's answer to `initialize`, once the handshake is done. */
  get initializeResult(): InitializeResult | undefined {
    return this.#initializeResult;
  }

  get serverCapabilities(): Record<string, unknown> {
    return this.#initializeResult?.capabilities ?? {};
  }

  get protocolVersion(): string | undefined {
    return this.#initializeResult?.protocolVersion;
  }

  /** The era the server speaks, known once `connect` (or `initialize`) is done. */
  get era(): ServerEra {
    return this.#era;
  }

  /** Called once the handshake is done and the era is known. */
  onConnected(listener: () => void): void {
    this.#connectedListeners.push(listener);
  }

  /**
   * Connects in the era the server speaks. `auto` probes with `server/discover` first, as the stdio
   * transport's Backward Compatibility section says: a DiscoverResult means modern; UnsupportedProtocol
   * Version means modern without a version in common (an error, no fallback); any other error or no
   * answer in time means legacy, and the `initialize` handshake follows.
   */
  async connect(
    preference: EraPreference = 'legacy',
    options: RequestOptions = {},
  ): Promise<InitializeResult> {
    if (preference === 'legacy') return this.#done(await this.initialize(options));
    const probe = await probeDiscover(
      (timeoutMs) =>
        this.#connection.request('server/discover', this.#withEnvelope(undefined), { ...options, timeoutMs }),
      this.serverName,
      preference,
      options.timeoutMs,
    );
    if (!probe) return this.#done(await this.initialize(options));
    this.#era = 'modern';
    this.#modernVersion = probe.protocolVersion;
    this.#initializeResult = probe;
    return this.#done(probe);
  }

  #done(result: InitializeResult): InitializeResult {
    for (const listener of this.#connectedListeners) listener();
    return result;
  }

  /**
   * A modern server's request metadata: the version always, and the client's capabilities and identity
   * unless the caller put its own (a gateway forwarding for someone) in `_meta` already.
   */
  #withEnvelope(params: Record<string, unknown> | undefined): Record<string, unknown> {
    const meta = isObject(params?._meta) ? params._meta : {};
    return {
      ...params,
      _meta: {
        [MetaKey.CLIENT_CAPABILITIES]: this.#options.capabilities ?? {},
        [MetaKey.CLIENT_INFO]: this.#options.clientInfo ?? CLIENT_INFO,
        ...meta,
        [MetaKey.PROTOCOL_VERSION]: this.#modernVersion,
      },
    };
  }

  async initialize(options: RequestOptions = {}): Promise<InitializeResult> {
    const result = await this.#connection.request<InitializeResult>(
      'initialize',
      {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: this.#options.capabilities ?? {},
        clientInfo: this.#options.clientInfo ?? CLIENT_INFO,
      },
      options,
    );
    if (!isObject(result) || !isSupportedProtocolVersion(result.protocolVersion)) {
      const got = isObject(result) ? JSON.stringify(result.protocolVersion) : 'no result object';
      throw new ServerProcessError(
        `Server "${this.serverName}" answered initialize with protocol version ${got}, which mcp-runner does not ` +
          `speak (it speaks 2024-11-05 to ${LATEST_PROTOCOL_VERSION}). Upgrade the server.`,
      );
    }
    this.#initializeResult = {
      ...result,
      capabilities: isObject(result.capabilities) ? result.capabilities : {},
    };
    this.#connection.notify('notifications/initialized');
    return this.#initializeResult;
  }

  /** Registers the answer to one kind of server→client request (replacing any earlier one). */
  setRequestHandler(method: string, handler: ServerRequestHandler): void {
    this.#requestHandlers.set(method, handler);
  }

  /** Listens to every notification from the server; returns a function that stops listening. */
  onNotification(listener: (message: JsonRpcNotification) => void): () => void {
    this.#notificationListeners.add(listener);
    return () => this.#notificationListeners.delete(listener);
  }

  /**
   * Sends a request in the server's era. For a modern server the request carries the per-request
   * metadata, and an `input_required` answer is handled as `options.inputRequired` says.
   */
  request<T = unknown>(
    method: string,
    params?: Record<string, unknown>,
    options?: McpRequestOptions,
  ): Promise<T> {
    if (this.#era === 'legacy') return this.#connection.request<T>(method, params, options);
    const sent = this.#withEnvelope(params);
    const first = this.#connection.request<T>(method, sent, options);
    const policy = options?.inputRequired;
    if (policy === 'return') return first.then(knownResultType);
    const resolve = policy ?? ((requests: Record<string, unknown>) => this.#answerInputRequests(requests));
    return first.then((answer) => {
      const result = knownResultType(answer);
      return isInputRequired(result)
        ? (fulfilInputRequired(result, sent, resolve, (retry) =>
            this.#connection.request(method, retry, options).then(knownResultType),
          ) as Promise<T>)
        : result;
    });
  }

  /** The default resolver: each input request answered by this client's handler for its method. */
  async #answerInputRequests(requests: Record<string, unknown>): Promise<Record<string, unknown>> {
    const responses: Record<string, unknown> = {};
    for (const [key, request] of Object.entries(requests)) {
      if (!isObject(request) || typeof request.method !== 'string')
        throw new JsonRpcError(RpcErrorCode.INVALID_PARAMS, `Input request ${key} names no method.`);
      const params = isObject(request.params) ? request.params : undefined;
      responses[key] = await this.#onServerRequest({
        jsonrpc: '2.0',
        id: key,
        method: request.method,
        ...(params ? { params } : {}),
      });
    }
    return responses;
  }

  notify(method: string, params?: Record<string, unknown>): void {
    this.#connection.notify(method, params);
  }

  ping(options?: RequestOptions): Promise<Record<string, never>> {
    return this.request('ping', undefined, options);
  }

  /**
   * A liveness check in the server's era: `ping` for a legacy server; 2026-07-28 removed ping, so a
   * modern server is asked `server/discover`, which every modern server must answer.
   */
  async checkHealth(options?: RequestOptions): Promise<void> {
    await this.request(this.#era === 'modern' ? 'server/discover' : 'ping', undefined, options);
  }

  async listTools(options?: RequestOptions): Promise<Tool[]> {
    return this.#paginate<Tool>('tools/list', 'tools', options);
  }

  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options?: RequestOptions,
  ): Promise<CallToolResult> {
    try {
      return await this.request<CallToolResult>('tools/call', { name, arguments: args }, options);
    } catch (error) {
      if (
        error instanceof JsonRpcError &&
        error.rpcCode === RpcErrorCode.INVALID_PARAMS &&
        /tool/i.test(error.message)
      ) {
        throw new ToolNotFoundError(name, `Server "${this.serverName}" said: ${error.message}`);
      }
      throw error;
    }
  }

  listResources(options?: RequestOptions): Promise<Resource[]> {
    return this.#paginate<Resource>('resources/list', 'resources', options);
  }

  listResourceTemplates(options?: RequestOptions): Promise<ResourceTemplate[]> {
    return this.#paginate<ResourceTemplate>('resources/templates/list', 'resourceTemplates', options);
  }

  /** `resources/read`. */
  async getResource(uri: string, options?: RequestOptions): Promise<{ contents: Record<string, unknown>[] }> {
    try {
      return await this.request('resources/read', { uri }, options);
    } catch (error) {
      if (error instanceof JsonRpcError && error.rpcCode === RpcErrorCode.RESOURCE_NOT_FOUND) {
        throw new ResourceNotFoundError(uri, `Server "${this.serverName}" said: ${error.message}`);
      }
      throw error;
    }
  }

  listPrompts(options?: RequestOptions): Promise<Prompt[]> {
    return this.#paginate<Prompt>('prompts/list', 'prompts', options);
  }

  getPrompt(
    name: string,
    args: Record<string, string> = {},
    options?: RequestOptions,
  ): Promise<Record<string, unknown>> {
    return this.request('prompts/get', { name, arguments: args }, options);
  }

  /** `completion/complete` for a prompt argument or a resource template variable. */
  complete(
    ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string },
    argument: { name: string; value: string },
    options?: RequestOptions,
  ): Promise<{ completion: { values: string[]; total?: number; hasMore?: boolean } }> {
    return this.request('completion/complete', { ref, argument }, options);
  }

  /** `logging/setLevel`; 2026-07-28 servers take the level per request instead (`_meta` logLevel). */
  setLoggingLevel(level: McpLoggingLevel, options?: RequestOptions): Promise<Record<string, never>> {
    return this.request('logging/setLevel', { level }, options);
  }

  /** Ends the connection; pending requests are rejected. Stopping the process is the supervisor's job. */
  close(): void {
    this.#connection.close();
  }

  async #paginate<T>(method: string, key: string, options?: RequestOptions): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.request<Record<string, unknown>>(
        method,
        cursor ? { cursor } : undefined,
        options,
      );
      const list = result?.[key];
      if (Array.isArray(list)) items.push(...(list as T[]));
      cursor =
        typeof result?.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
      if (!cursor) return items;
    }
    throw new ServerProcessError(
      `Server "${this.serverName}" kept returning cursors for ${method} after ${MAX_PAGES} pages.`,
    );
  }

  #onServerRequest(request: JsonRpcRequest): Promise<unknown> {
    const handler = this.#requestHandlers.get(request.method);
    if (!handler)
      return Promise.reject(
        new JsonRpcError(RpcErrorCode.METHOD_NOT_FOUND, `Client does not handle ${request.method}`),
      );
    // Called at once, not a tick later: a cancellation right behind the request must find it asked.
    try {
      return Promise.resolve(handler(isObject(request.params) ? request.params : {}, request));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** A 2026-07-28 result: `complete` (or none, as earlier servers send), or `input_required`; else invalid. */
function knownResultType<T>(result: T): T {
  const type = isObject(result) ? result.resultType : undefined;
  if (type !== undefined && type !== 'complete' && type !== 'input_required')
    throw new JsonRpcError(
      RpcErrorCode.INTERNAL_ERROR,
      `The server answered with resultType ${JSON.stringify(type)}, which this client does not know.`,
    );
  return result;
}
