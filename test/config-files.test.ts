import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfigFile } from '../src/index.js';
import { repoRoot } from './support/paths.js';

/**
 * Issue 17, point 5: the config files of Claude Desktop, Claude Code (`.mcp.json`), Cursor and VS Code
 * load unchanged, remote entries included, and `mcp-runner validate` says what it will do with each entry.
 * The files are as those clients write them (test/fixtures/configs).
 */
const dir = join(repoRoot, 'test/fixtures/configs');
const env = {
  ...process.env,
  API_KEY: 'k',
  SEARCH_API_KEY: 's',
  NOTION_TOKEN: 'n',
  HOME: '/home/ada',
};

function validate(file: string): string {
  return execFileSync(
    process.execPath,
    [join(repoRoot, 'dist/src/main/cli.js'), 'validate', join(dir, file)],
    {
      env,
      encoding: 'utf8',
    },
  );
}

describe('config files of the clients people use', () => {
  test('Claude Desktop: stdio servers, its own settings ignored', async () => {
    const config = await loadConfigFile(join(dir, 'claude_desktop_config.json'), { env });
    assert.deepEqual(Object.keys(config.mcpServers), ['filesystem', 'github']);
    const out = validate('claude_desktop_config.json');
    assert.match(out, /valid, 2 server\(s\): filesystem, github/);
    assert.match(
      out,
      /filesystem: run "npx -y @modelcontextprotocol\/server-filesystem \/Users\/ada\/Desktop \/Users\/ada\/Downloads" \(stdio\)/,
    );
    assert.match(
      out,
      /github: run "docker run .*" \(stdio\) with GITHUB_PERSONAL_ACCESS_TOKEN set; 1 process\(es\) shared/,
    );
    assert.match(out, /on \/mcp and \/sse as github__<tool>; at \/servers\/github\/mcp/);
  });

  test('Claude Code .mcp.json: http, sse and stdio entries, ${VAR} and ${VAR:-default}', async () => {
    const config = await loadConfigFile(join(dir, 'claude-code.mcp.json'), { env: { API_KEY: 'k' } });
    assert.equal(config.mcpServers['api-server']!.url, 'https://api.example.com/sse');
    assert.deepEqual(config.mcpServers['api-server']!.headers, { Authorization: 'Bearer k' });
    assert.equal(config.mcpServers['local-db']!.env.DB_URL, 'postgres://localhost/app');
    const out = validate('claude-code.mcp.json');
    assert.match(out, /sentry: connect to https:\/\/mcp\.sentry\.dev\/mcp over Streamable HTTP;/);
    assert.match(
      out,
      /api-server: connect to https:\/\/api\.example\.com\/sse over HTTP\+SSE \(2024-11-05\) sending Authorization/,
    );
    assert.match(
      out,
      /local-db: run "\/usr\/local\/bin\/db-mcp --config \/etc\/db.json" \(stdio\) with DB_URL set/,
    );
  });

  test('Cursor: a bare url is probed for its transport; ${env:NAME} in headers', async () => {
    const config = await loadConfigFile(join(dir, 'cursor.mcp.json'), { env });
    assert.equal(config.mcpServers.linear!.transport, 'auto');
    assert.deepEqual(config.mcpServers.notion!.headers, { Authorization: 'Bearer n' });
    const out = validate('cursor.mcp.json');
    assert.match(
      out,
      /linear: connect to https:\/\/mcp\.linear\.app\/sse over Streamable HTTP or HTTP\+SSE \(asked at connect\)/,
    );
    assert.match(out, /web-search: run "npx -y @example\/web-search-mcp" \(stdio\) with SEARCH_API_KEY set/);
  });

  test('VS Code mcp.json: servers and inputs, http beside stdio', async () => {
    const config = await loadConfigFile(join(dir, 'vscode.mcp.json'), { env });
    assert.deepEqual(Object.keys(config.mcpServers), ['github', 'playwright', 'memory']);
    assert.equal(config.mcpServers.memory!.env.MEMORY_FILE_PATH, '/home/ada/memory.json');
    const out = validate('vscode.mcp.json');
    assert.match(out, /github: connect to https:\/\/api\.githubcopilot\.com\/mcp\/ over Streamable HTTP;/);
    assert.match(out, /playwright: run "npx @playwright\/mcp@latest" \(stdio\)/);
  });
});
