import {
  ConnectionClosedError,
  ErrorCode,
  JsonRpcError,
  McpRunnerError,
  RequestTimeoutError,
} from './errors.js';
import { type JsonRpcErrorObject, RpcErrorCode } from './json-rpc.js';

/**
 * The one place that decides how a local error looks on the wire: its JSON-RPC error code and, where an
 * error answers an HTTP request directly, its status. Everything else asks here.
 */
const RPC_CODE_BY_ERROR: Partial<Record<string, number>> = {
  [ErrorCode.SERVER_NOT_FOUND]: RpcErrorCode.INVALID_PARAMS,
  [ErrorCode.TOOL_NOT_FOUND]: RpcErrorCode.INVALID_PARAMS,
  [ErrorCode.RESOURCE_NOT_FOUND]: RpcErrorCode.RESOURCE_NOT_FOUND,
  [ErrorCode.TIMEOUT]: RpcErrorCode.REQUEST_TIMEOUT,
  [ErrorCode.CONNECTION_CLOSED]: RpcErrorCode.CONNECTION_CLOSED,
  [ErrorCode.NOT_RUNNING]: RpcErrorCode.CONNECTION_CLOSED,
  [ErrorCode.SERVER_PROCESS]: RpcErrorCode.CONNECTION_CLOSED,
  [ErrorCode.MESSAGE_TOO_LARGE]: RpcErrorCode.INVALID_REQUEST,
  [ErrorCode.SERIALIZATION]: RpcErrorCode.INTERNAL_ERROR,
};

const HTTP_STATUS_BY_ERROR: Partial<Record<string, number>> = {
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.MESSAGE_TOO_LARGE]: 413,
  [ErrorCode.CONFIG_VALIDATION]: 400,
  [ErrorCode.SERVER_NOT_FOUND]: 404,
};

/** The JSON-RPC error object for any thrown value. Backend errors pass through with their own code. */
export function toJsonRpcError(error: unknown): JsonRpcErrorObject {
  if (error instanceof JsonRpcError) {
    return error.data === undefined
      ? { code: error.rpcCode, message: error.message }
      : { code: error.rpcCode, message: error.message, data: error.data };
  }
  if (error instanceof McpRunnerError) {
    const code = RPC_CODE_BY_ERROR[error.code] ?? RpcErrorCode.INTERNAL_ERROR;
    const data =
      error instanceof RequestTimeoutError || error instanceof ConnectionClosedError
        ? { reason: error.code, ...(typeof error.data === 'object' && error.data ? error.data : {}) }
        : { reason: error.code };
    return { code, message: error.message, data };
  }
  return {
    code: RpcErrorCode.INTERNAL_ERROR,
    message: error instanceof Error ? error.message : String(error),
  };
}

/** HTTP status for an error that answers a request by itself (not inside a JSON-RPC response). */
export function httpStatusFor(error: unknown): number {
  if (error instanceof McpRunnerError) return HTTP_STATUS_BY_ERROR[error.code] ?? 500;
  return 500;
}

/** An error as it crosses a MessagePort: plain data, rebuilt into a class on the other side. */
export interface WireError {
  code: string;
  message: string;
  data?: unknown;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof McpRunnerError) return { code: error.code, message: error.message, data: error.data };
  return { code: ErrorCode.GATEWAY, message: error instanceof Error ? error.message : String(error) };
}

export function fromWireError(wire: WireError): McpRunnerError {
  const known = Object.values(ErrorCode) as string[];
  const code = (
    known.includes(wire.code) ? wire.code : ErrorCode.GATEWAY
  ) as (typeof ErrorCode)[keyof typeof ErrorCode];
  return new McpRunnerError(code, wire.message, { data: wire.data });
}
