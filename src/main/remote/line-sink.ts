import { Writable } from 'node:stream';

/**
 * The stdin of a remote backend: what the JSON-RPC connection writes, one message per line, handed to
 * `send` line by line (the link POSTs each).
 */
export function lineSink(send: (line: string) => void): Writable {
  let pending = '';
  return new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim()) send(line);
        newline = pending.indexOf('\n');
      }
      done();
    },
  });
}
