import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * One way a client reaches the gateway: an endpoint and the official SDK transport that speaks to it.
 * The shared scenario suite runs every scenario against every family, so a behaviour that holds on one
 * endpoint and breaks on another shows up as one failing row.
 */
export interface EndpointFamily {
  /** For test names: the endpoint pattern and its transport. */
  readonly name: string;
  /** True for `/mcp` and `/sse`, which serve every server as one; false for `/servers/{name}/*`. */
  readonly aggregated: boolean;
  /**
   * The endpoint a scenario about `server` talks to. Aggregated families serve every server at one URL,
   * so they ignore `server`; scenarios there rely on tool, prompt and resource names being distinct.
   */
  url(base: string, server: string): URL;
  transport(url: URL): Transport;
  /** The name a server's tool or prompt is listed by here: `{server}__{name}` on the aggregated ones. */
  shown(server: string, name: string): string;
}

const bare = (_server: string, name: string) => name;
const namespaced = (server: string, name: string) => `${server}__${name}`;

const streamable = (url: URL): Transport => new StreamableHTTPClientTransport(url);
const legacySse = (url: URL): Transport => new SSEClientTransport(url);

export const ENDPOINT_FAMILIES: readonly EndpointFamily[] = [
  {
    name: '/servers/{name}/mcp (Streamable HTTP, one server)',
    aggregated: false,
    url: (base, server) => new URL(`${base}/servers/${server}/mcp`),
    transport: streamable,
    shown: bare,
  },
  {
    name: '/servers/{name}/sse + /messages (legacy SSE, one server)',
    aggregated: false,
    url: (base, server) => new URL(`${base}/servers/${server}/sse`),
    transport: legacySse,
    shown: bare,
  },
  {
    name: '/mcp (Streamable HTTP, aggregated)',
    aggregated: true,
    url: (base) => new URL(`${base}/mcp`),
    transport: streamable,
    shown: namespaced,
  },
  {
    name: '/sse (legacy SSE, aggregated)',
    aggregated: true,
    url: (base) => new URL(`${base}/sse`),
    transport: legacySse,
    shown: namespaced,
  },
];
