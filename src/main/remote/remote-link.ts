import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Logger } from '../../shared/logger.js';
import type { ExitInfo } from '../server-process.js';
import { lineSink } from './line-sink.js';

/** What a backend looks like to the supervisor: the lines of a stdio process, and its end. */
export interface BackendChannel {
  readonly pid: number | undefined;
  /** JSON-RPC lines from the server. */
  readonly stdout: Readable;
  /** JSON-RPC lines to the server. */
  readonly stdin: Writable;
  readonly exited: Promise<ExitInfo>;
  readonly exitInfo: ExitInfo | undefined;
  stop(): Promise<ExitInfo>;
  kill(): Promise<ExitInfo>;
}

export interface LinkOptions {
  name: string;
  url: URL;
  headers: Record<string, string>;
  logger: Logger;
}

/** A remote that answers this way wants credentials the config does not give it. */
export function authHint(status: number, name: string): string {
  return status === 401 || status === 403
    ? ` The remote wants authorization: set mcpServers.${name}.headers (e.g. "Authorization": "Bearer \${env:TOKEN}"); mcp-runner does not run an OAuth login for remote backends.`
    : '';
}

/**
 * A remote backend as a process stand-in: lines written to `stdin` are sent by the subclass (`send`),
 * what it receives is written to `stdout` as lines, and `end` is its exit: every request in flight is
 * aborted with it (`aborted`), and the supervisor reconnects as it restarts a process.
 */
export abstract class RemoteLink implements BackendChannel {
  readonly pid = undefined;
  readonly stdout = new PassThrough();
  readonly stdin: Writable;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  protected readonly aborted = new AbortController();
  #resolve!: (info: ExitInfo) => void;

  protected constructor() {
    this.exited = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.stdin = lineSink((line) => {
      if (!this.exitInfo) void this.send(line);
    });
  }

  protected abstract send(line: string): Promise<void>;

  protected end(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    this.aborted.abort();
    this.stdout.end();
    this.#resolve(info);
  }

  /** One JSON-RPC message as the line the connection reads. */
  protected deliver(message: unknown): void {
    if (!this.exitInfo) this.stdout.write(`${JSON.stringify(message)}\n`);
  }

  stop(): Promise<ExitInfo> {
    this.end({ code: 0, signal: null, reason: 'closed' });
    return this.exited;
  }

  kill(): Promise<ExitInfo> {
    this.end({ code: null, signal: null, reason: 'closed' });
    return this.exited;
  }
}
