import { CancelledError, JsonRpcError } from '../../../shared/errors.js';
import { isObject, RpcErrorCode } from '../../../shared/json-rpc.js';
import type { InputRequestResolver } from '../../input-required-loop.js';
import { type ClientRequests, refuseUndeclared } from '../client-requests.js';
import type { ClientSession, InflightCall } from '../client-session.js';

type Params = Record<string, unknown>;

/**
 * Multi round-trip requests, from a 2026-07-28 backend to a 2025 client: the backend's `inputRequests`
 * become the 2025 server-to-client requests (sampling, elicitation, roots) on the stream of the call
 * they belong to, and the client's answers become the `inputResponses` of the retry. The client sees what
 * a 2025 server would have sent it. What it did not declare is refused before anything is sent; one
 * refusal or error ends the call (its other questions are withdrawn), as does cancelling the call.
 */
export function relayInputRequests(
  requests: ClientRequests,
  session: ClientSession,
  call: InflightCall,
): InputRequestResolver {
  return (inputRequests) => {
    const entries = Object.entries(inputRequests).map(([key, request]) => {
      if (!isObject(request) || typeof request.method !== 'string')
        throw new JsonRpcError(
          RpcErrorCode.INTERNAL_ERROR,
          `The server's input request ${key} names no method.`,
        );
      const params = isObject(request.params) ? request.params : undefined;
      refuseUndeclared(request.method, params, session);
      return { key, method: request.method, params };
    });
    const asked: string[] = [];
    const withdrawAll = (reason: string) => {
      for (const id of asked)
        if (session.serverRequests?.has(id)) requests.withdraw(session, id, call.replyTo, reason);
    };
    return new Promise<Params>((resolve, reject) => {
      call.cancel = (error) => {
        withdrawAll('The call was cancelled.');
        reject(error);
      };
      Promise.all(
        entries.map(({ method, params }) =>
          requests.ask(session, method, params, call.replyTo, (id) => asked.push(id)),
        ),
      ).then(
        (answers) => resolve(Object.fromEntries(entries.map(({ key }, n) => [key, answers[n]]))),
        (error: unknown) => {
          if (!(error instanceof CancelledError)) withdrawAll('Another question of the same call failed.');
          reject(error);
        },
      );
    });
  };
}
