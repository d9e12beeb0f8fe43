import type { HttpExchange } from './http/http-exchange.js';

/** `*` is any method, as uWS's `any`. */
export type RouteMethod = 'GET' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD' | '*';
export type RouteHandler = (exchange: HttpExchange, params: string[]) => void;

/** A pattern's segments: a literal, `:` for a parameter, `*` for "anything from here on". */
interface Pattern {
  segments: string[];
  handler: RouteHandler;
}

interface MethodRoutes {
  exact: Map<string, RouteHandler>;
  /** Most specific first: at the first segment where two differ, literal before parameter before `*`. */
  patterns: Pattern[];
}

const RANK = (segment: string): number => (segment === '*' ? 2 : segment === ':' ? 1 : 0);

function compareSpecificity(a: Pattern, b: Pattern): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const byRank = RANK(a.segments[i]!) - RANK(b.segments[i]!);
    if (byRank !== 0) return byRank;
  }
  return b.segments.length - a.segments.length;
}

/**
 * The gateway's routes, matched the same way whichever engine serves them, with uWS's rules:
 * a route for the request's own method wins over an any-method route (so `HEAD /*` beats `any /sse`);
 * among routes of one method, a literal segment beats a parameter, which beats `*`; a parameter matches
 * one non-empty segment; `/a/*` matches below `/a/` but not `/a` itself. Paths are matched as sent,
 * undecoded.
 */
export class RouteTable {
  readonly #methods = new Map<string, MethodRoutes>();

  add(method: RouteMethod, pattern: string, handler: RouteHandler): this {
    let routes = this.#methods.get(method);
    if (!routes) {
      routes = { exact: new Map(), patterns: [] };
      this.#methods.set(method, routes);
    }
    const segments = pattern
      .split('/')
      .slice(1)
      .map((s) => (s.startsWith(':') ? ':' : s));
    if (segments.some((s) => s === ':' || s === '*')) {
      routes.patterns.push({ segments, handler });
      routes.patterns.sort(compareSpecificity);
    } else {
      routes.exact.set(pattern, handler);
    }
    return this;
  }

  /** The handler for a request and the values of its parameters, or undefined when nothing matches. */
  match(method: string, path: string): { handler: RouteHandler; params: string[] } | undefined {
    return this.#matchIn(this.#methods.get(method), path) ?? this.#matchIn(this.#methods.get('*'), path);
  }

  #matchIn(
    routes: MethodRoutes | undefined,
    path: string,
  ): { handler: RouteHandler; params: string[] } | undefined {
    if (!routes) return undefined;
    const exact = routes.exact.get(path);
    if (exact) return { handler: exact, params: [] };
    if (routes.patterns.length === 0) return undefined;
    // A target that is not a path (`*`, or anything else a lenient parser let through) is one segment:
    // only `/*` can match it.
    const parts = (path.startsWith('/') ? path : `/${path}`).split('/').slice(1);
    for (const pattern of routes.patterns) {
      const params = matchSegments(pattern.segments, parts);
      if (params) return { handler: pattern.handler, params };
    }
    return undefined;
  }
}

function matchSegments(segments: string[], parts: string[]): string[] | undefined {
  const params: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '*') return i < parts.length ? params : undefined;
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment === ':') {
      if (part === '') return undefined;
      params.push(part);
    } else if (segment !== part) {
      return undefined;
    }
  }
  return parts.length === segments.length ? params : undefined;
}
