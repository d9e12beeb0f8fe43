import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  AlreadyRunningError,
  ConnectionClosedError,
  NotRunningError,
  RequestTimeoutError,
  ServerProcessError,
} from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ServerConfig } from './config/config-schema.js';
import { JsonRpcConnection } from './json-rpc-connection.js';
import { McpClient, type McpClientOptions } from './mcp-client.js';
import { openRemote } from './remote/remote-channel.js';
import type { BackendChannel } from './remote/remote-link.js';
import { type ExitInfo, ServerProcess } from './server-process.js';

/**
 * `restarting` means: the process died unexpectedly and a new one is scheduled (after the backoff delay)
 * or being spawned. `failed` without a scheduled restart is final until someone calls start again.
 */
export type ServerStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'restarting';

/** A run that lasts this long counts as healthy again: the restart backoff starts over after it. */
export const RESTART_BACKOFF_RESET_AFTER_MS = 30_000;
const STDOUT_END_GRACE_MS = 200;

export interface ServerStatusInfo {
  name: string;
  status: ServerStatus;
  /** Changes with every process start. */
  serverId: string | undefined;
  pid: number | undefined;
  /** Automatic restarts since the runner started. */
  restarts: number;
  /** Epoch ms of the current process's successful handshake. */
  startedAt: number | undefined;
  lastError: string | undefined;
  /** Requests sent to the server and not yet answered. */
  inFlight: number;
  /** Epoch ms of the next automatic restart, while one is scheduled. */
  nextRestartAt: number | undefined;
  disabled: boolean;
  /** 0 for the server's first (primary) process; 1.. for extra `instances` and isolated-session processes. */
  instance: number;
  /** The other shared processes of this server (`instances` > 1). */
  replicas?: ServerStatusInfo[];
  /** Processes running for `sessionMode: "isolated"` client sessions. */
  isolatedProcesses?: number;
}

export interface StatusChange {
  name: string;
  status: ServerStatus;
  previous: ServerStatus;
  info: ServerStatusInfo;
}

interface Running {
  /** The child process, or for a remote server the HTTP link that stands in for one. */
  process: BackendChannel;
  client: McpClient;
  serverId: string;
}

export interface ManagedServerOptions {
  logger: Logger;
  /** Which process of the server this is (0: primary); shown in logs and status. */
  instance?: number;
  clientOptions?: McpClientOptions;
  /** Called with every new client before its handshake, to attach handlers that must see everything. */
  onClient?: (client: McpClient) => void;
}

/**
 * One configured server under supervision: its process, its client and its status. Restarts it with
 * exponential backoff when it dies unexpectedly or stops answering health pings, up to the retry cap.
 */
export class ManagedServer extends EventEmitter<{ status: [StatusChange] }> {
  readonly name: string;
  readonly config: ServerConfig;
  readonly instance: number;
  readonly #logger: Logger;
  readonly #options: ManagedServerOptions;
  #status: ServerStatus = 'stopped';
  #running: Running | undefined;
  #starting: Promise<void> | undefined;
  #restarts = 0;
  #consecutiveFailures = 0;
  #startedAt: number | undefined;
  #lastError: string | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #nextRestartAt: number | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  #healthFailures = 0;

  constructor(name: string, config: ServerConfig, options: ManagedServerOptions) {
    super();
    this.name = name;
    this.config = config;
    this.instance = options.instance ?? 0;
    this.#logger = options.logger.child(
      this.instance === 0 ? { server: name } : { server: name, instance: this.instance },
    );
    this.#options = options;
  }

  get status(): ServerStatus {
    return this.#status;
  }

  /** The client of the running process; throws NotRunningError otherwise. */
  get client(): McpClient {
    if (this.#status !== 'running' || !this.#running) throw new NotRunningError(this.name, this.#status);
    return this.#running.client;
  }

  info(): ServerStatusInfo {
    return {
      name: this.name,
      status: this.#status,
      serverId: this.#running?.serverId,
      pid: this.#running?.process.pid,
      restarts: this.#restarts,
      startedAt: this.#startedAt,
      lastError: this.#lastError,
      inFlight: this.#running?.client.connection.pendingCount ?? 0,
      nextRestartAt: this.#nextRestartAt,
      disabled: this.config.disabled,
      instance: this.instance,
    };
  }

  /** Starts the server and completes the MCP handshake; resolves once it is running. */
  async start(): Promise<void> {
    if (this.config.disabled) {
      throw new ServerProcessError(
        `Server "${this.name}" is disabled in the config (mcpServers.${this.name}.disabled); remove that to run it.`,
      );
    }
    if (this.#status === 'running' || this.#status === 'starting') throw new AlreadyRunningError(this.name);
    if (this.#status === 'stopping')
      throw new ServerProcessError(`Server "${this.name}" is stopping; wait for it to stop.`);
    this.#cancelRestart();
    this.#consecutiveFailures = 0;
    await this.#launch();
  }

  /** Stops the server by the ladder (stdin closed, SIGTERM, SIGKILL) and cancels any pending restart. */
  async stop(): Promise<void> {
    this.#cancelRestart();
    this.#stopTimers();
    const running = this.#running;
    if (this.#starting) await this.#starting.catch(() => {});
    if (!this.#running && !running) {
      if (this.#status !== 'stopped') this.#setStatus('stopped');
      return;
    }
    const current = this.#running ?? running;
    if (!current) return;
    this.#setStatus('stopping');
    this.#running = undefined;
    current.client.connection.close(new ConnectionClosedError(`Server "${this.name}" is being stopped.`));
    await current.process.stop();
    this.#startedAt = undefined;
    this.#setStatus('stopped');
  }

  async #launch(): Promise<void> {
    const attempt = this.#spawnAndInitialize();
    this.#starting = attempt;
    try {
      await attempt;
    } finally {
      if (this.#starting === attempt) this.#starting = undefined;
    }
  }

  async #spawnAndInitialize(): Promise<void> {
    this.#setStatus('starting');
    let process: BackendChannel | undefined;
    try {
      process = this.config.url
        ? await openRemote(this.config.transport as 'http' | 'sse' | 'auto', {
            name: this.name,
            url: new URL(this.config.url),
            headers: this.config.headers ?? {},
            logger: this.#logger,
          })
        : await ServerProcess.spawn({
            name: this.name,
            command: this.config.command!,
            args: this.config.args,
            env: this.config.env,
            cwd: this.config.cwd,
            // The process and connection add `server` to their own lines; the child logger would repeat it.
            logger: this.#options.logger,
            stopGraceMs: this.config.stopGraceMs,
          });
      const connection = new JsonRpcConnection(
        { readable: process.stdout, writable: process.stdin },
        {
          name: this.name,
          logger: this.#options.logger,
          defaultTimeoutMs: this.config.requestTimeoutMs,
          // stdout ends just before the exit event: give the exit a moment so waiting callers learn the
          // exit code, but never wait long (pending calls must fail fast).
          onReadableEnd: (reason) => setTimeout(() => connection.close(reason), STDOUT_END_GRACE_MS).unref(),
        },
      );
      const client = new McpClient(this.name, connection, this.#options.clientOptions);
      this.#options.onClient?.(client);
      const running: Running = { process, client, serverId: randomUUID() };
      const spawned = process;
      void process.exited.then((exit) => this.#onExit(running, exit));
      await Promise.race([
        client.connect(this.config.era, { timeoutMs: this.config.startupTimeoutMs }),
        spawned.exited.then((exit) => {
          throw new ServerProcessError(
            `Server "${this.name}" exited during startup (${describeExit(exit)}).`,
          );
        }),
      ]);
      this.#running = running;
      this.#startedAt = Date.now();
      this.#lastError = undefined;
      this.#healthFailures = 0;
      this.#setStatus('running');
      this.#logger.info(
        { pid: process.pid, protocolVersion: client.protocolVersion, era: client.era },
        'server running',
      );
      this.#startTimers();
    } catch (caught) {
      const exit = process ? await exitSoon(process) : undefined;
      const error = exit
        ? new ServerProcessError(`Server "${this.name}" exited during startup (${describeExit(exit)}).`, {
            cause: caught,
          })
        : caught instanceof RequestTimeoutError
          ? new ServerProcessError(
              `Server "${this.name}" did not complete the MCP handshake within ${this.config.startupTimeoutMs} ms ` +
                `(mcpServers.${this.name}.startupTimeoutMs). Check that it is an MCP server speaking stdio.`,
              { cause: caught },
            )
          : caught;
      this.#lastError = error instanceof Error ? error.message : String(error);
      if (process) await process.kill();
      this.#setStatus('failed');
      throw error;
    }
  }

  #onExit(running: Running, exit: ExitInfo): void {
    const pending = running.client.connection.pendingCount;
    running.client.connection.close(
      new ConnectionClosedError(`Server "${this.name}" exited (${describeExit(exit)}) before answering.`, {
        data: { server: this.name, exit },
      }),
    );
    // Only the current, running process matters: exits during stop or startup are handled there.
    if (this.#running !== running) return;
    this.#running = undefined;
    this.#startedAt = undefined;
    this.#stopTimers();
    const reason = this.#lastError ?? `exited unexpectedly (${describeExit(exit)})`;
    this.#lastError = reason;
    this.#logger.warn({ exit, pendingRejected: pending }, `server ${reason}`);
    this.#setStatus('failed');
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const policy = this.config.restart;
    if (!policy.enabled) return;
    if (this.#consecutiveFailures >= policy.maxRetries) {
      this.#lastError = `${this.#lastError ?? 'failed'}; gave up after ${policy.maxRetries} restart attempts`;
      this.#logger.error({ restarts: this.#restarts }, `server ${this.#lastError}`);
      this.#setStatus('failed');
      return;
    }
    const delay = Math.min(
      policy.initialDelayMs * policy.multiplier ** this.#consecutiveFailures,
      policy.maxDelayMs,
    );
    this.#consecutiveFailures += 1;
    this.#nextRestartAt = Date.now() + delay;
    this.#setStatus('restarting');
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#nextRestartAt = undefined;
      this.#restarts += 1;
      this.#launch().catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'restart attempt failed');
        this.#scheduleRestart();
      });
    }, delay);
    this.#restartTimer.unref();
  }

  #cancelRestart(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#nextRestartAt = undefined;
  }

  #startTimers(): void {
    this.#stableTimer = setTimeout(() => {
      this.#consecutiveFailures = 0;
    }, RESTART_BACKOFF_RESET_AFTER_MS);
    this.#stableTimer.unref();
    const health = this.config.health;
    if (!health.enabled) return;
    this.#healthTimer = setInterval(() => void this.#checkHealth(), health.intervalMs);
    this.#healthTimer.unref();
  }

  #stopTimers(): void {
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#healthTimer = undefined;
    this.#stableTimer = undefined;
  }

  async #checkHealth(): Promise<void> {
    const running = this.#running;
    if (!running || this.#status !== 'running') return;
    try {
      await running.client.checkHealth({ timeoutMs: this.config.health.timeoutMs });
      this.#healthFailures = 0;
    } catch (error) {
      if (this.#running !== running) return;
      this.#healthFailures += 1;
      const threshold = this.config.health.failureThreshold;
      this.#logger.warn({ failures: this.#healthFailures, threshold, err: error }, 'health ping failed');
      if (this.#healthFailures >= threshold) {
        this.#lastError = `stopped answering health pings (${this.#healthFailures} in a row); killed to restart`;
        // Unresponsive: skip the polite rungs. The exit handler then schedules the restart.
        await running.process.kill();
      }
    }
  }

  #setStatus(status: ServerStatus): void {
    const previous = this.#status;
    this.#status = status;
    if (previous === status && status !== 'failed') return;
    this.emit('status', { name: this.name, status, previous, info: this.info() });
  }
}

/** Closing stdout usually means the process is on its way out: wait briefly to report how it ended. */
async function exitSoon(process: BackendChannel, withinMs = 250): Promise<ExitInfo | undefined> {
  if (process.exitInfo) return process.exitInfo;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), withinMs);
  });
  const exit = await Promise.race([process.exited, timeout]);
  clearTimeout(timer);
  return exit;
}

function describeExit(exit: ExitInfo): string {
  if (exit.reason) return exit.reason;
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
