import type { ToolsFilter } from '../../config/exposure-schema.js';

/** A `*` glob as a whole-name regular expression (every other character literal). */
function globPattern(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** `allow` / `deny` lists of a server's tools or prompts: deny wins; no allow list allows all. */
export class NameFilter {
  readonly #allow: RegExp[] | undefined;
  readonly #deny: RegExp[];

  constructor(filter: ToolsFilter | undefined) {
    this.#allow = filter?.allow?.map(globPattern);
    this.#deny = filter?.deny?.map(globPattern) ?? [];
  }

  /** True when the filter lets everything through (the common case costs nothing then). */
  get open(): boolean {
    return this.#allow === undefined && this.#deny.length === 0;
  }

  shows(name: string): boolean {
    if (this.#deny.some((pattern) => pattern.test(name))) return false;
    return this.#allow === undefined || this.#allow.some((pattern) => pattern.test(name));
  }
}
