import { getHeapStatistics } from 'node:v8';
import type { WorkerStats } from '../../shared/worker-options.js';
import type { ServerStatusInfo } from '../managed-server.js';
import { newSpaceBytes } from '../young-generation-cap.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { HttpEngineChoice } from './http-engine-choice.js';
import type { CatalogConflict } from './naming/catalog-conflicts.js';
import type { SessionRouter } from './session-router.js';

/** An answer to GET /health, /status or /metrics. */
export interface StatusAnswer {
  status: number;
  body?: Record<string, unknown>;
  text?: string;
  contentType?: string;
}

/** What the answers are made of: the gateway's parts, read at the moment of the request. */
export interface StatusSources {
  metrics: GatewayMetrics;
  workerStats(): Promise<WorkerStats[]>;
  expectedWorkers: number;
  router: SessionRouter;
  servers(): ServerStatusInfo[];
  engine: HttpEngineChoice | undefined;
  conflicts(): CatalogConflict[];
  workerRestarts: number;
}

/** GET /health (200 or 503 by the workers that answer), /status (the whole picture) and /metrics. */
export async function statusReport(
  what: 'health' | 'status' | 'metrics',
  from: StatusSources,
): Promise<StatusAnswer> {
  if (what === 'metrics')
    return { status: 200, text: await from.metrics.render(), contentType: from.metrics.contentType };
  const workers = await from.workerStats();
  // A session belongs to the worker holding its stream (Streamable HTTP POSTs may land on any worker).
  const sessionsByShard = new Map<number, number>();
  for (const session of from.router.sessions()) {
    const shard = session.stream && !session.stream.detached ? session.stream.shard : undefined;
    if (shard !== undefined) sessionsByShard.set(shard, (sessionsByShard.get(shard) ?? 0) + 1);
  }
  const healthy = workers.length === from.expectedWorkers;
  if (what === 'health') {
    return {
      status: healthy ? 200 : 503,
      body: {
        status: healthy ? 'ok' : 'degraded',
        workers: workers.length,
        expectedWorkers: from.expectedWorkers,
      },
    };
  }
  return {
    status: 200,
    body: {
      servers: from.servers(),
      httpEngine: { name: from.engine?.engine, reason: from.engine?.reason },
      workers: workers.map((w) => ({ ...w, sessions: sessionsByShard.get(w.shard) ?? 0 })),
      sessions: from.router.sessionCount,
      inflight: from.router.inflightCount(),
      // What several servers offer alike on /mcp and /sse, and which of them gets it.
      conflicts: from.conflicts(),
      workerRestarts: from.workerRestarts,
      // The page computes uptimes against this, not its own clock, which may be another machine's.
      time: Date.now(),
      main: {
        heapUsedBytes: getHeapStatistics().used_heap_size,
        // The young generation's committed size: what a burst of new sessions grows (see young-generation-cap.ts).
        newSpaceBytes: newSpaceBytes(),
        rssBytes: process.memoryUsage.rss(),
      },
    },
  };
}
