import { EventEmitter } from 'node:events';
import { ServerNotFoundError, ServerProcessError } from '../shared/errors.js';
import type { Config, ServerConfig } from './config/config-schema.js';
import {
  ManagedServer,
  type ManagedServerOptions,
  type ServerStatusInfo,
  type StatusChange,
} from './managed-server.js';
import type { McpClient, McpClientOptions } from './mcp-client.js';

/** A process for one client session: what to declare to it, and who wires its client (before the handshake). */
export interface IsolatedOptions {
  clientOptions: McpClientOptions;
  onClient: (client: McpClient) => void;
}

/** The outcome of starting several servers: who runs and who failed, with why. */
export interface StartAllResult {
  started: string[];
  failed: Array<{ name: string; error: Error }>;
}

/**
 * Owns the processes of every configured server and re-emits their status changes. A server has one
 * primary process, plus `instances - 1` replicas in shared mode, plus, in isolated mode, processes made on
 * demand for single client sessions (`spawnIsolated`). Starting or stopping many servers happens in
 * parallel: one slow server does not hold up the others.
 */
export class Supervisor extends EventEmitter<{ status: [StatusChange] }> {
  readonly #servers = new Map<string, ManagedServer>();
  readonly #replicas = new Map<string, ManagedServer[]>();
  readonly #isolated = new Map<string, Set<ManagedServer>>();
  readonly #clientListeners = new Set<(name: string, client: McpClient) => void>();
  readonly #shared: ManagedServerOptions;
  #nextIsolated = 1_000;

  constructor(config: Config, options: ManagedServerOptions) {
    super();
    const shared: ManagedServerOptions = { ...options };
    // One options object shared by every server, so capability changes apply to later (re)starts.
    this.#shared = shared;
    for (const [name, serverConfig] of Object.entries(config.mcpServers)) this.add(name, serverConfig);
  }

  /** Takes a server under supervision (stopped; `start` runs it). A reload adds servers this way. */
  add(name: string, serverConfig: ServerConfig): void {
    if (this.#servers.has(name)) throw new ServerProcessError(`Server "${name}" is already configured.`);
    this.#servers.set(name, this.#make(name, serverConfig, 0));
    const extra = serverConfig.sessionMode === 'shared' ? serverConfig.instances - 1 : 0;
    this.#replicas.set(
      name,
      Array.from({ length: extra }, (_, i) => this.#make(name, serverConfig, i + 1)),
    );
    this.#isolated.set(name, new Set());
  }

  /**
   * Stops every process of a server and forgets it (a reload removing it). Its calls in flight fail
   * with an error saying the server is being stopped.
   */
  async remove(name: string): Promise<void> {
    await this.stop(name);
    this.#forget(name);
  }

  /**
   * Stops a server and takes it under supervision again with a new config (a reload changing it; `start`
   * runs it). The name is never unknown in between: the swap happens in one turn after the stop.
   */
  async replace(name: string, serverConfig: ServerConfig): Promise<void> {
    await this.stop(name);
    this.#forget(name);
    this.add(name, serverConfig);
  }

  #forget(name: string): void {
    for (const server of this.instancesOf(name)) server.removeAllListeners('status');
    this.#servers.delete(name);
    this.#replicas.delete(name);
    this.#isolated.delete(name);
  }

  #make(name: string, config: ServerConfig, instance: number, isolated?: IsolatedOptions): ManagedServer {
    const shared = this.#shared;
    const server = new ManagedServer(name, config, {
      logger: shared.logger,
      instance,
      get clientOptions() {
        return isolated?.clientOptions ?? shared.clientOptions;
      },
      onClient: (client) => {
        shared.onClient?.(client);
        if (isolated) isolated.onClient(client);
        else for (const listener of this.#clientListeners) listener(name, client);
      },
    });
    // Isolated processes come and go with sessions; their status is reported as a count, not as events.
    if (!isolated) server.on('status', (change) => this.emit('status', change));
    return server;
  }

  /** Capabilities declared to servers from their next start on (the gateway can route more than a library user). */
  setClientOptions(clientOptions: McpClientOptions): void {
    this.#shared.clientOptions = clientOptions;
  }

  /** Called with every shared process's new client, on each start and restart, before its handshake. */
  addClientListener(listener: (name: string, client: McpClient) => void): () => void {
    this.#clientListeners.add(listener);
    return () => this.#clientListeners.delete(listener);
  }

  names(): string[] {
    return [...this.#servers.keys()];
  }

  /** The server's primary process. */
  get(name: string): ManagedServer {
    const server = this.#servers.get(name);
    if (!server) throw new ServerNotFoundError(name, this.names());
    return server;
  }

  /** Every shared process of the server: the primary first, then the replicas. */
  instancesOf(name: string): ManagedServer[] {
    return [this.get(name), ...(this.#replicas.get(name) ?? [])];
  }

  has(name: string): boolean {
    return this.#servers.has(name);
  }

  /**
   * Starts a process of its own for one client session (`sessionMode: "isolated"`), declaring the given
   * client capabilities. It is not restarted when it dies: its state died with it, and the session's
   * next request starts a fresh one. The caller stops it when the session ends.
   */
  async spawnIsolated(name: string, options: IsolatedOptions): Promise<ManagedServer> {
    const primary = this.get(name);
    const config: ServerConfig = {
      ...primary.config,
      restart: { ...primary.config.restart, enabled: false },
    };
    const server = this.#make(name, config, this.#nextIsolated++, options);
    const live = this.#isolated.get(name)!;
    live.add(server);
    server.on('status', ({ status }) => {
      if (status === 'stopped' || status === 'failed') live.delete(server);
    });
    try {
      await server.start();
    } catch (error) {
      live.delete(server);
      throw error;
    }
    return server;
  }

  /** Isolated-session processes of a server that are starting or running. */
  isolatedCount(name: string): number {
    return this.#isolated.get(name)?.size ?? 0;
  }

  /** Starts every process of one server; fails when its primary fails (replicas that fail are retried). */
  async start(name: string): Promise<void> {
    const [primary, ...replicas] = this.instancesOf(name);
    const results = await Promise.allSettled([primary!.start(), ...replicas.map((r) => r.start())]);
    if (results[0]!.status === 'rejected') throw results[0]!.reason;
  }

  async stop(name: string): Promise<void> {
    const isolated = [...(this.#isolated.get(name) ?? [])];
    await Promise.all([...this.instancesOf(name), ...isolated].map((server) => server.stop()));
  }

  /** Starts every server that is not disabled; failures are collected, not thrown, so the rest still run. */
  async startAll(): Promise<StartAllResult> {
    const result: StartAllResult = { started: [], failed: [] };
    const enabled = [...this.#servers.values()].filter((s) => !s.config.disabled);
    await Promise.all(
      enabled.map(async (server) => {
        if (server.status === 'running') {
          result.started.push(server.name);
          return;
        }
        try {
          await this.start(server.name);
          result.started.push(server.name);
        } catch (error) {
          result.failed.push({
            name: server.name,
            error: error instanceof Error ? error : new Error(String(error)),
          });
        }
      }),
    );
    return result;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.stop(name)));
  }

  /** One entry per server (its primary), with its replicas and isolated processes folded in. */
  statuses(): ServerStatusInfo[] {
    return [...this.#servers.values()].map((server) => {
      const info = server.info();
      const replicas = this.#replicas.get(server.name) ?? [];
      if (replicas.length > 0) info.replicas = replicas.map((r) => r.info());
      if (server.config.sessionMode === 'isolated') info.isolatedProcesses = this.isolatedCount(server.name);
      return info;
    });
  }
}

/** Turns the failures of `startAll` into one error that names each server and its reason. */
export function startAllError(failed: StartAllResult['failed']): ServerProcessError {
  const lines = failed.map((f) => `  - ${f.name}: ${f.error.message}`).join('\n');
  return new ServerProcessError(`${failed.length} server(s) failed to start:\n${lines}`, {
    data: failed.map((f) => ({ server: f.name, message: f.error.message })),
  });
}
