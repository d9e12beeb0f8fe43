import { EventEmitter } from 'node:events';
import { ServerNotFoundError, ServerProcessError } from '../shared/errors.js';
import type { Config } from './config/config-schema.js';
import {
  ManagedServer,
  type ManagedServerOptions,
  type ServerStatusInfo,
  type StatusChange,
} from './managed-server.js';
import type { McpClient, McpClientOptions } from './mcp-client.js';

/** The outcome of starting several servers: who runs and who failed, with why. */
export interface StartAllResult {
  started: string[];
  failed: Array<{ name: string; error: Error }>;
}

/**
 * Owns one ManagedServer per configured server and re-emits their status changes. Starting or stopping
 * many servers happens in parallel: one slow server does not hold up the others.
 */
export class Supervisor extends EventEmitter<{ status: [StatusChange] }> {
  readonly #servers = new Map<string, ManagedServer>();
  readonly #clientListeners = new Set<(name: string, client: McpClient) => void>();
  readonly #shared: ManagedServerOptions;

  constructor(config: Config, options: ManagedServerOptions) {
    super();
    const shared: ManagedServerOptions = { ...options };
    // One options object shared by every server, so capability changes apply to later (re)starts.
    this.#shared = shared;
    for (const [name, serverConfig] of Object.entries(config.mcpServers)) {
      const server = new ManagedServer(name, serverConfig, {
        logger: options.logger,
        get clientOptions() {
          return shared.clientOptions;
        },
        onClient: (client) => {
          options.onClient?.(client);
          for (const listener of this.#clientListeners) listener(name, client);
        },
      });
      server.on('status', (change) => this.emit('status', change));
      this.#servers.set(name, server);
    }
  }

  /** Capabilities declared to servers from their next start on (the gateway can route more than a library user). */
  setClientOptions(clientOptions: McpClientOptions): void {
    this.#shared.clientOptions = clientOptions;
  }

  /** Called with every server's new client, on each start and restart, before its handshake. */
  addClientListener(listener: (name: string, client: McpClient) => void): () => void {
    this.#clientListeners.add(listener);
    return () => this.#clientListeners.delete(listener);
  }

  names(): string[] {
    return [...this.#servers.keys()];
  }

  get(name: string): ManagedServer {
    const server = this.#servers.get(name);
    if (!server) throw new ServerNotFoundError(name, this.names());
    return server;
  }

  has(name: string): boolean {
    return this.#servers.has(name);
  }

  start(name: string): Promise<void> {
    return this.get(name).start();
  }

  stop(name: string): Promise<void> {
    return this.get(name).stop();
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
          await server.start();
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
    await Promise.all([...this.#servers.values()].map((server) => server.stop()));
  }

  statuses(): ServerStatusInfo[] {
    return [...this.#servers.values()].map((server) => server.info());
  }
}

/** Turns the failures of `startAll` into one error that names each server and its reason. */
export function startAllError(failed: StartAllResult['failed']): ServerProcessError {
  const lines = failed.map((f) => `  - ${f.name}: ${f.error.message}`).join('\n');
  return new ServerProcessError(`${failed.length} server(s) failed to start:\n${lines}`, {
    data: failed.map((f) => ({ server: f.name, message: f.error.message })),
  });
}
