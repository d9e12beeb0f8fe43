import { PassThrough, Writable } from 'node:stream';
import { JsonRpcConnection } from '../src/main/json-rpc-connection.js';
import { createLogger } from '../src/shared/logger.js';
import type { MicroCase } from './micro-harness.js';

const BATCH = 100;

/**
 * Id rewriting and answer matching on a backend connection: each client request gets a fresh backend
 * id, the answer line is parsed, matched by id and resolved. The "backend" here answers instantly by
 * echoing each request's id, so what is timed is the gateway's own per-message work.
 */
function rewriteCase(withProgress: boolean): MicroCase {
  const fromServer = new PassThrough();
  const toServer = new Writable({
    write(chunk: Buffer, _encoding, done) {
      // The connection writes a turn's requests as one chunk: answer every line, with progress first
      // for those that carry a progress token.
      let answers = '';
      for (const line of chunk.toString().split('\n')) {
        const id = /"id":(\d+)/.exec(line)?.[1];
        if (!id) continue;
        const token = /"progressToken":(\d+)/.exec(line)?.[1];
        if (token)
          answers += `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":${token},"progress":1}}\n`;
        answers += `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"ok"}]}}\n`;
      }
      if (answers) fromServer.write(answers);
      done();
    },
  });
  const connection = new JsonRpcConnection(
    { readable: fromServer, writable: toServer },
    { name: 'bench', logger: createLogger({ level: 'silent' }) },
  );
  let progressSeen = 0;
  const runBatch = async () => {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < BATCH; i++)
      calls.push(
        connection.request(
          'tools/call',
          {
            name: 'echo',
            arguments: { text: 'hi' },
            _meta: withProgress ? { progressToken: 'client-1' } : {},
          },
          withProgress ? { onProgress: () => void progressSeen++ } : {},
        ),
      );
    return Promise.all(calls);
  };
  return {
    group: 'backend id rewrite + match',
    name: `${BATCH} requests answered${withProgress ? ', each with a progress token rewritten and one progress' : ''}`,
    unit: 'call',
    unitsPerRun: BATCH,
    async verify() {
      const results = (await runBatch()) as Array<{ content: Array<{ text: string }> }>;
      if (results.length !== BATCH || results.some((r) => r.content[0]?.text !== 'ok'))
        throw new Error('answers not matched');
      if (connection.pendingCount !== 0) throw new Error('pending requests left behind');
      if (withProgress && progressSeen !== BATCH)
        throw new Error(`progress matched ${progressSeen} of ${BATCH}`);
    },
    async run() {
      await runBatch();
    },
  };
}

export const cases = [rewriteCase(false), rewriteCase(true)];
