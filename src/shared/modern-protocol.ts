import { isObject } from './json-rpc.js';

/**
 * The per-request metadata of the stateless revision (2026-07-28): what a client puts in every request's
 * `params._meta` instead of an initialize handshake, and what a server puts in its results' `_meta`.
 */
export const MetaKey = {
  PROTOCOL_VERSION: 'io.modelcontextprotocol/protocolVersion',
  CLIENT_INFO: 'io.modelcontextprotocol/clientInfo',
  CLIENT_CAPABILITIES: 'io.modelcontextprotocol/clientCapabilities',
  LOG_LEVEL: 'io.modelcontextprotocol/logLevel',
  SERVER_INFO: 'io.modelcontextprotocol/serverInfo',
  SUBSCRIPTION_ID: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** JSON-RPC codes of the range the 2026-07-28 revision reserves for itself (-32020 to -32099). */
export const ModernErrorCode = {
  HEADER_MISMATCH: -32020,
  MISSING_REQUIRED_CLIENT_CAPABILITY: -32021,
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;

/** Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri`. */
export const NAMED_METHODS: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** The protocol version a message's `params._meta` names, if any. */
export function metaProtocolVersion(message: Record<string, unknown>): unknown {
  const params = message.params;
  if (!isObject(params) || !isObject(params._meta)) return undefined;
  return params._meta[MetaKey.PROTOCOL_VERSION];
}

const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/**
 * A mirrored header's value as the body holds it: `=?base64?...?=` decoded (UTF-8), anything else as is.
 * Undefined when the sentinel wraps something that is not Base64 of UTF-8.
 */
export function decodeHeaderValue(value: string): string | undefined {
  const encoded = SENTINEL.exec(value);
  if (!encoded) return value.startsWith('=?base64?') && value.endsWith('?=') ? undefined : value;
  const bytes = Buffer.from(encoded[1]!, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== encoded[1]!.replace(/=+$/, '')) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
