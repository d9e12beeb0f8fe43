import fc from 'fast-check';

/**
 * Generated POST bodies for a JSON-RPC endpoint: valid messages with hostile content, wrong shapes,
 * malformed JSON, invalid UTF-8, deep nesting, huge numbers and strings, batches. Each body is
 * classified by what JSON and JSON-RPC (as MCP uses it) say about it, independently of the gateway, so a
 * test can state what the answer must be.
 */

/** What a body is, by the specs: the test's expectation follows from this. */
export type BodyKind =
  | 'request'
  | 'notification'
  | 'response'
  | 'batch'
  | 'bad-shape'
  | 'malformed'
  | 'bad-utf8'
  | 'too-large'
  /** Nested deeper than the gateway accepts (MAX_JSON_DEPTH): refused before anything else. */
  | 'too-deep'
  /** Valid or not depending on a reading of the spec (e.g. a request that also has `result`). */
  | 'unknown';

import { MAX_JSON_DEPTH, nestingBeyond } from '../../src/workers/access-control.js';

export interface FuzzBody {
  kind: BodyKind;
  /** Which generator made it (for the report). */
  label: string;
  bytes: Buffer;
  /** JSON text of the id of each request in it (one for a request, several for a batch). */
  requestIds: string[];
  /** A single `initialize` request. */
  initialize: boolean;
  /** A batch JSON-RPC allows: 1 to 100 messages, each valid on its own, none of them `initialize`. */
  batchValid: boolean;
  /** Send as Transfer-Encoding: chunked (no declared length). */
  chunked: boolean;
}

export const KNOWN_METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'sampling/createMessage',
  'roots/list',
  'elicitation/create',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
] as const;

/**
 * Echo-server tools that answer at once whatever the arguments. `sleep`, `progress` and `log` are left
 * out on purpose: with generated arguments they wait or emit without bound, which tests the fixture.
 */
const SAFE_TOOLS = ['echo', 'add', 'echo_meta', 'counter', 'fail', 'env', 'cwd', 'pid', 'cancellations'];

/** `depth` levels of arrays, objects or both, as JSON text. */
export function nestedJson(depth: number, shape: 'array' | 'object' | 'mixed'): string {
  if (shape === 'array') return '['.repeat(depth) + ']'.repeat(depth);
  if (shape === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const half = Math.floor(depth / 2);
  return '[{"a":'.repeat(half) + (depth % 2 ? '[]' : '0') + '}]'.repeat(half);
}

const nestShape = fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed');

function depthArb(maxDepth: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: 1, max: maxDepth }), fc.constant(maxDepth));
}

/**
 * Ids the spec allows (string or number), as JSON text, including numbers JavaScript cannot hold. Lone
 * surrogates (`"\ud800"`) are valid JSON too, but the gateway does not give them back intact: they have
 * a todo test of their own instead of failing every run here.
 */
export const validIdText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.integer({ min: 0, max: 5 }).map(String), // collide with the watched sessions' ids
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    '1e308',
    '-0',
    '0.0',
    '9223372036854775808',
    '-9223372036854775808',
    '9007199254740993',
    '1.7976931348623157e308',
    '5e-324',
    '-1e-400',
    '1E+2',
    '123456789012345678901234567890',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.constantFrom(
    '"NaN"',
    '"Infinity"',
    '"-0"',
    '"null"',
    '"__proto__"',
    '"constructor"',
    '"1"',
    '"2"',
    '""',
    '"\\u0000"',
  ),
  fc.integer({ min: 100, max: 20_000 }).map((n) => JSON.stringify('i'.repeat(n))),
);

/** Ids a request may not have (MCP: not null either), as JSON text. */
export const invalidIdText = fc.constantFrom(
  'null',
  'true',
  'false',
  '{}',
  '[]',
  '{"a":1}',
  '[1]',
  '1e309',
  '-1e999',
  '[null]',
  '{"id":1}',
);

const methodArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_METHODS) },
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'tools/call\u0000',
    ' ping',
    'PING',
    'tools/',
    '/',
    'notifications/',
    'rpc.discover',
    'tasks/cancel',
  ),
  fc.integer({ min: 100, max: 10_000 }).map((n) => 'm'.repeat(n)),
);

const smallJson = fc.jsonValue({ maxDepth: 3 });

function paramsTextArb(maxDepth: number): fc.Arbitrary<string> {
  const toolCall = fc
    .record(
      {
        name: fc.oneof(fc.constantFrom(...SAFE_TOOLS, 'nope', '', '__proto__'), fc.string()),
        arguments: fc.oneof(fc.record({ text: fc.string({ unit: 'binary' }) }), smallJson),
        server: fc.constantFrom('echo', 'nope', '', '__proto__', '../echo'),
      },
      { requiredKeys: ['name'] },
    )
    .map((p) => JSON.stringify(p));
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.dictionary(fc.string(), smallJson, { maxKeys: 5 }).map((p) => JSON.stringify(p)),
    },
    { weight: 3, arbitrary: toolCall },
    fc.constantFrom(
      '{}',
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"name":"echo","arguments":{"__proto__":{"polluted":"yes"},"text":"x"}}',
      '{"name":"echo","arguments":{"text":"x"},"_meta":{"progressToken":{"__proto__":1}}}',
      '{"uri":"fixture://echo/x"}',
      '{"uri":"fixture://hello"}',
      '{"uri":"../../etc/passwd"}',
      '{"level":"debug"}',
      '{"level":"nope"}',
      '{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"name","value":"a"}}',
      '{"name":"greet","arguments":{"name":"x"}}',
      '{"cursor":"\\u0000"}',
      '{"task":{}}',
    ),
    fc
      .record({ requestId: validIdText, reason: fc.string() })
      .map(({ requestId, reason }) => `{"requestId":${requestId},"reason":${JSON.stringify(reason)}}`),
    fc
      .record({ token: fc.oneof(validIdText, invalidIdText), progress: fc.double() })
      .map(({ token, progress }) => `{"progressToken":${token},"progress":${JSON.stringify(progress)}}`),
    fc
      .record({ token: fc.oneof(validIdText, invalidIdText) })
      .map(({ token }) => `{"name":"echo","arguments":{"text":"p"},"_meta":{"progressToken":${token}}}`),
    fc
      .record({
        version: fc.oneof(fc.constantFrom('2025-11-25', '2025-03-26', '2024-11-05'), fc.string()),
        caps: smallJson,
      })
      .map(
        ({ version, caps }) =>
          `{"protocolVersion":${JSON.stringify(version)},"capabilities":${JSON.stringify(caps)},"clientInfo":{"name":"f","version":"1"}}`,
      ),
    fc
      .record({ depth: depthArb(maxDepth), shape: nestShape })
      .map(({ depth, shape }) => `{"x":${nestedJson(depth, shape)}}`),
    fc
      .record({ depth: depthArb(maxDepth), shape: nestShape })
      .map(
        ({ depth, shape }) => `{"name":"echo","arguments":{"text":"deep","d":${nestedJson(depth, shape)}}}`,
      ),
  );
}

const invalidParamsText = fc.constantFrom('[]', '[1,2]', '"x"', '1', 'null', 'true', '[{"a":1}]');
const jsonrpcVariant = fc.constantFrom(
  '',
  '"jsonrpc":"1.0",',
  '"jsonrpc":2,',
  '"jsonrpc":"2",',
  '"jsonrpc":"2.0 ",',
  '"jsonrpc":null,',
  '"jsonrpc":"2.0","jsonrpc":"1.0",',
  '"jsonrpc":"1.0","jsonrpc":"2.0",',
);

function requestText(
  id: string | undefined,
  method: string,
  params: string | undefined,
  jsonrpc = '"jsonrpc":"2.0",',
) {
  const idPart = id === undefined ? '' : `"id":${id},`;
  const paramsPart = params === undefined ? '' : `,"params":${params}`;
  return `{${jsonrpc}${idPart}"method":${JSON.stringify(method)}${paramsPart}}`;
}

/** One JSON-RPC message (valid or deliberately not), as JSON text. */
function messageTextArb(maxDepth: number): fc.Arbitrary<{ label: string; text: string }> {
  const params = fc.option(paramsTextArb(maxDepth), { nil: undefined });
  const request = fc
    .record({ id: validIdText, method: methodArb, params })
    .map(({ id, method, params }) => ({ label: 'request', text: requestText(id, method, params) }));
  const notification = fc
    .record({ method: methodArb, params })
    .map(({ method, params }) => ({ label: 'notification', text: requestText(undefined, method, params) }));
  const response = fc
    .record({
      id: fc.oneof(validIdText, invalidIdText),
      body: fc.oneof(
        smallJson.map((r) => `"result":${JSON.stringify(r)}`),
        fc.record({ code: fc.integer(), message: fc.string() }).map((e) => `"error":${JSON.stringify(e)}`),
        smallJson.map((e) => `"error":${JSON.stringify(e)}`),
        fc
          .record({ depth: depthArb(maxDepth), shape: nestShape })
          .map(({ depth, shape }) => `"result":${nestedJson(depth, shape)}`),
      ),
    })
    .map(({ id, body }) => ({ label: 'response', text: `{"jsonrpc":"2.0","id":${id},${body}}` }));
  const wrongShape = fc.oneof(
    fc
      .record({ id: validIdText, method: methodArb, params, jsonrpc: jsonrpcVariant })
      .map(({ id, method, params, jsonrpc }) => ({
        label: 'jsonrpc-field',
        text: requestText(id, method, params, jsonrpc),
      })),
    fc
      .record({ id: invalidIdText, method: methodArb })
      .map(({ id, method }) => ({ label: 'bad-id', text: requestText(id, method, undefined) })),
    fc
      .record({ id: validIdText, method: methodArb, params: invalidParamsText })
      .map(({ id, method, params }) => ({ label: 'bad-params', text: requestText(id, method, params) })),
    fc.record({ depth: depthArb(maxDepth), shape: nestShape }).map(({ depth, shape }) => ({
      label: 'deep-id',
      text: `{"jsonrpc":"2.0","id":${nestedJson(depth, shape)},"method":"ping"}`,
    })),
    fc.record({ depth: depthArb(maxDepth), shape: nestShape }).map(({ depth, shape }) => ({
      label: 'deep-top',
      text: nestedJson(depth, shape === 'array' ? 'object' : shape),
    })),
    fc
      .constantFrom(
        '{}',
        '{"jsonrpc":"2.0"}',
        '{"jsonrpc":"2.0","id":1}',
        '{"jsonrpc":"2.0","method":5}',
        '{"jsonrpc":"2.0","method":null,"id":1}',
        '{"jsonrpc":"2.0","id":1,"result":1,"method":1}',
        '{"jsonrpc":"2.0","result":{}}',
        '{"jsonrpc":"2.0","error":{"code":1,"message":"x"}}',
        '1',
        '"x"',
        'true',
        'null',
        '1e308',
        '-0',
        '{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}',
        '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}',
      )
      .map((text) => ({ label: 'shape', text })),
  );
  return fc.oneof(
    { weight: 4, arbitrary: request },
    { weight: 2, arbitrary: notification },
    { weight: 2, arbitrary: response },
    { weight: 3, arbitrary: wrongShape },
  );
}

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xbf],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

const MALFORMED_TEXTS = [
  '',
  ' ',
  '\n',
  'ping',
  '{',
  '}',
  '[',
  '[1,]',
  '"unterminated',
  '{"jsonrpc":"2.0","id":NaN,"method":"ping"}',
  '{"jsonrpc":"2.0","id":Infinity,"method":"ping"}',
  '{"jsonrpc":"2.0","id":-Infinity,"method":"ping"}',
  '{"jsonrpc":"2.0","id":undefined,"method":"ping"}',
  '{"jsonrpc":"2.0","id":0x10,"method":"ping"}',
  '{"jsonrpc":"2.0","id":01,"method":"ping"}',
  '{"jsonrpc":"2.0","id":.5,"method":"ping"}',
  '{"jsonrpc":"2.0","id":+1,"method":"ping"}',
  '{"jsonrpc":"2.0","id":1.,"method":"ping"}',
  '{"jsonrpc":"2.0","id":"\\x41","method":"ping"}',
  '{"jsonrpc":"2.0","id":"\\u12","method":"ping"}',
  '{"jsonrpc":"2.0","id":"a\nb","method":"ping"}',
  '{"jsonrpc":"2.0","id":1,"method":"ping",}',
  '/*c*/{"jsonrpc":"2.0","id":1,"method":"ping"}',
  '{"jsonrpc" "2.0"}',
  '{jsonrpc:"2.0",id:1,method:"ping"}',
  "{'jsonrpc':'2.0','id':1,'method':'ping'}",
  '{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}',
  '{"jsonrpc":"2.0","id":1,"method":"ping"}\u0000',
];

function malformedArb(maxDepth: number): fc.Arbitrary<{ label: string; bytes: Buffer }> {
  const fromValid = messageTextArb(maxDepth);
  return fc.oneof(
    fc
      .constantFrom(...MALFORMED_TEXTS)
      .map((text) => ({ label: 'malformed-literal', bytes: Buffer.from(text) })),
    fc.record({ m: fromValid, cut: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ m, cut }) => {
      const bytes = Buffer.from(m.text);
      return {
        label: 'truncated',
        bytes: bytes.subarray(0, Math.max(0, Math.floor(bytes.length * cut) - 1)),
      };
    }),
    fc
      .record({ m: fromValid, junk: fc.constantFrom('}', ']', ',', 'x', ' {}', '//c', ',}', ':', '"') })
      .map(({ m, junk }) => ({ label: 'trailing-junk', bytes: Buffer.from(m.text + junk) })),
    fromValid.map((m) => ({ label: 'single-quotes', bytes: Buffer.from(m.text.replace(/"/g, "'")) })),
    fc
      .string({ unit: 'binary', maxLength: 200 })
      .map((text) => ({ label: 'random-text', bytes: Buffer.from(text) })),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ label: 'random-bytes', bytes: Buffer.from(bytes) })),
    fc.record({ depth: depthArb(maxDepth), open: fc.constantFrom('[', '{"a":') }).map(({ depth, open }) => ({
      label: 'unclosed-nesting',
      bytes: Buffer.from(open.repeat(depth)),
    })),
    fc.record({ m: fromValid }).map(({ m }) => ({ label: 'bom', bytes: Buffer.from(`\ufeff${m.text}`) })),
  );
}

function badUtf8Arb(maxDepth: number): fc.Arbitrary<{ label: string; bytes: Buffer }> {
  return fc
    .record({
      m: messageTextArb(maxDepth),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      seq: fc.constantFrom(...INVALID_UTF8),
    })
    .map(({ m, at, seq }) => {
      // Inside a string where there is one (the method or an id), else anywhere.
      const text = m.text;
      const quote = text.indexOf('"', Math.floor(text.length * at));
      const cut = quote === -1 ? Math.floor(text.length * at) : quote + 1;
      const bytes = Buffer.concat([
        Buffer.from(text.slice(0, cut)),
        Buffer.from(seq),
        Buffer.from(text.slice(cut)),
      ]);
      return { label: 'invalid-utf8', bytes };
    });
}

/** A valid echo call padded to exactly `size` bytes (ASCII or two-byte characters). */
function paddedCall(size: number, wide: boolean): Buffer {
  const head =
    '{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"echo","arguments":{"text":"';
  const tail = '"}}}';
  const room = Math.max(0, size - head.length - tail.length);
  const pad = wide ? 'é'.repeat(Math.floor(room / 2)) + (room % 2 ? 'x' : '') : 'x'.repeat(room);
  return Buffer.from(head + pad + tail);
}

function sizedArb(maxBodyBytes: number): fc.Arbitrary<{ label: string; bytes: Buffer }> {
  const size = fc.oneof(
    fc.constantFrom(maxBodyBytes, maxBodyBytes + 1, maxBodyBytes - 1),
    fc.integer({ min: maxBodyBytes - 512, max: maxBodyBytes + 512 }),
    fc.integer({ min: maxBodyBytes + 1, max: maxBodyBytes * 16 }),
    fc.constant(1024 * 1024),
  );
  return fc.record({ size, wide: fc.boolean() }).map(({ size, wide }) => ({
    label: wide ? 'huge-string-2-byte' : 'huge-string',
    bytes: paddedCall(size, wide),
  }));
}

function batchArb(maxDepth: number): fc.Arbitrary<{ label: string; bytes: Buffer }> {
  const element = fc.oneof(
    { weight: 6, arbitrary: messageTextArb(maxDepth).map((m) => m.text) },
    fc.constant('{"jsonrpc":"2.0","id":9,"method":"initialize","params":{}}'),
    fc.constant('[{"jsonrpc":"2.0","id":1,"method":"ping"}]'),
    fc.constant('{"jsonrpc":"2.0","id":1,"method":"ping"}'),
  );
  return fc
    .oneof(
      fc.array(element, { minLength: 0, maxLength: 8 }),
      fc.array(element, { minLength: 95, maxLength: 120 }),
    )
    .map((items) => ({ label: `batch-${items.length}`, bytes: Buffer.from(`[${items.join(',')}]`) }));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON-RPC 2.0 as MCP uses it: ids are strings or numbers (never null), params are objects. */
export function classifyMessage(
  value: unknown,
): 'request' | 'notification' | 'response' | 'bad-shape' | 'unknown' {
  if (!isObject(value) || value.jsonrpc !== '2.0') return 'bad-shape';
  const hasId = Object.hasOwn(value, 'id');
  const hasResult = Object.hasOwn(value, 'result');
  const hasError = Object.hasOwn(value, 'error');
  if (Object.hasOwn(value, 'method')) {
    if (typeof value.method !== 'string') return 'bad-shape';
    const id = value.id;
    // An id must come back exactly: a string of well-formed Unicode (a lone surrogate cannot be encoded),
    // or a number JSON carries exactly (no integer beyond 2^53 - 1, which JSON.parse has rounded).
    const exactNumber =
      typeof id === 'number' && Number.isFinite(id) && (Number.isSafeInteger(id) || !Number.isInteger(id));
    if (hasId && !((typeof id === 'string' && !/\p{Cs}/u.test(id)) || exactNumber)) return 'bad-shape';
    if (Object.hasOwn(value, 'params') && !isObject(value.params)) return 'bad-shape';
    if (hasResult || hasError) return 'unknown';
    return hasId ? 'request' : 'notification';
  }
  if (!hasId || !(hasResult || hasError)) return 'bad-shape';
  return hasResult && hasError ? 'unknown' : 'response';
}

/** Classifies raw bytes the way the specs do (RFC 8259 JSON, UTF-8, JSON-RPC 2.0, the body limit). */
export function classifyBody(
  bytes: Buffer,
  maxBodyBytes: number,
): Omit<FuzzBody, 'label' | 'bytes' | 'chunked'> {
  const none = { requestIds: [], initialize: false, batchValid: false };
  if (bytes.byteLength > maxBodyBytes) return { kind: 'too-large', ...none };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { kind: 'bad-utf8', ...none };
  }
  if (text.startsWith('\ufeff')) return { kind: 'unknown', ...none };
  if (nestingBeyond(bytes, MAX_JSON_DEPTH)) return { kind: 'too-deep', ...none };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', ...none };
  }
  if (Array.isArray(value)) {
    const kinds = value.map((item) => (Array.isArray(item) ? 'bad-shape' : classifyMessage(item)));
    const batchValid =
      value.length >= 1 &&
      value.length <= 100 &&
      kinds.every((k) => k === 'request' || k === 'notification' || k === 'response') &&
      !value.some((item) => isObject(item) && item.method === 'initialize');
    const requestIds = value.flatMap((item, i) =>
      kinds[i] === 'request' ? [JSON.stringify((item as { id: unknown }).id)] : [],
    );
    return {
      kind: kinds.includes('unknown') ? 'unknown' : 'batch',
      requestIds,
      initialize: false,
      batchValid,
    };
  }
  const kind = classifyMessage(value);
  if (kind !== 'request') return { kind, ...none };
  const message = value as { id: unknown; method: string };
  return {
    kind,
    requestIds: [JSON.stringify(message.id)],
    initialize: message.method === 'initialize',
    batchValid: false,
  };
}

/** Every body family, classified. `maxDepth` bounds generated nesting. */
export function fuzzBodyArb(options: { maxBodyBytes: number; maxDepth: number }): fc.Arbitrary<FuzzBody> {
  const { maxBodyBytes, maxDepth } = options;
  const raw = fc.oneof(
    {
      weight: 8,
      arbitrary: messageTextArb(maxDepth).map((m) => ({ label: m.label, bytes: Buffer.from(m.text) })),
    },
    { weight: 3, arbitrary: malformedArb(maxDepth) },
    { weight: 2, arbitrary: badUtf8Arb(maxDepth) },
    { weight: 2, arbitrary: sizedArb(maxBodyBytes) },
    { weight: 2, arbitrary: batchArb(maxDepth) },
  );
  return fc.record({ raw, chunked: fc.boolean() }).map(({ raw: { label, bytes }, chunked }) => ({
    ...classifyBody(bytes, maxBodyBytes),
    label,
    bytes,
    chunked,
  }));
}
