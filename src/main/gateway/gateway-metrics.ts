import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerStats } from '../../shared/worker-options.js';
import type { ServerStatusInfo } from '../managed-server.js';

/** What the metrics read at scrape time, from the parts of the gateway that own it. */
export interface MetricsSources {
  sessions(): Array<{ transport: string }>;
  inflight(): number;
  servers(): ServerStatusInfo[];
  workers(): Promise<WorkerStats[]>;
}

/** Methods counted by name; anything else is counted as "other", so clients cannot grow the label set. */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

export type RequestOutcome = 'ok' | 'error' | 'cancelled';

/**
 * The gateway's Prometheus metrics (`GET /metrics`), in a registry of its own so several gateways can
 * live in one process. Counters and histograms are updated as requests happen; gauges are read from
 * their owners when scraped.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #sources: MetricsSources;
  readonly #requests: Counter<'method' | 'outcome'>;
  readonly #backendLatency: Histogram<'server' | 'outcome'>;
  readonly #sessions: Gauge<'transport'>;
  readonly #inflight: Gauge;
  readonly #serverUp: Gauge<'server'>;
  readonly #restarts: Gauge<'server'>;
  readonly #workerStreams: Gauge<'shard'>;
  readonly #bufferedBytes: Gauge<'shard'>;
  readonly #slowDropped: Gauge<'shard'>;
  readonly #httpEngine: Gauge<'engine'>;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'mcp_runner_' });
    this.#requests = new Counter({
      name: 'mcp_runner_requests_total',
      help: 'Client JSON-RPC requests answered, by method and outcome.',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#backendLatency = new Histogram({
      name: 'mcp_runner_backend_request_duration_seconds',
      help: 'Time from forwarding a request to a backend until its answer, per server.',
      labelNames: ['server', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#sessions = new Gauge({
      name: 'mcp_runner_sessions',
      help: 'Open client sessions, by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.#inflight = new Gauge({
      name: 'mcp_runner_inflight_requests',
      help: 'Client requests waiting for a backend.',
      registers,
    });
    this.#serverUp = new Gauge({
      name: 'mcp_runner_server_up',
      help: '1 when the server is running, else 0.',
      labelNames: ['server'],
      registers,
    });
    this.#restarts = new Gauge({
      name: 'mcp_runner_server_restarts',
      help: 'Automatic restarts of the server since the gateway started.',
      labelNames: ['server'],
      registers,
    });
    this.#workerStreams = new Gauge({
      name: 'mcp_runner_worker_streams',
      help: 'Open SSE streams per worker.',
      labelNames: ['shard'],
      registers,
    });
    this.#bufferedBytes = new Gauge({
      name: 'mcp_runner_worker_buffered_bytes',
      help: 'Bytes waiting for slow clients, per worker.',
      labelNames: ['shard'],
      registers,
    });
    this.#slowDropped = new Gauge({
      name: 'mcp_runner_slow_clients_dropped',
      help: 'Clients disconnected for reading too slowly (sseBufferBytes exceeded), per worker since it started.',
      labelNames: ['shard'],
      registers,
    });
    this.#httpEngine = new Gauge({
      name: 'mcp_runner_http_engine_info',
      help: 'The HTTP engine the workers serve with (uws or node): 1 for the one in use.',
      labelNames: ['engine'],
      registers,
    });
  }

  setHttpEngine(engine: string): void {
    this.#httpEngine.reset();
    this.#httpEngine.set({ engine }, 1);
  }

  request(method: string, outcome: RequestOutcome): void {
    this.#requests.inc({ method: KNOWN_METHODS.has(method) ? method : 'other', outcome });
  }

  backendRequest(server: string, seconds: number, outcome: RequestOutcome): void {
    this.#backendLatency.observe({ server, outcome }, seconds);
  }

  /** The Prometheus text exposition, with the gauges read fresh. */
  async render(): Promise<string> {
    const sessions = new Map<string, number>([
      ['sse', 0],
      ['streamable', 0],
    ]);
    for (const { transport } of this.#sources.sessions())
      sessions.set(transport, (sessions.get(transport) ?? 0) + 1);
    for (const [transport, count] of sessions) this.#sessions.set({ transport }, count);
    this.#inflight.set(this.#sources.inflight());
    for (const server of this.#sources.servers()) {
      this.#serverUp.set({ server: server.name }, server.status === 'running' ? 1 : 0);
      this.#restarts.set({ server: server.name }, server.restarts);
    }
    this.#workerStreams.reset();
    this.#bufferedBytes.reset();
    this.#slowDropped.reset();
    for (const worker of await this.#sources.workers()) {
      const shard = String(worker.shard);
      this.#workerStreams.set({ shard }, worker.streams);
      this.#bufferedBytes.set({ shard }, worker.bufferedBytes);
      this.#slowDropped.set({ shard }, worker.slowClientsDropped);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
