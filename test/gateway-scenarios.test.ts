/**
 * The shared scenario suite (STYLE.md item 13): one list of scenarios, run against every endpoint family of
 * the gateway with the official SDK clients over real HTTP, against @modelcontextprotocol/server-everything
 * and the notify-server fixture. One gateway serves the whole file; scenarios run one after another.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  EmptyResultSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  type Progress,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { ENDPOINT_FAMILIES, type EndpointFamily } from './support/endpoint-families.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { inflightCalls } from './support/gateway-status.js';
import {
  listAllPrompts,
  listAllResources,
  listAllResourceTemplates,
  listAllTools,
} from './support/list-all.js';
import { fixturePath, serverEverythingPath } from './support/paths.js';
import { waitFor, waitForAsync } from './support/processes.js';
import {
  connectRecordingClient,
  describeMessages,
  isProgress,
  isResponse,
  progressOnWire,
  type RecordingClient,
  type RecordingClientOptions,
} from './support/recording-client.js';
import {
  EVERYTHING_DOCS_DIR,
  EVERYTHING_HIDDEN_TOOLS,
  EVERYTHING_PROMPTS,
  EVERYTHING_TEMPLATES,
  EVERYTHING_TOOLS,
  type EverythingTool,
  everythingDocuments,
  firstText,
  setEverythingToggle,
} from './support/server-everything.js';

const node = process.execPath;
const ENV_MARKER = 'MCPR_SCENARIO_MARKER';
const ENV_MARKER_VALUE = 'set-in-the-gateway-config';
const NOTIFY_TOOLS = ['notify', 'sample', 'elicit', 'roots', 'add_tool', 'bump'];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const ISOLATION_SESSIONS = 50;

type ServerName = 'everything' | 'notify';

/** A content block, read field by field. */
interface Block {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  name?: string;
  annotations?: unknown;
  resource?: { uri: string; mimeType?: string; text?: string; blob?: string };
}

const blocks = (result: object): Block[] => ('content' in result ? result.content : []) as Block[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ScenarioContext {
  family: EndpointFamily;
  /** Short and unique per family: goes into values that must not be confused across families. */
  label: string;
  /** Position of the family in the table (0-based). */
  index: number;
  gatewayUrl: string;
  /** A new session on this family's endpoint for `server`; closed when the scenario ends. */
  open(server: ServerName, options?: RecordingClientOptions): Promise<RecordingClient>;
}

interface Scenario {
  name: string;
  /** A known gateway bug: the scenario runs and is reported, but does not fail the suite. */
  todo?: string;
  run(ctx: ScenarioContext): Promise<void>;
}

/** What a client declaring sampling, elicitation and roots was asked, and the answers it gives. */
interface Agent {
  options: RecordingClientOptions;
  root: { uri: string; name: string };
  asked: { sampling: string[]; elicitation: string[]; roots: number };
}

/** A client that declares sampling, elicitation and roots, and answers each with values naming `tag`. */
function agent(tag: string): Agent {
  const root = { uri: `file:///scenario/${tag}`, name: `root of ${tag}` };
  const asked: Agent['asked'] = { sampling: [], elicitation: [], roots: 0 };
  return {
    root,
    asked,
    options: {
      name: `agent-${tag}`,
      capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: false } },
      setup(client: Client) {
        client.setRequestHandler(CreateMessageRequestSchema, (request) => {
          const content = request.params.messages[0]?.content as Block | undefined;
          asked.sampling.push(content?.text ?? '');
          return {
            role: 'assistant',
            model: 'scenario-model',
            content: { type: 'text', text: `${tag} sampled: ${content?.text}` },
          };
        });
        client.setRequestHandler(ElicitRequestSchema, (request) => {
          asked.elicitation.push(request.params.message);
          return { action: 'accept', content: { name: `Ada ${tag}`, check: true } };
        });
        client.setRequestHandler(ListRootsRequestSchema, () => {
          asked.roots += 1;
          return { roots: [root] };
        });
      },
    },
  };
}

type ToolCase = (session: RecordingClient, ctx: ScenarioContext, agent: Agent) => Promise<void>;

/** Flips a toggle twice: one answer starts it, the other stops it, so the backend ends as it was. */
async function flipTwice(client: Client, name: EverythingTool): Promise<void> {
  const first = firstText(await client.callTool({ name, arguments: {} }));
  const second = firstText(await client.callTool({ name, arguments: {} }));
  assert.deepEqual([first, second].map((t) => t.split(' ')[0]).sort(), ['Started', 'Stopped'], first);
}

/** One case per server-everything tool: valid arguments and a check of what the result means. */
const TOOL_CASES: Record<EverythingTool, ToolCase> = {
  echo: async ({ client }, { label }) => {
    const message = `hello from ${label}`;
    const result = await client.callTool({ name: 'echo', arguments: { message } });
    assert.deepEqual(result.content, [{ type: 'text', text: `Echo: ${message}` }]);
  },
  'get-annotated-message': async ({ client }) => {
    const result = await client.callTool({
      name: 'get-annotated-message',
      arguments: { messageType: 'error', includeImage: true },
    });
    const [text, image] = blocks(result);
    assert.deepEqual(text, {
      type: 'text',
      text: 'Error: Operation failed',
      annotations: { priority: 1, audience: ['user', 'assistant'] },
    });
    assert.equal(image?.type, 'image');
    assert.equal(image?.mimeType, 'image/png');
    assert.deepEqual(image?.annotations, { priority: 0.5, audience: ['user'] });
    assert.ok(
      Buffer.from(image?.data ?? '', 'base64')
        .subarray(0, 8)
        .equals(PNG_SIGNATURE),
    );
  },
  'get-env': async ({ client }) => {
    const result = await client.callTool({ name: 'get-env', arguments: {} });
    const env = JSON.parse(firstText(result)) as Record<string, string>;
    assert.equal(env[ENV_MARKER], ENV_MARKER_VALUE, 'the backend runs with the env of its config entry');
  },
  'get-resource-links': async ({ client }) => {
    const result = await client.callTool({ name: 'get-resource-links', arguments: { count: 4 } });
    const [intro, ...links] = blocks(result);
    assert.equal(intro?.text, 'Here are 4 resource links to resources available in this server:');
    assert.deepEqual(
      links.map((l) => [l.type, l.uri, l.name, l.mimeType]),
      [
        ['resource_link', 'demo://resource/dynamic/blob/1', 'Blob Resource 1', 'text/plain'],
        ['resource_link', 'demo://resource/dynamic/text/2', 'Text Resource 2', 'text/plain'],
        ['resource_link', 'demo://resource/dynamic/blob/3', 'Blob Resource 3', 'text/plain'],
        ['resource_link', 'demo://resource/dynamic/text/4', 'Text Resource 4', 'text/plain'],
      ],
    );
  },
  'get-resource-reference': async ({ client }) => {
    const result = await client.callTool({
      name: 'get-resource-reference',
      arguments: { resourceType: 'Blob', resourceId: 3 },
    });
    const [intro, embedded, outro] = blocks(result);
    assert.equal(intro?.text, 'Returning resource reference for Resource 3:');
    assert.equal(embedded?.type, 'resource');
    assert.equal(embedded?.resource?.uri, 'demo://resource/dynamic/blob/3');
    assert.match(
      Buffer.from(embedded?.resource?.blob ?? '', 'base64').toString(),
      /^Resource 3: This is a base64 blob created at /,
    );
    assert.equal(outro?.text, 'You can access this resource using the URI: demo://resource/dynamic/blob/3');
  },
  'get-structured-content': async ({ client }) => {
    // The SDK client validates structuredContent against the listed outputSchema before returning.
    const result = await client.callTool({
      name: 'get-structured-content',
      arguments: { location: 'Los Angeles' },
    });
    const weather = { temperature: 73, conditions: 'Sunny / Clear', humidity: 48 };
    assert.deepEqual(result.structuredContent, weather);
    assert.deepEqual(JSON.parse(firstText(result)), weather);
  },
  'get-sum': async ({ client }) => {
    const result = await client.callTool({ name: 'get-sum', arguments: { a: 19.5, b: 22.5 } });
    assert.deepEqual(result.content, [{ type: 'text', text: 'The sum of 19.5 and 22.5 is 42.' }]);
  },
  'get-tiny-image': async ({ client }) => {
    const result = await client.callTool({ name: 'get-tiny-image', arguments: {} });
    const [before, image, after] = blocks(result);
    assert.equal(before?.text, "Here's the image you requested:");
    assert.equal(image?.type, 'image');
    assert.equal(image?.mimeType, 'image/png');
    assert.ok(
      Buffer.from(image?.data ?? '', 'base64')
        .subarray(0, 8)
        .equals(PNG_SIGNATURE),
      'a PNG',
    );
    assert.equal(after?.text, 'The image above is the MCP logo.');
  },
  'gzip-file-as-resource': async ({ client }, { label }) => {
    const text = `compress me for ${label}`;
    const name = `tool-${label}.txt.gz`;
    const result = await client.callTool({
      name: 'gzip-file-as-resource',
      arguments: {
        name,
        data: `data:text/plain;base64,${Buffer.from(text).toString('base64')}`,
        outputType: 'resource',
      },
    });
    const [embedded] = blocks(result);
    assert.equal(embedded?.type, 'resource');
    assert.equal(embedded?.resource?.uri, `demo://resource/session/${name}`);
    assert.equal(embedded?.resource?.mimeType, 'application/gzip');
    assert.equal(gunzipSync(Buffer.from(embedded?.resource?.blob ?? '', 'base64')).toString(), text);
  },
  'toggle-simulated-logging': ({ client }) => flipTwice(client, 'toggle-simulated-logging'),
  'toggle-subscriber-updates': ({ client }) => flipTwice(client, 'toggle-subscriber-updates'),
  'trigger-long-running-operation': async ({ client, received }) => {
    const mark = received.length;
    const seen: Progress[] = [];
    const result = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.4, steps: 4 } },
      undefined,
      { onprogress: (p) => void seen.push(p) },
    );
    assert.equal(firstText(result), 'Long running operation completed. Duration: 0.4 seconds, Steps: 4.');
    const messages = received.slice(mark);
    const answer = messages.findIndex(isResponse);
    const id = (messages[answer] as { id: string | number }).id; // the SDK uses the request id as token
    const wire = progressOnWire(messages, id);
    // Every step's progress, in order, all before the result (checklist J: none after the response).
    assert.deepEqual(
      wire.map((p) => [p.progress, p.total]),
      [
        [1, 4],
        [2, 4],
        [3, 4],
        [4, 4],
      ],
      describeMessages(messages),
    );
    assert.ok(
      wire.every((p) => p.at < answer),
      `progress before the result: ${describeMessages(messages)}`,
    );
    // onprogress got them too, except perhaps the last (see progressOnWire).
    assert.ok(seen.length >= 3, `onprogress saw ${seen.length}`);
    assert.deepEqual(
      seen.map((p) => p.progress),
      wire.slice(0, seen.length).map((p) => p.progress),
    );
  },
  'trigger-elicitation-request': async ({ client }, { label }, agent) => {
    const result = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.deepEqual(agent.asked.elicitation, ['Please provide inputs for the following fields:']);
    const [done, inputs] = blocks(result);
    assert.equal(done?.text, '✅ User provided the requested information!');
    assert.equal(inputs?.text, `User inputs:\n- Name: Ada ${label}\n- Agreed to terms: true`);
  },
  'trigger-sampling-request': async ({ client }, { label }, agent) => {
    const prompt = `weather in ${label}`;
    const result = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt } });
    const asked = `Resource trigger-sampling-request context: ${prompt}`;
    assert.deepEqual(agent.asked.sampling, [asked]);
    const text = firstText(result);
    assert.ok(text.startsWith('LLM sampling result: \n'), text);
    assert.deepEqual(JSON.parse(text.slice('LLM sampling result: \n'.length)), {
      model: 'scenario-model',
      role: 'assistant',
      content: { type: 'text', text: `${label} sampled: ${asked}` },
    });
  },
};

const SCENARIOS: Scenario[] = [
  {
    name: 'tools: every server-everything tool is listed once and answers a valid call meaningfully',
    async run(ctx) {
      // A second session on the same endpoint watches for anything of the first one's leaking to it.
      const bystander = await ctx.open('everything', { name: 'bystander' });
      const caller = agent(ctx.label);
      const session = await ctx.open('everything', caller.options);
      const names = (await listAllTools(session.client)).map((t) => t.name);
      const shown = (name: string) => ctx.family.shown('everything', name);
      for (const name of EVERYTHING_TOOLS) {
        assert.equal(
          names.filter((n) => n === shown(name)).length,
          1,
          `${name} is listed once: ${names.join(',')}`,
        );
      }
      for (const hidden of EVERYTHING_HIDDEN_TOOLS)
        assert.ok(!names.includes(shown(hidden)), `${hidden} is not listed`);
      if (ctx.family.aggregated) {
        for (const name of NOTIFY_TOOLS)
          assert.ok(names.includes(ctx.family.shown('notify', name)), `aggregated list has ${name}`);
      } else {
        assert.deepEqual([...names].sort(), [...EVERYTHING_TOOLS].sort(), 'only the one server');
      }
      for (const name of EVERYTHING_TOOLS) {
        await TOOL_CASES[name](session, ctx, caller).catch((error: Error) => {
          error.message = `${name}: ${error.message}`;
          throw error;
        });
      }
      const leaked = bystander.received.filter((m) => isProgress(m) || 'id' in m);
      assert.deepEqual(leaked, [], 'the bystander got no responses, progress or server requests');
      // The gzip tool registered a resource: its list_changed reaches each session of the server once.
      const listChanged = (r: RecordingClient) =>
        r.received.filter((m) => 'method' in m && m.method === 'notifications/resources/list_changed').length;
      assert.ok(await waitFor(() => listChanged(bystander) >= 1 && listChanged(session) >= 1, 3_000));
      await sleep(100);
      assert.equal(listChanged(bystander), 1, describeMessages(bystander.received));
      assert.equal(listChanged(session), 1, describeMessages(session.received));
    },
  },
  {
    name: 'tools: roots/list asked during a call reaches only the calling session, and its answer comes back',
    async run(ctx) {
      const idle = agent(`${ctx.label}-idle`);
      await ctx.open('notify', idle.options);
      const caller = agent(ctx.label);
      const session = await ctx.open('notify', caller.options);
      const result = await session.client.callTool({ name: 'roots', arguments: {} });
      assert.deepEqual(JSON.parse(firstText(result)), { roots: [caller.root] });
      assert.equal(caller.asked.roots, 1);
      assert.equal(idle.asked.roots, 0, 'the idle session that also declared roots was not asked');
    },
  },
  {
    name: 'tools: no listed tool requires task augmentation, since the gateway advertises no tasks capability',
    async run(ctx) {
      const session = await ctx.open('everything');
      const tasks = session.client.getServerCapabilities()?.tasks as
        | { requests?: { tools?: { call?: object } } }
        | undefined;
      const taskOnly = (await listAllTools(session.client))
        .filter((t) => t.execution?.taskSupport === 'required')
        .map((t) => t.name);
      if (tasks?.requests?.tools?.call === undefined) assert.deepEqual(taskOnly, []);
    },
  },
  {
    name: 'resources: paginated list, templates, static text and blob reads, template reads',
    async run(ctx) {
      const { client } = await ctx.open('everything');
      const resources = await listAllResources(client);
      const uris = resources.map((r) => r.uri);
      const documents = everythingDocuments();
      assert.ok(documents.length >= 3, 'server-everything ships its docs as static resources');
      for (const { file, uri } of documents) {
        const listed = resources.filter((r) => r.uri === uri);
        assert.equal(listed.length, 1, `${uri} is listed once`);
        if (file.endsWith('.md')) assert.equal(listed[0]?.mimeType, 'text/markdown');
      }
      assert.equal(
        uris.includes('fixture://counter'),
        ctx.family.aggregated,
        'the fixture only when aggregated',
      );
      const templates = (await listAllResourceTemplates(client)).map((t) => t.uriTemplate);
      for (const template of EVERYTHING_TEMPLATES) assert.ok(templates.includes(template), template);
      if (!ctx.family.aggregated) assert.deepEqual([...templates].sort(), [...EVERYTHING_TEMPLATES].sort());

      // A static text resource: the file's exact content.
      const doc = documents.find((d) => d.file === 'instructions.md') ?? documents[0]!;
      const read = await client.readResource({ uri: doc.uri });
      assert.deepEqual(read.contents, [
        {
          uri: doc.uri,
          mimeType: 'text/markdown',
          text: readFileSync(join(EVERYTHING_DOCS_DIR, doc.file), 'utf8'),
        },
      ]);

      // A static blob resource: the gzip tool registers one (and announces it with list_changed).
      const original = `static blob for ${ctx.label}`;
      const name = `resource-${ctx.label}.gz`;
      const made = await client.callTool({
        name: 'gzip-file-as-resource',
        arguments: { name, data: `data:text/plain;base64,${Buffer.from(original).toString('base64')}` },
      });
      const [link] = blocks(made);
      assert.equal(link?.type, 'resource_link');
      assert.equal(link?.uri, `demo://resource/session/${name}`);
      assert.ok(
        (await listAllResources(client)).some((r) => r.uri === link?.uri),
        'listed after creation',
      );
      const blob = await client.readResource({ uri: link!.uri! });
      const content = blob.contents[0] as { uri: string; mimeType?: string; blob?: string };
      assert.equal(content.uri, link?.uri);
      assert.equal(content.mimeType, 'application/gzip');
      assert.equal(gunzipSync(Buffer.from(content.blob ?? '', 'base64')).toString(), original);

      // Reads through the two URI templates.
      const text = await client.readResource({ uri: 'demo://resource/dynamic/text/42' });
      assert.equal(text.contents[0]?.uri, 'demo://resource/dynamic/text/42');
      assert.match(
        (text.contents[0] as { text: string }).text,
        /^Resource 42: This is a plaintext resource created at /,
      );
      const binary = await client.readResource({ uri: 'demo://resource/dynamic/blob/7' });
      assert.match(
        Buffer.from((binary.contents[0] as { blob: string }).blob, 'base64').toString(),
        /^Resource 7: This is a base64 blob created at /,
      );
      await assert.rejects(client.readResource({ uri: 'nowhere://nothing' }), McpError);
    },
  },
  {
    name: 'resources: subscribe brings updates for that URI; after unsubscribe none arrive',
    async run(ctx) {
      const uri = `demo://resource/dynamic/text/${900 + ctx.index}`;
      const updates = { subscriber: [] as string[], witness: [] as string[] };
      const watch = (into: string[]): RecordingClientOptions => ({
        setup: (client) =>
          client.setNotificationHandler(
            ResourceUpdatedNotificationSchema,
            (n) => void into.push(n.params.uri),
          ),
      });
      const subscriber = await ctx.open('everything', watch(updates.subscriber));
      // The witness stays subscribed to the same URI: its next update proves an update round happened.
      const witness = await ctx.open('everything', watch(updates.witness));
      try {
        assert.deepEqual(await subscriber.client.subscribeResource({ uri }), {});
        assert.deepEqual(await witness.client.subscribeResource({ uri }), {});
        // Switching the updates on sends one round at once for every subscribed URI, then one every 5 s.
        await setEverythingToggle(subscriber.client, 'toggle-subscriber-updates', true);
        assert.ok(
          await waitFor(() => updates.subscriber.length >= 1 && updates.witness.length >= 1, 7_000),
          `both sessions get an update: ${JSON.stringify(updates)}`,
        );
        assert.deepEqual(await subscriber.client.unsubscribeResource({ uri }), {});
        assert.deepEqual(
          await subscriber.client.unsubscribeResource({ uri: `${uri}0` }),
          {},
          'unsubscribing from a URI never subscribed to is not an error',
        );
        const before = { subscriber: updates.subscriber.length, witness: updates.witness.length };
        await setEverythingToggle(subscriber.client, 'toggle-subscriber-updates', false);
        await setEverythingToggle(subscriber.client, 'toggle-subscriber-updates', true);
        assert.ok(
          await waitFor(() => updates.witness.length > before.witness, 7_000),
          'the witness gets the next round',
        );
        await sleep(200);
        assert.equal(updates.subscriber.length, before.subscriber, 'nothing after unsubscribe');
        for (const seen of [...updates.subscriber, ...updates.witness]) assert.equal(seen, uri);
      } finally {
        await setEverythingToggle(witness.client, 'toggle-subscriber-updates', false);
      }
    },
  },
  {
    name: 'resources: an update for a URI that merely starts with a subscribed URI is not delivered',
    async run(ctx) {
      const uri = `demo://resource/dynamic/text/7${ctx.index}`;
      const longer = `${uri}0`; // not a sub-resource of uri, only a longer string
      const updates = { short: [] as string[], long: [] as string[] };
      const watch = (into: string[]): RecordingClientOptions => ({
        setup: (client) =>
          client.setNotificationHandler(
            ResourceUpdatedNotificationSchema,
            (n) => void into.push(n.params.uri),
          ),
      });
      const short = await ctx.open('everything', watch(updates.short));
      const long = await ctx.open('everything', watch(updates.long));
      try {
        await short.client.subscribeResource({ uri });
        await long.client.subscribeResource({ uri: longer });
        await setEverythingToggle(short.client, 'toggle-subscriber-updates', true);
        assert.ok(
          await waitFor(() => updates.short.length >= 1 && updates.long.length >= 1, 7_000),
          JSON.stringify(updates),
        );
        await sleep(200);
        assert.deepEqual(updates.long, [longer]);
        assert.deepEqual(updates.short, [uri], `${uri} subscriber got ${JSON.stringify(updates.short)}`);
      } finally {
        await setEverythingToggle(short.client, 'toggle-subscriber-updates', false);
      }
    },
  },
  {
    name: 'prompts and completions: list, get simple and with arguments, complete prompt and template arguments',
    async run(ctx) {
      const { client } = await ctx.open('everything');
      const prompts = await listAllPrompts(client);
      const names = prompts.map((p) => p.name);
      const shown = (name: string) => ctx.family.shown('everything', name);
      if (ctx.family.aggregated)
        for (const name of EVERYTHING_PROMPTS) assert.ok(names.includes(shown(name)), name);
      else assert.deepEqual([...names].sort(), [...EVERYTHING_PROMPTS].sort());
      assert.deepEqual(
        prompts
          .find((p) => p.name === shown('args-prompt'))
          ?.arguments?.map((a) => [a.name, a.required ?? false]),
        [
          ['city', true],
          ['state', false],
        ],
      );

      const simple = await client.getPrompt({ name: shown('simple-prompt') });
      assert.deepEqual(simple.messages, [
        { role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } },
      ]);
      const withArgs = await client.getPrompt({
        name: shown('args-prompt'),
        arguments: { city: 'Lyon', state: ctx.label },
      });
      assert.deepEqual(withArgs.messages, [
        { role: 'user', content: { type: 'text', text: `What's weather in Lyon, ${ctx.label}?` } },
      ]);
      const embedded = await client.getPrompt({
        name: shown('resource-prompt'),
        arguments: { resourceType: 'Text', resourceId: '5' },
      });
      const resource = embedded.messages[1]?.content as Block | undefined;
      assert.equal(resource?.type, 'resource');
      assert.equal(resource?.resource?.uri, 'demo://resource/dynamic/text/5');
      assert.match(resource?.resource?.text ?? '', /^Resource 5: This is a plaintext resource/);

      const complete = async (
        ref: { type: 'ref/prompt'; name: string } | { type: 'ref/resource'; uri: string },
        name: string,
        value: string,
        context?: Record<string, string>,
      ) =>
        (
          await client.complete({
            ref,
            argument: { name, value },
            ...(context ? { context: { arguments: context } } : {}),
          })
        ).completion.values;
      const team = { type: 'ref/prompt', name: shown('completable-prompt') } as const;
      assert.deepEqual(await complete(team, 'department', 'S'), ['Sales', 'Support']);
      assert.deepEqual(await complete(team, 'name', '', { department: 'Marketing' }), [
        'Grace',
        'Henry',
        'Iris',
      ]);
      assert.deepEqual(await complete(team, 'name', 'H', { department: 'Marketing' }), ['Henry']);
      const resourcePrompt = { type: 'ref/prompt', name: shown('resource-prompt') } as const;
      assert.deepEqual(await complete(resourcePrompt, 'resourceType', 'B'), ['Blob']);
      const textTemplate = {
        type: 'ref/resource',
        uri: 'demo://resource/dynamic/text/{resourceId}',
      } as const;
      assert.deepEqual(await complete(textTemplate, 'resourceId', '12'), ['12']);
      assert.deepEqual(await complete(textTemplate, 'resourceId', 'abc'), []);
    },
  },
  {
    name: 'logging: each session gets log messages at its own level; an invalid level is -32602',
    async run(ctx) {
      const simulated = /level.message$/; // server-everything's random-level messages
      const logs = { debug: [] as string[], error: [] as string[], none: [] as string[] };
      const collect = (into: string[]): RecordingClientOptions => ({
        setup: (client) =>
          client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
            if (simulated.test(String(n.params.data))) into.push(n.params.level);
          }),
      });
      const verbose = await ctx.open('everything', collect(logs.debug));
      const quiet = await ctx.open('everything', collect(logs.error));
      const silent = await ctx.open('everything', collect(logs.none));
      assert.deepEqual(await verbose.client.setLoggingLevel('debug'), {});
      assert.deepEqual(await quiet.client.setLoggingLevel('error'), {});
      // Each switch-on of simulated logging sends one message at a random level at once; count them.
      let rounds = 0;
      let on = false;
      try {
        for (let i = 0; i < 24; i++) {
          const text = firstText(
            await verbose.client.callTool({ name: 'toggle-simulated-logging', arguments: {} }),
          );
          on = text.startsWith('Started');
          if (on) rounds += 1;
        }
      } finally {
        if (on) await verbose.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      }
      assert.ok(rounds >= 12);
      assert.ok(await waitFor(() => logs.debug.length >= rounds, 5_000), `debug got ${logs.debug.length}`);
      await sleep(300);
      assert.equal(logs.debug.length, rounds, 'one message per round at debug level, whatever its level');
      const severe = ['error', 'critical', 'alert', 'emergency'];
      assert.deepEqual(
        logs.error,
        logs.debug.filter((level) => severe.includes(level)),
        'the error-level session gets exactly the messages at error and above',
      );
      assert.deepEqual(logs.none, [], 'a session that never set a level gets no log messages');
      const invalid = verbose.client.request(
        { method: 'logging/setLevel', params: { level: 'loud' } },
        EmptyResultSchema,
      );
      await assert.rejects(invalid, (error: unknown) => error instanceof McpError && error.code === -32602);
      await silent.client.ping();
    },
  },
  {
    name: 'cancellation: an aborted call rejects at once, nothing of it arrives later, the session goes on',
    async run(ctx) {
      const session = await ctx.open('everything');
      const controller = new AbortController();
      let progress = 0;
      // 50 steps over 5 s; server-everything ignores cancellation and keeps sending progress to the gateway.
      const call = session.client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 5, steps: 50 } },
        undefined,
        {
          signal: controller.signal,
          onprogress: () => {
            progress += 1;
          },
        },
      );
      call.catch(() => undefined);
      assert.ok(await waitFor(() => progress >= 1, 5_000), 'the call is running on the backend');
      const mark = session.received.length;
      const abortedAt = performance.now();
      controller.abort(new Error('scenario abort'));
      await assert.rejects(call, /scenario abort/);
      assert.ok(performance.now() - abortedAt < 1_000, 'rejects promptly');
      assert.ok(
        await waitForAsync(async () => (await inflightCalls(ctx.gatewayUrl)) === 0, 5_000),
        'the gateway holds nothing in flight for it',
      );
      await sleep(400); // four more backend steps
      const late = session.received.slice(mark).filter((m) => isProgress(m) || isResponse(m));
      assert.deepEqual(late, [], 'no progress or result of the cancelled call reached the client');
      const after = await session.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
      assert.deepEqual(after.content, [{ type: 'text', text: 'Echo: still here' }]);
    },
  },
  {
    name: `isolation: ${ISOLATION_SESSIONS} concurrent sessions with colliding ids and progress tokens get only their own messages`,
    async run(ctx) {
      const sessions = await Promise.all(
        Array.from({ length: ISOLATION_SESSIONS }, (_, i) => ctx.open('everything', { name: `iso-${i}` })),
      );
      await Promise.all(
        sessions.map(async (session, i) => {
          const steps = 2 + (i % 3); // a session's progress total tells its notifications apart
          const message = `${ctx.label}/${i}/${randomUUID()}`;
          const seen: Progress[] = [];
          // Every session sends tools/call as id 1 (progressToken 1) and id 2, at the same moment.
          const [long, echo] = await Promise.all([
            session.client.callTool(
              { name: 'trigger-long-running-operation', arguments: { duration: 0.1 * steps, steps } },
              undefined,
              { onprogress: (p) => void seen.push(p) },
            ),
            session.client.callTool({ name: 'echo', arguments: { message } }),
          ]);
          const account = `session ${i} received ${describeMessages(session.received)}`;
          assert.deepEqual(echo.content, [{ type: 'text', text: `Echo: ${message}` }], account);
          assert.match(firstText(long), new RegExp(`Steps: ${steps}\\.$`), account);
          assert.deepEqual(
            progressOnWire(session.received, 1).map((p) => [p.progress, p.total]),
            Array.from({ length: steps }, (_, k) => [k + 1, steps]),
            `its own progress only: ${account}`,
          );
          assert.ok(seen.length >= steps - 1, `onprogress: ${account}`);
          const responses = session.received.filter(isResponse).map((m) => (m as { id: unknown }).id);
          const tokens = session.received
            .filter(isProgress)
            .map((m) =>
              'params' in m ? (m.params as { progressToken?: unknown }).progressToken : undefined,
            );
          assert.deepEqual(responses.sort(), [1, 2], `one answer per request, ids restored: ${account}`);
          assert.deepEqual(new Set(tokens), new Set([1]), `its own token: ${account}`);
          assert.equal(session.received.length, 2 + steps, `nothing else arrived: ${account}`);
        }),
      );
    },
  },
];

const SERVERS = {
  everything: {
    command: node,
    args: [serverEverythingPath, 'stdio'],
    env: { [ENV_MARKER]: ENV_MARKER_VALUE },
  },
  notify: { command: node, args: [fixturePath('notify-server')] },
};

describe('gateway scenarios: one suite, every endpoint family', { timeout: 600_000 }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(SERVERS);
  });
  after(() => gw?.stop());

  ENDPOINT_FAMILIES.forEach((family, index) => {
    describe(family.name, { timeout: 120_000 }, () => {
      for (const scenario of SCENARIOS) {
        test(scenario.name, scenario.todo ? { todo: scenario.todo } : {}, async () => {
          const open: RecordingClient[] = [];
          const ctx: ScenarioContext = {
            family,
            index,
            label: `f${index}`,
            gatewayUrl: gw.url,
            async open(server, options) {
              const url = family.url(gw.url, server);
              const session = await connectRecordingClient(family.transport(url), options);
              open.push(session);
              return session;
            },
          };
          try {
            await scenario.run(ctx);
          } finally {
            await Promise.allSettled(open.map((session) => session.close()));
          }
        });
      }
    });
  });
});
