import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChunkedDecoder } from '../bench/load/chunked-decoder.js';
import { type ResponseHead, type ResponseListener, ResponseParser } from '../bench/load/response-parser.js';
import { SseParser } from '../bench/load/sse-parser.js';

/**
 * The load generator's parsers read from one buffer that every socket read overwrites. These feed them
 * the same way: each piece is copied into a reused buffer whose bytes past the piece are stale garbage
 * full of delimiters, so a parser that looks past its range or keeps a range too long fails here.
 */
const STALE = Buffer.from('\r\n\r\n0\r\n\r\ndata: stale\n\n:\r\n', 'latin1');
const shared = Buffer.alloc(4096);

function feedPieces(
  bytes: Buffer,
  cuts: number[],
  feed: (buffer: Buffer, start: number, end: number) => void,
) {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const offset = 7; // pieces never start at 0, as after a previous response in the same read
    for (let i = 0; i < shared.length; i += STALE.length) STALE.copy(shared, i);
    bytes.copy(shared, offset, from, cut);
    feed(shared, offset, offset + (cut - from));
    from = cut;
  }
}

/** Every way to cut the bytes once, plus byte by byte. */
function cutsOf(length: number): number[][] {
  const all: number[][] = [[]];
  for (let i = 1; i < length; i++) all.push([i]);
  all.push(Array.from({ length: length - 1 }, (_, i) => i + 1));
  return all;
}

function recorder(whole: boolean) {
  const seen = { heads: [] as ResponseHead[], bodies: [] as string[] };
  const listener: ResponseListener = {
    onHead: (head) => {
      seen.heads.push({ ...head });
      return whole;
    },
    onBody: (buffer, start, end) => {
      seen.bodies.push(buffer.toString('utf8', start, end));
    },
  };
  return { seen, listener };
}

describe('ResponseParser', () => {
  const json = '{"jsonrpc":"2.0","id":1,"result":{"text":"héllo ✓"}}';
  const byLength = Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-TYPE: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nMcp-Session-Id:  abc-1 \r\nX-Other: 1\r\n\r\n${json}`,
  );

  test('a Content-Length body cut anywhere comes whole, in one piece', () => {
    for (const cuts of cutsOf(byLength.length)) {
      const parser = new ResponseParser();
      const { seen, listener } = recorder(true);
      parser.reset(listener);
      feedPieces(byLength, cuts, (b, s, e) => assert.equal(parser.feed(b, s, e), e));
      assert.ok(parser.complete, `cuts ${cuts}`);
      assert.deepEqual(seen.bodies, [json], `cuts ${cuts}`);
      assert.deepEqual(seen.heads, [
        { status: 200, contentType: 'application/json', sessionId: 'abc-1', closes: false },
      ]);
    }
  });

  const events = 'event: message\ndata: {"id":1}\n\n: keep-alive\n\ndata: {"id":2}\n\n';
  const chunks = ['event: mess', 'age\ndata: {"id":1}\n\n: keep-alive\n', '\ndata: {"id":2}\n\n'];
  // Upper-case hex sizes (0x1A) and a chunk extension, as a server may send them.
  const framed = chunks.map(
    (c, i) => `${Buffer.byteLength(c).toString(16).toUpperCase()}${i === 2 ? ';ext=1' : ''}\r\n${c}\r\n`,
  );
  const chunked = Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n${framed.join('')}0\r\nX-Trailer: yes\r\n\r\n`,
  );

  test('a chunked body cut anywhere (size lines, CRLFs, trailer) streams its decoded bytes', () => {
    for (const cuts of cutsOf(chunked.length)) {
      const parser = new ResponseParser();
      const { seen, listener } = recorder(false);
      parser.reset(listener);
      feedPieces(chunked, cuts, (b, s, e) => parser.feed(b, s, e));
      assert.ok(parser.complete, `cuts ${cuts}`);
      assert.equal(seen.bodies.join(''), events, `cuts ${cuts}`);
    }
  });

  test('a chunked body asked for whole arrives once', () => {
    for (const cuts of cutsOf(chunked.length)) {
      const parser = new ResponseParser();
      const { seen, listener } = recorder(true);
      parser.reset(listener);
      feedPieces(chunked, cuts, (b, s, e) => parser.feed(b, s, e));
      assert.deepEqual(seen.bodies, [events], `cuts ${cuts}`);
    }
  });

  test('stops at the end of the response and says where', () => {
    const parser = new ResponseParser();
    const { listener } = recorder(true);
    parser.reset(listener);
    const bytes = Buffer.concat([byLength, Buffer.from('HTTP/1.1 200 OK\r\n')]);
    assert.equal(parser.feed(bytes, 0, bytes.length), byLength.length);
    assert.ok(parser.complete);
  });

  test('skips an interim 100 response; no body for 204; a body without length ends with the connection', () => {
    const parser = new ResponseParser();
    const { seen, listener } = recorder(false);
    parser.reset(listener);
    const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
    parser.feed(interim, 0, interim.length);
    assert.ok(parser.complete);
    assert.deepEqual(
      seen.heads.map((h) => h.status),
      [204],
    );
    const { seen: seen2, listener: listener2 } = recorder(true);
    parser.reset(listener2);
    const untilClose = Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it');
    parser.feed(untilClose, 0, untilClose.length);
    assert.ok(!parser.complete);
    assert.ok(parser.finishAtClose());
    assert.deepEqual(seen2.bodies, ['all of it']);
    assert.equal(seen2.heads[0]?.closes, true);
  });

  test('a response cut before its end is not complete at close', () => {
    const parser = new ResponseParser();
    const { listener } = recorder(true);
    parser.reset(listener);
    parser.feed(byLength, 0, byLength.length - 3);
    assert.ok(!parser.finishAtClose());
  });

  test('rejects malformed framing', () => {
    const bad = (text: string) => {
      const parser = new ResponseParser();
      parser.reset(recorder(false).listener);
      const bytes = Buffer.from(text);
      assert.throws(() => parser.feed(bytes, 0, bytes.length), text);
    };
    bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX');
    bad('HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n');
    bad('SSH-2.0-OpenSSH\r\n\r\n');
  });
});

describe('ChunkedDecoder', () => {
  test('passes data on without copying and reports the end', () => {
    const decoder = new ChunkedDecoder();
    const bytes = Buffer.from('3\r\nabc\r\n0\r\n\r\nNEXT');
    const ranges: Array<[number, number]> = [];
    const at = decoder.feed(bytes, 0, bytes.length, { onBody: (_b, s, e) => ranges.push([s, e]) });
    assert.deepEqual(ranges, [[3, 6]]);
    assert.equal(bytes.toString('latin1', at), 'NEXT');
    assert.ok(decoder.done);
  });
});

describe('SseParser', () => {
  const stream = Buffer.from(
    ': comment\r\nevent: endpoint\r\ndata: /message?sessionId=1\r\n\r\nid: 7\ndata: line one\ndata:line two ✓\n\n' +
      'event: custom\ndata\n\nretry: 10\nunknown: x\n\ndata: {"id":3}\r\n\r\n',
  );
  const expected = [
    ['endpoint', '/message?sessionId=1', ''],
    ['message', 'line one\nline two ✓', '7'],
    ['custom', '', '7'],
    ['message', '{"id":3}', '7'],
  ];

  test('gives the same events however the stream is cut (CRLF and UTF-8 sequences included)', () => {
    for (const cuts of cutsOf(stream.length)) {
      const seen: string[][] = [];
      const parser = new SseParser({ onEvent: (type, data, id) => seen.push([type, data, id]) });
      feedPieces(stream, cuts, (b, s, e) => parser.feed(b, s, e));
      assert.deepEqual(seen, expected, `cuts ${cuts}`);
    }
  });

  test('cut twice anywhere', () => {
    for (let i = 1; i < stream.length; i += 3) {
      for (let j = i + 1; j < stream.length; j += 5) {
        const seen: string[][] = [];
        const parser = new SseParser({ onEvent: (type, data, id) => seen.push([type, data, id]) });
        feedPieces(stream, [i, j], (b, s, e) => parser.feed(b, s, e));
        assert.deepEqual(seen, expected, `cuts ${i},${j}`);
      }
    }
  });
});
