import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Access checks a worker makes before anything else, as pure functions of the request headers, so they
 * are unit-testable and the same on every endpoint.
 */

export type AuthResult = 'ok' | 'missing' | 'invalid';

/** SHA-256 of the expected token, computed once; comparing digests keeps the compare length-independent. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Checks `Authorization: Bearer <token>` in constant time. Only the header counts: a token in the query
 * string is never accepted (it would end up in logs and browser history).
 */
export function checkBearer(authorization: string, expectedDigest: Buffer | undefined): AuthResult {
  if (!expectedDigest) return 'ok';
  if (!authorization) return 'missing';
  // The token is printable ASCII (the config insists); spaces and tabs around it are HTTP's optional
  // whitespace. Anything else next to it (a non-breaking space, a stray byte) makes it a different token.
  const match = /^[ \t]*Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(authorization);
  if (!match) return 'invalid';
  const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
  return timingSafeEqual(presented, expectedDigest) ? 'ok' : 'invalid';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostnameOf(hostHeader: string): string {
  const lower = hostHeader.trim().toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end === -1 ? lower : lower.slice(0, end + 1);
  }
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function isLoopbackAddress(address: string): boolean {
  return isLoopbackHostname(address.toLowerCase()) || address === '::1';
}

export interface OriginPolicy {
  /** Exact origins allowed besides loopback ones, e.g. `https://app.example`. */
  allowedOrigins: readonly string[];
  /** When the gateway listens on loopback only, Host must name a loopback host (DNS rebinding). */
  loopbackOnly: boolean;
}

/**
 * Origin and Host checks against DNS rebinding: a browser page on another site must not be able to
 * talk to a gateway on localhost. A request without Origin (not from a browser) passes the Origin check.
 */
export function checkOriginAndHost(origin: string, host: string, policy: OriginPolicy): boolean {
  if (origin && !isAllowedOrigin(origin, policy)) return false;
  if (policy.loopbackOnly && host) {
    const hostname = hostnameOf(host);
    if (!isLoopbackHostname(hostname) && !policy.allowedOrigins.some((o) => hostOfOrigin(o) === hostname))
      return false;
  }
  return true;
}

function hostOfOrigin(origin: string): string | undefined {
  try {
    return new URL(origin).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

export function isAllowedOrigin(origin: string, policy: OriginPolicy): boolean {
  if (policy.allowedOrigins.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHostname(url.hostname.toLowerCase())
  );
}

export const CORS_ALLOW_HEADERS =
  'Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID';
export const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate';
export const CORS_ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
