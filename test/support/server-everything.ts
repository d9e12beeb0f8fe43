import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { serverEverythingPath } from './paths.js';

/**
 * What `@modelcontextprotocol/server-everything` offers behind the gateway. The gateway initialises it once,
 * declaring `{sampling: {}, elicitation: {}}`, so the conditional tools for sampling and form elicitation
 * are registered, while roots (`get-roots-list`: a shared process would cache one session's roots for
 * all), URL elicitation (`elicitation.url`) and the client-task tools (`tasks.requests.*`) are not. The
 * task-only `simulate-research-query` is not listed either: the gateway advertises no tasks.
 */
export const EVERYTHING_TOOLS = [
  'echo',
  'get-annotated-message',
  'get-env',
  'get-resource-links',
  'get-resource-reference',
  'get-structured-content',
  'get-sum',
  'get-tiny-image',
  'gzip-file-as-resource',
  'toggle-simulated-logging',
  'toggle-subscriber-updates',
  'trigger-long-running-operation',
  'trigger-elicitation-request',
  'trigger-sampling-request',
] as const;

/** Tools server-everything has that the gateway must not list on a shared backend. */
export const EVERYTHING_HIDDEN_TOOLS = [
  'get-roots-list',
  'simulate-research-query',
  'trigger-url-elicitation',
];

export type EverythingTool = (typeof EVERYTHING_TOOLS)[number];

export const EVERYTHING_PROMPTS = ['simple-prompt', 'args-prompt', 'completable-prompt', 'resource-prompt'];

export const EVERYTHING_TEMPLATES = [
  'demo://resource/dynamic/text/{resourceId}',
  'demo://resource/dynamic/blob/{resourceId}',
];

/** The directory whose files server-everything lists as static resources. */
export const EVERYTHING_DOCS_DIR = join(dirname(serverEverythingPath), 'docs');

/** The static document resources: one per file of the docs directory, `text/markdown` for `.md`. */
export function everythingDocuments(): Array<{ file: string; uri: string }> {
  return readdirSync(EVERYTHING_DOCS_DIR)
    .filter((file) => statSync(join(EVERYTHING_DOCS_DIR, file)).isFile())
    .map((file) => ({ file, uri: `demo://resource/static/document/${encodeURIComponent(file)}` }));
}

/** The server's switches for periodic traffic; each call flips it and says "Started ..." or "Stopped ...". */
export type EverythingToggle = 'toggle-simulated-logging' | 'toggle-subscriber-updates';

/** The text of a tool result's first content block. */
export function firstText(result: object): string {
  const content = 'content' in result ? result.content : undefined;
  const block = (content as Array<{ type: string; text?: string }> | undefined)?.[0];
  if (block?.type !== 'text' || typeof block.text !== 'string') {
    throw new Error(`expected a text block first, got ${JSON.stringify(result)}`);
  }
  return block.text;
}

/**
 * Puts a toggle in the wanted state. Its state is global to the backend process (over stdio the server sees
 * one session, the gateway's), so it is whatever the last caller left: flip at most twice. Switching on sends
 * one message at once (a log message, or an update per subscribed URI), then one every 5 s.
 */
export async function setEverythingToggle(
  client: Client,
  tool: EverythingToggle,
  on: boolean,
): Promise<void> {
  const seen: string[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const text = firstText(await client.callTool({ name: tool, arguments: {} }));
    seen.push(text);
    if (/^Started/.test(text) === on) return;
  }
  throw new Error(`${tool} did not turn ${on ? 'on' : 'off'}: ${JSON.stringify(seen)}`);
}
