import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** Follows `nextCursor` to the end; fails on a cursor loop rather than spinning. */
async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      if (seen.has(cursor)) throw new Error(`pagination cursor ${cursor} came back twice`);
      seen.add(cursor);
    }
  } while (cursor !== undefined);
  return items;
}

export function listAllTools(client: Client): Promise<Tool[]> {
  return allPages(async (cursor) => {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    return { items: page.tools, nextCursor: page.nextCursor };
  });
}

export function listAllResources(client: Client): Promise<Resource[]> {
  return allPages(async (cursor) => {
    const page = await client.listResources(cursor === undefined ? {} : { cursor });
    return { items: page.resources, nextCursor: page.nextCursor };
  });
}

export function listAllResourceTemplates(client: Client): Promise<ResourceTemplate[]> {
  return allPages(async (cursor) => {
    const page = await client.listResourceTemplates(cursor === undefined ? {} : { cursor });
    return { items: page.resourceTemplates, nextCursor: page.nextCursor };
  });
}

export function listAllPrompts(client: Client): Promise<Prompt[]> {
  return allPages(async (cursor) => {
    const page = await client.listPrompts(cursor === undefined ? {} : { cursor });
    return { items: page.prompts, nextCursor: page.nextCursor };
  });
}
