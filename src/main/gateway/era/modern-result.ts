import { isObject, RpcErrorCode } from '../../../shared/json-rpc.js';
import { MetaKey } from '../../../shared/modern-protocol.js';
import { ALL_PROTOCOL_VERSIONS } from '../../../shared/protocol-versions.js';

type Params = Record<string, unknown>;

/**
 * The 2026-07-28 shape of what the gateway answers: written here, where a stateless request's answer
 * leaves, so nothing behind the edge needs to know the revision.
 */

/** Methods of the 2025 era that 2026-07-28 removed: a modern caller gets 404 and -32601 for them. */
export const REMOVED_METHODS = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** Results a client may cache (`CacheableResult`), and for how long. */
const CACHE_TTL_MS: Readonly<Record<string, number>> = {
  // Lists change only on a config reload or a backend's list_changed; a minute bounds staleness for
  // clients that do not listen for changes.
  'tools/list': 60_000,
  'prompts/list': 60_000,
  'resources/list': 60_000,
  'resources/templates/list': 60_000,
  'server/discover': 60_000,
  // A resource's content belongs to its backend, which may change it at any moment.
  'resources/read': 0,
};

/**
 * A result as a 2026-07-28 caller reads it: `resultType`, the cache hints of a `CacheableResult` (a
 * backend's own stand, except that nothing a caller had to authenticate for is public), and who answered
 * in `_meta`.
 */
export function modernResult(
  method: string,
  value: unknown,
  serverInfo: Params,
  cacheScope: 'public' | 'private',
): Params {
  const result: Params = isObject(value) ? { ...value } : {};
  result.resultType ??= 'complete';
  const ttl = CACHE_TTL_MS[method];
  // An interim input_required result is not the answer: nothing to cache.
  if (ttl !== undefined && result.resultType === 'complete') {
    // A backend's own freshness hint stands when it is one (0 or more).
    if (typeof result.ttlMs !== 'number' || !(result.ttlMs >= 0)) result.ttlMs = ttl;
    result.cacheScope = cacheScope === 'private' || result.cacheScope === 'private' ? 'private' : 'public';
  }
  result._meta = { ...(isObject(result._meta) ? result._meta : {}), [MetaKey.SERVER_INFO]: serverInfo };
  return result;
}

/**
 * An error as a 2026-07-28 caller reads it: resource-not-found is Invalid Params now, and the
 * implementation-defined range (-32000 to -32019), which new code should not use, becomes Internal Error
 * with the original code kept in `data.code` (a backend that restarts, a call that timed out).
 */
export function modernError(wire: { code: number; message: string; data?: unknown }): {
  code: number;
  message: string;
  data?: unknown;
} {
  if (wire.code === RpcErrorCode.RESOURCE_NOT_FOUND) return { ...wire, code: RpcErrorCode.INVALID_PARAMS };
  if (wire.code <= -32000 && wire.code >= -32019)
    return {
      ...wire,
      code: RpcErrorCode.INTERNAL_ERROR,
      data: { ...(isObject(wire.data) ? wire.data : {}), code: wire.code },
    };
  return wire;
}

/** `server/discover`: what the endpoint offers, from the backend's own description or the union. */
export function discoverResult(described: { capabilities: Params; instructions?: string }): Params {
  return {
    supportedVersions: [...ALL_PROTOCOL_VERSIONS],
    capabilities: modernCapabilities(described.capabilities),
    ...(described.instructions ? { instructions: described.instructions } : {}),
  };
}

/** `params` for the backend: the caller's era metadata stays here (a 2025 backend must not see it). */
export function withoutModernMeta(params: Params | undefined): Params | undefined {
  if (!params || !isObject(params._meta)) return params;
  const meta: Params = {};
  for (const [key, value] of Object.entries(params._meta))
    if (!key.startsWith('io.modelcontextprotocol/')) meta[key] = value;
  const { _meta: _dropped, ...rest } = params;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}

/**
 * Capabilities as a 2026-07-28 caller reads them: list changes and resource subscriptions come through
 * `subscriptions/listen`, which the gateway serves for every list; a resource can be subscribed to when
 * a backend offering resources can.
 */
function modernCapabilities(capabilities: Params): Params {
  const out: Params = { ...capabilities };
  for (const kind of ['tools', 'prompts', 'resources']) {
    const entry = out[kind];
    if (isObject(entry)) out[kind] = { ...entry, listChanged: true };
  }
  return out;
}
