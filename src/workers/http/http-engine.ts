import type { HttpEngineName } from '../../shared/worker-options.js';
import type { HttpExchange } from './http-exchange.js';

export type { HttpEngineName };

/** Called once per request with the engine's exchange; the routes above take it from there. */
export type RequestHandler = (exchange: HttpExchange) => void;

export interface ListenOptions {
  host: string;
  port: number;
  /**
   * Share the port with the other workers' listeners (SO_REUSEPORT). uWS always does; Node's own
   * listener can from 22.12 and 23.1 on, and the main thread only starts several workers on it there.
   */
  reusePort: boolean;
}

/**
 * The HTTP engine boundary: everything a worker does with sockets goes through this and
 * {@link HttpExchange}. The worker holds an engine and never learns which one runs, so the routes,
 * streams and guards are the same code on both.
 */
export interface HttpEngine {
  readonly name: HttpEngineName;
  /** Opens the listen socket and serves every request to `onRequest`; resolves with the bound port. */
  listen(options: ListenOptions, onRequest: RequestHandler): Promise<number>;
  /** Stops accepting connections; open ones carry on. */
  stopListening(): void;
  /** Closes every socket, open streams included. Safe to call more than once. */
  closeAll(): void;
}

/**
 * Loads the named engine. Each lives in a module of its own and is imported only here, so a worker on
 * the Node engine never loads the uWS native binary (which may not load at all on this system).
 */
export async function loadHttpEngine(name: HttpEngineName): Promise<HttpEngine> {
  if (name === 'uws') {
    const { UwsEngine } = await import('./uws-engine.js');
    return new UwsEngine();
  }
  const { NodeEngine } = await import('./node-engine.js');
  return new NodeEngine();
}
