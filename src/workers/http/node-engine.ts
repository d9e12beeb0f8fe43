import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpEngine, ListenOptions, RequestHandler } from './http-engine.js';
import { HttpExchange, noteMcpParam, type RequestInfo } from './http-exchange.js';

/** Idle keep-alive connections are closed after this long, as uWS does. */
const KEEP_ALIVE_TIMEOUT_MS = 10_000;
const EMPTY = new Uint8Array(0);
const ABSOLUTE_FORM = /^https?:\/\/[^/?]*/i;

/** The headers a route reads, first occurrence of each (as uWS's getHeader), from the raw header list. */
function readRequest(req: IncomingMessage): RequestInfo {
  const info: RequestInfo = {
    method: req.method ?? 'GET',
    path: '',
    rawQuery: '',
    authorization: '',
    origin: '',
    host: '',
    contentType: '',
    accept: '',
    sessionId: '',
    protocolVersion: '',
    lastEventId: '',
    mcpMethod: '',
    mcpName: '',
    contentLength: undefined,
  };
  // An absolute-form target (RFC 9112 3.2.2, sent to proxies and accepted by servers) is routed by its path.
  const url = (req.url ?? '/').replace(ABSOLUTE_FORM, '');
  const query = url.indexOf('?');
  info.path = query < 0 ? url : url.slice(0, query);
  info.rawQuery = query < 0 ? '' : url.slice(query + 1);
  const raw = req.rawHeaders;
  const seen = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    const value = raw[i + 1]!;
    switch (name) {
      case 'authorization':
        info.authorization = value;
        break;
      case 'origin':
        info.origin = value;
        break;
      case 'host':
        info.host = value;
        break;
      case 'content-type':
        info.contentType = value;
        break;
      case 'accept':
        info.accept = value;
        break;
      case 'mcp-session-id':
        info.sessionId = value;
        break;
      case 'mcp-protocol-version':
        info.protocolVersion = value;
        break;
      case 'last-event-id':
        info.lastEventId = value;
        break;
      case 'mcp-method':
        info.mcpMethod = value;
        break;
      case 'mcp-name':
        info.mcpName = value;
        break;
      case 'content-length':
        info.contentLength = value ? Number(value) : undefined;
        break;
      default:
        noteMcpParam(info, name, value);
    }
  }
  return info;
}

/**
 * An exchange over Node's own response. The status line and headers are collected and handed to
 * `writeHead` with the first body bytes, so Node sends them in one write with that first chunk, as uWS
 * does; a complete answer gets a Content-Length instead of chunked encoding.
 */
class NodeExchange extends HttpExchange {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #status = 200;
  #reason = 'OK';
  #headers: string[] = [];
  #headSent = false;

  constructor(req: IncomingMessage, res: ServerResponse, info: RequestInfo) {
    super(info);
    this.#req = req;
    this.#res = res;
    // 'close' comes after a normal end too; only a response that never finished was left by its client.
    res.once('close', () => {
      if (!res.writableFinished) this.clientLeft();
    });
  }

  cork(writes: () => void): void {
    const socket = this.#res.socket;
    if (!socket) {
      writes();
      return;
    }
    socket.cork();
    try {
      writes();
    } finally {
      socket.uncork();
    }
  }

  writeStatus(line: string): void {
    const space = line.indexOf(' ');
    this.#status = Number(space < 0 ? line : line.slice(0, space));
    this.#reason = space < 0 ? '' : line.slice(space + 1);
  }

  writeHeader(name: string, value: string): void {
    this.#headers.push(name, value);
  }

  #writeHead(bodyLength?: number): void {
    if (this.#headSent) return;
    this.#headSent = true;
    // No Content-Length on answers that can have no body (RFC 9110 8.6).
    if (bodyLength !== undefined && this.#status !== 204 && this.#status !== 304)
      this.#headers.push('Content-Length', String(bodyLength));
    this.#res.writeHead(this.#status, this.#reason, this.#headers);
  }

  write(chunk: string): boolean {
    if (this.#res.destroyed) return true;
    this.#writeHead();
    return this.#res.write(chunk);
  }

  end(body = ''): void {
    if (this.#res.destroyed) return;
    this.#writeHead(Buffer.byteLength(body));
    this.#res.end(body);
  }

  endWithoutBody(): void {
    if (this.#res.destroyed) return;
    this.#writeHead();
    this.#res.end();
  }

  close(): void {
    this.#res.destroy();
  }

  /**
   * Node says a body ended only after its last chunk, and a turn later. A body with a Content-Length is
   * complete the moment that many bytes arrived (what follows on the connection is the next request),
   * so its last chunk is handed over at once with `isLast`; otherwise each chunk is held back until the
   * next one or the end. Either way a body in one chunk arrives whole and need not be copied.
   */
  onData(handler: (chunk: Uint8Array, isLast: boolean) => void): void {
    const declared = this.info.contentLength;
    let received = 0;
    let held: Buffer | undefined;
    let done = false;
    this.#req.on('data', (chunk: Buffer) => {
      if (done) return;
      received += chunk.byteLength;
      if (held) handler(held, false);
      held = undefined;
      if (declared !== undefined && received >= declared) {
        done = true;
        handler(chunk, true);
        return;
      }
      held = chunk;
    });
    this.#req.once('end', () => {
      if (done) return;
      done = true;
      const last = held ?? EMPTY;
      held = undefined;
      handler(last, true);
    });
  }

  onWritable(handler: () => boolean): void {
    this.#res.on('drain', () => handler());
  }
}

/**
 * Node's own `node:http`: the engine wherever uWS cannot load. Each worker has its own
 * listener; with `reusePort` they share the port and the kernel spreads connections across them.
 */
export class NodeEngine implements HttpEngine {
  readonly name = 'node' as const;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #closed = false;

  constructor() {
    this.#server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
    // Every connection is tracked so closeAll can end the long-lived streams too.
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  listen(options: ListenOptions, onRequest: RequestHandler): Promise<number> {
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      onRequest(new NodeExchange(req, res, readRequest(req))),
    );
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen({ host: options.host, port: options.port, reusePort: options.reusePort }, () => {
        this.#server.off('error', onError);
        const address = this.#server.address();
        resolve(typeof address === 'object' && address ? address.port : options.port);
      });
    });
  }

  stopListening(): void {
    if (this.#server.listening) this.#server.close();
  }

  closeAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopListening();
    // What was written still goes out (a stream's last event), then the connection ends; a client that
    // reads nothing more loses its socket when the worker thread ends.
    for (const socket of this.#sockets) socket.destroySoon();
    this.#sockets.clear();
  }
}
