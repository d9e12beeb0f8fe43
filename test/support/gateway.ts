import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpRunner } from '../../src/index.js';
import type { Gateway } from '../../src/main/gateway/gateway.js';
import { TEST_HTTP_ENGINE } from './http-engine.js';
import { testLogger } from './quiet-logger.js';

export interface TestGateway {
  runner: McpRunner;
  gateway: Gateway;
  url: string;
  stop(): Promise<void>;
}

/** Starts servers and the gateway on a free port of 127.0.0.1 (2 workers and the suite's engine unless told otherwise). */
export async function startTestGateway(
  mcpServers: Record<string, Record<string, unknown>>,
  sseProxy: Record<string, unknown> = {},
): Promise<TestGateway> {
  const runner = new McpRunner(
    { mcpServers, sseProxy: { port: 0, workers: 2, httpEngine: TEST_HTTP_ENGINE, ...sseProxy } } as never,
    {
      logger: testLogger(),
      logLevel: 'silent',
    },
  );
  const { gateway, failed } = await runner.startAllWithProxy();
  if (failed.length > 0) {
    await runner.close();
    throw new Error(`servers failed: ${failed.map((f) => `${f.name}: ${f.error.message}`).join('; ')}`);
  }
  return { runner, gateway, url: gateway.url, stop: () => runner.close() };
}

/** requestInit headers go on every request a transport makes (the GET stream and the POSTs). */
function withHeaders(headers: Record<string, string> | undefined) {
  return headers ? { requestInit: { headers } } : undefined;
}

async function connectClient(
  transport: SSEClientTransport | StreamableHTTPClientTransport,
  capabilities: Record<string, unknown> = {},
): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  return client;
}

/** An official SDK client on the legacy SSE transport, with a count of every message it received. */
export async function connectSse(
  url: string,
  options: { headers?: Record<string, string>; capabilities?: Record<string, unknown> } = {},
): Promise<{ client: Client; transport: SSEClientTransport; received: () => number }> {
  const transport = new SSEClientTransport(new URL(url), withHeaders(options.headers));
  const client = await connectClient(transport, options.capabilities);
  let count = 0;
  const original = transport.onmessage;
  transport.onmessage = (message) => {
    count += 1;
    original?.(message);
  };
  return { client, transport, received: () => count };
}

/** An HTTP answer to a JSON POST, with the body parsed when it is JSON. */
export interface JsonPostResult {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
  json: Record<string, any> | undefined;
}

// The explicit return type keeps the declaration emit independent of where undici's types resolve from
// (a worktree whose node_modules is a symlink otherwise fails with TS2742).
/** An official SDK client on Streamable HTTP (it sends no DELETE on close, as the SDK does not). */
export async function connectStreamable(
  url: string,
  options: { capabilities?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), withHeaders(options.headers));
  const client = await connectClient(transport, options.capabilities);
  return { client, transport };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonPostResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }).catch((error: Error & { cause?: { code?: string; message?: string } }) => {
    throw new Error(
      `POST ${url} failed: ${error.message}: ${error.cause?.code ?? ''} ${error.cause?.message ?? ''}`,
    );
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: json as JsonPostResult['json'],
  };
}
