import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** An official SDK client that also keeps every message its transport delivered, for leak checks. */
export interface RecordingClient {
  client: Client;
  /** Every message received since `connect` resolved, in arrival order (responses, notifications, requests). */
  received: JSONRPCMessage[];
  /** Ends the session: DELETE for Streamable HTTP (the SDK's close() sends none), then closes the client. */
  close(): Promise<void>;
}

export interface RecordingClientOptions {
  name?: string;
  capabilities?: ClientCapabilities;
  /** Runs before connect: register request and notification handlers here. */
  setup?(client: Client): void;
}

export async function connectRecordingClient(
  transport: Transport,
  options: RecordingClientOptions = {},
): Promise<RecordingClient> {
  const client = new Client(
    { name: options.name ?? 'scenario-client', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  options.setup?.(client);
  await client.connect(transport);
  const received: JSONRPCMessage[] = [];
  // The SDK transports call this.onmessage at delivery time, so wrapping it after connect sees every later
  // message, on the legacy stream, the Streamable GET stream and every POST stream alike.
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    received.push(message);
    deliver?.(message, extra);
  };
  let closed = false;
  return {
    client,
    received,
    async close() {
      if (closed) return;
      closed = true;
      if (transport instanceof StreamableHTTPClientTransport) {
        await transport.terminateSession().catch(() => undefined);
      }
      await client.close();
    },
  };
}

const paramsOf = (m: JSONRPCMessage) =>
  ('params' in m ? m.params : undefined) as
    | { progressToken?: unknown; progress?: number; total?: number }
    | undefined;

export const isProgress = (m: JSONRPCMessage): boolean =>
  'method' in m && m.method === 'notifications/progress';

export const isResponse = (m: JSONRPCMessage): boolean => 'id' in m && !('method' in m);

/**
 * The `notifications/progress` for `token` as they arrived on the wire, with their position among all the
 * messages. Check progress here rather than through `onprogress`: the SDK client dispatches notifications a
 * microtask later than responses, so a last progress that arrives in the same chunk as its response is
 * dropped by the client (its handler is already gone), although the server sent it in the right order.
 */
export function progressOnWire(
  messages: JSONRPCMessage[],
  token: string | number,
): Array<{ at: number; progress: number | undefined; total: number | undefined }> {
  return messages.flatMap((m, at) => {
    const params = paramsOf(m);
    return isProgress(m) && params?.progressToken === token
      ? [{ at, progress: params.progress, total: params.total }]
      : [];
  });
}

/** A compact account of messages, for assertion messages. */
export function describeMessages(messages: JSONRPCMessage[]): string {
  return messages
    .map((m) => {
      if (!('method' in m)) return `response ${JSON.stringify(m.id)}`;
      const params = paramsOf(m);
      return isProgress(m)
        ? `progress ${params?.progress}/${params?.total} token ${JSON.stringify(params?.progressToken)}`
        : m.method;
    })
    .join(', ');
}
