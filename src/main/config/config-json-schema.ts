import { z } from 'zod';
import { configSchema } from './config-schema.js';

/** Where the published package serves the schema (the npm package ships `config.schema.json`). */
export const CONFIG_SCHEMA_ID = 'https://unpkg.com/mcp-runner/config.schema.json';

/**
 * JSON Schema of the config file, derived from {@link configSchema} so the two cannot drift. It describes
 * the input side (defaults optional) and targets draft-07, which every mainstream editor understands.
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-07' });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'mcp-runner config',
    ...rest,
    // The "exactly one of mcpServers / servers" rule lives in a refinement, which zod cannot export.
    oneOf: [{ required: ['mcpServers'] }, { required: ['servers'] }],
  };
}
