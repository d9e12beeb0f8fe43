import type { Expectation } from './gateway-contract.js';
import type { ProbeReply } from './http-probe.js';

/**
 * Checks one fuzz reply against its expectation and the invariants that hold for every request: no
 * 5xx, an answer in time, a JSON-RPC error envelope on every 4xx, WWW-Authenticate on 401, no CORS
 * grant on 403, and no secret of another session anywhere in the answer. Returns what is wrong, in words.
 */

/** Strings only their own session may ever see: secret markers and session ids. */
export interface Secret {
  owner: string;
  value: string;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON-RPC response: `jsonrpc: "2.0"`, an id, and either a result or a well-formed error. */
function responseProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (value.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  if (!Object.hasOwn(value, 'id')) return 'no id';
  const hasResult = Object.hasOwn(value, 'result');
  const hasError = Object.hasOwn(value, 'error');
  if (hasResult === hasError) return 'needs exactly one of result and error';
  if (hasError) {
    const error = value.error;
    if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string')
      return 'malformed error';
  }
  return undefined;
}

/** The error envelope of an HTTP-level refusal: `{jsonrpc, error: {code, message}, id: null}`. */
function envelopeProblem(reply: ProbeReply): string | undefined {
  if (!String(reply.headers['content-type'] ?? '').startsWith('application/json'))
    return `content-type ${reply.headers['content-type']}`;
  const body = parse(reply.text);
  if (!isObject(body)) return 'body is not a JSON object';
  if (body.jsonrpc !== '2.0' || body.id !== null) return 'not {jsonrpc:"2.0", id:null}';
  const error = body.error;
  if (
    !isObject(error) ||
    !Number.isInteger(error.code) ||
    typeof error.message !== 'string' ||
    !error.message
  )
    return 'no {code, message} error';
  return undefined;
}

/** The messages a 200 carried: the JSON body, or the data of each event of an event stream. */
function messagesOf(reply: ProbeReply): unknown[] {
  if (reply.events.length > 0 || String(reply.headers['content-type'] ?? '').startsWith('text/event-stream'))
    return reply.events.filter((e) => e.data !== '').map((e) => parse(e.data));
  return [parse(reply.text)];
}

function answerProblems(reply: ProbeReply, answers: NonNullable<Expectation['answers']>): string[] {
  const problems: string[] = [];
  const messages = messagesOf(reply);
  const responses = messages
    .flatMap((m) => (Array.isArray(m) ? m : [m]))
    .filter((m) => !(isObject(m) && 'method' in m));
  const others = messages.filter((m) => isObject(m) && 'method' in m);
  for (const other of others)
    if (Object.hasOwn(other as object, 'id'))
      problems.push(`a server request came back: ${JSON.stringify(other).slice(0, 200)}`);
  if (answers.batch && !messages.some(Array.isArray)) problems.push('a batch was not answered with an array');
  const wanted = [...answers.ids].sort();
  const got = responses.map((r) => (isObject(r) ? JSON.stringify(r.id) : '?')).sort();
  if (JSON.stringify(wanted) !== JSON.stringify(got))
    problems.push(`answered ids ${got.join(',').slice(0, 200)} instead of ${wanted.join(',').slice(0, 200)}`);
  for (const response of responses) {
    const problem = responseProblem(response);
    if (problem)
      problems.push(`not a JSON-RPC response (${problem}): ${JSON.stringify(response).slice(0, 200)}`);
  }
  return problems;
}

export function leaks(sent: string, received: string, secrets: readonly Secret[]): string[] {
  return secrets
    .filter((s) => received.includes(s.value) && !sent.includes(s.value))
    .map((s) => `the answer carries a secret of ${s.owner}: ${s.value}`);
}

export function judge(
  method: string,
  sent: string,
  reply: ProbeReply,
  expect: Expectation,
  secrets: readonly Secret[],
): string[] {
  const problems: string[] = [];
  const why = `(expected ${expect.statuses?.join('/') ?? 'any non-5xx'}: ${expect.because})`;
  if (reply.outcome === 'timeout') return [`no answer ${why}`];
  if (reply.outcome === 'closed') return expect.mayClose ? [] : [`connection dropped: ${reply.error} ${why}`];
  const { status } = reply;
  if (status >= 500) problems.push(`status ${status} ${why}`);
  else if (expect.statuses && !expect.statuses.includes(status)) problems.push(`status ${status} ${why}`);
  if (expect.no2xx && status >= 200 && status < 300)
    problems.push(`status ${status}: must be refused ${why}`);
  // A refusal either has no body or the JSON-RPC error envelope; never an HTML page or a stack trace.
  if (status >= 400 && status !== 431 && method !== 'HEAD' && reply.text !== '') {
    const problem = envelopeProblem(reply);
    if (problem) problems.push(`${status} without a JSON-RPC error envelope (${problem})`);
    const code = (parse(reply.text) as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (status === 400 && expect.code400 !== undefined && code !== expect.code400)
      problems.push(`400 with code ${code}, expected ${expect.code400} ${why}`);
  }
  if (status === 401 && !/^Bearer\b/.test(String(reply.headers['www-authenticate'] ?? '')))
    problems.push(`401 without WWW-Authenticate: Bearer (${reply.headers['www-authenticate']})`);
  if (status === 403 && reply.headers['access-control-allow-origin'] !== undefined)
    problems.push(`403 grants CORS to ${reply.headers['access-control-allow-origin']}`);
  if (status === 200 && expect.answers) problems.push(...answerProblems(reply, expect.answers));
  const answer = `${JSON.stringify(reply.headers)}\n${reply.text}`;
  problems.push(...leaks(sent, answer, secrets));
  if (problems.length > 0) problems.push(`reply: ${status} ${reply.text.slice(0, 300)}`);
  return problems;
}

/**
 * The invariants for raw bytes: no 5xx (except `knownFivexx`, a reported bug), no 2xx beyond the
 * authorized requests, no smuggled /status.
 */
export function judgeRaw(
  sent: Buffer,
  authorized: number,
  exchange: { text: string; statuses: number[] },
  statusBodyMark: string | undefined,
  secrets: readonly Secret[],
  knownFivexx: (status: number) => boolean = () => false,
): string[] {
  const problems: string[] = [];
  const fiveHundreds = exchange.statuses.filter((s) => s >= 500 && !knownFivexx(s));
  if (fiveHundreds.length > 0) problems.push(`status ${fiveHundreds.join(',')}`);
  const successes = exchange.statuses.filter((s) => s >= 200 && s < 300).length;
  if (successes > authorized)
    problems.push(
      `${successes} 2xx answers to ${authorized} authorized requests: a request without a token got through`,
    );
  if (statusBodyMark !== undefined && exchange.text.includes(statusBodyMark))
    problems.push('a /status sent without a token was answered');
  problems.push(...leaks(sent.toString('latin1'), exchange.text, secrets));
  if (problems.length > 0) problems.push(`reply: ${JSON.stringify(exchange.text.slice(0, 400))}`);
  return problems;
}
