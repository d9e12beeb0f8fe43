import type { ServerConfig } from '../../config/config-schema.js';
import type { ToolOverrides } from '../../config/exposure-schema.js';
import { NameFilter } from './name-filter.js';

type Item = Record<string, unknown>;

/**
 * What one server shows of itself on every endpoint: its tools and prompts through the configured
 * filters, its tools under their overridden names, titles and descriptions. Works in both directions:
 * a listed item as clients see it, and a name a client calls back to the backend's own (or to nothing,
 * for a hidden one, which is then refused as unknown).
 */
export class ServerExposure {
  readonly #tools: NameFilter;
  readonly #prompts: NameFilter;
  readonly #overrides: ToolOverrides;
  /** Client-facing name -> the backend's, for renamed tools. */
  readonly #renamedFrom = new Map<string, string>();
  /** The backend's names that are renamed (no longer callable under their own name). */
  readonly #renamed = new Set<string>();

  constructor(config: Pick<ServerConfig, 'tools' | 'prompts' | 'overrides'>) {
    this.#tools = new NameFilter(config.tools);
    this.#prompts = new NameFilter(config.prompts);
    this.#overrides = config.overrides ?? {};
    for (const [original, override] of Object.entries(this.#overrides)) {
      if (!override.name || override.name === original) continue;
      this.#renamedFrom.set(override.name, original);
      this.#renamed.add(original);
    }
  }

  /** Nothing is filtered or overridden: items and names pass as they are. */
  get transparent(): boolean {
    return this.#tools.open && this.#prompts.open && Object.keys(this.#overrides).length === 0;
  }

  /** A backend's tool as clients see it, or undefined when it is hidden. */
  tool(item: Item): Item | undefined {
    const name = item.name;
    if (typeof name !== 'string' || !this.#tools.shows(name)) return undefined;
    const override = this.#overrides[name];
    if (!override) return this.#renamedFrom.has(name) ? undefined : item;
    return {
      ...item,
      ...(override.name ? { name: override.name } : {}),
      ...(override.title !== undefined ? { title: override.title } : {}),
      ...(override.description !== undefined ? { description: override.description } : {}),
    };
  }

  /** The backend's name for a tool a client calls, or undefined when no tool is shown by that name. */
  toolName(called: string): string | undefined {
    const original = this.#renamedFrom.get(called);
    if (original !== undefined) return this.#tools.shows(original) ? original : undefined;
    if (this.#renamed.has(called)) return undefined;
    return this.#tools.shows(called) ? called : undefined;
  }

  prompt(item: Item): Item | undefined {
    return typeof item.name === 'string' && this.#prompts.shows(item.name) ? item : undefined;
  }

  promptName(called: string): string | undefined {
    return this.#prompts.shows(called) ? called : undefined;
  }
}
