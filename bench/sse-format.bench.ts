import { sseEvent } from '../src/workers/sse-stream.js';
import type { MicroCase } from './micro-harness.js';

const BATCH = 1000;

/** Formatting one JSON-RPC answer as an SSE event with an id, as a worker does for every message. */
function formatCase(label: string, text: string): MicroCase {
  const message = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text }] } };
  const format = () => sseEvent('message', JSON.stringify(message), 'AbCdEfGh:12:34');
  return {
    group: 'SSE event formatting',
    name: `${label} answer (JSON.stringify + framing)`,
    unit: 'event',
    unitsPerRun: BATCH,
    verify() {
      const event = format();
      const data = /^id: AbCdEfGh:12:34\nevent: message\ndata: (.*)\n\n$/.exec(event)?.[1];
      if (!data || JSON.parse(data).result.content[0].text !== text) throw new Error('bad SSE framing');
    },
    run() {
      for (let i = 0; i < BATCH; i++) format();
    },
  };
}

export const cases = [formatCase('64 B', 'x'.repeat(64)), formatCase('10 KB', 'x'.repeat(10_000))];
