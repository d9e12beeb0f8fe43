import { isObject } from '../../shared/json-rpc.js';
import { MetaKey } from '../../shared/modern-protocol.js';
import type { ClientSession } from './client-session.js';

type Params = Record<string, unknown>;

/**
 * The per-request metadata a 2026-07-28 backend gets for a caller's request, made from the session (the
 * internal shape both edges fill): the caller's capabilities (a 2025 session's from its initialize; the
 * gateway relays every input request to exactly the caller, so nothing needs holding back), who it is,
 * and its log level. The protocol version is the backend connection's to set.
 */
export function modernEnvelope(session: ClientSession, params: Params | undefined): Params {
  const meta = isObject(params?._meta) ? params._meta : {};
  return {
    ...params,
    _meta: {
      ...meta,
      [MetaKey.CLIENT_CAPABILITIES]: session.clientCapabilities,
      ...(session.clientInfo ? { [MetaKey.CLIENT_INFO]: session.clientInfo } : {}),
      ...(session.logLevel ? { [MetaKey.LOG_LEVEL]: session.logLevel } : {}),
    },
  };
}
