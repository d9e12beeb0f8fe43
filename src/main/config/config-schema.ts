/**
 * The config schema: the single source of truth for what a config file may contain, its defaults, the
 * TypeScript types, and (through `config-json-schema.ts`) the JSON Schema editors use.
 *
 * Accepted shapes: our own / Claude Desktop's `{ "mcpServers": {...} }` and VS Code's mcp.json
 * `{ "servers": {...}, "inputs": [...] }`. Both normalise to `{ mcpServers, sseProxy? }`.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in descriptions documents the config syntax
import { z } from 'zod';
import {
  ambiguousPrefixes,
  DEFAULT_NAMESPACE_SEPARATOR,
  namespaceSchema,
  overridesSchema,
  promptsFilterSchema,
  toolsFilterSchema,
} from './exposure-schema.js';
import { checkEntry, transportOf } from './remote-entry.js';

export const DEFAULT_SESSION_MODE = 'shared';
export const DEFAULT_INSTANCES = 1;
export const MAX_INSTANCES = 64;
export const DEFAULT_MAX_PROCESSES = 100;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_GRACE_MS = 2_000;

export const DEFAULT_RESTART_MAX_RETRIES = 5;
export const DEFAULT_RESTART_INITIAL_DELAY_MS = 500;
export const DEFAULT_RESTART_MAX_DELAY_MS = 30_000;
export const DEFAULT_RESTART_MULTIPLIER = 2;

export const DEFAULT_HEALTH_INTERVAL_MS = 30_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;
export const DEFAULT_HEALTH_FAILURE_THRESHOLD = 3;

export const DEFAULT_ADDRESS = '127.0.0.1';
export const DEFAULT_PORT = 3000;
export const DEFAULT_WORKERS = 4;
export const HTTP_ENGINE_CHOICES = ['auto', 'uws', 'node'] as const;
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SSE_BUFFER_BYTES = 1024 * 1024;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_SESSIONS = 100_000;
export const DEFAULT_REPLAY_BUFFER_BYTES = 256 * 1024;
export const DEFAULT_INPUT_REQUIRED_TIMEOUT_MS = 120_000;
export const DEFAULT_ISOLATED_IDLE_TIMEOUT_MS = 60_000;

/** Server names end up in URLs (`/servers/{name}/mcp`), hence the conservative alphabet. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const MAX_SERVER_NAME_LENGTH = 64;

/** How a value reads in an error message: numbers and short strings verbatim, anything else by its JSON type. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : 'a long string';
  return typeof value;
}

/** JSON type name of a value, for "must be X, got Y" messages. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const EXPECTED_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};

/**
 * Plain-words messages for the generic zod issues. Pass it as the `error` option of `safeParse`; messages
 * set on individual schemas (integer ranges, server names) take precedence over it.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED_NAMES[issue.expected] ?? issue.expected}, got ${jsonType(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1
          ? 'must not be empty'
          : `must be at least ${issue.minimum} characters long`;
      }
      return `must be >= ${issue.minimum}, got ${describeValue(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long`;
      return `must be <= ${issue.maximum}, got ${describeValue(issue.input)}`;
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      const prefix = issue.values.length === 1 ? 'must be' : 'must be one of';
      return `${prefix} ${allowed}, got ${describeValue(issue.input)}`;
    }
    default:
      return undefined;
  }
};

/** An integer whose every failure names the whole allowed range, which a single zod issue cannot. */
function int(min: number, max?: number) {
  const rule =
    max === undefined ? `must be an integer >= ${min}` : `must be an integer between ${min} and ${max}`;
  const error = (issue: { input?: unknown }) => `${rule}, got ${describeValue(issue.input)}`;
  const atLeast = z.int({ error }).min(min, { error });
  return max === undefined ? atLeast : atLeast.max(max, { error });
}

const nonEmpty = () => z.string().min(1);

const restartSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Restart the server process when it exits unexpectedly.'),
    maxRetries: int(0)
      .default(DEFAULT_RESTART_MAX_RETRIES)
      .describe(
        'Consecutive failed restarts before giving up; the count resets after the server has run for 30 s.',
      ),
    initialDelayMs: int(0)
      .default(DEFAULT_RESTART_INITIAL_DELAY_MS)
      .describe('Delay before the first restart, in milliseconds.'),
    maxDelayMs: int(0)
      .default(DEFAULT_RESTART_MAX_DELAY_MS)
      .describe('Upper bound of the exponential back-off delay, in milliseconds.'),
    multiplier: z
      .number({ error: (issue) => `must be a number >= 1, got ${describeValue(issue.input)}` })
      .min(1, { error: (issue) => `must be a number >= 1, got ${describeValue(issue.input)}` })
      .default(DEFAULT_RESTART_MULTIPLIER)
      .describe('Factor the delay grows by after each failed restart.'),
  })
  .describe('When and how fast to restart a crashed server process.');

const healthSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Ping the server periodically and restart it when it stops answering.'),
    intervalMs: int(100)
      .default(DEFAULT_HEALTH_INTERVAL_MS)
      .describe('Time between health pings, in milliseconds.'),
    timeoutMs: int(1)
      .default(DEFAULT_HEALTH_TIMEOUT_MS)
      .describe('How long a ping may take, in milliseconds.'),
    failureThreshold: int(1)
      .default(DEFAULT_HEALTH_FAILURE_THRESHOLD)
      .describe('Consecutive failed pings after which the server is considered unhealthy and restarted.'),
  })
  .describe('Periodic MCP ping health check.');

const serverObject = z.strictObject({
  command: nonEmpty()
    .optional()
    .describe(
      'Executable to start, looked up on PATH. Supports ${VAR} and ${VAR:-default}. A local server needs it.',
    ),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional()
    .describe(
      'A remote server’s URL (instead of command): Streamable HTTP, or the 2024-11-05 HTTP+SSE transport. Supports ${VAR}.',
    ),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'HTTP headers sent to a remote server, e.g. "Authorization": "Bearer ${env:TOKEN}". Values support ${env:NAME}, ${NAME} and ${NAME:-default}; VS Code ${input:...} prompts are refused (nobody is there to answer).',
    ),
  args: z
    .array(z.string())
    .default(() => [])
    .describe(
      'Arguments passed to the command. Each supports ${VAR} and ${VAR:-default}; $${X} is a literal ${X}.',
    ),
  env: z
    .record(z.string(), z.string())
    .default(() => ({}))
    .describe('Extra environment variables for the process. Values support ${VAR} and ${VAR:-default}.'),
  cwd: nonEmpty().optional().describe('Working directory of the process; defaults to the gateway’s own.'),
  type: z
    .enum(['stdio', 'http', 'streamable-http', 'sse'])
    .optional()
    .describe(
      '"stdio" (a command), "http" or "streamable-http" (Streamable HTTP at url), "sse" (HTTP+SSE at url). Without it: stdio for a command; for a url, an event stream with an endpoint event means SSE, anything else Streamable HTTP.',
    ),
  disabled: z.boolean().default(false).describe('Keep the entry but do not start or serve it.'),
  sessionMode: z
    .enum(['shared', 'isolated'])
    .default(DEFAULT_SESSION_MODE)
    .describe(
      '"shared": all client sessions use the same process(es); "isolated": one process per client session.',
    ),
  era: z
    .enum(['auto', 'legacy', 'modern'])
    .default('auto')
    .describe(
      'Which MCP revision the server speaks: "auto" probes with server/discover at each start and falls back to initialize (a 2025 server); "legacy" skips the probe (for a server that mishandles it); "modern" requires 2026-07-28.',
    ),
  tools: toolsFilterSchema.optional(),
  prompts: promptsFilterSchema.optional(),
  overrides: overridesSchema.optional(),
  instances: int(1, MAX_INSTANCES)
    .default(DEFAULT_INSTANCES)
    .describe('Number of processes to run in shared mode; sessions are spread across them.'),
  maxProcesses: int(1, 10_000)
    .default(DEFAULT_MAX_PROCESSES)
    .describe('Cap on concurrent processes in isolated mode; further sessions are refused.'),
  requestTimeoutMs: int(1)
    .default(DEFAULT_REQUEST_TIMEOUT_MS)
    .describe('How long a request may wait for its answer before it is cancelled, in milliseconds.'),
  startupTimeoutMs: int(1)
    .default(DEFAULT_STARTUP_TIMEOUT_MS)
    .describe('How long the process may take to start and answer initialize, in milliseconds.'),
  restart: restartSchema.prefault({}),
  health: healthSchema.prefault({}),
  stopGraceMs: int(0)
    .default(DEFAULT_STOP_GRACE_MS)
    .describe('On stop: wait this long after closing stdin before SIGTERM, and again before SIGKILL (ms).'),
});

const serverSchema = serverObject
  .superRefine(checkEntry)
  .transform(({ type: _type, ...server }) => ({
    ...server,
    transport: transportOf({ ...server, type: _type }),
  }))
  .describe('An MCP server: local (a command run as a child process speaking stdio) or remote (a url).');

const nameRule =
  `server names must be 1-${MAX_SERVER_NAME_LENGTH} characters of letters, digits, "_", "." or "-" ` +
  '(they appear in URLs /servers/{name}/mcp)';
const serverName = z
  .string()
  .regex(SERVER_NAME_PATTERN, { error: nameRule })
  .max(MAX_SERVER_NAME_LENGTH, { error: nameRule });
const serversRecord = z.record(serverName, serverSchema);

const sseProxySchema = z
  .strictObject({
    address: nonEmpty()
      .default(DEFAULT_ADDRESS)
      .describe('Interface to listen on. Keep 127.0.0.1 unless you add auth.'),
    port: int(0, 65_535).default(DEFAULT_PORT).describe('TCP port to listen on; 0 picks a free port.'),
    workers: int(1, 64).default(DEFAULT_WORKERS).describe('Number of HTTP worker threads.'),
    httpEngine: z
      .enum(HTTP_ENGINE_CHOICES)
      .default('auto')
      .describe(
        'HTTP engine of the workers: "uws" (uWS, the fastest, where its native binary loads), "node" (Node\'s own node:http, runs everywhere), or "auto": uws when it loads here, else node.',
      ),
    namespace: namespaceSchema,
    allowedServers: z
      .array(z.string())
      .optional()
      .describe('Servers exposed over HTTP; each must be configured. Omit to expose all enabled servers.'),
    authenticate: z
      .strictObject({
        bearer: z
          .strictObject({
            token: nonEmpty()
              .regex(/^[\x21-\x7e]+$/, {
                error:
                  'must be printable ASCII without spaces, since clients send it in an HTTP header (a random hex or base64url string is a good token)',
              })
              .describe(
                'Token clients must send as "Authorization: Bearer <token>". Supports ${VAR} and ${VAR:-default}, to keep it out of the file.',
              ),
          })
          .describe('Bearer-token authentication.'),
      })
      .optional()
      .describe('Client authentication. Omit for none (only sensible on loopback).'),
    allowedOrigins: z
      .array(z.string())
      .default(() => [])
      .describe(
        'Browser Origins allowed besides loopback ones (which are always allowed), e.g. "https://app.example".',
      ),
    maxBodyBytes: int(1024)
      .default(DEFAULT_MAX_BODY_BYTES)
      .describe('Largest accepted request body, in bytes.'),
    sseBufferBytes: int(1024)
      .default(DEFAULT_SSE_BUFFER_BYTES)
      .describe('Outgoing SSE bytes buffered per slow client before it is disconnected.'),
    keepAliveMs: int(1000)
      .default(DEFAULT_KEEP_ALIVE_MS)
      .describe('Interval of SSE keep-alive comments, in ms.'),
    sessionIdleTimeoutMs: int(1000)
      .default(DEFAULT_SESSION_IDLE_TIMEOUT_MS)
      .describe('Idle time after which a client session is closed, in milliseconds.'),
    isolatedIdleTimeoutMs: int(1000)
      .default(DEFAULT_ISOLATED_IDLE_TIMEOUT_MS)
      .describe(
        'Idle time after which a session holding a sessionMode "isolated" process, with nothing in flight and no open stream (a client that left without DELETE), is closed and its process stopped, in ms. Such sessions are also the first reclaimed when a server reaches maxProcesses.',
      ),
    maxSessions: int(1).default(DEFAULT_MAX_SESSIONS).describe('Cap on concurrent client sessions.'),
    inputRequiredTimeoutMs: int(1000)
      .default(DEFAULT_INPUT_REQUIRED_TIMEOUT_MS)
      .describe(
        'How long a 2026-07-28 call whose backend asked its caller for input (sampling, elicitation, roots) waits for the caller to retry with the answers before it is cancelled on the backend, in ms; also how long its requestState is valid.',
      ),
    replayBufferBytes: int(0)
      .default(DEFAULT_REPLAY_BUFFER_BYTES)
      .describe(
        'Bytes of SSE events kept per Streamable HTTP session so a client that lost a stream can resume it with Last-Event-ID; 0 turns event ids and resumption off.',
      ),
  })
  .describe('HTTP gateway serving the configured servers at /servers/{name}/mcp.');

const rootObject = z.strictObject({
  $schema: z.string().optional().describe('JSON Schema reference for editors; ignored.'),
  mcpServers: serversRecord.optional().describe('Servers to run, by name (Claude Desktop shape).'),
  servers: serversRecord
    .optional()
    .describe('Servers to run, by name (VS Code mcp.json shape; same as mcpServers).'),
  sseProxy: sseProxySchema.optional(),
  inputs: z.array(z.unknown()).optional().describe('VS Code prompted inputs; accepted and ignored.'),
  globalShortcut: z.unknown().optional().describe('Claude Desktop setting; accepted and ignored.'),
  preferences: z.unknown().optional().describe('Claude Desktop setting; accepted and ignored.'),
});

type RootOutput = z.output<typeof rootObject>;

function checkCrossFields(root: RootOutput, ctx: z.core.$RefinementCtx<RootOutput>): void {
  if (root.mcpServers && root.servers) {
    ctx.addIssue({
      code: 'custom',
      path: ['servers'],
      message: 'use either "mcpServers" or "servers", not both',
    });
    return;
  }
  const servers = root.mcpServers ?? root.servers;
  if (!servers) {
    ctx.addIssue({
      code: 'custom',
      path: ['mcpServers'],
      message: 'is required (or "servers", as in VS Code mcp.json)',
    });
    return;
  }
  const names = Object.keys(servers);
  const separator = root.sseProxy ? root.sseProxy.namespace : DEFAULT_NAMESPACE_SEPARATOR;
  if (separator !== false)
    for (const [a, b] of ambiguousPrefixes(names, separator))
      ctx.addIssue({
        code: 'custom',
        path: ['mcpServers', b],
        message: `servers "${a}" and "${b}" cannot both be namespaced with "${separator}": a tool named ${b}${separator}x could belong to either; rename one, or set sseProxy.namespace to another separator`,
      });
  for (const [name, server] of Object.entries(servers)) {
    const seen = new Map<string, string>();
    for (const [tool, override] of Object.entries(server.overrides ?? {})) {
      if (!override.name) continue;
      const earlier = seen.get(override.name);
      if (earlier)
        ctx.addIssue({
          code: 'custom',
          path: ['mcpServers', name, 'overrides', tool, 'name'],
          message: `renames "${tool}" to "${override.name}", which "${earlier}" is renamed to already`,
        });
      seen.set(override.name, tool);
    }
  }
  root.sseProxy?.allowedServers?.forEach((name, index) => {
    if (Object.hasOwn(servers, name)) return;
    const known = names.length ? `configured servers: ${names.join(', ')}` : 'no servers are configured';
    ctx.addIssue({
      code: 'custom',
      path: ['sseProxy', 'allowedServers', index],
      message: `names server "${name}", which is not configured (${known})`,
    });
  });
}

type ServerMap = NonNullable<RootOutput['mcpServers']>;
type SseProxyOutput = z.output<typeof sseProxySchema>;

/** Zod schema of a config file; parsing yields the normalised {@link Config}. */
export const configSchema = rootObject
  .superRefine(checkCrossFields)
  .transform((root): { mcpServers: ServerMap; sseProxy?: SseProxyOutput } => {
    const mcpServers = root.mcpServers ?? root.servers ?? {};
    return root.sseProxy ? { mcpServers, sseProxy: root.sseProxy } : { mcpServers };
  })
  .describe('mcp-runner configuration: local MCP stdio servers and the HTTP gateway serving them.');

/** A validated, normalised config with every default filled in. */
export type Config = z.output<typeof configSchema>;
/** What may be written in a config file or passed to `defineConfig` (defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** One server entry after validation. */
export type ServerConfig = z.output<typeof serverSchema>;
export type SseProxyConfig = SseProxyOutput;
export type RestartPolicy = z.output<typeof restartSchema>;
export type HealthPolicy = z.output<typeof healthSchema>;
export type SessionMode = ServerConfig['sessionMode'];
