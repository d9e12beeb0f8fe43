import type { z } from 'zod';

/** What the rules below read of a server entry. */
interface EntryShape {
  command?: string | undefined;
  url?: string | undefined;
  type?: 'stdio' | 'http' | 'streamable-http' | 'sse' | undefined;
  sessionMode: 'shared' | 'isolated';
  instances: number;
}

/** A server's entry: a local one needs a command, a remote one a url, and not both. */
export function checkEntry<T extends EntryShape>(entry: T, ctx: z.core.$RefinementCtx<T>): void {
  const remote = entry.url !== undefined;
  const say = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (!remote && entry.command === undefined) say('command', 'is required (or "url", for a remote server)');
  if (remote && entry.command !== undefined)
    say('url', 'and "command" cannot both be given: is it local or remote?');
  if (entry.type === 'stdio' && remote) say('type', '"stdio" needs a "command", not a "url"');
  if ((entry.type === 'http' || entry.type === 'streamable-http' || entry.type === 'sse') && !remote)
    say('url', `is required for type "${entry.type}"`);
  if (remote && entry.sessionMode === 'isolated')
    say('sessionMode', 'must be "shared" for a remote server (there is no process to give each session)');
  if (remote && entry.instances > 1) say('instances', 'must be 1 for a remote server');
}

/** How the gateway reaches a server: a child process, or a remote over HTTP. */
export function transportOf(entry: EntryShape): 'stdio' | 'http' | 'sse' | 'auto' {
  if (entry.url === undefined) return 'stdio';
  if (entry.type === 'sse') return 'sse';
  if (entry.type === 'http' || entry.type === 'streamable-http') return 'http';
  return 'auto';
}
