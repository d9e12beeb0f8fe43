/** JSON-RPC 2.0 message shapes as MCP uses them, and the standard error codes. */

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown> | undefined;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown> | undefined;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export const RpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Used by the MCP SDKs for a closed connection; we use it for "backend unavailable" too. */
  CONNECTION_CLOSED: -32000,
  /** Used by the MCP SDKs for a request that timed out. */
  REQUEST_TIMEOUT: -32001,
  /** MCP: resources/read of an unknown URI. */
  RESOURCE_NOT_FOUND: -32002,
} as const;

type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isValidId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

export function isRequest(msg: Obj): msg is Obj & JsonRpcRequest {
  return typeof msg.method === 'string' && 'id' in msg && isValidId(msg.id);
}

export function isNotification(msg: Obj): msg is Obj & JsonRpcNotification {
  return typeof msg.method === 'string' && !('id' in msg);
}

export function isResponse(msg: Obj): msg is Obj & JsonRpcResponse {
  return msg.method === undefined && ('result' in msg || 'error' in msg) && 'id' in msg;
}

export function errorResponse(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcFailure {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}
