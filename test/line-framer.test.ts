import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineFramer } from '../src/main/line-framer.js';

function collect(maxLineBytes?: number) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const framer = new LineFramer(
    { onLine: (l) => lines.push(l.toString('utf8')), onOversize: (n) => oversize.push(n) },
    maxLineBytes,
  );
  return { framer, lines, oversize };
}

describe('LineFramer', () => {
  test('splits several lines in one chunk and skips blank lines', () => {
    const { framer, lines } = collect();
    framer.push(Buffer.from('{"a":1}\n\n{"b":2}\r\n{"c":'));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
    framer.push(Buffer.from('3}\n'));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  test('joins a line split across many chunks, byte by byte, including multi-byte UTF-8', () => {
    const { framer, lines } = collect();
    const text = '{"text":"héllo wörld ✓ 🎉"}';
    const bytes = Buffer.from(`${text}\n`);
    for (const byte of bytes) framer.push(Buffer.from([byte]));
    assert.deepEqual(lines, [text]);
  });

  test('carries a multi-megabyte message in 64 KiB chunks intact', () => {
    const { framer, lines } = collect();
    const big = 'x'.repeat(5 * 1024 * 1024);
    const bytes = Buffer.from(`${big}\nnext\n`);
    for (let i = 0; i < bytes.length; i += 65536) framer.push(bytes.subarray(i, i + 65536));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.length, big.length);
    assert.equal(lines[1], 'next');
  });

  test('drops an oversize line whole, reports it, and keeps going', () => {
    const { framer, lines, oversize } = collect(16);
    framer.push(Buffer.from('short\n0123456789'));
    framer.push(Buffer.from('0123456789abcdef'));
    framer.push(Buffer.from('tail\nafter\n'));
    assert.deepEqual(lines, ['short', 'after']);
    assert.deepEqual(oversize, [30]);
    assert.equal(framer.bufferedBytes, 0);
  });

  test('an oversize line inside one chunk is dropped too', () => {
    const { framer, lines, oversize } = collect(4);
    framer.push(Buffer.from('abcdefgh\nok\n'));
    assert.deepEqual(lines, ['ok']);
    assert.deepEqual(oversize, [8]);
  });
});
