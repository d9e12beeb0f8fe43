import type { Logger } from '../../shared/logger.js';
import type { McpClient } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';

export type CatalogKind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

const CAPABILITY: Record<CatalogKind, string> = {
  tools: 'tools',
  resources: 'resources',
  resourceTemplates: 'resources',
  prompts: 'prompts',
};

type Item = Record<string, unknown>;

interface ResolvedList {
  items: Item[];
  index?: { key: string; values: Set<unknown> };
  /** Tools by name, made on first use. */
  byName?: Map<unknown, Item>;
}

/**
 * What each running backend offers (tools, resources, templates, prompts), cached and tagged with the
 * server's name, so the aggregated endpoints can list everything and route a call by name without asking
 * every backend each time. An entry is dropped when its backend says `list_changed` or restarts.
 */
export class AggregateCatalog {
  readonly #supervisor: Supervisor;
  readonly #servers: readonly string[];
  readonly #logger: Logger;
  readonly #cache = new Map<string, Promise<Item[]>>();
  /**
   * The lists that have arrived, by the same key, with an index of one field's values (a tool's name) made
   * on first use: routing a call by name then needs no promise and no scan.
   */
  readonly #resolved = new Map<string, Partial<Record<CatalogKind, ResolvedList>>>();

  constructor(supervisor: Supervisor, servers: readonly string[], logger: Logger) {
    this.#supervisor = supervisor;
    this.#servers = servers;
    this.#logger = logger;
  }

  invalidate(server: string, kind?: CatalogKind): void {
    const kinds: CatalogKind[] = kind ? [kind] : ['tools', 'resources', 'resourceTemplates', 'prompts'];
    for (const k of kinds) {
      this.#cache.delete(`${server}\0${k}`);
      const resolved = this.#resolved.get(server);
      if (resolved) delete resolved[k];
    }
  }

  /**
   * The one running server offering an item whose `key` equals `value`, when that is known without
   * waiting: every running server's list of that kind has arrived, and exactly one has the item.
   * Undefined otherwise (not known yet, nobody, or several): ask `serversOffering`, which says which.
   */
  soleServerNow(kind: CatalogKind, key: string, value: string): string | undefined {
    let found: string | undefined;
    for (const server of this.#servers) {
      if (!this.#offersKind(server, kind)) continue;
      const resolved = this.#resolved.get(server)?.[kind];
      if (!resolved) return undefined;
      if (resolved.index?.key !== key)
        resolved.index = { key, values: new Set(resolved.items.map((item) => item[key])) };
      if (!resolved.index.values.has(value)) continue;
      if (found !== undefined) return undefined;
      found = server;
    }
    return found;
  }

  /**
   * A tool's definition by name, on one server or on any ('' ), without waiting when the lists are in:
   * a 2026-07-28 call is checked against it (its `x-mcp-header` parameters) on the hot path.
   */
  tool(server: string, name: string): Item | undefined | Promise<Item | undefined> {
    const servers = server === '' ? this.#servers : [server];
    let waiting = false;
    for (const each of servers) {
      if (!this.#offersKind(each, 'tools')) continue;
      const resolved = this.#resolved.get(each)?.tools;
      if (!resolved) {
        waiting = true;
        continue;
      }
      resolved.byName ??= new Map(resolved.items.map((item) => [item.name, item]));
      const found = resolved.byName.get(name);
      if (found) return found;
    }
    if (!waiting) return undefined;
    return Promise.all(servers.map((each) => this.listOf(each, 'tools'))).then((lists) =>
      lists.flat().find((item) => item.name === name),
    );
  }

  /** Every running exposed server's items of one kind, each carrying `server`. */
  async list(kind: CatalogKind): Promise<Item[]> {
    const lists = await Promise.all(this.#servers.map((server) => this.listOf(server, kind)));
    return lists.flat();
  }

  /** One server's items; empty when it is not running or lacks the capability. */
  async listOf(server: string, kind: CatalogKind): Promise<Item[]> {
    const client = this.#offersKind(server, kind);
    if (!client) return [];
    const key = `${server}\0${kind}`;
    let entry = this.#cache.get(key);
    if (!entry) {
      const fetching = this.#fetch(client, server, kind);
      entry = fetching;
      this.#cache.set(key, entry);
      fetching.then(
        (items) => {
          // Only if no list_changed or restart dropped it while it was on its way.
          if (this.#cache.get(key) !== fetching) return;
          let lists = this.#resolved.get(server);
          if (!lists) {
            lists = {};
            this.#resolved.set(server, lists);
          }
          lists[kind] = { items };
        },
        () => {},
      );
      // A failed fetch must not stick: the next caller tries again.
      entry.catch(() => {
        if (this.#cache.get(key) === entry) this.#cache.delete(key);
      });
    }
    return entry.catch((error: unknown) => {
      this.#logger.warn({ server, kind, err: error }, 'listing a backend failed; leaving it out');
      return [];
    });
  }

  /** Servers offering an item whose `key` field equals `value` (a tool or prompt name, a resource URI). */
  async serversOffering(kind: CatalogKind, key: string, value: string): Promise<string[]> {
    const items = await this.list(kind);
    const servers = items.filter((item) => item[key] === value).map((item) => item.server as string);
    return [...new Set(servers)];
  }

  /** Servers with a resource template that matches `uri` (RFC 6570 level 1 is enough for routing). */
  async serversMatchingTemplate(uri: string): Promise<string[]> {
    const templates = await this.list('resourceTemplates');
    const matches = templates
      .filter((t) => typeof t.uriTemplate === 'string' && templateMatches(t.uriTemplate, uri))
      .map((t) => t.server as string);
    return [...new Set(matches)];
  }

  /** The server's client when it is running and declared the capability behind `kind`. */
  #offersKind(server: string, kind: CatalogKind): McpClient | undefined {
    const managed = this.#supervisor.get(server);
    if (managed.status !== 'running') return undefined;
    return managed.client.serverCapabilities[CAPABILITY[kind]] ? managed.client : undefined;
  }

  async #fetch(client: McpClient, server: string, kind: CatalogKind): Promise<Item[]> {
    let items: Item[];
    switch (kind) {
      case 'tools':
        items = (await client.listTools()).filter(callableWithoutTasks);
        break;
      case 'resources':
        items = await client.listResources();
        break;
      case 'resourceTemplates':
        items = await client.listResourceTemplates();
        break;
      case 'prompts':
        items = await client.listPrompts();
        break;
    }
    return items.map((item) => ({ ...item, server }));
  }
}

/**
 * The gateway declares no `tasks` capability (tasks belong to the connection that made them, and a shared
 * backend has only one), so a tool that can only run as a task could never be called: it is not listed.
 */
export function callableWithoutTasks(tool: Record<string, unknown>): boolean {
  const execution = tool.execution;
  return !(
    typeof execution === 'object' &&
    execution !== null &&
    (execution as Record<string, unknown>).taskSupport === 'required'
  );
}

/** True when `uri` fits `template`, each `{var}` standing for one or more characters. */
export function templateMatches(template: string, uri: string): boolean {
  const pattern = template
    .split(/(\{[^}]*\})/)
    .map((part) => (part.startsWith('{') ? '(.+?)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`).test(uri);
}
