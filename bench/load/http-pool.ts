import { ConnectGate } from './connect-gate.js';
import { type ConnectionHome, HttpConnection } from './http-connection.js';

/** New connections waiting for the server's first byte, at most (see ConnectGate). */
const CONNECTING_AT_ONCE = 64;

/**
 * Keep-alive connections to one origin, as a free list. A session takes a connection for one request
 * and gives it back, so idle sessions hold none and N sessions with one call each in flight share about
 * N connections. SSE streams get dedicated connections that never enter the list.
 */
export class HttpPool implements ConnectionHome {
  readonly host: string;
  readonly port: number;
  readonly #free: HttpConnection[] = [];
  readonly #gate = new ConnectGate(CONNECTING_AT_ONCE);

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** Last released first: the connection most likely still warm in every cache. */
  acquire(): HttpConnection {
    return this.#free.pop() ?? new HttpConnection(this.host, this.port, this, this.#gate);
  }

  dedicated(): HttpConnection {
    return new HttpConnection(this.host, this.port, undefined, this.#gate);
  }

  release(connection: HttpConnection): void {
    this.#free.push(connection);
  }

  /** A connection closed (by the server, typically an idle timeout): it must not be handed out. */
  forget(connection: HttpConnection): void {
    const at = this.#free.lastIndexOf(connection);
    if (at !== -1) this.#free.splice(at, 1);
  }
}

const pools = new Map<string, HttpPool>();

/** The pool of an `http://host:port` origin, shared by every session of the process. */
export function poolFor(origin: string): HttpPool {
  let pool = pools.get(origin);
  if (!pool) {
    const url = new URL(origin);
    if (url.protocol !== 'http:')
      throw new Error(`the load generator speaks plain http, not ${url.protocol}`);
    pool = new HttpPool(url.hostname, Number(url.port || 80));
    pools.set(origin, pool);
  }
  return pool;
}
