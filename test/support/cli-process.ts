import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { waitFor } from './processes.js';

/** The real CLI (`mcp-runner --config FILE`) as a child process, with its output captured. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** The config file it runs on (rewrite it to test a reload). */
  configPath: string;
}

/** Writes `config` to a temporary file and starts the CLI on it; resolves once its status table is out. */
export async function startCli(
  config: Record<string, unknown>,
  options: { logLevel?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<CliProcess> {
  const configPath = join(mkdtempSync(join(tmpdir(), 'mcpr-cli-')), 'config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'dist/src/main/cli.js'),
      '--config',
      configPath,
      '--log-level',
      options.logLevel ?? 'warn',
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cli = { child, stdout: () => stdout, stderr: () => stderr, exited, configPath };
  if (
    !(await waitFor(() => stdout.includes('RESTARTS') || child.exitCode !== null, 15_000)) ||
    child.exitCode !== null
  ) {
    child.kill('SIGKILL');
    throw new Error(`the CLI did not start: ${stdout}${stderr}`);
  }
  return cli;
}
