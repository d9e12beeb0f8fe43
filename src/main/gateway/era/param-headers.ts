import { isObject } from '../../../shared/json-rpc.js';
import { decodeHeaderValue } from '../../../shared/modern-protocol.js';

type Params = Record<string, unknown>;

/** A tool parameter mirrored into a header: `Mcp-Param-{header}` carries the argument at `path`. */
export interface ParamHeader {
  header: string;
  path: string[];
}

const NONE: readonly ParamHeader[] = Object.freeze([]);
const byTool = new WeakMap<object, readonly ParamHeader[]>();

/**
 * The `x-mcp-header` annotations of a tool's `inputSchema`, reachable through `properties` alone (the
 * only place the spec allows them), made once per tool definition: most tools have none.
 */
export function paramHeadersOf(tool: Params): readonly ParamHeader[] {
  let found = byTool.get(tool);
  if (!found) {
    const list: ParamHeader[] = [];
    collect(tool.inputSchema, [], list);
    found = list.length > 0 ? list : NONE;
    byTool.set(tool, found);
  }
  return found;
}

function collect(schema: unknown, path: string[], into: ParamHeader[]): void {
  if (!isObject(schema) || !isObject(schema.properties)) return;
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!isObject(property)) continue;
    const here = [...path, key];
    if (typeof property['x-mcp-header'] === 'string')
      into.push({ header: property['x-mcp-header'].toLowerCase(), path: here });
    collect(property, here, into);
  }
}

/** An argument as its header carries it: strings as they are, integers in decimal, booleans in lower case. */
function headerForm(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/**
 * What is wrong with a tool call's `Mcp-Param-*` headers, against the parameters its tool mirrors: a
 * mirrored argument without its header, a header without its argument, a value that is not valid
 * (undecodable Base64 sentinel) or differs from the body's. Undefined when all agree. Headers the tool
 * does not declare are left alone, as the transport says.
 */
export function paramHeaderMismatch(
  mirrored: readonly ParamHeader[],
  args: unknown,
  headers: Record<string, string> | undefined,
): string | undefined {
  for (const { header, path } of mirrored) {
    let value: unknown = args;
    for (const key of path) value = isObject(value) ? value[key] : undefined;
    const sent = headers?.[header];
    const name = `Mcp-Param-${header}`;
    // A null argument has no value to mirror (the transport's table): like an absent one.
    if (value === undefined || value === null) {
      if (sent !== undefined) return `${name} was sent but the argument ${path.join('.')} is absent`;
      continue;
    }
    if (sent === undefined) return `the ${name} header is required (argument ${path.join('.')})`;
    const decoded = decodeHeaderValue(sent);
    if (decoded === undefined) return `${name} header value '${sent}' is not valid Base64 of UTF-8`;
    if (decoded !== headerForm(value))
      return `${name} header value '${decoded}' does not match body value '${String(value)}'`;
  }
  return undefined;
}
