import { CancelledError, JsonRpcError } from '../../shared/errors.js';
import { isObject, RpcErrorCode } from '../../shared/json-rpc.js';
import type { ClientSession, OutletRef, SessionDirectory } from './client-session.js';

type Params = Record<string, unknown>;

/** How long a client has to answer a backend's sampling/elicitation/roots request. */
export const SERVER_REQUEST_TIMEOUT_MS = 120_000;

/** The client capability each server-to-client request needs. */
export const CAPABILITY_FOR_REQUEST: Readonly<Record<string, string>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * Refuses what the session did not declare: the capability itself, tool-enabled sampling without
 * `sampling.tools`, and an elicitation mode (`form` by default, or `url`) outside its `elicitation`
 * capability (`{}` means form).
 */
export function refuseUndeclared(method: string, params: Params | undefined, session: ClientSession): void {
  const caps = session.clientCapabilities;
  const capability = CAPABILITY_FOR_REQUEST[method];
  if (capability === undefined || caps[capability] === undefined)
    throw new JsonRpcError(
      RpcErrorCode.METHOD_NOT_FOUND,
      `The client did not declare the capability for ${method}; it cannot be asked.`,
    );
  if (
    method === 'sampling/createMessage' &&
    (params?.tools !== undefined || params?.toolChoice !== undefined)
  ) {
    if (!isObject(caps.sampling) || !isObject(caps.sampling.tools))
      throw new JsonRpcError(
        RpcErrorCode.INVALID_PARAMS,
        'The client did not declare sampling.tools; sampling with tools cannot be sent to it.',
      );
  }
  if (method === 'elicitation/create') {
    const mode = typeof params?.mode === 'string' ? params.mode : 'form';
    const declared = isObject(caps.elicitation) ? caps.elicitation : {};
    const supported = Object.keys(declared).length === 0 ? mode === 'form' : isObject(declared[mode]);
    if (!supported)
      throw new JsonRpcError(
        RpcErrorCode.INVALID_PARAMS,
        `The client does not support elicitation mode "${mode}".`,
      );
  }
}

/**
 * Requests the gateway sends to a 2025 client session on a backend's behalf (a 2025 backend's own
 * requests, or a 2026 backend's input requests): each gets an id of the session's, waits for the
 * client's answer for a bounded time, and is settled by that answer, the backend's cancellation or the
 * session's end.
 */
export class ClientRequests {
  readonly #directory: SessionDirectory;

  constructor(directory: SessionDirectory) {
    this.#directory = directory;
  }

  /** Asks the client; `onId` learns the id the client sees before the request goes out. */
  ask(
    session: ClientSession,
    method: string,
    params: unknown,
    via: OutletRef | undefined,
    onId?: (id: string) => void,
  ): Promise<unknown> {
    const id = session.nextServerRequestId();
    onId?.(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        session.serverRequests?.delete(id);
        reject(
          new JsonRpcError(RpcErrorCode.REQUEST_TIMEOUT, `The client did not answer ${method} in time.`),
        );
      }, SERVER_REQUEST_TIMEOUT_MS);
      timer.unref();
      session.serverRequestMap().set(id, { resolve, reject, timer });
      const sent = this.#directory.sendToSession(
        session,
        { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) },
        via,
      );
      if (!sent) {
        clearTimeout(timer);
        session.serverRequests?.delete(id);
        reject(
          new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The client session has no open stream to ask on.'),
        );
      }
    });
  }

  /** A client's answer to one of these requests. */
  answer(session: ClientSession, message: Params): void {
    const id = typeof message.id === 'string' ? message.id : undefined;
    const pending = id ? session.serverRequests?.get(id) : undefined;
    if (!pending || !id) return;
    session.serverRequests?.delete(id);
    clearTimeout(pending.timer);
    if (isObject(message.error)) {
      const code = typeof message.error.code === 'number' ? message.error.code : RpcErrorCode.INTERNAL_ERROR;
      const text = typeof message.error.message === 'string' ? message.error.message : 'Client error';
      pending.reject(new JsonRpcError(code, text, message.error.data));
    } else {
      pending.resolve(message.result);
    }
  }

  /** The asker gave up: the client hears `notifications/cancelled` with its own id, on `via`. */
  withdraw(session: ClientSession, id: string, via: OutletRef | undefined, reason?: string): void {
    const pending = session.serverRequests?.get(id);
    if (pending) {
      session.serverRequests?.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new CancelledError('Cancelled by the server.'));
    }
    this.#directory.sendToSession(
      session,
      {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: id, ...(reason === undefined ? {} : { reason }) },
      },
      via,
    );
  }

  /** The session ended: whatever it was asked fails. */
  release(session: ClientSession): void {
    for (const pending of session.serverRequests?.values() ?? []) {
      clearTimeout(pending.timer);
      pending.reject(
        new JsonRpcError(RpcErrorCode.INTERNAL_ERROR, 'The client session ended before answering.'),
      );
    }
    session.serverRequests?.clear();
  }
}
