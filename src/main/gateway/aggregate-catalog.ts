import type { Logger } from '../../shared/logger.js';
import type { McpClient } from '../mcp-client.js';
import type { Supervisor } from '../supervisor.js';
import { type CatalogConflict, findConflicts } from './naming/catalog-conflicts.js';
import { namespacedName } from './naming/namespace.js';
import { ServerExposure } from './naming/server-exposure.js';

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
  /** Items by name, made on first use. */
  byName?: Map<unknown, Item>;
  /** Items by their name on the aggregated endpoints (namespaced), made on first use. */
  byAggregatedName?: Map<unknown, Item>;
}

/** A tool or prompt a client named on an endpoint: its server, and the item as that server shows it. */
export interface NamedItem {
  server: string;
  item: Item;
}

/** Tools and prompts are namespaced on the aggregated endpoints; resources keep their URIs. */
const NAMESPACED: ReadonlySet<CatalogKind> = new Set(['tools', 'prompts']);

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
  readonly #separator: string | false;
  readonly #exposures = new Map<string, ServerExposure>();
  /** Namespaced copies of each fetched list, made once per list. */
  readonly #aggregated = new WeakMap<Item[], Item[]>();

  constructor(
    supervisor: Supervisor,
    servers: readonly string[],
    logger: Logger,
    separator: string | false = false,
  ) {
    this.#supervisor = supervisor;
    this.#servers = servers;
    this.#logger = logger;
    this.#separator = separator;
  }

  /** A reload removed or changed a server: its lists and its filters are gone with the old config. */
  forget(server: string): void {
    this.invalidate(server);
    this.#resolved.delete(server);
    this.#exposures.delete(server);
  }

  /** What a server shows of itself (filters and overrides from its config). */
  exposure(server: string): ServerExposure {
    let exposure = this.#exposures.get(server);
    if (!exposure) {
      exposure = new ServerExposure(this.#supervisor.get(server).config);
      this.#exposures.set(server, exposure);
    }
    return exposure;
  }

  /** How the aggregated endpoints name a server's tool or prompt. */
  aggregatedName(server: string, name: string): string {
    return this.#separator === false ? name : namespacedName(server, name, this.#separator);
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
   * The one running server offering an item of that name, when that is known without waiting: every
   * running server's list of that kind has arrived, and exactly one has the item. Undefined otherwise
   * (not known yet, nobody, or several): ask `serversOffering`, which says which.
   */
  soleServerNow(kind: CatalogKind, name: string): string | undefined {
    let found: string | undefined;
    for (const server of this.#servers) {
      if (!this.#offersKind(server, kind)) continue;
      const resolved = this.#resolved.get(server)?.[kind];
      if (!resolved) return undefined;
      if (!byName(resolved).has(name)) continue;
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
    if (server === '' && this.#separator !== false) {
      const named = this.aggregatedNow('tools', name);
      if (named === 'pending')
        return this.aggregated('tools', name).then((found) => found?.item ?? this.#bareTool(server, name));
      if (named) return named.item;
    }
    return this.#bareTool(server, name);
  }

  #bareTool(server: string, name: string): Item | undefined | Promise<Item | undefined> {
    const servers = server === '' ? this.#servers : [server];
    let waiting = false;
    for (const each of servers) {
      if (!this.#offersKind(each, 'tools')) continue;
      const resolved = this.#resolved.get(each)?.tools;
      if (!resolved) {
        waiting = true;
        continue;
      }
      const found = byName(resolved).get(name);
      if (found) return found;
    }
    if (!waiting) return undefined;
    return Promise.all(servers.map((each) => this.listOf(each, 'tools'))).then((lists) =>
      lists.flat().find((item) => item.name === name),
    );
  }

  /**
   * What several servers offer alike on the aggregated endpoints, from the lists that have arrived
   * (`findConflicts`): for `/status`, without fetching anything.
   */
  conflictsNow(): CatalogConflict[] {
    const arrived = (kind: CatalogKind) =>
      this.#servers.flatMap((server) => this.#resolved.get(server)?.[kind]?.items ?? []);
    return findConflicts({
      resources: arrived('resources'),
      resourceTemplates: arrived('resourceTemplates'),
      ...(this.#separator === false ? { tools: arrived('tools'), prompts: arrived('prompts') } : {}),
    });
  }

  /** Fetches every list and returns the conflicts (for the start-up log). */
  async conflicts(): Promise<CatalogConflict[]> {
    const kinds: CatalogKind[] = ['resources', 'resourceTemplates', 'tools', 'prompts'];
    await Promise.all(kinds.map((kind) => this.list(kind)));
    return this.conflictsNow();
  }

  /** Every running exposed server's items of one kind, each carrying `server`, as `/mcp` lists them. */
  async list(kind: CatalogKind): Promise<Item[]> {
    const lists = await this.#lists(kind);
    if (this.#separator === false || !NAMESPACED.has(kind)) return lists.flat();
    return lists.flatMap((items) => this.#namespaced(items));
  }

  /** Each server's list as its own endpoint shows it (not namespaced), in config order. */
  #lists(kind: CatalogKind): Promise<Item[][]> {
    return Promise.all(this.#servers.map((server) => this.listOf(server, kind)));
  }

  #namespaced(items: Item[]): Item[] {
    let named = this.#aggregated.get(items);
    if (!named) {
      named = items.map((item) => ({
        ...item,
        name: this.aggregatedName(item.server as string, item.name as string),
      }));
      this.#aggregated.set(items, named);
    }
    return named;
  }

  /**
   * The tool or prompt an aggregated endpoint's client named, by its namespaced name, at once when the
   * lists are in: `undefined` when no server lists it, `pending` when a list has not arrived yet. Config
   * validation makes server prefixes unambiguous, so at most one server can be meant.
   */
  aggregatedNow(kind: CatalogKind, name: string): NamedItem | undefined | 'pending' {
    const separator = this.#separator;
    if (separator === false) return undefined;
    for (const server of this.#servers) {
      // Even a shortened name (namespace.ts) keeps its server's prefix.
      if (!name.startsWith(`${server}${separator}`)) continue;
      if (!this.#offersKind(server, kind)) continue;
      const resolved = this.#resolved.get(server)?.[kind];
      if (!resolved) return 'pending';
      resolved.byAggregatedName ??= new Map(
        resolved.items.map((item) => [this.aggregatedName(server, item.name as string), item]),
      );
      const item = resolved.byAggregatedName.get(name);
      if (item) return { server, item };
    }
    return undefined;
  }

  /** {@link aggregatedNow}, waiting for the lists when they have not arrived. */
  async aggregated(kind: CatalogKind, name: string): Promise<NamedItem | undefined> {
    const now = this.aggregatedNow(kind, name);
    if (now !== 'pending') return now;
    await this.#lists(kind);
    const later = this.aggregatedNow(kind, name);
    return later === 'pending' ? undefined : later;
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
    const items = (await this.#lists(kind)).flat();
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

  /** A server's list as every endpoint shows it: filtered and overridden, each item tagged `server`. */
  async #fetch(client: McpClient, server: string, kind: CatalogKind): Promise<Item[]> {
    let items: Item[];
    const exposure = this.exposure(server);
    switch (kind) {
      case 'tools':
        items = exposeTools(await client.listTools(), exposure);
        break;
      case 'resources':
        items = await client.listResources();
        break;
      case 'resourceTemplates':
        items = await client.listResourceTemplates();
        break;
      case 'prompts':
        items = exposePrompts(await client.listPrompts(), exposure);
        break;
    }
    return items.map((item) => ({ ...item, server }));
  }
}

/** A list's items by name, indexed on first use (a call is routed by name on the hot path). */
function byName(resolved: ResolvedList): Map<unknown, Item> {
  resolved.byName ??= new Map(resolved.items.map((item) => [item.name, item]));
  return resolved.byName;
}

/** Tools as clients see them: without task-only tools (below), filtered and overridden. */
export function exposeTools(tools: readonly Item[], exposure: ServerExposure): Item[] {
  const callable = tools.filter(callableWithoutTasks);
  if (exposure.transparent) return callable;
  return callable.flatMap((tool) => {
    const shown = exposure.tool(tool);
    return shown ? [shown] : [];
  });
}

export function exposePrompts(prompts: readonly Item[], exposure: ServerExposure): Item[] {
  if (exposure.transparent) return [...prompts];
  return prompts.flatMap((prompt) => {
    const shown = exposure.prompt(prompt);
    return shown ? [shown] : [];
  });
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
