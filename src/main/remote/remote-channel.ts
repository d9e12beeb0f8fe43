import { LegacySseLink } from './legacy-sse-link.js';
import type { BackendChannel, LinkOptions } from './remote-link.js';
import { StreamableHttpLink } from './streamable-http-link.js';

export type RemoteTransport = 'http' | 'sse' | 'auto';

/**
 * Opens the link to a remote backend. `auto` (a bare `url`, as clients take one) asks the URL for an
 * event stream first: a 2024-11-05 server answers with its `endpoint` event, and that stream is kept;
 * anything else (a Streamable HTTP server refuses a GET without a session) means Streamable HTTP.
 */
export async function openRemote(transport: RemoteTransport, options: LinkOptions): Promise<BackendChannel> {
  if (transport === 'http') return new StreamableHttpLink(options);
  if (transport === 'sse') return new LegacySseLink(options);
  // The timeout covers the answer's head only: an event stream that follows must stay open.
  const probe = new AbortController();
  const timer = setTimeout(() => probe.abort(), 10_000);
  const response = await fetch(options.url, {
    headers: { ...options.headers, accept: 'text/event-stream' },
    signal: probe.signal,
  }).catch(() => undefined);
  clearTimeout(timer);
  if (response?.ok && (response.headers.get('content-type') ?? '').includes('text/event-stream'))
    return new LegacySseLink(options, { response, abort: probe });
  await response?.body?.cancel().catch(() => {});
  return new StreamableHttpLink(options);
}
