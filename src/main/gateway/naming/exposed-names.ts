import { JsonRpcError } from '../../../shared/errors.js';
import { isObject, RpcErrorCode } from '../../../shared/json-rpc.js';
import { exposePrompts, exposeTools } from '../aggregate-catalog.js';
import type { ServerExposure } from './server-exposure.js';

type Params = Record<string, unknown>;

/** The error for a tool or prompt no server shows by that name: hidden ones get it too, word for word. */
export function unknownName(noun: 'tool' | 'prompt', name: string, note = '', data?: Params): JsonRpcError {
  return new JsonRpcError(RpcErrorCode.INVALID_PARAMS, `Unknown ${noun}: ${name}.${note}`, {
    [noun]: name,
    ...data,
  });
}

/** The backend's own name for a tool or prompt a client called by the name it was shown. */
export function backendName(exposure: ServerExposure, noun: 'tool' | 'prompt', called: string): string {
  const original = noun === 'tool' ? exposure.toolName(called) : exposure.promptName(called);
  if (original === undefined) throw unknownName(noun, called);
  return original;
}

/**
 * A request on a per-server endpoint, in the backend's names: a called tool or prompt (and a completion
 * of a prompt's argument) renamed back, a hidden one refused as unknown.
 */
export function toBackendNames(
  exposure: ServerExposure,
  method: string,
  params: Params | undefined,
): Params | undefined {
  if (exposure.transparent || !params) return params;
  switch (method) {
    case 'tools/call':
      return typeof params.name === 'string'
        ? { ...params, name: backendName(exposure, 'tool', params.name) }
        : params;
    case 'prompts/get':
      return typeof params.name === 'string'
        ? { ...params, name: backendName(exposure, 'prompt', params.name) }
        : params;
    case 'completion/complete': {
      const ref = params.ref;
      if (!isObject(ref) || ref.type !== 'ref/prompt' || typeof ref.name !== 'string') return params;
      return { ...params, ref: { ...ref, name: backendName(exposure, 'prompt', ref.name) } };
    }
    default:
      return params;
  }
}

/** A per-server endpoint's list as clients see it: task-only tools left out, filters and overrides applied. */
export function toExposedList(exposure: ServerExposure, method: string, result: unknown): unknown {
  if (!isObject(result)) return result;
  if (method === 'tools/list' && Array.isArray(result.tools))
    return { ...result, tools: exposeTools(result.tools as Params[], exposure) };
  if (method === 'prompts/list' && Array.isArray(result.prompts) && !exposure.transparent)
    return { ...result, prompts: exposePrompts(result.prompts as Params[], exposure) };
  return result;
}
