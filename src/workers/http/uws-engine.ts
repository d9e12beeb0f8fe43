import uWS from 'uWebSockets.js';
import type { HttpEngine, ListenOptions, RequestHandler } from './http-engine.js';
import { HttpExchange, noteMcpParam, type RequestInfo } from './http-exchange.js';

function readRequest(req: uWS.HttpRequest): RequestInfo {
  const length = req.getHeader('content-length');
  const info: RequestInfo = {
    method: req.getCaseSensitiveMethod().toUpperCase(),
    path: req.getUrl(),
    rawQuery: req.getQuery() ?? '',
    authorization: req.getHeader('authorization'),
    origin: req.getHeader('origin'),
    host: req.getHeader('host'),
    contentType: req.getHeader('content-type'),
    accept: req.getHeader('accept'),
    sessionId: req.getHeader('mcp-session-id'),
    protocolVersion: req.getHeader('mcp-protocol-version'),
    lastEventId: req.getHeader('last-event-id'),
    mcpMethod: req.getHeader('mcp-method'),
    mcpName: req.getHeader('mcp-name'),
    contentLength: length ? Number(length) : undefined,
  };
  // Only a tool call mirrors parameters into headers; other requests skip the walk over every header.
  if (info.mcpMethod === 'tools/call')
    req.forEach((name, value) => {
      noteMcpParam(info, name, value);
    });
  return info;
}

/**
 * An exchange over a uWS response. uWS forbids touching a response after it was aborted and wants every
 * write outside its own callbacks corked; {@link HttpExchange} keeps track of the first, `cork` is the
 * second.
 */
class UwsExchange extends HttpExchange {
  readonly #res: uWS.HttpResponse;

  constructor(res: uWS.HttpResponse, info: RequestInfo) {
    super(info);
    this.#res = res;
    res.onAborted(() => this.clientLeft());
  }

  cork(writes: () => void): void {
    this.#res.cork(writes);
  }

  writeStatus(line: string): void {
    this.#res.writeStatus(line);
  }

  writeHeader(name: string, value: string): void {
    this.#res.writeHeader(name, value);
  }

  write(chunk: string): boolean {
    return this.#res.write(chunk);
  }

  end(body = ''): void {
    this.#res.end(body);
  }

  endWithoutBody(): void {
    this.#res.endWithoutBody();
  }

  close(): void {
    this.#res.close();
  }

  onData(handler: (chunk: Uint8Array, isLast: boolean) => void): void {
    this.#res.onData((chunk, isLast) => handler(new Uint8Array(chunk), isLast));
  }

  onWritable(handler: () => boolean): void {
    this.#res.onWritable(() => handler());
  }
}

/**
 * uWebSockets.js: the fast path, where its native binary loads (it is built per Node ABI and needs a
 * recent enough glibc). Routing stays ours (`route-table.ts`), so uWS sees one catch-all handler.
 */
export class UwsEngine implements HttpEngine {
  readonly name = 'uws' as const;
  readonly #app = uWS.App();
  #listenSocket: uWS.us_listen_socket | false = false;
  #closed = false;

  listen(options: ListenOptions, onRequest: RequestHandler): Promise<number> {
    // uWS sets SO_REUSEPORT on every listen socket; options.reusePort changes nothing here.
    this.#app.any('/*', (res, req) => onRequest(new UwsExchange(res, readRequest(req))));
    return new Promise((resolve, reject) => {
      this.#app.listen(options.host, options.port, (socket) => {
        if (!socket) {
          reject(new Error(`could not listen on ${options.host}:${options.port}`));
          return;
        }
        this.#listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
      });
    });
  }

  stopListening(): void {
    if (this.#listenSocket) uWS.us_listen_socket_close(this.#listenSocket);
    this.#listenSocket = false;
  }

  closeAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopListening();
    this.#app.close();
  }
}
