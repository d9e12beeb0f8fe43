import { JsonRpcError } from '../shared/errors.js';
import { isObject, RpcErrorCode } from '../shared/json-rpc.js';

type Params = Record<string, unknown>;

/**
 * Answers a 2026-07-28 server's `inputRequests` (its sampling, elicitation and roots requests, by the key
 * the server gave each): resolves with the `inputResponses` to retry with, or rejects to end the call.
 */
export type InputRequestResolver = (inputRequests: Params) => Promise<Params>;

/** Rounds one call may take: a server that keeps asking is broken, and the caller must not wait forever. */
export const MAX_INPUT_ROUNDS = 16;

/** Whether a result is an interim `InputRequiredResult` rather than the answer. */
export function isInputRequired(result: unknown): result is Params {
  return isObject(result) && result.resultType === 'input_required';
}

/**
 * Multi round-trip requests from the client's side: while the server answers `input_required`, get the
 * inputs from `resolve` and send the request again with `inputResponses` and the server's `requestState`
 * (each retry a new JSON-RPC request, as the spec says), until the server gives the final result.
 */
export async function fulfilInputRequired(
  first: Params,
  params: Params | undefined,
  resolve: InputRequestResolver,
  retry: (params: Params) => Promise<unknown>,
): Promise<unknown> {
  let result: unknown = first;
  for (let round = 0; isInputRequired(result); round++) {
    if (round >= MAX_INPUT_ROUNDS)
      throw new JsonRpcError(
        RpcErrorCode.INTERNAL_ERROR,
        `The server asked for input ${MAX_INPUT_ROUNDS} times in one call; giving up on it.`,
      );
    const inputResponses = await resolve(isObject(result.inputRequests) ? result.inputRequests : {});
    const { inputResponses: _old, requestState: _oldState, ...rest } = params ?? {};
    result = await retry({
      ...rest,
      ...(Object.keys(inputResponses).length > 0 ? { inputResponses } : {}),
      ...(typeof result.requestState === 'string' ? { requestState: result.requestState } : {}),
    });
  }
  return result;
}
