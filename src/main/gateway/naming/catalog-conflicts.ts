import { templateMatches } from '../aggregate-catalog.js';

type Item = Record<string, unknown>;

/** Two servers offering the same thing on the aggregated endpoints, and which one gets it. */
export interface CatalogConflict {
  kind: 'resource' | 'resourceTemplate' | 'tool' | 'prompt';
  /** The URI, template or name in dispute. */
  key: string;
  servers: string[];
  /** The rule: the server listed first in the config. */
  routedTo: string;
}

/** An instance of a template, each `{var}` filled with a sample, to see which other templates match it. */
function sampleOf(template: string): string {
  return template.replace(/\{[^}]*\}/g, 'x');
}

function overlaps(a: string, b: string): boolean {
  return a === b || templateMatches(a, sampleOf(b)) || templateMatches(b, sampleOf(a));
}

function byKey(items: readonly Item[], key: string, kind: CatalogConflict['kind']): CatalogConflict[] {
  const servers = new Map<string, string[]>();
  for (const item of items) {
    const value = item[key];
    if (typeof value !== 'string') continue;
    const list = servers.get(value) ?? [];
    if (!list.includes(item.server as string)) list.push(item.server as string);
    servers.set(value, list);
  }
  return [...servers]
    .filter(([, list]) => list.length > 1)
    .map(([value, list]) => ({ kind, key: value, servers: list, routedTo: list[0]! }));
}

/**
 * What several servers offer alike, from lists in config order: the same resource URI, overlapping
 * resource templates (one's instance fits the other), and, when names are not namespaced, the same tool
 * or prompt name. The first server in the config gets such requests; `/status` and the start-up log say so.
 */
export function findConflicts(lists: {
  resources: readonly Item[];
  resourceTemplates: readonly Item[];
  tools?: readonly Item[];
  prompts?: readonly Item[];
}): CatalogConflict[] {
  const conflicts = byKey(lists.resources, 'uri', 'resource');
  const templates = lists.resourceTemplates.filter((t) => typeof t.uriTemplate === 'string');
  // A template already reported as overlapping an earlier one is not reported again on its own.
  const covered = new Set<Item>();
  for (const [i, a] of templates.entries()) {
    if (covered.has(a)) continue;
    const servers = [a.server as string];
    for (const b of templates.slice(i + 1))
      if (b.server !== a.server && overlaps(a.uriTemplate as string, b.uriTemplate as string)) {
        if (!servers.includes(b.server as string)) servers.push(b.server as string);
        covered.add(b);
      }
    if (servers.length > 1)
      conflicts.push({
        kind: 'resourceTemplate',
        key: a.uriTemplate as string,
        servers,
        routedTo: servers[0]!,
      });
  }
  if (lists.tools) conflicts.push(...byKey(lists.tools, 'name', 'tool'));
  if (lists.prompts) conflicts.push(...byKey(lists.prompts, 'name', 'prompt'));
  return conflicts;
}
