import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted on
export type Json = Record<string, any>;

export const MODERN = '2026-07-28';

/** What the era matrix does with a client, the same for an SDK v1 (2025) and an SDK v2 pinned (2026) one. */
export interface EraClient {
  readonly era: 'legacy' | 'modern';
  /** The text of a tool's first content block. */
  call(
    name: string,
    args?: Json,
    options?: { onprogress?: (p: Json) => void; signal?: AbortSignal },
  ): Promise<string>;
  toolNames(): Promise<string[]>;
  read(uri: string): Promise<string>;
  prompt(name: string, args: Record<string, string>): Promise<string>;
  complete(ref: Json, argument: { name: string; value: string }): Promise<string[]>;
  /** Asks for log lines at `level` from now on (2025: logging/setLevel; 2026: `_meta` logLevel per call). */
  logAt(level: string): Promise<void>;
  readonly logs: Json[];
  /** Watches tool list changes and updates of `uri` (2025: the GET stream and resources/subscribe; 2026: listen). */
  watch(
    uri: string,
  ): Promise<{ toolsChanged: () => number; updated: () => string[]; stop: () => Promise<void> }>;
  close(): Promise<void>;
}

const CAPABILITIES = { sampling: {}, elicitation: { form: {} }, roots: {} };
const answers = {
  elicit: { action: 'accept' as const, content: { name: 'Ada' } },
  sample: (text: string) => ({
    role: 'assistant' as const,
    model: 'test-model',
    content: { type: 'text' as const, text: `sampled(${text})` },
  }),
  roots: { roots: [{ uri: 'file:///work', name: 'work' }] },
};

function firstText(result: Json): string {
  if (result.isError) throw new Error(`tool error: ${JSON.stringify(result.content)}`);
  return (result.content as Json[])[0]?.text ?? '';
}

function promptText(text: unknown): string {
  const messages = (text as Json).messages as Json[];
  return messages[0]?.content?.text ?? '';
}

/** The requests both SDK clients make alike. */
interface ReadingClient {
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  readResource(params: { uri: string }): Promise<{ contents: Json[] }>;
  getPrompt(params: { name: string; arguments: Record<string, string> }): Promise<Json>;
  complete(params: { ref: Json; argument: Json }): Promise<{ completion: { values: string[] } }>;
}

function readers(client: ReadingClient): Pick<EraClient, 'toolNames' | 'read' | 'prompt' | 'complete'> {
  return {
    toolNames: async () => (await client.listTools()).tools.map((t) => t.name),
    read: async (uri) => String((await client.readResource({ uri })).contents[0]?.text),
    prompt: async (name, args) => promptText(await client.getPrompt({ name, arguments: args })),
    complete: async (ref, argument) => (await client.complete({ ref, argument })).completion.values,
  };
}

export async function connectLegacyClient(url: string): Promise<EraClient> {
  const client = new LegacyClient({ name: 'era-legacy', version: '1.0.0' }, { capabilities: CAPABILITIES });
  client.setRequestHandler(ElicitRequestSchema, async () => answers.elicit);
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const content = request.params.messages[0]?.content as Json;
    return answers.sample(String(content?.text));
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => answers.roots);
  const logs: Json[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  await client.connect(new LegacyTransport(new URL(url)));
  return {
    era: 'legacy',
    logs,
    async call(name, args = {}, options = {}) {
      return firstText((await client.callTool({ name, arguments: args }, undefined, options)) as Json);
    },
    ...readers(client as unknown as ReadingClient),
    async logAt(level) {
      await client.setLoggingLevel(level as 'debug');
    },
    async watch(uri) {
      let toolsChanged = 0;
      const updated: string[] = [];
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        toolsChanged++;
      });
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updated.push(n.params.uri);
      });
      await client.subscribeResource({ uri });
      return {
        toolsChanged: () => toolsChanged,
        updated: () => updated,
        stop: async () => {
          await client.unsubscribeResource({ uri });
        },
      };
    },
    close: () => client.close(),
  };
}

export async function connectModernClient(url: string): Promise<EraClient> {
  const client = new ModernClient(
    { name: 'era-modern', version: '1.0.0' },
    { capabilities: CAPABILITIES, versionNegotiation: { mode: { pin: MODERN } } },
  );
  client.setRequestHandler('elicitation/create', async () => answers.elicit);
  client.setRequestHandler('sampling/createMessage', async (request) => {
    const content = request.params.messages[0]?.content as Json;
    return answers.sample(String(content?.text));
  });
  client.setRequestHandler('roots/list', async () => answers.roots);
  const logs: Json[] = [];
  client.setNotificationHandler('notifications/message', (n) => {
    logs.push(n.params as Json);
  });
  let logLevel: string | undefined;
  await client.connect(new ModernTransport(new URL(url)));
  return {
    era: 'modern',
    logs,
    async call(name, args = {}, options = {}) {
      const meta = logLevel ? { _meta: { 'io.modelcontextprotocol/logLevel': logLevel } } : {};
      return firstText((await client.callTool({ name, arguments: args, ...meta }, options)) as Json);
    },
    ...readers(client as unknown as ReadingClient),
    async logAt(level) {
      logLevel = level;
    },
    async watch(uri) {
      let toolsChanged = 0;
      const updated: string[] = [];
      client.setNotificationHandler('notifications/tools/list_changed', () => {
        toolsChanged++;
      });
      client.setNotificationHandler('notifications/resources/updated', (n) => {
        updated.push(String((n.params as Json).uri));
      });
      const subscription = await client.listen({ toolsListChanged: true, resourceSubscriptions: [uri] });
      return {
        toolsChanged: () => toolsChanged,
        updated: () => updated,
        stop: () => subscription.close(),
      };
    },
    close: () => client.close(),
  };
}
