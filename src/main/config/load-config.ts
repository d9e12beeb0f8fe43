/**
 * Reading and validating configs: JSON parsing with line/column errors, schema validation with one
 * plain-words issue per problem, `${VAR}` expansion, and deep freezing of the result.
 */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { type ConfigIssue, ConfigParseError, ConfigValidationError } from '../../shared/errors.js';
import { type Config, type ConfigInput, configErrorMap, configSchema } from './config-schema.js';
import { nearestKey } from './nearest-key.js';

/** Options of {@link validateConfig} and the functions built on it. */
export interface ValidateOptions {
  /** Variables for `${VAR}` expansion; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

type Path = readonly PropertyKey[];
type Json = Record<string, unknown>;
type ZodIssue = z.core.$ZodIssue;
type Env = NonNullable<ValidateOptions['env']>;

/** Parses and validates the text of a config file. `source` (usually the path) prefixes error messages. */
export function parseConfigString(text: string, source?: string, options?: ValidateOptions): Config {
  return validateConfig(parseJson(text, source), source, options);
}

/** Reads, parses and validates a config file. */
export async function loadConfigFile(path: string, options?: ValidateOptions): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigParseError(`Config file not found: ${path}`, { cause: error });
    }
    throw new ConfigParseError(`Cannot read config file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseConfigString(text, path, options);
}

/** Validates a config built in code; the typed twin of {@link validateConfig}. */
export function defineConfig(input: ConfigInput, options?: ValidateOptions): Config {
  return validateConfig(input, undefined, options);
}

// Configs this module produced. Re-validating one would expand variables a second time, turning an
// escaped literal `$${X}` (already `${X}`) into X's value, so such configs are returned as they are.
const validated = new WeakSet<object>();

/**
 * Validates a parsed config, applies defaults, expands `${VAR}` / `${VAR:-default}` in `command`, `args`,
 * `env` values and `cwd`, and returns a deep-frozen, normalised config. Throws ConfigValidationError
 * listing every problem found.
 */
export function validateConfig(value: unknown, source?: string, options: ValidateOptions = {}): Config {
  if (typeof value === 'object' && value !== null && validated.has(value)) return value as Config;
  const envIssues: ConfigIssue[] = [];
  const expanded = expandServers(value, options.env ?? process.env, envIssues);
  const result = configSchema.safeParse(expanded, { error: configErrorMap });
  const issues = result.success ? envIssues : [...result.error.issues.flatMap(toConfigIssues), ...envIssues];
  if (!result.success || issues.length > 0) throw new ConfigValidationError(issues, source);
  const config = deepFreeze(result.data);
  validated.add(config);
  return config;
}

// ---------------------------------------------------------------------------------------------------------
// Issues

/** `mcpServers.fetch.args[0]`; bracket-quoted only where a dotted key would be ambiguous. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += key === '' || key.includes('.') ? `[${JSON.stringify(key)}]` : `${out ? '.' : ''}${key}`;
    }
  }
  return out;
}

function toConfigIssues(issue: ZodIssue): ConfigIssue[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const candidates = keysAt(issue.path);
      return issue.keys.map((key) => {
        const guess = nearestKey(key, candidates);
        return { path, message: `unknown key "${key}"${guess ? `; did you mean "${guess}"?` : ''}` };
      });
    }
    case 'invalid_key': {
      const name = issue.path[issue.path.length - 1];
      const why = [...new Set(issue.issues.map((i) => i.message))].join('; ');
      return [{ path, message: `invalid server name ${JSON.stringify(String(name))}: ${why}` }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** Keys the schema allows in the object at `path`, for "did you mean" suggestions. */
function keysAt(path: Path): string[] {
  let schema: SchemaNode | undefined = unwrap(configSchema as unknown as SchemaNode);
  for (const segment of path) {
    const def = schema.def;
    if (def.type === 'object')
      schema = def.shape && Object.hasOwn(def.shape, segment) ? def.shape[String(segment)] : undefined;
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
    if (!schema) return [];
    schema = unwrap(schema);
  }
  return schema.def.type === 'object' ? Object.keys(schema.def.shape ?? {}) : [];
}

/** The slice of zod's public `def` needed to walk the schema tree. */
interface SchemaNode {
  def: {
    type: string;
    shape?: Record<string, SchemaNode>;
    valueType?: SchemaNode;
    element?: SchemaNode;
    innerType?: SchemaNode;
    in?: SchemaNode;
    out?: SchemaNode;
  };
}

/** Sees through wrappers (defaults, optionals, pipes) to the schema describing the input's shape. */
function unwrap(node: SchemaNode): SchemaNode {
  let current = node;
  for (;;) {
    const def = current.def;
    const next = def.type === 'pipe' ? (def.in?.def.type === 'transform' ? def.out : def.in) : def.innerType;
    if (!next) return current;
    current = next;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Variable expansion

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Copy of `root` with variables expanded in every server entry; the input is never mutated. */
function expandServers(root: unknown, env: Env, issues: ConfigIssue[]): unknown {
  if (!isObject(root)) return root;
  const out: Json = { ...root };
  for (const key of ['mcpServers', 'servers']) {
    const servers = root[key];
    if (!isObject(servers)) continue;
    const entries = Object.entries(servers).map(([name, entry]) => {
      return [name, expandServer(entry, [key, name], env, issues)] as const;
    });
    out[key] = Object.fromEntries(entries);
  }
  out.sseProxy = expandToken(root.sseProxy, env, issues);
  if (out.sseProxy === undefined) delete out.sseProxy;
  return out;
}

/** The bearer token expands too, so it can come from the environment instead of the file. */
function expandToken(proxy: unknown, env: Env, issues: ConfigIssue[]): unknown {
  const bearer = isObject(proxy) && isObject(proxy.authenticate) ? proxy.authenticate.bearer : undefined;
  if (!isObject(proxy) || !isObject(bearer) || typeof bearer.token !== 'string') return proxy;
  const path = formatPath(['sseProxy', 'authenticate', 'bearer', 'token']);
  const token = expandString(bearer.token, env, (message) => issues.push({ path, message }));
  return { ...proxy, authenticate: { ...(proxy.authenticate as Json), bearer: { ...bearer, token } } };
}

function expandServer(entry: unknown, at: Path, env: Env, issues: ConfigIssue[]): unknown {
  if (!isObject(entry)) return entry;
  const expand = (value: unknown, path: Path): unknown =>
    typeof value === 'string'
      ? expandString(value, env, (message) => issues.push({ path: formatPath(path), message }))
      : value;
  const out: Json = { ...entry };
  for (const key of ['command', 'cwd', 'url']) {
    if (Object.hasOwn(entry, key)) out[key] = expand(entry[key], [...at, key]);
  }
  if (isObject(entry.headers)) {
    const headers = Object.entries(entry.headers).map(
      ([name, v]) => [name, expand(v, [...at, 'headers', name])] as const,
    );
    out.headers = Object.fromEntries(headers);
  }
  if (Array.isArray(entry.args)) out.args = entry.args.map((arg, i) => expand(arg, [...at, 'args', i]));
  if (isObject(entry.env)) {
    const vars = Object.entries(entry.env).map(
      ([name, v]) => [name, expand(v, [...at, 'env', name])] as const,
    );
    out.env = Object.fromEntries(vars);
  }
  return out;
}

// `$${...}` is the escape, `${...}` a reference; a missing `}` is reported rather than passed through.
const REFERENCE = /\$(\$?)\{([^}]*)(\}?)/g;
// `env:` is VS Code's spelling of the same thing, accepted because its mcp.json files are.
const VARIABLE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Expands `${VAR}`, `${VAR:-default}` (default when unset or empty) and the escape `$${X}`. */
function expandString(value: string, env: Env, report: (message: string) => void): string {
  return value.replace(REFERENCE, (match, escaped: string, body: string, close: string) => {
    if (escaped) return match.slice(1);
    if (!close) {
      report(`unterminated "\${" (write "$\${" for a literal "\${")`);
      return match;
    }
    const variable = VARIABLE.exec(body);
    if (!variable) {
      report(
        body.startsWith('input:')
          ? `VS Code input variables like "\${${body}}" are not supported; use an environment variable instead`
          : `invalid variable reference "\${${body}}"; expected \${NAME} or \${NAME:-default}`,
      );
      return match;
    }
    const [, name = '', fallback] = variable;
    const current = env[name];
    if (fallback !== undefined) return current ? current : fallback;
    if (current !== undefined) return current;
    report(`environment variable ${name} is not set`);
    return match;
  });
}

// ---------------------------------------------------------------------------------------------------------
// JSON parsing

function parseJson(text: string, source: string | undefined): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const where = locateSyntaxError(raw, body);
    const reason = cleanJsonMessage(raw);
    if (!where) throw new ConfigParseError(`${source ? `${source}: ` : ''}${reason}`, { cause: error });
    const prefix = source
      ? `${source}:${where.line}:${where.column}`
      : `line ${where.line}, column ${where.column}`;
    throw new ConfigParseError(`${prefix}: ${reason}`, { ...where, cause: error });
  }
}

/** Drops the position and source excerpt V8 embeds, since the prefix already says where. */
function cleanJsonMessage(message: string): string {
  return message
    .replace(
      /^Unexpected token '(.*?)', .* is not valid JSON$/s,
      (_, token: string) => `Unexpected token ${JSON.stringify(token)}`,
    )
    .replace(/ in JSON at position \d+.*$/s, ' in JSON')
    .replace(/ \(line \d+ column \d+\)/, '');
}

interface LineColumn {
  line: number;
  column: number;
}

/**
 * Newer V8 says "(line L column C)", Node 20's says "at position N" for most errors and nothing at all for
 * "Unexpected token" ones; for those we find the offset by scanning the text ourselves.
 */
function locateSyntaxError(message: string, text: string): LineColumn | undefined {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /at position (\d+)/.exec(message);
  const offset = position ? Number(position[1]) : findSyntaxErrorOffset(text);
  return offset === undefined ? undefined : lineColumnAt(text, offset);
}

function lineColumnAt(text: string, offset: number): LineColumn {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) {
      line++;
      column = 1;
    } else if (ch !== '\r') {
      column++;
    }
  }
  return { line, column };
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}

/** Offset of the first character that makes `text` invalid JSON (RFC 8259), or undefined if none. */
export function findSyntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const at = (): string => text[i] ?? '';
  const skipSpace = (): void => {
    while (at() !== '' && ' \t\n\r'.includes(at())) i++;
  };
  const expect = (ch: string): void => {
    if (at() !== ch) fail();
    i++;
  };
  const digits = (): void => {
    const start = i;
    while (at() >= '0' && at() <= '9') i++;
    if (i === start) fail();
  };
  const string = (): void => {
    expect('"');
    for (;;) {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail();
      const ch = at();
      i++;
      if (ch === '"') return;
      if (ch !== '\\') continue;
      if (at() === 'u') {
        i++;
        for (let k = 0; k < 4; k++, i++) if (!/^[0-9a-fA-F]$/.test(at())) fail();
      } else if (at() !== '' && '"\\/bfnrt'.includes(at())) i++;
      else fail();
    }
  };
  const number = (): void => {
    if (at() === '-') i++;
    if (at() === '0') i++;
    else digits();
    if (at() === '.') {
      i++;
      digits();
    }
    if (at() === 'e' || at() === 'E') {
      i++;
      if (at() === '+' || at() === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    skipSpace();
    const ch = at();
    const word = ['true', 'false', 'null'].find((w) => w[0] === ch);
    if (ch === '{') container('}', member);
    else if (ch === '[') container(']', value);
    else if (ch === '"') string();
    else if (word) for (const letter of word) expect(letter);
    else if (ch === '-' || (ch >= '0' && ch <= '9')) number();
    else fail();
  };
  const member = (): void => {
    string();
    skipSpace();
    expect(':');
    value();
  };
  const container = (close: string, item: () => void): void => {
    i++;
    skipSpace();
    if (at() === close) {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      item();
      skipSpace();
      if (at() !== ',') break;
      i++;
    }
    expect(close);
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxAt) return error.offset;
    return undefined; // e.g. nesting deep enough to overflow the stack: no position, but still an error
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
