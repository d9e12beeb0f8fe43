import type { LogLevel } from './logger.js';

/** The HTTP engines a worker can serve with (see src/workers/http/). */
export type HttpEngineName = 'uws' | 'node';

/** Everything a worker needs to serve, handed over in its startup task. Plain data (it is cloned). */
export interface WorkerOptions {
  shard: number;
  /**
   * First outlet id this worker hands out. A replacement worker starts where no id of the one it replaces
   * can be: an answer still on its way to the dead worker's outlet must reach nobody, not a new client
   * that happens to hold the same number.
   */
  firstOutlet: number;
  host: string;
  port: number;
  /** Chosen by the main thread before any worker starts: every worker serves with the same engine. */
  httpEngine: HttpEngineName;
  /** Listen with SO_REUSEPORT (always so with uWS; with Node's engine where Node offers it). */
  reusePort: boolean;
  frameVersion: number;
  /** SHA-256 of the bearer token; the token itself never leaves the main thread. */
  tokenDigest: Uint8Array | undefined;
  allowedOrigins: string[];
  loopbackOnly: boolean;
  /** Servers reachable over HTTP (allowedServers, or every enabled server). */
  servers: string[];
  maxBodyBytes: number;
  sseBufferBytes: number;
  keepAliveMs: number;
  logLevel: LogLevel;
}

/** Per-worker numbers for /status and the control plane. */
export interface WorkerStats {
  shard: number;
  threadId: number;
  httpEngine: HttpEngineName;
  streams: number;
  pendingRequests: number;
  bufferedBytes: number;
  slowClientsDropped: number;
  requests: number;
  /** Live legacy sessions this worker knows of (its own and other workers'), to answer their POSTs itself. */
  legacySessions: number;
  /** This worker's V8 heap in use (its own isolate, not the process). */
  heapUsedBytes: number;
}
