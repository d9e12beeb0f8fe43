import { JsonRpcError, ServerProcessError } from '../shared/errors.js';
import { isObject } from '../shared/json-rpc.js';
import { MetaKey, ModernErrorCode } from '../shared/modern-protocol.js';
import {
  isModernProtocolVersion,
  LATEST_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
} from '../shared/protocol-versions.js';
import type { InitializeResult } from './mcp-types.js';

/** How long a `server/discover` probe may go unanswered before the server counts as legacy. */
export const DISCOVER_PROBE_TIMEOUT_MS = 3_000;

const WE_SPEAK = `${MODERN_PROTOCOL_VERSIONS.join(', ')} and 2024-11-05 to ${LATEST_PROTOCOL_VERSION}`;

/**
 * The stdio Backward Compatibility probe: `server/discover` first. A DiscoverResult naming a version we
 * speak means a modern server, described by what it returned in the shape of an initialize result (its
 * capabilities, identity and instructions are what the rest of the gateway reads from either). An
 * UnsupportedProtocolVersion error means modern without a version in common: an error, no fallback. Any
 * other answer, or none in time, means legacy (undefined: go on with initialize), unless only modern
 * will do.
 */
export async function probeDiscover(
  discover: (timeoutMs: number | undefined) => Promise<unknown>,
  serverName: string,
  preference: 'auto' | 'modern',
  timeoutMs: number | undefined,
): Promise<InitializeResult | undefined> {
  const probeMs =
    preference === 'modern'
      ? timeoutMs
      : Math.min(DISCOVER_PROBE_TIMEOUT_MS, timeoutMs ?? DISCOVER_PROBE_TIMEOUT_MS);
  let discovered: unknown;
  try {
    discovered = await discover(probeMs);
  } catch (error) {
    if (error instanceof JsonRpcError && error.rpcCode === ModernErrorCode.UNSUPPORTED_PROTOCOL_VERSION) {
      const data = isObject(error.data) ? error.data : {};
      throw new ServerProcessError(
        `Server "${serverName}" speaks only MCP versions ${JSON.stringify(data.supported ?? data.supportedVersions)}, ` +
          `and mcp-runner speaks ${WE_SPEAK}. Upgrade one of them.`,
      );
    }
    if (preference === 'modern')
      throw new ServerProcessError(
        `Server "${serverName}" did not answer server/discover (${error instanceof Error ? error.message : String(error)}), ` +
          `so it does not speak MCP 2026-07-28; set mcpServers.${serverName}.era to "auto" or "legacy".`,
        { cause: error },
      );
    return undefined;
  }
  const versions =
    isObject(discovered) && Array.isArray(discovered.supportedVersions) ? discovered.supportedVersions : [];
  const version = versions.find(isModernProtocolVersion);
  if (!isObject(discovered) || version === undefined) {
    if (preference === 'modern')
      throw new ServerProcessError(
        `Server "${serverName}" answered server/discover with versions ${JSON.stringify(versions)}, none of ` +
          `which mcp-runner speaks (${MODERN_PROTOCOL_VERSIONS.join(', ')}).`,
      );
    return undefined;
  }
  const meta = isObject(discovered._meta) ? discovered._meta : {};
  return {
    protocolVersion: version,
    capabilities: isObject(discovered.capabilities) ? discovered.capabilities : {},
    serverInfo: isObject(meta[MetaKey.SERVER_INFO])
      ? meta[MetaKey.SERVER_INFO]
      : { name: serverName, version: 'unknown' },
    ...(typeof discovered.instructions === 'string' ? { instructions: discovered.instructions } : {}),
  } as InitializeResult;
}
