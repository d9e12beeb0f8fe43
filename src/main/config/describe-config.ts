import type { Config, ServerConfig } from './config-schema.js';

/** One line per server: what `mcp-runner` will do with it, for `mcp-runner validate`. */
export function describeServers(config: Config): string[] {
  const allowed = config.sseProxy?.allowedServers;
  const separator = config.sseProxy ? config.sseProxy.namespace : '__';
  return Object.entries(config.mcpServers).map(([name, server]) => {
    if (server.disabled)
      return `${name}: disabled (mcpServers.${name}.disabled): kept, not started, not served`;
    const parts = [`${name}: ${how(server)}`];
    if (server.transport === 'stdio') {
      const count =
        server.sessionMode === 'isolated'
          ? `one process per client session (at most ${server.maxProcesses})`
          : `${server.instances} process(es) shared by every client session`;
      parts.push(count);
    }
    parts.push(era(server));
    if (allowed && !allowed.includes(name))
      parts.push('not served over HTTP (not in sseProxy.allowedServers)');
    else
      parts.push(
        separator === false
          ? `on /mcp and /sse by its tools' own names; at /servers/${name}/mcp`
          : `on /mcp and /sse as ${name}${separator}<tool>; at /servers/${name}/mcp`,
      );
    const filters = [
      server.tools?.allow ? `tools allowed: ${server.tools.allow.join(', ')}` : '',
      server.tools?.deny ? `tools hidden: ${server.tools.deny.join(', ')}` : '',
      server.prompts?.allow ? `prompts allowed: ${server.prompts.allow.join(', ')}` : '',
      server.prompts?.deny ? `prompts hidden: ${server.prompts.deny.join(', ')}` : '',
      ...Object.entries(server.overrides ?? {}).map(
        ([tool, o]) =>
          `${tool} shown as ${o.name ?? tool}${o.description !== undefined || o.title !== undefined ? ' (retitled)' : ''}`,
      ),
    ].filter(Boolean);
    if (filters.length > 0) parts.push(filters.join('; '));
    return parts.join('; ');
  });
}

function how(server: ServerConfig): string {
  if (server.transport === 'stdio') {
    const env = Object.keys(server.env);
    return `run "${[server.command, ...server.args].join(' ')}" (stdio)${env.length ? ` with ${env.join(', ')} set` : ''}${server.cwd ? ` in ${server.cwd}` : ''}`;
  }
  const headers = Object.keys(server.headers ?? {});
  const over =
    server.transport === 'http'
      ? 'Streamable HTTP'
      : server.transport === 'sse'
        ? 'HTTP+SSE (2024-11-05)'
        : 'Streamable HTTP or HTTP+SSE (asked at connect)';
  return `connect to ${server.url} over ${over}${headers.length ? ` sending ${headers.join(', ')}` : ''}`;
}

function era(server: ServerConfig): string {
  switch (server.era) {
    case 'legacy':
      return 'speaks 2025 (initialize, no probe)';
    case 'modern':
      return 'must speak 2026-07-28';
    default:
      return 'either revision (server/discover probe, else initialize)';
  }
}
