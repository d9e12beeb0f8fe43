import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { ServerProcessError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LineFramer } from './line-framer.js';
import { LogRateLimiter } from './log-rate-limiter.js';

/** Time the stop ladder waits at each rung (stdin closed, then SIGTERM) before the next one. */
export const DEFAULT_STOP_GRACE_MS = 2_000;
const MAX_STDERR_LINE_BYTES = 16 * 1024;

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** Added to (and overriding) the parent's environment. */
  env: Readonly<Record<string, string>>;
  cwd?: string | undefined;
  logger: Logger;
  stopGraceMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** A remote backend's link says why it ended (it has no exit code). */
  reason?: string;
}

/**
 * One child process speaking MCP on its stdio. Spawned without a shell, so arguments are passed as they
 * are and nothing is interpreted. stderr is the server's log: it goes into our log under the server's
 * name (rate limited), never treated as an error.
 */
export class ServerProcess {
  readonly name: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #logger: Logger;
  readonly #stopGraceMs: number;
  readonly exited: Promise<ExitInfo>;
  #exitInfo: ExitInfo | undefined;

  private constructor(child: ChildProcessWithoutNullStreams, options: ServerProcessOptions) {
    this.name = options.name;
    this.#child = child;
    this.#logger = options.logger;
    this.#stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitInfo = { code, signal };
        resolve(this.#exitInfo);
      });
    });
    this.#captureStderr();
    // EPIPE on stdin after the child died is reported through the exit path; do not crash on it.
    child.stdin.on('error', () => {});
  }

  /** Spawns the process and waits until the OS confirms it started (or says why it did not). */
  static async spawn(options: ServerProcessOptions): Promise<ServerProcess> {
    const child = spawn(options.command, [...options.args], {
      shell: false,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        child.off('spawn', onSpawn);
        reject(describeSpawnError(options, error));
      };
      const onSpawn = () => {
        child.off('error', onError);
        resolve();
      };
      child.once('error', onError);
      child.once('spawn', onSpawn);
    });
    // Later errors (a failed kill) must not become uncaught exceptions.
    child.on('error', (error) =>
      options.logger.warn({ server: options.name, err: error }, 'child process error'),
    );
    return new ServerProcess(child, options);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get stdin() {
    return this.#child.stdin;
  }

  get stdout() {
    return this.#child.stdout;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  /**
   * The stop ladder: close stdin (the stdio transport's polite "please exit"), then SIGTERM, then
   * SIGKILL, each after `stopGraceMs`. Resolves when the process is gone.
   */
  async stop(): Promise<ExitInfo> {
    if (this.#exitInfo) return this.#exitInfo;
    this.#child.stdin.end();
    if (await this.#exitsWithin(this.#stopGraceMs)) return this.exited;
    this.#logger.info(
      { server: this.name, pid: this.pid },
      'server did not exit after stdin closed; sending SIGTERM',
    );
    this.#child.kill('SIGTERM');
    if (await this.#exitsWithin(this.#stopGraceMs)) return this.exited;
    this.#logger.warn({ server: this.name, pid: this.pid }, 'server ignored SIGTERM; sending SIGKILL');
    this.#child.kill('SIGKILL');
    return this.exited;
  }

  /** Immediate SIGKILL, for a server that is known to be stuck. */
  kill(): Promise<ExitInfo> {
    if (!this.#exitInfo) this.#child.kill('SIGKILL');
    return this.exited;
  }

  #exitsWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      timer.unref();
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #captureStderr(): void {
    const limiter = new LogRateLimiter(50, 1000, (suppressed) =>
      this.#logger.info({ server: this.name, suppressed }, `${suppressed} more stderr lines dropped`),
    );
    const framer = new LineFramer(
      {
        onLine: (line) => {
          const suppressed = limiter.take();
          if (suppressed < 0) return;
          const fields = suppressed > 0 ? { server: this.name, suppressed } : { server: this.name };
          this.#logger.info(fields, line.toString('utf8'));
        },
        // A one-line stack trace can be long: say that a line went, rather than lose it without a word.
        onOversize: (bytes) => {
          const suppressed = limiter.take();
          if (suppressed < 0) return;
          this.#logger.warn(
            { server: this.name, suppressed, bytes },
            `stderr line of ${bytes} bytes dropped (over ${MAX_STDERR_LINE_BYTES})`,
          );
        },
      },
      MAX_STDERR_LINE_BYTES,
    );
    this.#child.stderr.on('data', (chunk: Buffer) => framer.push(chunk));
    // The last words of a crashing process often lack a newline.
    this.#child.stderr.on('end', () => framer.push(Buffer.from('\n')));
  }
}

function describeSpawnError(options: ServerProcessOptions, error: NodeJS.ErrnoException): ServerProcessError {
  const where = `mcpServers.${options.name}.command`;
  if (error.code === 'ENOENT') {
    return new ServerProcessError(
      `Could not start server "${options.name}": command "${options.command}" was not found` +
        (options.cwd ? ` (cwd ${options.cwd})` : '') +
        `. Check ${where} and PATH${options.cwd ? ', and that the cwd exists' : ''}.`,
      { cause: error },
    );
  }
  if (error.code === 'EACCES') {
    return new ServerProcessError(
      `Could not start server "${options.name}": "${options.command}" is not executable. Check ${where}.`,
      { cause: error },
    );
  }
  return new ServerProcessError(`Could not start server "${options.name}": ${error.message}`, {
    cause: error,
  });
}
