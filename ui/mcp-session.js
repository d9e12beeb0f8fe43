// @ts-check
import { readEvents } from './sse-reader.js';

const PROTOCOL_VERSION = '2025-11-25';

/** A JSON-RPC error answer, or an HTTP refusal, from the gateway. */
export class McpError extends Error {
  /**
   * @param {string} message
   * @param {number | undefined} code
   */
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/**
 * A minimal MCP client over Streamable HTTP, enough for the tool explorer: one session on one server's
 * endpoint, requests answered as JSON or as an SSE stream.
 */
export class McpSession {
  /**
   * @param {string} url e.g. /servers/echo/mcp
   * @param {() => Record<string, string>} authHeaders
   */
  constructor(url, authHeaders) {
    this.url = url;
    this.authHeaders = authHeaders;
    /** @type {string | undefined} */
    this.sessionId = undefined;
    this.nextId = 1;
    /** Closed by the page; a session id that arrives later is ended at once. */
    this.closed = false;
  }

  async connect() {
    await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-runner status page', version: '1' },
    });
    await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** Every tool, following pagination. */
  async listTools() {
    /** @type {any[]} */
    const tools = [];
    /** @type {string | undefined} */
    let cursor;
    do {
      const page = await this.request('tools/list', cursor ? { cursor } : {});
      tools.push(...(page.tools ?? []));
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /**
   * @param {string} name
   * @param {Record<string, unknown>} args
   */
  callTool(name, args) {
    return this.request('tools/call', { name, arguments: args });
  }

  /**
   * Ends the session on the gateway; `keepalive` lets the DELETE finish while the page unloads. Closed
   * while `initialize` is still on its way, the session is ended as soon as its id arrives.
   */
  close() {
    this.closed = true;
    if (!this.sessionId) return;
    const headers = { ...this.authHeaders(), 'Mcp-Session-Id': this.sessionId };
    this.sessionId = undefined;
    fetch(this.url, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
  }

  /**
   * @param {string} method
   * @param {Record<string, unknown>} params
   * @returns {Promise<any>}
   */
  async request(method, params) {
    const id = this.nextId++;
    const response = await this.#post({ jsonrpc: '2.0', id, method, params });
    if (method === 'initialize') {
      this.sessionId = response.headers.get('mcp-session-id') ?? undefined;
      if (this.closed) {
        this.close();
        throw new McpError('the session was closed while it started', undefined);
      }
    }
    if (this.closed) throw new McpError(`${method}: the session was closed`, undefined);
    const type = response.headers.get('content-type') ?? '';
    /** @type {any} */
    let answer;
    if (type.startsWith('text/event-stream') && response.body) {
      await readEvents(response.body, ({ data }) => {
        const message = parse(data);
        if (message && message.id === id && ('result' in message || 'error' in message)) {
          answer = message;
          return true;
        }
        return false;
      });
    } else {
      answer = parse(await response.text());
    }
    if (!answer) throw new McpError(`${method}: the stream ended without an answer`, undefined);
    if (answer.error) throw new McpError(answer.error.message, answer.error.code);
    return answer.result;
  }

  /** @param {Record<string, unknown>} message */
  async #post(message) {
    /** @type {Record<string, string>} */
    const headers = {
      ...this.authHeaders(),
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    };
    if (this.sessionId) {
      headers['Mcp-Session-Id'] = this.sessionId;
      headers['MCP-Protocol-Version'] = PROTOCOL_VERSION;
    }
    const response = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify(message) });
    if (!response.ok) {
      const body = parse(await response.text());
      throw new McpError(
        `HTTP ${response.status}: ${body?.error?.message ?? response.statusText}`,
        body?.error?.code,
      );
    }
    return response;
  }
}

/** @param {string} text */
function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
