import { SessionRouter } from '../src/main/gateway/session-router.js';
import { type DeliverFrame, FrameKind, type MainToWorkerFrame } from '../src/shared/frames.js';
import { createLogger } from '../src/shared/logger.js';
import type { MicroCase } from './micro-harness.js';

const SESSIONS = 100;

/**
 * The main thread's per-message work for a routed call, without the backend: a CLIENT_MESSAGE frame for
 * one of 100 Streamable HTTP sessions goes in, the dispatcher answers at once, and the answer comes out
 * as a DELIVER frame for that session's outlet, serialised once (a quick answer needs no event id or replay-log entry).
 */
function routingCase(): MicroCase {
  const out: MainToWorkerFrame[] = [];
  const router = new SessionRouter(
    (_shard, frame) => {
      out.push(frame);
      return 64;
    },
    { maxSessions: 10_000, sessionIdleTimeoutMs: 600_000, replayBufferBytes: 256 * 1024 },
    createLogger({ level: 'silent' }),
  );
  const dispatcher = {
    handle: async (_ctx: unknown, _method: string, params: Record<string, unknown> | undefined) => ({
      content: [{ type: 'text', text: (params?.arguments as { text?: string } | undefined)?.text ?? '' }],
    }),
  };
  router.connect({} as never, dispatcher as never, async () => ({ status: 200, body: {} }));
  router.stop();
  for (let s = 0; s < SESSIONS; s++)
    router.onFrame(0, { k: FrameKind.OPEN_SESSION, sid: `s${s}`, transport: 'streamable', target: '' });
  let outlet = 1;
  const expected = new Map<number, string>();
  const runBatch = async () => {
    out.length = 0;
    expected.clear();
    for (let s = 0; s < SESSIONS; s++) {
      expected.set(outlet, `s${s}`);
      router.onFrame(0, {
        k: FrameKind.CLIENT_MESSAGE,
        sid: `s${s}`,
        transport: 'streamable',
        target: '',
        outlet: outlet++,
        viaStream: false,
        sseOk: true,
        json: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: `s${s}` } },
        }),
      });
    }
    // Let the dispatcher's promises settle.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    group: 'main thread: route a call and its answer',
    name: `${SESSIONS} sessions, one call each`,
    unit: 'call',
    unitsPerRun: SESSIONS,
    async verify() {
      await runBatch();
      const answers = out.filter((f): f is DeliverFrame => f.k === FrameKind.DELIVER && f.json !== undefined);
      if (answers.length !== SESSIONS) throw new Error(`${answers.length} answers for ${SESSIONS} calls`);
      const texts = answers.map(
        (f) =>
          (JSON.parse(f.json!) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text,
      );
      if (new Set(texts).size !== SESSIONS) throw new Error('an answer went to the wrong session');
    },
    async run() {
      await runBatch();
    },
  };
}

export const cases = [routingCase()];
