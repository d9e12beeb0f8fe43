/**
 * MCP protocol versions this package speaks, newest first. The pre-release 2024-10-07 is left out on
 * purpose: answering with it would hand some clients a version they reject.
 */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

/**
 * Stateless revisions (no initialize, no sessions; every request carries its version in `_meta`), newest
 * first. The gateway speaks these to clients per request and bridges them to backends of either era.
 */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;

export type ModernProtocolVersion = (typeof MODERN_PROTOCOL_VERSIONS)[number];

/** Every version the gateway speaks, newest first: what an UnsupportedProtocolVersion error lists. */
export const ALL_PROTOCOL_VERSIONS: readonly string[] = [
  ...MODERN_PROTOCOL_VERSIONS,
  ...SUPPORTED_PROTOCOL_VERSIONS,
];

export function isModernProtocolVersion(value: unknown): value is ModernProtocolVersion {
  return typeof value === 'string' && (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(value);
}

export const LATEST_PROTOCOL_VERSION: ProtocolVersion = '2025-11-25';

export function isSupportedProtocolVersion(value: unknown): value is ProtocolVersion {
  return typeof value === 'string' && (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(value);
}

/** The spec's negotiation rule: echo the requested version when supported, otherwise offer the latest. */
export function negotiateProtocolVersion(requested: unknown): ProtocolVersion {
  return isSupportedProtocolVersion(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

/**
 * Whether a session may get priming events (an id with empty data) and `retry:` fields: only from
 * 2025-11-25 on, because older clients fail on an event whose data is empty (typescript-sdk PR #1233).
 */
export function allowsPrimingEvents(version: string | undefined): boolean {
  return version !== undefined && version >= '2025-11-25';
}
