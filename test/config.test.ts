// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config syntax under test, not a template
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configJsonSchema } from '../src/main/config/config-json-schema.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
  DEFAULT_STARTUP_TIMEOUT_MS,
} from '../src/main/config/config-schema.js';
import {
  defineConfig,
  findSyntaxErrorOffset,
  loadConfigFile,
  parseConfigString,
  validateConfig,
} from '../src/main/config/load-config.js';
import { nearestKey } from '../src/main/config/nearest-key.js';
import { ConfigParseError, ConfigValidationError } from '../src/shared/errors.js';

type Env = Record<string, string | undefined>;

/** Runs validateConfig expecting failure and returns the error. */
function invalid(value: unknown, env: Env = {}): ConfigValidationError {
  try {
    validateConfig(value, 'test.json', { env });
  } catch (error) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail('config was accepted');
}

function parseError(text: string, source?: string): ConfigParseError {
  try {
    parseConfigString(text, source, { env: {} });
  } catch (error) {
    assert.ok(error instanceof ConfigParseError, `expected ConfigParseError, got ${String(error)}`);
    return error;
  }
  assert.fail('text was accepted');
}

const server = (extra: Record<string, unknown>) => ({ mcpServers: { a: { command: 'node', ...extra } } });
const proxy = (extra: Record<string, unknown>) => ({ ...server({}), sseProxy: extra });

describe('validateConfig rejects bad configs', () => {
  const cases: { name: string; config: unknown; path: string; message: string; env?: Env }[] = [
    {
      name: 'missing command',
      config: { mcpServers: { a: {} } },
      path: 'mcpServers.a.command',
      message: 'is required',
    },
    {
      name: 'command of wrong type',
      config: { mcpServers: { a: { command: 5 } } },
      path: 'mcpServers.a.command',
      message: 'must be a string, got number',
    },
    {
      name: 'empty command',
      config: { mcpServers: { a: { command: '' } } },
      path: 'mcpServers.a.command',
      message: 'must not be empty',
    },
    {
      name: 'args not an array',
      config: server({ args: '--port 3' }),
      path: 'mcpServers.a.args',
      message: 'must be an array, got string',
    },
    {
      name: 'non-string arg',
      config: server({ args: ['x', 3] }),
      path: 'mcpServers.a.args[1]',
      message: 'must be a string, got number',
    },
    {
      name: 'non-string env value',
      config: server({ env: { PORT: 8080 } }),
      path: 'mcpServers.a.env.PORT',
      message: 'must be a string, got number',
    },
    {
      name: 'unknown key with suggestion',
      config: { mcpServers: { a: { comand: 'node' } } },
      path: 'mcpServers.a',
      message: 'unknown key "comand"; did you mean "command"?',
    },
    {
      name: 'unknown nested key with suggestion',
      config: server({ restart: { intialDelayMs: 2 } }),
      path: 'mcpServers.a.restart',
      message: 'did you mean "initialDelayMs"?',
    },
    {
      name: 'unknown root key with suggestion',
      config: { mcpServer: {}, mcpServers: {} },
      path: '',
      message: 'unknown key "mcpServer"; did you mean "mcpServers"?',
    },
    {
      name: 'bad sessionMode',
      config: server({ sessionMode: 'solo' }),
      path: 'mcpServers.a.sessionMode',
      message: 'must be one of "shared", "isolated", got "solo"',
    },
    {
      name: 'instances 0',
      config: server({ instances: 0 }),
      path: 'mcpServers.a.instances',
      message: 'must be an integer between 1 and 64, got 0',
    },
    {
      name: 'fractional instances',
      config: server({ instances: 2.5 }),
      path: 'mcpServers.a.instances',
      message: 'must be an integer between 1 and 64, got 2.5',
    },
    {
      name: 'maxProcesses too big',
      config: server({ maxProcesses: 10_001 }),
      path: 'mcpServers.a.maxProcesses',
      message: 'between 1 and 10000',
    },
    {
      name: 'requestTimeoutMs 0',
      config: server({ requestTimeoutMs: 0 }),
      path: 'mcpServers.a.requestTimeoutMs',
      message: 'must be an integer >= 1, got 0',
    },
    {
      name: 'restart multiplier below 1',
      config: server({ restart: { multiplier: 0.5 } }),
      path: 'mcpServers.a.restart.multiplier',
      message: 'must be a number >= 1, got 0.5',
    },
    {
      name: 'health interval too short',
      config: server({ health: { intervalMs: 10 } }),
      path: 'mcpServers.a.health.intervalMs',
      message: 'must be an integer >= 100',
    },
    {
      name: 'disabled not boolean',
      config: server({ disabled: 'yes' }),
      path: 'mcpServers.a.disabled',
      message: 'must be a boolean, got string',
    },
    {
      name: 'bad port',
      config: proxy({ port: 70_000 }),
      path: 'sseProxy.port',
      message: 'must be an integer between 0 and 65535, got 70000',
    },
    {
      name: 'zero workers',
      config: proxy({ workers: 0 }),
      path: 'sseProxy.workers',
      message: 'between 1 and 64',
    },
    {
      name: 'sseProxy not an object',
      config: { ...server({}), sseProxy: 'on' },
      path: 'sseProxy',
      message: 'must be an object, got string',
    },
    {
      name: 'maxBodyBytes too small',
      config: proxy({ maxBodyBytes: 10 }),
      path: 'sseProxy.maxBodyBytes',
      message: '>= 1024',
    },
    {
      name: 'allowedServers naming an unknown server',
      config: proxy({ allowedServers: ['a', 'nope'] }),
      path: 'sseProxy.allowedServers[1]',
      message: 'names server "nope", which is not configured (configured servers: a)',
    },
    {
      name: 'empty bearer token',
      config: proxy({ authenticate: { bearer: { token: '' } } }),
      path: 'sseProxy.authenticate.bearer.token',
      message: 'must not be empty',
    },
    {
      name: 'bearer token with a space (clients could not send it as one header token)',
      config: proxy({ authenticate: { bearer: { token: 'two words' } } }),
      path: 'sseProxy.authenticate.bearer.token',
      message: 'must be printable ASCII without spaces',
    },
    {
      name: 'unset env var',
      config: server({ env: { TOKEN: '${GITHUB_TOKEN}' } }),
      path: 'mcpServers.a.env.TOKEN',
      message: 'environment variable GITHUB_TOKEN is not set',
    },
    {
      name: 'unset var in args',
      config: server({ args: ['--dir', '${DATA_DIR}/x'] }),
      path: 'mcpServers.a.args[1]',
      message: 'environment variable DATA_DIR is not set',
    },
    {
      name: 'VS Code input variable',
      config: server({ env: { KEY: '${input:api-key}' } }),
      path: 'mcpServers.a.env.KEY',
      message: 'VS Code input variables',
    },
    {
      name: 'unterminated variable',
      config: server({ command: '${NODE' }),
      path: 'mcpServers.a.command',
      message: 'unterminated',
    },
    {
      name: 'server name with a slash',
      config: { mcpServers: { 'a/b': { command: 'x' } } },
      path: 'mcpServers.a/b',
      message: 'invalid server name "a/b"',
    },
    {
      name: 'server name too long',
      config: { mcpServers: { ['n'.repeat(65)]: { command: 'x' } } },
      path: `mcpServers.${'n'.repeat(65)}`,
      message: '1-64 characters',
    },
    {
      name: 'dotted server name is bracket-quoted',
      config: { mcpServers: { 'my.server': { command: 1 } } },
      path: 'mcpServers["my.server"].command',
      message: 'must be a string',
    },
    {
      name: 'both servers and mcpServers',
      config: { mcpServers: {}, servers: { a: { command: 'x' } } },
      path: 'servers',
      message: 'use either "mcpServers" or "servers", not both',
    },
    { name: 'no servers at all', config: {}, path: 'mcpServers', message: 'is required' },
    { name: 'root not an object', config: [], path: '', message: 'must be an object, got array' },
    {
      name: 'remote type without a url',
      config: { servers: { remote: { type: 'http' } } },
      path: 'servers.remote.url',
      message: 'is required for type "http"',
    },
    {
      name: 'a url that is not http(s)',
      config: { mcpServers: { remote: { url: 'ftp://example.com/mcp' } } },
      path: 'mcpServers.remote.url',
      message: 'must be an http:// or https:// URL',
    },
    {
      name: 'both a command and a url',
      config: { mcpServers: { both: { command: 'node', url: 'https://example.com/mcp' } } },
      path: 'mcpServers.both.url',
      message: 'cannot both be given',
    },
    {
      name: 'an isolated remote',
      config: { mcpServers: { remote: { url: 'https://example.com/mcp', sessionMode: 'isolated' } } },
      path: 'mcpServers.remote.sessionMode',
      message: 'must be "shared" for a remote server',
    },
    {
      name: 'a VS Code input variable in a header',
      config: {
        servers: {
          remote: {
            type: 'http',
            url: 'https://x.example/mcp',
            headers: { Authorization: '${input:token}' },
          },
        },
      },
      path: 'servers.remote.headers.Authorization',
      message: 'VS Code input variables',
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const error = invalid(c.config, c.env);
      const match = error.issues.find((i) => i.path === c.path && i.message.includes(c.message));
      assert.ok(
        match,
        `no issue at "${c.path}" containing "${c.message}"; got ${JSON.stringify(error.issues)}`,
      );
    });
  }

  it('loads remote entries of VS Code, Claude Code and Cursor files, headers from the environment', () => {
    const config = validateConfig(
      {
        servers: {
          vscode: {
            type: 'http',
            url: 'https://a.example/mcp',
            headers: { Authorization: 'Bearer ${env:TOKEN}' },
          },
          legacy: { type: 'sse', url: 'https://b.example/sse' },
          cursor: { url: 'https://c.example/mcp', headers: { 'X-Key': '${KEY:-none}' } },
        },
      },
      'test.json',
      { env: { TOKEN: 't0k' } },
    );
    assert.equal(config.mcpServers.vscode!.transport, 'http');
    assert.deepEqual(config.mcpServers.vscode!.headers, { Authorization: 'Bearer t0k' });
    assert.equal(config.mcpServers.legacy!.transport, 'sse');
    assert.equal(config.mcpServers.cursor!.transport, 'auto');
    assert.deepEqual(config.mcpServers.cursor!.headers, { 'X-Key': 'none' });
  });

  it('gives no suggestion when nothing is close', () => {
    const error = invalid(server({ zzzzzzzz: 1 }));
    assert.deepEqual(error.issues, [{ path: 'mcpServers.a', message: 'unknown key "zzzzzzzz"' }]);
  });

  it('collects every problem, names the source and carries a stable code', () => {
    const error = invalid(server({ instances: 0, sessionMode: 'x', args: [1] }));
    assert.equal(error.issues.length, 3);
    assert.equal(error.code, 'MCPR_ERR_CONFIG_VALIDATION');
    assert.match(error.message, /^Invalid config in test\.json:\n {2}- mcpServers\.a\./);
  });
});

describe('parseConfigString syntax errors', () => {
  it('locates an error V8 reports with a position', () => {
    const text = '{\n  "mcpServers": {\n    "a": { "command": "x", }\n  }\n}';
    const error = parseError(text, 'config.json');
    assert.equal(error.line, 3);
    assert.equal(error.column, 28);
    assert.match(error.message, /^config\.json:3:28: Expected double-quoted property name in JSON$/);
  });

  it('locates an "Unexpected token" error, which Node 20 reports without a position', () => {
    const error = parseError('{\n  "a": }', 'config.json');
    assert.deepEqual([error.line, error.column], [2, 8]);
    assert.equal(error.message, 'config.json:2:8: Unexpected token "}"');
  });

  it('counts CRLF line endings as one line break', () => {
    const error = parseError('{\r\n  "a": 1,\r\n  "b": tru\r\n}', 'c.json');
    assert.deepEqual([error.line, error.column], [3, 11]);
  });

  it('points past the end of truncated input', () => {
    const error = parseError('{"mcpServers": {', 'c.json');
    assert.deepEqual([error.line, error.column], [1, 17]);
    assert.equal(error.code, 'MCPR_ERR_CONFIG_PARSE');
  });

  it('does not count a BOM as a column', () => {
    const error = parseError('\ufeff{"a" 1}', 'c.json');
    assert.deepEqual([error.line, error.column], [1, 6]);
  });

  it('words the location without a source', () => {
    assert.match(parseError('{\n  "a": }').message, /^line 2, column 8: /);
  });

  it('finds the same offset as V8 wherever V8 reports one', () => {
    const broken = [
      '{"a": 1,}',
      '{"a" 1}',
      '{"a": 1',
      '{"a":1} x',
      "{'a':1}",
      '[1,2',
      '{"a": 01}',
      '{"a": "\\q"}',
    ];
    broken.push('{"a": "b\nc"}', '{"a": -}', '{"a": 1.}', '{"a": "x', '', '[1, 2 3]', '{"a": nul}');
    for (const text of broken) {
      let message = '';
      try {
        JSON.parse(text);
      } catch (error) {
        message = (error as Error).message;
      }
      const position = /at position (\d+)/.exec(message);
      if (!position) continue;
      assert.equal(findSyntaxErrorOffset(text), Number(position[1]), `${JSON.stringify(text)}: ${message}`);
    }
    assert.equal(findSyntaxErrorOffset('{"ok": [1, -2.5e3, true, null, "\\u00e9"]}'), undefined);
  });
});

describe('valid configs', () => {
  it('applies every default', () => {
    const config = validateConfig({ mcpServers: { a: { command: 'node' } }, sseProxy: {} }, undefined, {
      env: {},
    });
    assert.deepEqual(config.mcpServers.a, {
      command: 'node',
      args: [],
      env: {},
      disabled: false,
      sessionMode: 'shared',
      era: 'auto',
      instances: 1,
      transport: 'stdio',
      maxProcesses: 100,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS,
      restart: { enabled: true, maxRetries: 5, initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2 },
      health: { enabled: true, intervalMs: 30_000, timeoutMs: 5_000, failureThreshold: 3 },
      stopGraceMs: 2_000,
    });
    assert.deepEqual(config.sseProxy, {
      address: '127.0.0.1',
      port: 3000,
      workers: 4,
      httpEngine: 'auto',
      namespace: '__',
      allowedOrigins: [],
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      sseBufferBytes: 1_048_576,
      keepAliveMs: 15_000,
      sessionIdleTimeoutMs: DEFAULT_SESSION_IDLE_TIMEOUT_MS,
      isolatedIdleTimeoutMs: 60_000,
      maxSessions: 100_000,
      inputRequiredTimeoutMs: 120_000,
      replayBufferBytes: 262_144,
    });
  });

  it('leaves sseProxy out when it is not configured', () => {
    const config = validateConfig(server({}), undefined, { env: {} });
    assert.equal('sseProxy' in config, false);
  });

  it('keeps given values over defaults', () => {
    const config = validateConfig(server({ restart: { maxRetries: 0 }, instances: 4 }), undefined, {
      env: {},
    });
    assert.equal(config.mcpServers.a?.restart.maxRetries, 0);
    assert.equal(config.mcpServers.a?.restart.initialDelayMs, 500);
    assert.equal(config.mcpServers.a?.instances, 4);
  });

  it("accepts VS Code's mcp.json shape and normalises it", () => {
    const text = `{
      "inputs": [{ "type": "promptString", "id": "key", "description": "API key", "password": true }],
      "servers": {
        "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"] }
      }
    }`;
    const config = parseConfigString(text, 'mcp.json', { env: {} });
    assert.deepEqual(Object.keys(config), ['mcpServers']);
    assert.deepEqual(config.mcpServers.fetch?.args, ['mcp-server-fetch']);
    assert.equal('type' in (config.mcpServers.fetch ?? {}), false);
  });

  it("accepts Claude Desktop's config with its extra top-level keys", () => {
    const text = `{
      "$schema": "./config.schema.json",
      "globalShortcut": "Ctrl+Space",
      "preferences": { "quickEntry": true },
      "mcpServers": {
        "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] }
      }
    }`;
    const config = parseConfigString(text, 'claude_desktop_config.json', { env: {} });
    assert.deepEqual(Object.keys(config), ['mcpServers']);
    assert.equal(config.mcpServers.filesystem?.command, 'npx');
  });

  it('accepts a UTF-8 BOM', () => {
    const config = parseConfigString('\ufeff{"mcpServers": {}}', 'bom.json');
    assert.deepEqual(config.mcpServers, {});
  });

  it('defineConfig validates typed input', () => {
    const config = defineConfig(
      { mcpServers: { a: { command: 'node', sessionMode: 'isolated' } } },
      { env: {} },
    );
    assert.equal(config.mcpServers.a?.sessionMode, 'isolated');
    assert.throws(() => defineConfig({ mcpServers: { a: { command: '' } } }), ConfigValidationError);
  });

  it('returns a deep-frozen config', () => {
    const config = validateConfig(proxy({ allowedServers: ['a'] }), undefined, { env: {} });
    const a = config.mcpServers.a!;
    for (const part of [config, config.mcpServers, a, a.args, a.env, a.restart, a.health, config.sseProxy]) {
      assert.ok(Object.isFrozen(part));
    }
    assert.ok(Object.isFrozen(config.sseProxy?.allowedServers));
    assert.throws(() => {
      (a.args as string[]).push('x');
    }, TypeError);
  });

  it('does not mutate its input', () => {
    const input = server({ env: { A: '${X}' } });
    const before = structuredClone(input);
    validateConfig(input, undefined, { env: { X: '1' } });
    assert.deepEqual(input, before);
  });
});

describe('variable expansion', () => {
  const env = { HOME: '/home/me', EMPTY: '', TOKEN: 'secret', BIN: 'node' };
  const expand = (extra: Record<string, unknown>) =>
    validateConfig(server(extra), undefined, { env }).mcpServers.a!;

  it('expands ${VAR} in command, args, env values and cwd', () => {
    const a = expand({ command: '${BIN}', args: ['${HOME}/data', 'x${TOKEN}y${TOKEN}'], cwd: '${HOME}' });
    assert.equal(a.command, 'node');
    assert.deepEqual(a.args, ['/home/me/data', 'xsecretysecret']);
    assert.equal(a.cwd, '/home/me');
    assert.deepEqual(expand({ env: { GITHUB_TOKEN: '${TOKEN}' } }).env, { GITHUB_TOKEN: 'secret' });
  });

  it('uses the default when the variable is unset or empty', () => {
    const a = expand({ args: ['${MISSING:-fallback}', '${EMPTY:-dflt}', '${HOME:-unused}', '${MISSING:-}'] });
    assert.deepEqual(a.args, ['fallback', 'dflt', '/home/me', '']);
  });

  it('keeps an empty but set variable without a default', () => {
    assert.deepEqual(expand({ args: ['[${EMPTY}]'] }).args, ['[]']);
  });

  it('treats $${X} as a literal ${X}', () => {
    assert.deepEqual(expand({ args: ['$${HOME}', '$${UNSET}', 'cost: $5'] }).args, [
      '${HOME}',
      '${UNSET}',
      'cost: $5',
    ]);
  });

  it("accepts VS Code's ${env:VAR} spelling", () => {
    assert.deepEqual(expand({ args: ['${env:HOME}'] }).args, ['/home/me']);
  });

  it('does not expand a second time when an already validated config is validated again', () => {
    const config = validateConfig(server({ args: ['$${HOME}'] }), undefined, { env });
    assert.strictEqual(validateConfig(config, undefined, { env }), config);
    assert.deepEqual(config.mcpServers.a?.args, ['${HOME}']);
  });

  it('validates the expanded value', () => {
    const error = invalid(server({ command: '${EMPTY}' }), env);
    assert.deepEqual(error.issues, [{ path: 'mcpServers.a.command', message: 'must not be empty' }]);
  });
});

describe('loadConfigFile', () => {
  it('loads a file and reports problems with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcp-runner-config-'));
    try {
      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify({ mcpServers: { echo: { command: 'node', args: ['echo.js'] } } }));
      const config = await loadConfigFile(good, { env: {} });
      assert.deepEqual(config.mcpServers.echo?.args, ['echo.js']);

      const broken = join(dir, 'broken.json');
      await writeFile(broken, '{\n  "mcpServers": {\n}');
      await assert.rejects(loadConfigFile(broken), (error: unknown) => {
        assert.ok(error instanceof ConfigParseError);
        assert.ok(error.message.startsWith(`${broken}:3:2: `), error.message);
        return true;
      });

      const wrong = join(dir, 'wrong.json');
      await writeFile(wrong, '{"mcpServers": {"a": {}}}');
      await assert.rejects(loadConfigFile(wrong), (error: unknown) => {
        assert.ok(error instanceof ConfigValidationError);
        assert.ok(error.message.includes(`in ${wrong}`));
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing file as a parse error', async () => {
    const missing = join(tmpdir(), 'mcp-runner-no-such-dir', 'config.json');
    await assert.rejects(loadConfigFile(missing), (error: unknown) => {
      assert.ok(error instanceof ConfigParseError);
      assert.equal(error.message, `Config file not found: ${missing}`);
      return true;
    });
  });
});

describe('nearestKey', () => {
  it('suggests close keys only', () => {
    const keys = ['command', 'args', 'env', 'cwd', 'restart'];
    assert.equal(nearestKey('comand', keys), 'command');
    assert.equal(nearestKey('Args', keys), 'args');
    assert.equal(nearestKey('restrat', keys), 'restart');
    assert.equal(nearestKey('xyz', keys), undefined);
    assert.equal(nearestKey('anything', []), undefined);
  });
});

describe('bearer token expansion', () => {
  it('sseProxy.authenticate.bearer.token expands ${VAR} and reports an unset one by path', () => {
    const config = validateConfig(
      { mcpServers: {}, sseProxy: { authenticate: { bearer: { token: '${GW_TOKEN}' } } } },
      undefined,
      { env: { GW_TOKEN: 's3cret' } },
    );
    assert.equal(config.sseProxy?.authenticate?.bearer.token, 's3cret');
    assert.throws(
      () =>
        validateConfig(
          { mcpServers: {}, sseProxy: { authenticate: { bearer: { token: '${NOPE_TOKEN}' } } } },
          undefined,
          { env: {} },
        ),
      /sseProxy\.authenticate\.bearer\.token: .*NOPE_TOKEN/,
    );
  });
});

describe('config.schema.json', () => {
  it('is up to date with the zod schema (run "npm run schema" if not)', async () => {
    const committed = await readFile(new URL('../../config.schema.json', import.meta.url), 'utf8');
    assert.equal(committed.replace(/\r\n/g, '\n'), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

  it('describes the input side: defaults are optional, command is required', () => {
    const schema = configJsonSchema() as { properties: { mcpServers: { additionalProperties: unknown } } };
    const entry = schema.properties.mcpServers.additionalProperties as {
      required: string[];
      properties: object;
    };
    // A local server needs a command and a remote one a url: the rule is a refinement, so neither is
    // required by the JSON Schema itself.
    assert.ok(!(entry.required ?? []).includes('command'));
    assert.ok('command' in entry.properties && 'url' in entry.properties && 'headers' in entry.properties);
    assert.ok('instances' in entry.properties);
  });
});
