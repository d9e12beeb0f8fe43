import http from 'node:http';

/**
 * One HTTP request that tolerates any answer, for fuzzing: whatever the server does (a status, an event
 * stream, a reset, silence) comes back as data instead of an exception. node:http rather than fetch,
 * because fetch forbids setting Host and trims or refuses some header values the fuzzer wants to send.
 */
export interface ProbeRequest {
  method: string;
  /** Request target exactly as sent (already percent-encoded where needed). */
  path: string;
  /** Header values may repeat a name (an array sends the header once per value). */
  headers: Record<string, string | string[]>;
  body?: Uint8Array | string;
  /** Send the body as Transfer-Encoding: chunked, in two pieces, instead of with a Content-Length. */
  chunked?: boolean;
  /** A fresh connection instead of a pooled keep-alive one (for answers that may close the socket). */
  freshConnection?: boolean;
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface ProbeReply {
  /** `answered`: a status line arrived; `closed`: the socket ended or reset first; `timeout`: silence. */
  outcome: 'answered' | 'closed' | 'timeout';
  /** 0 unless answered. */
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body; for an event stream, what arrived before the probe stopped reading. */
  text: string;
  /** Parsed events when the answer is text/event-stream. */
  events: SseEvent[];
  /** The client-side error for `closed` (ECONNRESET, socket hang up, ...). */
  error?: string;
}

export interface ProbeOptions {
  /** Overall limit for the answer (headers and body). */
  timeoutMs: number;
  /**
   * A GET event stream stays open: it is read until its first event (a priming event counts) or until
   * this long passes without one, then the probe hangs up. Whatever the server sends at once (replayed
   * events included) arrives before that. A POST event stream is read to its end: it ends after the answer.
   */
  sseIdleMs: number;
}

const DEFAULTS: ProbeOptions = { timeoutMs: 10_000, sseIdleMs: 60 };

export function parseSseEvents(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    if (!block.trim()) continue;
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    let sawField = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      sawField = true;
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (sawField) events.push({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
  }
  return events;
}

export function probe(
  port: number,
  agent: http.Agent,
  request: ProbeRequest,
  options: Partial<ProbeOptions> = {},
): Promise<ProbeReply> {
  const { timeoutMs, sseIdleMs } = { ...DEFAULTS, ...options };
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    let text = '';
    let isSse = false;
    const settle = (outcome: ProbeReply['outcome'], error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(idle);
      resolve({
        outcome: status ? 'answered' : outcome,
        status,
        headers,
        text,
        events: isSse ? parseSseEvents(text) : [],
        ...(error !== undefined && !status ? { error } : {}),
      });
      req.destroy();
    };
    let idle: NodeJS.Timeout | undefined;
    const overall = setTimeout(() => settle('timeout'), timeoutMs);
    const hasHost = Object.keys(request.headers).some((name) => name.toLowerCase() === 'host');
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: request.method,
      path: request.path,
      headers: request.headers,
      setHost: !hasHost,
      agent: request.freshConnection ? false : agent,
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      isSse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      res.setEncoding('utf8');
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => settle('answered'), sseIdleMs);
      };
      const openEnded = isSse && request.method !== 'POST';
      if (openEnded) armIdle();
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!openEnded) return;
        if (parseSseEvents(text).length > 0) setImmediate(() => settle('answered'));
        else armIdle();
      });
      res.on('end', () => settle('answered'));
      res.on('error', (error) => settle('closed', error.message));
      res.on('close', () => settle('answered'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle('closed', error.code ?? error.message));
    if (request.body === undefined) {
      req.end();
    } else if (request.chunked) {
      const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
      const half = Math.floor(body.byteLength / 2);
      req.write(body.subarray(0, half));
      req.end(body.subarray(half));
    } else {
      req.end(request.body);
    }
  });
}
