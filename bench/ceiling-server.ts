import uWS from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';

/**
 * The ceiling reference of `bench:load`: one thread of uWebSockets.js answering the echo tool itself, no
 * child process, no worker threads, no checks. It speaks just enough of legacy SSE (`/sse`, `/message`)
 * and Streamable HTTP (`/mcp`) for the load generator, so that the gateway's numbers can be read as a
 * fraction of what this machine and this generator can do at all.
 *
 * `node dist/bench/ceiling-server.js PORT`
 */
const port = Number(process.argv[2] ?? 0);

interface Stream {
  res: uWS.HttpResponse;
  open: boolean;
}

const streams = new Map<string, Stream>();
const sessions = new Set<string>();

function echoResult(message: { id?: unknown; params?: { arguments?: { text?: unknown } } }) {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: message.id,
    result: { content: [{ type: 'text', text: String(message.params?.arguments?.text ?? '') }] },
  });
}

function initializeResult(id: unknown, version: unknown) {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    result: {
      protocolVersion: typeof version === 'string' ? version : '2025-11-25',
      capabilities: { tools: {} },
      serverInfo: { name: 'ceiling', version: '1.0.0' },
    },
  });
}

function readJson(res: uWS.HttpResponse, done: (value: Record<string, any>) => void): void {
  let buffer = Buffer.alloc(0);
  res.onAborted(() => {
    (res as { aborted?: boolean }).aborted = true;
  });
  res.onData((chunk, last) => {
    buffer = Buffer.concat([buffer, Buffer.from(chunk)]);
    if (last) done(JSON.parse(buffer.toString('utf8')));
  });
}

const app = uWS.App();
app.get('/sse', (res) => {
  const sid = randomUUID();
  const stream: Stream = { res, open: true };
  streams.set(sid, stream);
  res.onAborted(() => {
    stream.open = false;
    streams.delete(sid);
  });
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'text/event-stream');
    res.write(`event: endpoint\ndata: /message?sessionId=${sid}\n\n`);
  });
});
app.post('/message', (res, req) => {
  const sid = new URLSearchParams(req.getQuery() ?? '').get('sessionId') ?? '';
  readJson(res, (message) => {
    const stream = streams.get(sid);
    if ((res as { aborted?: boolean }).aborted) return;
    res.cork(() => res.writeStatus(stream ? '202 Accepted' : '404 Not Found').end());
    if (stream?.open && 'id' in message) {
      stream.res.cork(() => stream.res.write(`event: message\ndata: ${echoResult(message)}\n\n`));
    }
  });
});
app.post('/mcp', (res, req) => {
  const sid = req.getHeader('mcp-session-id');
  readJson(res, (message) => {
    if ((res as { aborted?: boolean }).aborted) return;
    res.cork(() => {
      if (message.method === 'initialize') {
        const issued = randomUUID();
        sessions.add(issued);
        res
          .writeStatus('200 OK')
          .writeHeader('Content-Type', 'application/json')
          .writeHeader('Mcp-Session-Id', issued)
          .end(initializeResult(message.id, message.params?.protocolVersion));
      } else if (!sessions.has(sid)) {
        res.writeStatus('404 Not Found').end();
      } else if (!('id' in message) || message.method === undefined) {
        res.writeStatus('202 Accepted').end();
      } else {
        res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(echoResult(message));
      }
    });
  });
});
app.get('/mcp', (res, req) => {
  if (!sessions.has(req.getHeader('mcp-session-id'))) {
    res.writeStatus('404 Not Found').end();
    return;
  }
  res.onAborted(() => {});
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', 'text/event-stream');
    res.write(': open\n\n');
  });
});
app.del('/mcp', (res, req) => {
  const existed = sessions.delete(req.getHeader('mcp-session-id'));
  res.writeStatus(existed ? '200 OK' : '404 Not Found').end();
});
app.listen('127.0.0.1', port, (socket) => {
  if (!socket) {
    console.error(`ceiling server: cannot listen on ${port}`);
    process.exit(1);
  }
  console.log(`ceiling server on http://127.0.0.1:${uWS.us_socket_local_port(socket)}`);
});
process.on('SIGTERM', () => {
  app.close();
  process.exit(0);
});
