import { connect, type Socket } from 'node:net';
import type { ConnectGate } from './connect-gate.js';
import { type ResponseListener, ResponseParser } from './response-parser.js';

/** One request's side of a connection: its response as it is parsed, then how it ended. */
export interface Exchange extends ResponseListener {
  /** The response is complete; the connection is already back in its pool (or closed). */
  onEnd(): void;
  /** No complete response: refused, reset, closed mid-response, malformed, or aborted by us. */
  onFail(error: Error): void;
}

/** Where a keep-alive connection goes back once its response is complete. */
export interface ConnectionHome {
  release(connection: HttpConnection): void;
  forget(connection: HttpConnection): void;
}

/**
 * Every socket reads into this one buffer (`onread`): reads run one at a time on the event loop and each
 * is parsed before the next, so one buffer serves thousands of sockets, and a read costs no allocation
 * and no trip through the stream machinery. Whatever must outlive a read is copied out by the parsers.
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A minimal HTTP/1.1 client connection: keep-alive, one request at a time, each request written as one
 * pre-assembled string. Failures of any kind end the exchange with `onFail`, never with a throw.
 */
export class HttpConnection {
  #socket: Socket | undefined;
  readonly #parser = new ResponseParser();
  readonly #home: ConnectionHome | undefined;
  readonly #gate: ConnectGate;
  /** Holding a place in the gate: connecting, or connected but nothing read yet. */
  #gated = false;
  /** A request made before the gate let the connection open. */
  #unsent: string | undefined;
  #exchange: Exchange | undefined;
  #alive = true;
  /** The socket's error (ECONNREFUSED, ECONNRESET...), which the exchange's failure reports. */
  #error: Error | undefined;

  /** `home` undefined: a dedicated connection (an SSE stream), closed when its response ends. */
  constructor(host: string, port: number, home: ConnectionHome | undefined, gate: ConnectGate) {
    this.#home = home;
    this.#gate = gate;
    gate.enter(() => this.#open(host, port));
  }

  #open(host: string, port: number): void {
    if (!this.#alive) {
      this.#gate.leave(); // destroyed while it waited for its turn
      return;
    }
    this.#gated = true;
    const socket = connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: readBuffer, callback: (bytes) => this.#read(bytes) },
    });
    socket.setNoDelay(true);
    socket.on('error', (error) => {
      this.#error = error; // 'close' follows and fails the exchange
    });
    // A server closing an idle keep-alive connection: out of the free list before 'close' arrives.
    socket.on('end', () => this.#home?.forget(this));
    socket.on('close', () => this.#closed());
    this.#socket = socket;
    if (this.#unsent !== undefined) socket.write(this.#unsent); // Node queues it until connected
    this.#unsent = undefined;
  }

  /** Sends a request, or keeps it until the gate lets the connection open. */
  request(text: string, exchange: Exchange): void {
    if (!this.#alive || this.#exchange) throw new Error('connection not free');
    this.#exchange = exchange;
    this.#parser.reset(exchange);
    if (this.#socket) this.#socket.write(text);
    else this.#unsent = text;
  }

  /** Drops the connection; an exchange in progress fails. */
  destroy(): void {
    if (!this.#alive) return;
    this.#alive = false;
    if (this.#socket) this.#socket.destroy();
    else this.#closed(); // never opened: no socket will say 'close'
  }

  #read(bytes: number): boolean {
    if (this.#gated) this.#admitted();
    const exchange = this.#exchange;
    if (!exchange) {
      this.destroy(); // bytes nobody asked for: the connection cannot be trusted any more
      return false;
    }
    let used: number;
    try {
      used = this.#parser.feed(readBuffer, 0, bytes);
    } catch (error) {
      this.destroy();
      this.#fail(error as Error);
      return false;
    }
    if (!this.#parser.complete) return true;
    this.#exchange = undefined;
    if (used < bytes || this.#parser.head.closes || !this.#home) this.destroy();
    else this.#home.release(this);
    exchange.onEnd();
    return true;
  }

  #fail(error: Error): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    exchange?.onFail(error);
  }

  #admitted(): void {
    this.#gated = false;
    this.#gate.leave();
  }

  #closed(): void {
    if (this.#gated) this.#admitted();
    this.#alive = false;
    this.#home?.forget(this);
    const exchange = this.#exchange;
    if (!exchange) return;
    this.#exchange = undefined;
    if (this.#parser.finishAtClose()) exchange.onEnd();
    else exchange.onFail(this.#error ?? new Error('connection closed before the response was complete'));
  }
}
