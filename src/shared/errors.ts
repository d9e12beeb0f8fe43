/**
 * Local errors: every failure the library reports is one of these classes, each with a stable string
 * `code` that callers can switch on and that survives crossing a MessagePort (see `error-wire.ts`).
 * The message says what went wrong and, where there is one, what to do about it.
 */

export const ErrorCode = {
  CONFIG_PARSE: 'MCPR_ERR_CONFIG_PARSE',
  CONFIG_VALIDATION: 'MCPR_ERR_CONFIG_VALIDATION',
  SERVER_PROCESS: 'MCPR_ERR_SERVER_PROCESS',
  JSON_RPC: 'MCPR_ERR_JSON_RPC',
  TRANSPORT: 'MCPR_ERR_TRANSPORT',
  SERVER_NOT_FOUND: 'MCPR_ERR_SERVER_NOT_FOUND',
  TOOL_NOT_FOUND: 'MCPR_ERR_TOOL_NOT_FOUND',
  RESOURCE_NOT_FOUND: 'MCPR_ERR_RESOURCE_NOT_FOUND',
  COMMUNICATION: 'MCPR_ERR_COMMUNICATION',
  TIMEOUT: 'MCPR_ERR_TIMEOUT',
  ALREADY_RUNNING: 'MCPR_ERR_ALREADY_RUNNING',
  NOT_RUNNING: 'MCPR_ERR_NOT_RUNNING',
  SERIALIZATION: 'MCPR_ERR_SERIALIZATION',
  UNAUTHORIZED: 'MCPR_ERR_UNAUTHORIZED',
  CONNECTION_CLOSED: 'MCPR_ERR_CONNECTION_CLOSED',
  CANCELLED: 'MCPR_ERR_CANCELLED',
  MESSAGE_TOO_LARGE: 'MCPR_ERR_MESSAGE_TOO_LARGE',
  GATEWAY: 'MCPR_ERR_GATEWAY',
  HTTP_ENGINE: 'MCPR_ERR_HTTP_ENGINE',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error this package throws. */
export class McpRunnerError extends Error {
  readonly code: ErrorCodeValue;
  /** Structured detail safe to show a client (never secrets). */
  readonly data: unknown;

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown; data?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options?.data;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** One problem found while validating a config, with the JSON path it concerns. */
export interface ConfigIssue {
  /** Dotted JSON path, for example `mcpServers.fetch.command`; empty for the root. */
  path: string;
  message: string;
}

export class ConfigParseError extends McpRunnerError {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(message: string, options?: { line?: number; column?: number; cause?: unknown }) {
    super(ErrorCode.CONFIG_PARSE, message, { cause: options?.cause });
    this.line = options?.line;
    this.column = options?.column;
  }
}

export class ConfigValidationError extends McpRunnerError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], source?: string) {
    const where = source ? ` in ${source}` : '';
    const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`);
    super(ErrorCode.CONFIG_VALIDATION, `Invalid config${where}:\n${lines.join('\n')}`, { data: issues });
    this.issues = issues;
  }
}

export class ServerProcessError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown; data?: unknown }) {
    super(ErrorCode.SERVER_PROCESS, message, options);
  }
}

/**
 * An error answer from the other side of a JSON-RPC connection. `rpcCode` is the numeric JSON-RPC code
 * exactly as received, so a gateway can pass it on unchanged.
 */
export class JsonRpcError extends McpRunnerError {
  readonly rpcCode: number;
  constructor(rpcCode: number, message: string, data?: unknown) {
    super(ErrorCode.JSON_RPC, message, { data });
    this.rpcCode = rpcCode;
  }
}

export class TransportError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.TRANSPORT, message, options);
  }
}

export class ServerNotFoundError extends McpRunnerError {
  readonly serverName: string;
  constructor(serverName: string, known: readonly string[] = []) {
    const hint = known.length ? ` Configured servers: ${known.join(', ')}.` : ' No servers are configured.';
    super(ErrorCode.SERVER_NOT_FOUND, `Server "${serverName}" is not in the config.${hint}`, {
      data: { server: serverName },
    });
    this.serverName = serverName;
  }
}

export class ToolNotFoundError extends McpRunnerError {
  constructor(toolName: string, detail = '') {
    super(ErrorCode.TOOL_NOT_FOUND, `Tool "${toolName}" was not found.${detail ? ` ${detail}` : ''}`, {
      data: { tool: toolName },
    });
  }
}

export class ResourceNotFoundError extends McpRunnerError {
  constructor(uri: string, detail = '') {
    super(ErrorCode.RESOURCE_NOT_FOUND, `Resource "${uri}" was not found.${detail ? ` ${detail}` : ''}`, {
      data: { uri },
    });
  }
}

export class CommunicationError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.COMMUNICATION, message, options);
  }
}

export class RequestTimeoutError extends McpRunnerError {
  readonly timeoutMs: number;
  constructor(method: string, timeoutMs: number, serverName?: string) {
    const on = serverName ? ` on server "${serverName}"` : '';
    super(
      ErrorCode.TIMEOUT,
      `Request "${method}"${on} got no answer within ${timeoutMs} ms and was cancelled. ` +
        'Raise requestTimeoutMs in the config if the server is just slow.',
      { data: { method, timeoutMs } },
    );
    this.timeoutMs = timeoutMs;
  }
}

export class AlreadyRunningError extends McpRunnerError {
  constructor(serverName: string) {
    super(
      ErrorCode.ALREADY_RUNNING,
      `Server "${serverName}" is already running; stop it first to restart it.`,
    );
  }
}

export class NotRunningError extends McpRunnerError {
  constructor(serverName: string, status?: string) {
    const now = status ? ` (it is ${status})` : '';
    super(ErrorCode.NOT_RUNNING, `Server "${serverName}" is not running${now}. Start it first.`, {
      data: { server: serverName, status },
    });
  }
}

export class SerializationError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.SERIALIZATION, message, options);
  }
}

export class UnauthorizedError extends McpRunnerError {
  constructor(message = 'A valid bearer token is required (Authorization: Bearer <token>).') {
    super(ErrorCode.UNAUTHORIZED, message);
  }
}

/** The connection went away while a request was waiting for its answer. */
export class ConnectionClosedError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown; data?: unknown }) {
    super(ErrorCode.CONNECTION_CLOSED, message, options);
  }
}

export class CancelledError extends McpRunnerError {
  constructor(message = 'The request was cancelled.') {
    super(ErrorCode.CANCELLED, message);
  }
}

export class MessageTooLargeError extends McpRunnerError {
  constructor(limitBytes: number, what = 'message') {
    super(
      ErrorCode.MESSAGE_TOO_LARGE,
      `A ${what} exceeded the limit of ${limitBytes} bytes and was dropped.`,
      {
        data: { limitBytes },
      },
    );
  }
}

export class GatewayError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown; data?: unknown }) {
    super(ErrorCode.GATEWAY, message, options);
  }
}

/** The HTTP engine that was asked for cannot run here (the uWS binary does not load). */
export class HttpEngineError extends McpRunnerError {
  constructor(message: string, options?: { cause?: unknown; data?: unknown }) {
    super(ErrorCode.HTTP_ENGINE, message, options);
  }
}
