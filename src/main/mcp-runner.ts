import { GatewayError, NotRunningError, ServerNotFoundError } from '../shared/errors.js';
import { createLogger, type Logger, type LogLevel } from '../shared/logger.js';
import { changedProxyKeys, diffServers, type ReloadReport } from './config/config-diff.js';
import type { Config, ConfigInput, SseProxyConfig } from './config/config-schema.js';
import { loadConfigFile, parseConfigString, validateConfig } from './config/load-config.js';
import { Gateway } from './gateway/gateway.js';
import { servedServers } from './gateway/served-servers.js';
import type { ServerStatus, ServerStatusInfo, StatusChange } from './managed-server.js';
import type { McpClient, McpClientOptions } from './mcp-client.js';
import type { Tool } from './mcp-types.js';
import { type StartAllResult, Supervisor, startAllError } from './supervisor.js';

/** Identifies one run of a server process; a restart gives the server a new id. */
export type ServerId = string;

/** What the CLI's flags may override in the config's `sseProxy` block. */
export type GatewayOverrides = Partial<Pick<SseProxyConfig, 'address' | 'port' | 'workers' | 'httpEngine'>>;

export interface McpRunnerOptions {
  /** A pino logger to write to; by default one is made at `logLevel`. */
  logger?: Logger;
  logLevel?: LogLevel;
  /** Capabilities and info the library's clients declare to servers. */
  clientOptions?: McpClientOptions;
}

/**
 * The library's front door: holds a validated config, runs its servers under supervision and hands out
 * clients. A thin facade: the work is done by the Supervisor and the gateway behind it.
 */
export class McpRunner {
  #config: Config;
  readonly #logger: Logger;
  readonly #supervisor: Supervisor;
  readonly #logLevel: LogLevel;
  #gateway: Gateway | undefined;

  /** Builds a runner from a config object (validated here) or from an already loaded Config. */
  constructor(config: Config | ConfigInput, options: McpRunnerOptions = {}) {
    this.#config = validateConfig(config);
    this.#logger = options.logger ?? createLogger({ level: options.logLevel });
    this.#logLevel = options.logLevel ?? (this.#logger.level as LogLevel);
    this.#supervisor = new Supervisor(this.#config, {
      logger: this.#logger,
      ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
    });
  }

  static async fromConfigFile(path: string, options?: McpRunnerOptions): Promise<McpRunner> {
    return new McpRunner(await loadConfigFile(path), options);
  }

  static fromConfigString(text: string, options?: McpRunnerOptions): McpRunner {
    return new McpRunner(parseConfigString(text), options);
  }

  get config(): Config {
    return this.#config;
  }

  get logger(): Logger {
    return this.#logger;
  }

  /** @internal The engine, for the gateway and the CLI in this package. */
  get supervisor(): Supervisor {
    return this.#supervisor;
  }

  /** Starts one server and completes its MCP handshake. */
  async startServer(name: string): Promise<ServerId> {
    await this.#supervisor.start(name);
    return this.getServerId(name);
  }

  /**
   * Starts every enabled server in parallel. If any fails, the others keep running and the returned
   * promise rejects with one error naming each failure.
   */
  async startAllServers(): Promise<ServerId[]> {
    const result = await this.#supervisor.startAll();
    if (result.failed.length > 0) throw startAllError(result.failed);
    return result.started.map((name) => this.getServerId(name));
  }

  async stopServer(name: string): Promise<void> {
    await this.#supervisor.stop(name);
  }

  /** Stops every server by the stop ladder; resolves when all processes are gone. */
  async stopAllServers(): Promise<void> {
    await this.#supervisor.stopAll();
  }

  serverStatus(name: string): ServerStatus {
    return this.#supervisor.get(name).status;
  }

  /** The id of the server's current process; throws NotRunningError when it has none. */
  getServerId(name: string): ServerId {
    const info = this.#supervisor.get(name).info();
    if (!info.serverId) throw new NotRunningError(name, info.status);
    return info.serverId;
  }

  /** The client of a running server, by name or by ServerId. */
  getClient(nameOrId: string): McpClient {
    if (this.#supervisor.has(nameOrId)) return this.#supervisor.get(nameOrId).client;
    const match = this.#supervisor.statuses().find((s) => s.serverId === nameOrId);
    if (!match) throw new ServerNotFoundError(nameOrId, this.#supervisor.names());
    return this.#supervisor.get(match.name).client;
  }

  getAllServerStatuses(): Record<string, ServerStatusInfo> {
    return Object.fromEntries(this.#supervisor.statuses().map((s) => [s.name, s]));
  }

  getServerTools(name: string): Promise<Tool[]> {
    return this.getClient(name).listTools();
  }

  /** Tools of every running server, by server name. Servers that are not running are left out. */
  async getAllServerTools(): Promise<Record<string, Tool[]>> {
    const running = this.#supervisor.statuses().filter((s) => s.status === 'running');
    const lists = await Promise.all(running.map((s) => this.getServerTools(s.name)));
    return Object.fromEntries(running.map((s, i) => [s.name, lists[i] ?? []]));
  }

  /** Subscribes to status changes of every server; returns a function that unsubscribes. */
  onStatusChange(listener: (change: StatusChange) => void): () => void {
    this.#supervisor.on('status', listener);
    return () => this.#supervisor.off('status', listener);
  }

  /**
   * Starts the HTTP gateway (legacy SSE at /sse, per-server endpoints under /servers/{name}) with the
   * config's `sseProxy` block, `overrides` taking precedence (the CLI's --port, --host, --workers, --http-engine).
   * Servers that are already running keep the capabilities they were started with; start servers after
   * the proxy, or use startAllWithProxy, so they can send sampling and elicitation requests to clients.
   */
  async startSseProxy(overrides: GatewayOverrides = {}): Promise<Gateway> {
    if (this.#gateway)
      throw new GatewayError('The gateway is already running; stop it with stopSseProxy() first.');
    const base = this.#config.sseProxy ?? validateConfig({ mcpServers: {}, sseProxy: {} }).sseProxy!;
    const config: SseProxyConfig = {
      ...base,
      ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
    };
    const gateway = new Gateway(this.#supervisor, config, { logger: this.#logger, logLevel: this.#logLevel });
    await gateway.start();
    this.#gateway = gateway;
    return gateway;
  }

  /** The running gateway, if any. */
  get gateway(): Gateway | undefined {
    return this.#gateway;
  }

  async stopSseProxy(): Promise<void> {
    const gateway = this.#gateway;
    this.#gateway = undefined;
    await gateway?.stop();
  }

  /**
   * Starts the gateway, then every enabled server (so servers learn the capabilities the gateway can
   * route). Servers that fail to start are reported, not thrown: the gateway serves the others.
   */
  async startAllWithProxy(overrides: GatewayOverrides = {}): Promise<StartAllResult & { gateway: Gateway }> {
    const gateway = await this.startSseProxy(overrides);
    const result = await this.#supervisor.startAll();
    return { ...result, gateway };
  }

  /** Stops the gateway (if running) and then every server. */
  async close(): Promise<void> {
    await this.stopSseProxy();
    await this.stopAllServers();
  }

  /**
   * Applies a new config without a restart: servers added are started, servers removed are stopped (their
   * calls in flight get an error), servers whose entry changed are restarted with it, the others and
   * every client session are left alone; the gateway serves the new set and tells the sessions that see
   * a difference that their lists changed. What needs a new listener (`sseProxy` other than
   * `allowedServers`) is reported in `needsRestart`, not applied. Resolves once the new servers have
   * started (or failed to, reported in `failed`).
   */
  async reload(next: Config | ConfigInput): Promise<ReloadReport> {
    const config = validateConfig(next);
    const change = diffServers(this.#config, config);
    const needsRestart = changedProxyKeys(this.#config, config);
    const gateway = this.#gateway;
    const allowed = config.sseProxy?.allowedServers;
    // No request may be routed to a server that is going away: the gateway drops those first.
    if (gateway) {
      const stays = servedServers(this.#supervisor, allowed).filter((name) => !change.removed.includes(name));
      await gateway.serve(stays, [], false);
    }
    await Promise.all(change.removed.map((name) => this.#supervisor.remove(name)));
    await Promise.all(change.changed.map((name) => this.#supervisor.replace(name, config.mcpServers[name]!)));
    for (const name of change.added) this.#supervisor.add(name, config.mcpServers[name]!);
    const starting = [...change.changed, ...change.added].filter(
      (name) => !config.mcpServers[name]!.disabled,
    );
    const results = await Promise.allSettled(starting.map((name) => this.#supervisor.start(name)));
    const failed = starting.flatMap((name, i) => {
      const result = results[i]!;
      return result.status === 'rejected'
        ? [{ name, error: result.reason instanceof Error ? result.reason : new Error(String(result.reason)) }]
        : [];
    });
    // The running listener keeps its settings (they need a restart); only allowedServers is applied.
    const kept = this.#config.sseProxy;
    this.#config = kept
      ? {
          ...config,
          sseProxy: config.sseProxy ? { ...kept, allowedServers: config.sseProxy.allowedServers } : kept,
        }
      : config;
    if (gateway) await gateway.serve(servedServers(this.#supervisor, allowed), change.changed, true);
    const report: ReloadReport = { ...change, failed, needsRestart };
    this.#logger.info(
      {
        added: change.added,
        removed: change.removed,
        changed: change.changed,
        failed: failed.map((f) => f.name),
        needsRestart,
      },
      'config reloaded',
    );
    return report;
  }

  isSseProxyConfigured(): boolean {
    return this.#config.sseProxy !== undefined;
  }

  getSseProxyConfig(): SseProxyConfig | undefined {
    return this.#config.sseProxy;
  }
}
