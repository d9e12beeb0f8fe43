import { createConnection } from 'node:net';

/**
 * Bytes straight onto a TCP socket, for requests no HTTP client will send: CR/LF inside header values,
 * header lines of 64 KiB, broken request lines, smuggling-shaped framing, pipelined requests.
 */
export interface RawExchange {
  /** Every byte the server sent, as latin1 (so no byte is lost to decoding). */
  text: string;
  /** The status of every response found in `text`, in order (pipelined requests get several). */
  statuses: number[];
  /** The server closed (or reset) the connection. */
  closed: boolean;
  /** The server kept the connection open and silent until the probe gave up (waiting for more bytes). */
  silent: boolean;
}

const STATUS_LINE = /(?:^|\r\n)HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g;

/**
 * Finds each response's status by walking the framing (Content-Length, chunked, or an event stream
 * cut off), so a status-like string inside a body is never counted.
 */
export function responseStatuses(text: string): number[] {
  const statuses: number[] = [];
  let at = 0;
  while (at < text.length) {
    STATUS_LINE.lastIndex = at;
    const match = STATUS_LINE.exec(text);
    if (!match || match.index > at + 2) break;
    statuses.push(Number(match[1]));
    const headEnd = text.indexOf('\r\n\r\n', match.index);
    if (headEnd === -1) break;
    const head = text.slice(match.index, headEnd).toLowerCase();
    let next = headEnd + 4;
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    if (length) next += Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/.test(head)) {
      const end = text.indexOf('\r\n0\r\n\r\n', next - 2);
      if (end === -1) break;
      next = end + 7;
    } else break; // no framing: the body runs to the end of the connection
    at = next;
  }
  return statuses;
}

export function rawExchange(
  port: number,
  bytes: Uint8Array,
  options: { quietMs?: number; timeoutMs?: number } = {},
): Promise<RawExchange> {
  const quietMs = options.quietMs ?? 150;
  const timeoutMs = options.timeoutMs ?? 1500;
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (silent: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(overall);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ text, statuses: responseStatuses(text), closed, silent });
    };
    const overall = setTimeout(() => finish(chunks.length === 0), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(false), quietMs);
    });
    socket.on('error', () => {
      closed = true;
      finish(false);
    });
    socket.on('close', () => {
      closed = true;
      finish(false);
    });
    // Not end(): a half-closed connection may be dropped before it is answered. A server that closes
    // before reading everything makes the write fail; that is an answer, not an error.
    socket.on('connect', () => socket.write(bytes));
  });
}
