/**
 * mcp-runner's public API. Everything exported here is supported; everything else is internal and may
 * change without notice.
 */

export { configJsonSchema } from './main/config/config-json-schema.js';
export type {
  Config,
  ConfigInput,
  HealthPolicy,
  RestartPolicy,
  ServerConfig,
  SseProxyConfig,
} from './main/config/config-schema.js';
export {
  defineConfig,
  loadConfigFile,
  parseConfigString,
  validateConfig,
} from './main/config/load-config.js';
export type { InputRequestResolver } from './main/input-required-loop.js';
export type { ProgressParams, RequestOptions } from './main/json-rpc-connection.js';
export type { ServerStatus, ServerStatusInfo, StatusChange } from './main/managed-server.js';
export {
  type EraPreference,
  McpClient,
  type McpClientOptions,
  type McpLoggingLevel,
  type McpRequestOptions,
  type ServerEra,
  type ServerRequestHandler,
} from './main/mcp-client.js';
export {
  type GatewayOverrides,
  McpRunner,
  type McpRunnerOptions,
  type ServerId,
} from './main/mcp-runner.js';
export type {
  CallToolResult,
  InitializeResult,
  Prompt,
  Resource,
  ResourceTemplate,
  ServerTool,
  Tool,
} from './main/mcp-types.js';
export {
  AlreadyRunningError,
  CancelledError,
  CommunicationError,
  type ConfigIssue,
  ConfigParseError,
  ConfigValidationError,
  ConnectionClosedError,
  ErrorCode,
  type ErrorCodeValue,
  GatewayError,
  HttpEngineError,
  JsonRpcError,
  McpRunnerError,
  MessageTooLargeError,
  NotRunningError,
  RequestTimeoutError,
  ResourceNotFoundError,
  SerializationError,
  ServerNotFoundError,
  ServerProcessError,
  ToolNotFoundError,
  TransportError,
  UnauthorizedError,
} from './shared/errors.js';
export type { Logger, LogLevel } from './shared/logger.js';
export {
  LATEST_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './shared/protocol-versions.js';
