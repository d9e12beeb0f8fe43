import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a `requestState` the gateway hands out says; the client gets it sealed and echoes it unread. */
export interface RequestStatePayload {
  /** The gateway instance holding the backend call: a later cluster routes a retry there by it. */
  i: string;
  /** The waiting call, within that instance. */
  c: string;
  /** The round: each answer moves the call on, so a state is good for one retry only. */
  r: number;
  /** Expiry, in ms since the epoch. */
  e: number;
  /** Digest of the original request (method, name or uri, arguments): a retry must be the same request. */
  b: string;
  /** Digest of the caller's credentials (empty without auth): another caller cannot continue the call. */
  p: string;
  /**
   * Set when the state wraps a 2026-07-28 backend's own `requestState`: that backend holds no call (it is
   * stateless), so the retry is forwarded as a new request carrying this inner state.
   */
  s?: string;
}

export type StateCheck = { ok: true; payload: RequestStatePayload } | { ok: false; why: string };

/**
 * Seals and opens multi-round-trip `requestState` values: HMAC-SHA256 over the payload with a key that
 * never leaves this process. The state carries no credential, only digests, and is useless elsewhere.
 */
export class RequestStateCodec {
  readonly instance: string;
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32), instance = randomBytes(6).toString('base64url')) {
    this.#key = key;
    this.instance = instance;
  }

  seal(payload: RequestStatePayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  open(state: unknown, now = Date.now()): StateCheck {
    if (typeof state !== 'string') return { ok: false, why: 'requestState must be a string' };
    const dot = state.indexOf('.');
    if (dot <= 0) return { ok: false, why: 'requestState was not issued by this gateway' };
    const body = state.slice(0, dot);
    const mac = Buffer.from(state.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#mac(body), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
      return { ok: false, why: 'requestState was not issued by this gateway (its signature does not match)' };
    let payload: RequestStatePayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as RequestStatePayload;
    } catch {
      return { ok: false, why: 'requestState is malformed' };
    }
    if (payload.i !== this.instance)
      return { ok: false, why: 'requestState belongs to another gateway instance' };
    if (payload.e < now)
      return { ok: false, why: 'requestState has expired; send the request again without it' };
    return { ok: true, payload };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}

/** A short digest of a value's canonical JSON (object keys sorted), for binding a state to a request. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 22);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
