import { LineFramer } from '../src/main/line-framer.js';
import type { MicroCase } from './micro-harness.js';

const PIPE_CHUNK_BYTES = 64 * 1024;

/** Messages of `size` bytes as a backend would write them, cut into pipe-sized chunks. */
function stream(size: number, count: number): Buffer[] {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: '' } });
  const pad = 'x'.repeat(Math.max(0, size - body.length));
  const line = `${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: pad } })}\n`;
  const all = Buffer.from(line.repeat(count));
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += PIPE_CHUNK_BYTES) chunks.push(all.subarray(i, i + PIPE_CHUNK_BYTES));
  return chunks;
}

function framerCase(label: string, size: number, count: number): MicroCase {
  const chunks = stream(size, count);
  let lines = 0;
  let bytes = 0;
  const framer = new LineFramer({
    onLine: (line) => {
      lines += 1;
      bytes += line.length;
    },
  });
  const run = () => {
    for (const chunk of chunks) framer.push(chunk);
  };
  return {
    group: 'stdout line framing',
    name: `${label} messages`,
    unit: 'msg',
    unitsPerRun: count,
    verify() {
      lines = 0;
      bytes = 0;
      run();
      const expectedBytes = chunks.reduce((n, c) => n + c.length, 0) - count;
      if (lines !== count || bytes !== expectedBytes) {
        throw new Error(`framer verify failed: ${lines}/${count} lines, ${bytes}/${expectedBytes} bytes`);
      }
    },
    run,
  };
}

export const cases: MicroCase[] = [
  framerCase('100 B', 100, 1000),
  framerCase('10 KB', 10 * 1024, 100),
  framerCase('1 MB', 1024 * 1024, 4),
];
