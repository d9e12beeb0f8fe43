#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { McpRunnerError } from '../shared/errors.js';
import { isLogLevel, LOG_LEVEL_ENV, LOG_LEVELS, type LogLevel } from '../shared/logger.js';
import { formatStatusTable } from './cli-format.js';
import { runGatewayCommand } from './cli-serve.js';
import { HTTP_ENGINE_CHOICES } from './config/config-schema.js';
import { describeServers } from './config/describe-config.js';
import { loadConfigFile } from './config/load-config.js';
import { McpRunner } from './mcp-runner.js';
import { DEFAULT_MAIN_SEMI_SPACE_MIB } from './young-generation-cap.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

function logLevel(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError(`use one of ${LOG_LEVELS.join(', ')}.`);
  return value;
}

const configOption = () =>
  new Option(
    '-c, --config <file>',
    'config file (mcp-runner JSON, VS Code mcp.json or Claude Desktop config)',
  );
const logLevelOption = () =>
  new Option(
    '-l, --log-level <level>',
    `log level (${LOG_LEVELS.join(', ')}); env ${LOG_LEVEL_ENV}`,
  ).argParser(logLevel);

/** Runner for one-shot commands: quiet by default so their stdout is just the answer. */
async function oneShotRunner(options: { config?: string; logLevel?: LogLevel }): Promise<McpRunner> {
  if (!options.config) throw new InvalidArgumentError('--config <file> is required.');
  const env = process.env[LOG_LEVEL_ENV];
  return McpRunner.fromConfigFile(options.config, {
    logLevel: options.logLevel ?? (isLogLevel(env) ? env : 'error'),
  });
}

async function withServer<T>(runner: McpRunner, name: string, work: () => Promise<T>): Promise<T> {
  try {
    await runner.startServer(name);
    return await work();
  } finally {
    await runner.stopAllServers();
  }
}

export function buildProgram(): Command {
  const program = new Command('mcp-runner')
    .description(
      'Run MCP servers locally and serve them to many clients over HTTP (SSE and Streamable HTTP).',
    )
    .version('0.1.0')
    .addOption(configOption())
    .addOption(
      new Option('-w, --workers <n>', 'gateway worker threads (overrides sseProxy.workers)').argParser(
        integer('--workers', 1, 64),
      ),
    )
    .addOption(
      new Option('-p, --port <port>', 'gateway port (overrides sseProxy.port)').argParser(
        integer('--port', 0, 65535),
      ),
    )
    .addOption(new Option('-H, --host <address>', 'gateway bind address (overrides sseProxy.address)'))
    .addOption(
      new Option(
        '--http-engine <engine>',
        "workers' HTTP engine: uws (uWS), node (node:http) or auto (overrides sseProxy.httpEngine)",
      ).choices(HTTP_ENGINE_CHOICES),
    )
    .addOption(
      new Option(
        '--main-semi-space <MiB>',
        "cap on the main thread's young generation (semi-space); smaller keeps idle sessions cheaper, 0 leaves V8's default",
      )
        .default(DEFAULT_MAIN_SEMI_SPACE_MIB)
        .argParser(integer('--main-semi-space', 0, 64)),
    )
    .addOption(logLevelOption())
    .enablePositionalOptions()
    .showHelpAfterError()
    .action(async (options) => {
      if (!options.config) {
        program.help({ error: true });
      }
      await runGatewayCommand(options);
    });

  program
    .command('tools')
    .description('list the tools of one server, or of every enabled server')
    .argument('[server]', 'server name')
    .addOption(configOption().makeOptionMandatory())
    .addOption(logLevelOption())
    .option('--json', 'print JSON instead of a list')
    .action(async (server: string | undefined, options) => {
      const runner = await oneShotRunner(options);
      let tools: Record<string, unknown[]>;
      if (server) {
        tools = { [server]: await withServer(runner, server, () => runner.getServerTools(server)) };
      } else {
        try {
          await runner.startAllServers();
          tools = await runner.getAllServerTools();
        } finally {
          await runner.stopAllServers();
        }
      }
      if (options.json) {
        console.log(JSON.stringify(tools, null, 2));
        return;
      }
      for (const [name, list] of Object.entries(tools)) {
        console.log(`${name} (${list.length} tools)`);
        const typed = list as Array<{ name: string; description?: string }>;
        const width = Math.max(0, ...typed.map((t) => t.name.length));
        for (const tool of typed) {
          const description = tool.description ? `  ${tool.description.split('\n')[0]}` : '';
          console.log(`  ${tool.name.padEnd(width)}${description}`.trimEnd());
        }
      }
    });

  program
    .command('call')
    .description('call one tool and print its result')
    .argument('<server>', 'server name')
    .argument('<tool>', 'tool name')
    .argument('[arguments]', 'tool arguments as a JSON object', '{}')
    .addOption(configOption().makeOptionMandatory())
    .addOption(logLevelOption())
    .action(async (server: string, tool: string, rawArgs: string, options) => {
      let args: unknown;
      try {
        args = JSON.parse(rawArgs);
      } catch (error) {
        throw new InvalidArgumentError(`arguments must be a JSON object: ${(error as Error).message}`);
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        throw new InvalidArgumentError('arguments must be a JSON object, for example \'{"text":"hi"}\'.');
      }
      const runner = await oneShotRunner(options);
      const result = await withServer(runner, server, () =>
        runner.getClient(server).callTool(tool, args as Record<string, unknown>),
      );
      console.log(JSON.stringify(result, null, 2));
      if (result.isError) process.exitCode = 1;
    });

  program
    .command('validate')
    .description('check a config file and say what would be done with every entry')
    .argument('<file>', 'config file (mcp-runner, Claude Desktop, Claude Code, Cursor or VS Code)')
    .action(async (file: string) => {
      const config = await loadConfigFile(file);
      const names = Object.keys(config.mcpServers);
      console.log(`${file}: valid, ${names.length} server(s): ${names.join(', ') || '(none)'}`);
      for (const line of describeServers(config)) console.log(`  ${line}`);
      if (config.sseProxy) {
        console.log(
          `gateway: http://${config.sseProxy.address}:${config.sseProxy.port}, ${config.sseProxy.workers} worker(s)`,
        );
      }
    });

  program
    .command('status')
    .description('start every server once, print the status table, stop them')
    .addOption(configOption().makeOptionMandatory())
    .addOption(logLevelOption())
    .action(async (options) => {
      const runner = await oneShotRunner(options);
      const result = await runner.supervisor.startAll();
      console.log(formatStatusTable(runner.supervisor.statuses()));
      await runner.stopAllServers();
      if (result.failed.length > 0) process.exitCode = 1;
    });

  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof McpRunnerError) {
      console.error(`mcp-runner: ${error.message} [${error.code}]`);
    } else if (error instanceof InvalidArgumentError) {
      console.error(`mcp-runner: ${error.message}`);
    } else {
      console.error('mcp-runner:', error);
    }
    process.exitCode = error instanceof McpRunnerError || error instanceof InvalidArgumentError ? 2 : 1;
  }
}

await main();
