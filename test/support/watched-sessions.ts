import { randomUUID } from 'node:crypto';
import { parseSseEvents } from './http-probe.js';
import { openRawSse, type RawSse } from './raw-sse.js';

/**
 * A real client session that keeps calling the echo tool with its own secret marker while something
 * else (a fuzzer) hammers the gateway, and records anything wrong: a call not answered, an answer with
 * another id or text, any message on its stream that does not answer one of its own requests. Its
 * ids (1, "2", 3, ...) deliberately collide with the small ids a fuzzer sends.
 */
export interface WatchedSession {
  readonly name: string;
  readonly sid: string;
  /** In every echo this session asks for; must never appear in anyone else's answer. */
  readonly marker: string;
  /** Event ids its own streams carried (Streamable HTTP), for forging Last-Event-ID elsewhere. */
  readonly eventIds: readonly string[];
  /** Calls made and checked so far. */
  readonly calls: number;
  /** Everything that went wrong, in words; empty when all is well. */
  readonly violations: string[];
  /** Starts calling in a loop (one call at a time, a few ms apart). */
  start(): void;
  /** Stops the loop after the call in flight, then checks everything its stream carried. */
  stop(): Promise<void>;
  /** One checked call outside the loop (for "still alive afterwards"). */
  callOnce(): Promise<void>;
  close(): Promise<void>;
}

const JSON_POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const CALL_TIMEOUT_MS = 5000;

function echoCall(id: number | string, text: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text } },
  });
}

/** The text of an echo result, or undefined when the message is not one. */
function echoText(message: Record<string, unknown>): unknown {
  const result = message.result as { content?: Array<{ text?: unknown }> } | undefined;
  return result?.content?.[0]?.text;
}

function parse(data: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(data) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Shared bookkeeping: which ids were asked, with which text, and which came back. */
class Ledger {
  readonly issued = new Map<string, string>();
  readonly answered = new Set<string>();
  readonly violations: string[] = [];
  calls = 0;
  #n = 0;

  constructor(
    readonly name: string,
    readonly marker: string,
  ) {}

  next(): { id: number | string; key: string; text: string } {
    this.#n += 1;
    const id = this.#n % 2 === 1 ? this.#n : String(this.#n);
    const key = JSON.stringify(id);
    const text = `${this.marker}:${this.#n}`;
    this.issued.set(key, text);
    return { id, key, text };
  }

  /** Checks one message that arrived for this session: it must answer one of its own requests, once. */
  check(message: Record<string, unknown> | undefined, where: string): void {
    const raw = JSON.stringify(message)?.slice(0, 300);
    if (!message || !('id' in message) || 'method' in message) {
      this.violations.push(`${this.name}: ${where} carried a message that answers nothing it asked: ${raw}`);
      return;
    }
    const key = JSON.stringify(message.id);
    const expected = this.issued.get(key);
    if (expected === undefined) {
      this.violations.push(
        `${this.name}: ${where} carried an answer to id ${key}, which it never sent: ${raw}`,
      );
    } else if (echoText(message) !== expected) {
      this.violations.push(`${this.name}: ${where} answer to ${key} is not its own echo: ${raw}`);
    } else if (this.answered.has(key)) {
      this.violations.push(`${this.name}: ${where} answered ${key} twice`);
    }
    this.answered.add(key);
  }
}

abstract class LoopingSession {
  protected stopped = false;
  #loop: Promise<void> | undefined;

  abstract callOnce(): Promise<void>;

  start(): void {
    this.stopped = false;
    this.#loop = (async () => {
      while (!this.stopped) {
        await this.callOnce();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
  }

  async stopLoop(): Promise<void> {
    this.stopped = true;
    await this.#loop;
  }
}

/** A legacy SSE session on `GET /sse`: answers arrive as `message` events on its stream. */
class WatchedLegacySession extends LoopingSession implements WatchedSession {
  readonly eventIds: string[] = [];
  readonly #ledger: Ledger;
  readonly #sse: RawSse;
  readonly #messagesUrl: string;
  readonly #headers: Record<string, string>;
  #ended = false;

  constructor(ledger: Ledger, sse: RawSse, messagesUrl: string, headers: Record<string, string>) {
    super();
    this.#ledger = ledger;
    this.#sse = sse;
    this.#messagesUrl = messagesUrl;
    this.#headers = headers;
    void sse.ended.then(() => {
      this.#ended = true;
    });
  }

  get name() {
    return this.#ledger.name;
  }
  get marker() {
    return this.#ledger.marker;
  }
  get sid() {
    return new URL(this.#messagesUrl).searchParams.get('sessionId') ?? '';
  }
  get calls() {
    return this.#ledger.calls;
  }
  get violations() {
    return this.#ledger.violations;
  }

  async callOnce(): Promise<void> {
    const { id, key, text } = this.#ledger.next();
    const response = await fetch(this.#messagesUrl, {
      method: 'POST',
      headers: { ...this.#headers, ...JSON_POST },
      body: echoCall(id, text),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    }).catch((error: Error) => error);
    if (response instanceof Error) {
      this.violations.push(`${this.name}: call ${key} failed: ${response.message}`);
      return;
    }
    const body = await response.text();
    this.#ledger.calls += 1;
    if (response.status !== 202) {
      this.violations.push(`${this.name}: POST of call ${key} got ${response.status} ${body.slice(0, 200)}`);
      return;
    }
    try {
      await this.#sse.next(
        (e) => e.event === 'message' && JSON.stringify(parse(e.data)?.id) === key,
        CALL_TIMEOUT_MS,
      );
    } catch {
      this.violations.push(
        `${this.name}: call ${key} was not answered on the stream within ${CALL_TIMEOUT_MS} ms`,
      );
    }
  }

  async stop(): Promise<void> {
    await this.stopLoop();
    if (this.#ended) this.violations.push(`${this.name}: its stream ended`);
    for (const event of this.#sse.events) {
      if (event.event === 'endpoint' || event.event === 'server-status') continue;
      if (event.event !== 'message') {
        this.violations.push(`${this.name}: unexpected event ${event.event}: ${event.data.slice(0, 200)}`);
        continue;
      }
      this.#ledger.check(parse(event.data), 'its stream');
    }
  }

  async close(): Promise<void> {
    this.#sse.close();
  }
}

/** A Streamable HTTP session on `POST /mcp` with its GET stream open (which must stay quiet). */
class WatchedStreamableSession extends LoopingSession implements WatchedSession {
  readonly #postEventIds: string[] = [];
  /** Ids it was given: on its POST streams (a quick answer comes as JSON, without any) and its GET stream. */
  get eventIds(): readonly string[] {
    return [...this.#postEventIds, ...this.#stream.events.flatMap((event) => (event.id ? [event.id] : []))];
  }
  readonly sid: string;
  readonly #ledger: Ledger;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #stream: RawSse;
  #ended = false;

  constructor(ledger: Ledger, url: string, sid: string, headers: Record<string, string>, stream: RawSse) {
    super();
    this.#ledger = ledger;
    this.#url = url;
    this.sid = sid;
    this.#headers = headers;
    this.#stream = stream;
    void stream.ended.then(() => {
      this.#ended = true;
    });
  }

  get name() {
    return this.#ledger.name;
  }
  get marker() {
    return this.#ledger.marker;
  }
  get calls() {
    return this.#ledger.calls;
  }
  get violations() {
    return this.#ledger.violations;
  }

  async callOnce(): Promise<void> {
    const { id, key, text } = this.#ledger.next();
    const response = await fetch(this.#url, {
      method: 'POST',
      headers: { ...this.#headers, ...JSON_POST, 'mcp-session-id': this.sid },
      body: echoCall(id, text),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    }).catch((error: Error) => error);
    if (response instanceof Error) {
      this.violations.push(`${this.name}: call ${key} failed: ${response.message}`);
      return;
    }
    const body = await response.text();
    this.#ledger.calls += 1;
    if (response.status !== 200) {
      this.violations.push(`${this.name}: call ${key} got ${response.status} ${body.slice(0, 200)}`);
      return;
    }
    const isSse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const messages: string[] = [];
    if (isSse) {
      for (const event of parseSseEvents(body)) {
        if (event.id) this.#postEventIds.push(event.id);
        if (event.data !== '') messages.push(event.data);
      }
    } else {
      messages.push(body);
    }
    if (!messages.some((m) => JSON.stringify(parse(m)?.id) === key))
      this.violations.push(`${this.name}: call ${key} got no answer to itself: ${body.slice(0, 300)}`);
    for (const message of messages) this.#ledger.check(parse(message), 'its POST stream');
  }

  async stop(): Promise<void> {
    await this.stopLoop();
    if (this.#ended) this.violations.push(`${this.name}: its GET stream ended`);
    for (const event of this.#stream.events) {
      // Only priming events (an id and empty data) belong here: nothing was sent to this stream.
      if (event.data !== '')
        this.violations.push(
          `${this.name}: its GET stream carried ${event.event}: ${event.data.slice(0, 300)}`,
        );
    }
  }

  async close(): Promise<void> {
    this.#stream.close();
    await fetch(this.#url, {
      method: 'DELETE',
      headers: { ...this.#headers, 'mcp-session-id': this.sid },
    }).then(
      (r) => r.text(),
      () => '',
    );
  }
}

/** Opens `GET <baseUrl>/sse` and waits for its endpoint event. */
export async function watchLegacySession(
  baseUrl: string,
  headers: Record<string, string>,
): Promise<WatchedSession> {
  const ledger = new Ledger('legacy /sse session', `secret-legacy-${randomUUID()}`);
  const sse = await openRawSse(`${baseUrl}/sse`, headers);
  if (sse.status !== 200) throw new Error(`GET /sse: ${sse.status}`);
  const endpoint = await sse.next((e) => e.event === 'endpoint');
  return new WatchedLegacySession(ledger, sse, new URL(endpoint.data, baseUrl).href, headers);
}

/** Initializes at protocol 2025-11-25 (event ids, priming, replay) and opens the session's GET stream. */
export async function watchStreamableSession(
  baseUrl: string,
  headers: Record<string, string>,
): Promise<WatchedSession> {
  const ledger = new Ledger('Streamable HTTP /mcp session', `secret-streamable-${randomUUID()}`);
  const url = `${baseUrl}/mcp`;
  const init = await fetch(url, {
    method: 'POST',
    headers: { ...headers, ...JSON_POST },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'watched', version: '1' },
      },
    }),
  });
  await init.text();
  const sid = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !sid) throw new Error(`initialize: ${init.status}, session ${sid}`);
  const sessionHeaders = { ...headers, 'mcp-session-id': sid };
  const initialized = await fetch(url, {
    method: 'POST',
    headers: { ...sessionHeaders, ...JSON_POST },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  if (initialized.status !== 202) throw new Error(`notifications/initialized: ${initialized.status}`);
  const stream = await openRawSse(url, sessionHeaders);
  if (stream.status !== 200) throw new Error(`GET /mcp: ${stream.status}`);
  return new WatchedStreamableSession(ledger, url, sid, headers, stream);
}
