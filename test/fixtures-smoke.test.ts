/**
 * Smoke tests for the fixture MCP servers in test/fixtures/ (and the SDK-based example server):
 * each is spawned as a real child process and driven over newline-delimited JSON-RPC on stdio.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;
type Id = string | number;

const fixturePath = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));
const examplePath = (name: string): string =>
  fileURLToPath(new URL(`../examples/${name}.js`, import.meta.url));

const TIMEOUT = Symbol('timeout');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMEOUT>((r) => {
    timer = setTimeout(() => r(TIMEOUT), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

class RpcResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const live = new Set<ChildProcess>();

after(() => {
  for (const p of live) p.kill('SIGKILL');
});

/** Minimal line-oriented MCP client for driving a fixture over stdio. */
class StdioClient {
  readonly proc: ChildProcess;
  readonly notifications: Json[] = [];
  readonly serverRequests: Json[] = [];
  readonly garbage: string[] = [];
  stderr = '';
  /** Answer server -> client requests; the return value becomes the result, a throw an error. */
  onServerRequest: ((msg: Json) => unknown) | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<Id, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private readonly waiters: Array<() => void> = [];

  constructor(file: string, args: string[] = []) {
    this.proc = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.proc);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        live.delete(this.proc);
        for (const p of this.pending.values()) p.reject(new Error(`process exited (${code ?? signal})`));
        this.pending.clear();
        resolve({ code, signal });
      });
    });
    this.proc.stdin!.on('error', () => {});
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
      nl = this.buffer.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.garbage.push(line);
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.garbage.push(line);
      return;
    }
    const m = msg as Json;
    const id = m['id'];
    if (typeof m['method'] === 'string') {
      if (id === undefined) this.notifications.push(m);
      else this.handleServerRequest(m);
    } else if ((typeof id === 'string' || typeof id === 'number') && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      const err = m['error'] as { code: number; message: string } | undefined;
      if (err) p.reject(new RpcResponseError(err.code, err.message));
      else p.resolve(m['result'] as Json);
    } else {
      this.garbage.push(line);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private handleServerRequest(m: Json): void {
    this.serverRequests.push(m);
    const id = m['id'];
    Promise.resolve()
      .then(() => {
        if (!this.onServerRequest) throw new RpcResponseError(-32601, 'not supported');
        return this.onServerRequest(m);
      })
      .then(
        (result) => this.write({ jsonrpc: '2.0', id, result }),
        (e: unknown) =>
          this.write({
            jsonrpc: '2.0',
            id,
            error: { code: e instanceof RpcResponseError ? e.code : -32603, message: String(e) },
          }),
      );
  }

  write(obj: unknown): void {
    this.proc.stdin!.write(JSON.stringify(obj) + '\n');
  }

  request(method: string, params?: Json, id: Id = this.nextId++): Promise<Json> {
    return new Promise<Json>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write(
        params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params },
      );
    });
  }

  notify(method: string, params?: Json): void {
    this.write(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  async initialize(protocolVersion = '2025-06-18', capabilities: Json = {}): Promise<Json> {
    const result = await this.request('initialize', {
      protocolVersion,
      capabilities,
      clientInfo: { name: 'fixtures-smoke', version: '0.0.0' },
    });
    this.notify('notifications/initialized');
    return result;
  }

  async callText(name: string, args: Json = {}, meta?: Json): Promise<string> {
    const params: Json = { name, arguments: args };
    if (meta) params['_meta'] = meta;
    const result = await this.request('tools/call', params);
    const content = result['content'] as Array<{ type: string; text: string }>;
    assert.equal(content[0]?.type, 'text');
    return content[0].text;
  }

  /** Resolves once `pred` holds (re-checked after every incoming line). */
  async until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for condition');
      await within(new Promise<void>((r) => this.waiters.push(r)), left);
    }
  }

  async close(): Promise<void> {
    if (this.alive) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

async function withClient(
  file: string,
  args: string[],
  fn: (c: StdioClient) => Promise<void>,
): Promise<void> {
  const c = new StdioClient(file, args);
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789';

describe('fixture servers', { timeout: 30_000 }, () => {
  test('echo-server: handshake, tools, progress, errors, exit on stdin end', async () => {
    await withClient(fixturePath('echo-server'), [], async (c) => {
      const init = await c.initialize('2025-06-18');
      assert.equal(init['protocolVersion'], '2025-06-18');
      assert.deepEqual(init['serverInfo'], { name: 'echo-server', version: '1.0.0' });
      const caps = init['capabilities'] as Json;
      for (const k of ['tools', 'resources', 'prompts', 'completions', 'logging']) assert.ok(k in caps, k);

      const list = await c.request('tools/list');
      const names = (list['tools'] as Json[]).map((t) => t['name']);
      for (const n of [
        'echo',
        'add',
        'echo_meta',
        'progress',
        'log',
        'sleep',
        'env',
        'cwd',
        'pid',
        'counter',
      ]) {
        assert.ok(names.includes(n), n);
      }
      assert.equal(list['nextCursor'], undefined);

      assert.equal(await c.callText('echo', { text: 'héllo wörld' }), 'héllo wörld');
      assert.equal(await c.callText('add', { a: 2, b: 40 }), '42');
      assert.equal(await c.callText('pid'), String(c.proc.pid));
      assert.equal(await c.callText('counter'), '1');
      assert.equal(await c.callText('counter'), '2');
      const meta = JSON.parse(await c.callText('echo_meta', { x: 1 })) as Json;
      assert.deepEqual(meta['args'], { x: 1 });
      assert.equal(typeof meta['requestId'], 'number');

      assert.equal(await c.callText('progress', { steps: 3, delayMs: 1 }, { progressToken: 'tok' }), 'done');
      const progress = c.notifications.filter((n) => n['method'] === 'notifications/progress');
      assert.deepEqual(
        progress.map((n) => [(n['params'] as Json)['progress'], (n['params'] as Json)['total']]),
        [
          [1, 3],
          [2, 3],
          [3, 3],
        ],
      );

      assert.deepEqual(await c.request('ping'), {});
      await assert.rejects(c.request('tools/call', { name: 'nope', arguments: {} }), { code: -32602 });
      await assert.rejects(c.request('no/such/method'), { code: -32601 });

      const read = await c.request('resources/read', { uri: 'fixture://hello' });
      assert.equal((read['contents'] as Json[])[0]?.['text'], 'hello');

      c.proc.stdin!.end();
      assert.deepEqual(await c.exited, { code: 0, signal: null });
    });
  });

  test('echo-server: --page-size paginates tools/list; cancelled sleep is never answered', async () => {
    await withClient(fixturePath('echo-server'), ['--page-size', '3'], async (c) => {
      await c.initialize();
      const names: unknown[] = [];
      let cursor: unknown;
      let pages = 0;
      do {
        const page = await c.request('tools/list', cursor === undefined ? {} : { cursor });
        const tools = page['tools'] as Json[];
        assert.ok(tools.length <= 3);
        names.push(...tools.map((t) => t['name']));
        cursor = page['nextCursor'];
        pages++;
      } while (cursor !== undefined);
      assert.ok(pages >= 3);
      assert.ok(names.includes('echo') && names.includes('counter'));
      assert.equal(new Set(names).size, names.length);

      const sleeping = c.request('tools/call', { name: 'sleep', arguments: { ms: 150 } }, 'sleepy');
      c.notify('notifications/cancelled', { requestId: 'sleepy', reason: 'test' });
      assert.equal(await c.callText('echo', { text: 'still here' }), 'still here');
      assert.equal(await within(sleeping, 400), TIMEOUT);
    });
  });

  test('slow-server: tools/call waits --delay-ms; ms overrides', async () => {
    await withClient(fixturePath('slow-server'), ['--delay-ms', '200'], async (c) => {
      await c.initialize();
      let t0 = Date.now();
      assert.equal(await c.callText('slow'), 'slow 200');
      assert.ok(Date.now() - t0 >= 190, `took ${Date.now() - t0}ms`);
      t0 = Date.now();
      assert.equal(await c.callText('slow', { ms: 10 }), 'slow 10');
      assert.ok(Date.now() - t0 < 190);
    });
  });

  test('hang-server: never answers calls, ignores SIGTERM and stdin end, dies on SIGKILL', async () => {
    await withClient(fixturePath('hang-server'), [], async (c) => {
      await c.initialize();
      const list = await c.request('tools/list');
      assert.ok((list['tools'] as Json[]).length > 0);
      const call = c.request('tools/call', { name: 'hang', arguments: {} });
      call.catch(() => {});
      const ping = c.request('ping');
      ping.catch(() => {});
      assert.equal(await within(call, 300), TIMEOUT);
      assert.equal(await within(ping, 50), TIMEOUT);

      c.proc.stdin!.end();
      await sleep(200);
      assert.ok(c.alive, 'should survive stdin end');
      c.proc.kill('SIGTERM');
      await sleep(300);
      assert.ok(c.alive, 'should survive SIGTERM');
      c.proc.kill('SIGKILL');
      assert.deepEqual(await c.exited, { code: null, signal: 'SIGKILL' });
    });
  });

  test('crash-on-call-server: echo works, crash exits 1 without answering', async () => {
    await withClient(fixturePath('crash-on-call-server'), [], async (c) => {
      await c.initialize();
      assert.deepEqual(await c.request('ping'), {});
      assert.equal(await c.callText('echo', { text: 'ok' }), 'ok');
      await assert.rejects(c.request('tools/call', { name: 'crash', arguments: {} }), /process exited/);
      assert.deepEqual(await c.exited, { code: 1, signal: null });
    });
  });

  test('crash-on-call-server --delay-ms: several calls in flight when it dies', async () => {
    await withClient(fixturePath('crash-on-call-server'), ['--delay-ms', '200'], async (c) => {
      await c.initialize();
      const t0 = Date.now();
      const crashes = [1, 2, 3].map(() => c.request('tools/call', { name: 'crash', arguments: {} }));
      assert.equal(await c.callText('echo', { text: 'meanwhile' }), 'meanwhile');
      const settled = await Promise.allSettled(crashes);
      assert.ok(settled.every((s) => s.status === 'rejected'));
      assert.deepEqual(await c.exited, { code: 1, signal: null });
      assert.ok(Date.now() - t0 >= 190);
    });
  });

  test('noisy-server: garbage on stdout and a stderr flood, echo still correct', async () => {
    await withClient(fixturePath('noisy-server'), [], async (c) => {
      await c.initialize();
      assert.equal(await c.callText('echo', { text: 'through the noise' }), 'through the noise');
      assert.ok(c.garbage.includes('hello I am not json'));
      assert.ok(c.garbage.includes('{"jsonrpc":'));
      assert.ok(c.garbage.some((l) => l.length >= 100 * 1024));
      await c.until(() => c.stderr.split('\n').length > 200);
    });
  });

  test('big-server: returns exactly mb*1MiB of the repeating pattern', async () => {
    await withClient(fixturePath('big-server'), [], async (c) => {
      await c.initialize();
      const size = 5 * 1024 * 1024;
      const expected = PATTERN.repeat(Math.ceil(size / PATTERN.length)).slice(0, size);
      const text = await c.callText('big', {});
      assert.equal(text.length, size);
      assert.ok(text === expected, 'content mismatch');
      const small = await c.callText('big', { mb: 0.25 });
      assert.equal(small, expected.slice(0, 256 * 1024));
      c.proc.stdin!.end();
      assert.equal((await c.exited).code, 0);
    });
  });

  test('notify-server: sample round-trips sampling/createMessage; subscriptions and notifications', async () => {
    await withClient(fixturePath('notify-server'), [], async (c) => {
      await c.initialize('2025-06-18', { sampling: {}, elicitation: {}, roots: {} });
      c.onServerRequest = (msg) => {
        if (msg['method'] === 'sampling/createMessage') {
          const params = msg['params'] as { messages: Array<{ content: { text: string } }> };
          return {
            role: 'assistant',
            model: 'test-model',
            content: { type: 'text', text: `answer to: ${params.messages[0]?.content.text}` },
          };
        }
        throw new RpcResponseError(-32601, 'unexpected');
      };
      assert.equal(await c.callText('sample', { prompt: 'what is 6*7?' }), 'answer to: what is 6*7?');
      const req = c.serverRequests[0]!;
      assert.equal(req['method'], 'sampling/createMessage');
      assert.equal(typeof req['id'], 'string');
      assert.deepEqual(req['params'], {
        messages: [{ role: 'user', content: { type: 'text', text: 'what is 6*7?' } }],
        maxTokens: 100,
      });

      assert.equal(await c.callText('notify'), 'notified');
      const methods = c.notifications.map((n) => n['method']);
      assert.ok(methods.includes('notifications/tools/list_changed'));
      assert.ok(methods.includes('notifications/resources/list_changed'));
      assert.ok(methods.includes('notifications/message'));

      const updated = () =>
        c.notifications.filter((n) => n['method'] === 'notifications/resources/updated').length;
      assert.equal(await c.callText('bump'), '1');
      assert.equal(updated(), 0, 'no update without a subscription');
      await c.request('resources/subscribe', { uri: 'fixture://counter' });
      assert.equal(await c.callText('bump'), '2');
      assert.equal(updated(), 1);

      assert.equal(await c.callText('add_tool'), 'extra_1');
      assert.equal(await c.callText('extra_1'), 'extra_1 called');
    });
  });

  test('examples/notes-server (SDK): add and search notes', async () => {
    await withClient(examplePath('notes-server'), [], async (c) => {
      const init = await c.initialize();
      assert.equal((init['serverInfo'] as Json)['name'], 'notes');
      const names = ((await c.request('tools/list'))['tools'] as Json[]).map((t) => t['name']);
      assert.deepEqual(
        [...names].sort(),
        ['add_note', 'delete_note', 'list_notes', 'search_notes', 'word_count'].sort(),
      );
      await c.callText('add_note', { title: 'groceries', body: 'milk and eggs' });
      assert.match(await c.callText('search_notes', { query: 'EGGS' }), /groceries/);
      const index = await c.request('resources/read', { uri: 'notes://index' });
      assert.match(String((index['contents'] as Json[])[0]?.['text']), /groceries/);
      c.proc.stdin!.end();
      assert.equal((await c.exited).code, 0);
    });
  });
});
