/**
 * What a server shows of itself through the gateway: which tools and prompts (filters), under which
 * names (overrides), and how the aggregated endpoints tell servers apart (the namespace separator).
 */
import { z } from 'zod';

export const DEFAULT_NAMESPACE_SEPARATOR = '__';

/** Tool names as 2025-11-25 and 2026-07-28 want them: letters, digits, `_`, `-`, `.`; 1 to 128. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const glob = z.string().min(1).describe('A name, or a pattern where * stands for any run of characters.');

const filterSchema = z
  .strictObject({
    allow: z
      .array(glob)
      .optional()
      .describe('Only names matching one of these are shown. Omit to allow all.'),
    deny: z.array(glob).optional().describe('Names matching one of these are hidden (deny wins over allow).'),
  })
  .describe('Which names the gateway shows; a hidden one is absent from every list and refused when called.');

export const toolsFilterSchema = filterSchema;
export const promptsFilterSchema = filterSchema;

export const overridesSchema = z
  .record(
    z.string().min(1),
    z.strictObject({
      name: z
        .string()
        .regex(TOOL_NAME_PATTERN, {
          error: 'must be 1-128 letters, digits, "_", "-" or "." (the tool-name rule of MCP)',
        })
        .optional()
        .describe('The name clients see and call; the backend still gets its own.'),
      title: z.string().optional().describe('Replaces the tool’s title.'),
      description: z.string().optional().describe('Replaces the tool’s description.'),
    }),
  )
  .describe('Per tool (by the backend’s name): what clients see instead, on every endpoint.');

export const namespaceSchema = z
  .union([
    z.string().regex(/^[A-Za-z0-9_.-]{1,8}$/, {
      error: 'must be 1-8 letters, digits, "_", "-" or "." (it becomes part of tool names)',
    }),
    z.literal(false),
  ])
  .default(DEFAULT_NAMESPACE_SEPARATOR)
  .describe(
    'On the aggregated endpoints (/mcp, /sse) tools and prompts are named {server}{separator}{name}; false lists bare names with a "server" field (the original crate), to be called with params.server.',
  );

export type ToolsFilter = z.output<typeof toolsFilterSchema>;
export type ToolOverrides = z.output<typeof overridesSchema>;

/**
 * Pairs of servers whose names with the separator could be confused (`a` and `a__b` under `__`: is
 * `a__b__x` tool `b__x` of `a` or `x` of `a__b`?).
 */
export function ambiguousPrefixes(servers: readonly string[], separator: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const a of servers)
    for (const b of servers)
      if (a !== b && `${b}${separator}`.startsWith(`${a}${separator}`)) pairs.push([a, b]);
  return pairs;
}
