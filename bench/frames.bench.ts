import { deserialize, serialize } from 'node:v8';
import { type ClientMessageFrame, decodeFrame, encodeFrame, FrameKind } from '../src/shared/frames.js';
import type { MicroCase } from './micro-harness.js';

/** A tools/call as a worker forwards it, with a text argument of `bytes` bytes. */
function frame(bytes: number): ClientMessageFrame {
  return {
    k: FrameKind.CLIENT_MESSAGE,
    sid: '0-Yk2mJq7f9oWbq0J3dmb1Zx8dtlp0Jq7f',
    transport: 'sse',
    target: '',
    outlet: 42,
    viaStream: true,
    sseOk: false,
    json: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x'.repeat(bytes) } },
    }),
  };
}

function codecCase(label: string, bytes: number, codec: 'msgpackr' | 'structured clone' | 'JSON'): MicroCase {
  const input = frame(bytes);
  const roundTrip = (): ClientMessageFrame => {
    switch (codec) {
      case 'msgpackr':
        return decodeFrame<ClientMessageFrame>(encodeFrame(input));
      case 'structured clone':
        // What postMessage does to a plain object: v8's serializer on both sides.
        return deserialize(serialize(input)) as ClientMessageFrame;
      case 'JSON':
        return JSON.parse(JSON.stringify(input)) as ClientMessageFrame;
    }
  };
  return {
    group: 'frame encode+decode',
    name: `${label} ${codec}`,
    unit: 'frame',
    unitsPerRun: 1,
    verify() {
      const out = roundTrip();
      if (out.sid !== input.sid || out.outlet !== 42 || out.json !== input.json)
        throw new Error(`${codec} round trip broke the frame`);
    },
    run() {
      roundTrip();
    },
  };
}

export const cases: MicroCase[] = (
  [
    ['100 B', 100],
    ['10 KB', 10 * 1024],
    ['1 MB', 1024 * 1024],
  ] as const
).flatMap(([label, bytes]) =>
  (['msgpackr', 'structured clone', 'JSON'] as const).map((codec) => codecCase(label, bytes, codec)),
);
