import fc from 'fast-check';
import type { Verdict } from './gateway-contract.js';

/**
 * Header values a hostile or sloppy client sends, each with the README's verdict on it: `ok` must pass,
 * `bad` must be refused, `either` is a reading the README leaves open (then only the invariants apply).
 * An undefined value means the header is left out.
 */
export interface Variant {
  value: string | undefined;
  verdict: Verdict;
}

const v = (value: string | undefined, verdict: Verdict): Variant => ({ value, verdict });

/** Authorization for token `t`. The scheme is case-insensitive (RFC 9110); the token is not. */
export function authorizationVariants(t: string): Variant[] {
  return [
    v(`Bearer ${t}`, 'ok'),
    v(`bearer ${t}`, 'ok'),
    v(`BEARER ${t}`, 'ok'),
    v(`Bearer  ${t}`, 'ok'),
    v(`Bearer ${t} `, 'ok'),
    v(` Bearer ${t}`, 'ok'),
    v(`Bearer\t${t}`, 'ok'),
    v(undefined, 'bad'),
    v('', 'bad'),
    v('Bearer', 'bad'),
    v('Bearer ', 'bad'),
    v(`Bearer ${t.toUpperCase()}`, 'bad'),
    v(`Bearer ${t.toLowerCase()}`, 'bad'),
    v(`Bearer ${t}x`, 'bad'),
    v(`Bearer x${t}`, 'bad'),
    v(`Bearer ${t.slice(0, -1)}`, 'bad'),
    v(`Bearer ${t.slice(1)}`, 'bad'),
    v(`Basic ${Buffer.from(t).toString('base64')}`, 'bad'),
    v(`Basic ${Buffer.from(`user:${t}`).toString('base64')}`, 'bad'),
    v(`Basic ${t}`, 'bad'),
    v(`Token ${t}`, 'bad'),
    v(`Digest ${t}`, 'bad'),
    v(t, 'bad'),
    v(`Bearer "${t}"`, 'bad'),
    v(`Bearer ${t} ${t}`, 'bad'),
    v(`Bearer ${t},Bearer ${t}`, 'bad'),
    v(`Bearer=${t}`, 'bad'),
    v(`Bearer:${t}`, 'bad'),
    v(`BearerX ${t}`, 'bad'),
    v(`Bearer ${Buffer.from(t).toString('base64')}`, 'bad'),
    v(`Bearer ${encodeURIComponent(t)}`, 'bad'),
    // uWS's parser drops trailing bytes >= 0x80 from a header value as if they were spaces, so the gateway
    // never sees this one's tail: it is the token itself as far as anyone past the parser can tell.
    v(`Bearer ${t}\u00a0`, 'either'),
    v(`Bearer ${t}\t`, 'ok'),
    v(`Bearer ${'A'.repeat(4000)}`, 'bad'),
  ];
}

/** Where a client might put the token in the URL; never accepted (README). */
export function tokenInQuery(t: string): string[] {
  const e = encodeURIComponent(t);
  return [`access_token=${e}`, `token=${e}`, `authorization=Bearer%20${e}`, `bearer=${e}`, `auth=${e}`];
}

/** Origin: loopback origins and `allowedOrigin` pass, anything else is refused. */
export function originVariants(port: number, allowedOrigin: string): Variant[] {
  return [
    v(undefined, 'ok'),
    v('http://localhost', 'ok'),
    v(`http://127.0.0.1:${port}`, 'ok'),
    v('http://[::1]:3000', 'ok'),
    v('https://localhost', 'ok'),
    v('http://LOCALHOST:1', 'ok'),
    v('http://127.1.2.3', 'ok'),
    v(allowedOrigin, 'ok'),
    v('https://evil.example', 'bad'),
    v('null', 'bad'),
    v('http://localhost.evil.example', 'bad'),
    v('http://127.0.0.1.evil.example', 'bad'),
    v(`${allowedOrigin}.evil`, 'bad'),
    v(`${allowedOrigin}:444`, 'bad'),
    v('file://', 'bad'),
    v('chrome-extension://abcdef', 'bad'),
    v('ftp://localhost', 'bad'),
    v('http://0.0.0.0', 'bad'),
    v('x', 'bad'),
    v('http://', 'bad'),
    v('http://[::1', 'bad'),
    v('http://evil@127.0.0.1', 'either'),
    v('http://2130706433', 'either'),
    v('http://0x7f.1', 'either'),
    v('', 'either'),
  ];
}

/** Host: a loopback bind must be named by a loopback host (DNS rebinding) or an allowed origin's host. */
export function hostVariants(port: number, allowedHost: string): Variant[] {
  return [
    v(undefined, 'ok'),
    v(`127.0.0.1:${port}`, 'ok'),
    v('localhost', 'ok'),
    v('localhost:1', 'ok'),
    v('127.0.0.1', 'ok'),
    v('[::1]:80', 'ok'),
    v('127.9.9.9:5', 'ok'),
    v('LOCALHOST', 'ok'),
    v(allowedHost, 'ok'),
    v('evil.example', 'bad'),
    v('localhost.evil.example', 'bad'),
    v('127.0.0.1.evil.example', 'bad'),
    v('evil.example:127', 'bad'),
    v(`evil.example:${port}`, 'bad'),
    v('0.0.0.0', 'bad'),
    v('', 'either'),
    v('[::1', 'either'),
    v('localhost:evil', 'either'),
    v('localhost.', 'either'),
  ];
}

export interface AcceptVariant {
  value: string | undefined;
  /** For POST: JSON or an event stream must be acceptable. */
  post: Verdict;
  /** For GET: an event stream must be acceptable. */
  get: Verdict;
}

export const ACCEPT_VARIANTS: AcceptVariant[] = [
  { value: 'application/json, text/event-stream', post: 'ok', get: 'ok' },
  { value: 'application/json', post: 'ok', get: 'bad' },
  { value: 'text/event-stream', post: 'ok', get: 'ok' },
  { value: '*/*', post: 'ok', get: 'ok' },
  { value: 'APPLICATION/JSON, TEXT/EVENT-STREAM', post: 'ok', get: 'ok' },
  { value: undefined, post: 'bad', get: 'bad' },
  { value: 'text/html', post: 'bad', get: 'bad' },
  { value: 'image/png, text/plain', post: 'bad', get: 'bad' },
  { value: 'application/*', post: 'either', get: 'either' },
  { value: 'text/*', post: 'either', get: 'either' },
  { value: 'application/json;q=0', post: 'either', get: 'bad' },
  { value: 'text/event-stream;q=0, application/json', post: 'ok', get: 'either' },
  { value: 'application/jsonx', post: 'either', get: 'bad' },
  { value: '', post: 'bad', get: 'bad' },
];

export const CONTENT_TYPE_VARIANTS: Variant[] = [
  v('application/json', 'ok'),
  v('application/json; charset=utf-8', 'ok'),
  v('Application/JSON', 'ok'),
  v('application/json;charset=UTF-8', 'ok'),
  v(undefined, 'bad'),
  v('', 'bad'),
  v('text/plain', 'bad'),
  v('application/x-www-form-urlencoded', 'bad'),
  v('multipart/form-data; boundary=x', 'bad'),
  v('application/json-rpc', 'bad'),
  v('application/jsonp', 'bad'),
  v('text/json', 'bad'),
  v('application/xml', 'bad'),
  v('application/json; charset=latin1', 'either'),
  v('application/json, text/plain', 'either'),
  v('application/json;', 'either'),
];

export const PROTOCOL_VERSION_VARIANTS: Variant[] = [
  v(undefined, 'ok'),
  v('2025-11-25', 'ok'),
  v('2025-06-18', 'ok'),
  v('2025-03-26', 'ok'),
  v('2024-11-05', 'ok'),
  v('2099-01-01', 'bad'),
  v('1.0', 'bad'),
  v('latest', 'bad'),
  v('2025-11-25 extra', 'bad'),
  v('2024-10-07', 'bad'),
  v('2025-11-25,2025-06-18', 'bad'),
  v('', 'either'),
];

/** Printable header text (no CR, LF or other controls, which node:http refuses to send). */
export const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });

/** Headers that must not change anything: proxies' hints, method overrides, cookies, noise. */
export function junkHeadersArb(secrets: readonly string[]): fc.Arbitrary<Record<string, string | string[]>> {
  const named = fc.constantFrom<[string, string]>(
    ['x-forwarded-for', '8.8.8.8'],
    ['x-forwarded-host', 'evil.example'],
    ['forwarded', 'for=1.2.3.4;host=evil.example;proto=https'],
    ['x-real-ip', '10.0.0.1'],
    ['x-http-method-override', 'DELETE'],
    ['x-method-override', 'PUT'],
    ['cookie', 'session=1; mcp-session-id=2'],
    ['te', 'trailers'],
    ['expect', '100-continue'],
    ['connection', 'keep-alive, Upgrade'],
    ['upgrade', 'websocket'],
    ['range', 'bytes=0-1'],
    ['if-none-match', '*'],
    ['accept-encoding', 'gzip, br'],
    ['x-mcp-session-id', secrets[0] ?? 'x'],
  );
  const random = fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerText);
  return fc.array(fc.oneof(named, random), { maxLength: 4 }).map((pairs) => Object.fromEntries(pairs));
}
