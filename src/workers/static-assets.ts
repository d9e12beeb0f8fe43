import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { HttpExchange } from './http/http-exchange.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The status page may load only its own files and talk only to this gateway; tool results are shown as
 * text or as data: images and audio, never as HTML, so a backend cannot script the page.
 */
const PAGE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  [
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
      "media-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  ],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-cache'],
];

/**
 * The status page's files (`ui/` in the package), read once when the worker starts: plain HTML, CSS and
 * ES modules, with no build step and nothing fetched from elsewhere. They hold no data; everything the
 * page shows comes from endpoints that need the token.
 */
export class StaticAssets {
  readonly #files = new Map<string, { body: string; type: string }>();

  constructor(dir: URL = new URL('../../../ui/', import.meta.url)) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // A package without ui/ still serves MCP; the page's paths answer 404 and say why.
    }
    for (const name of names) {
      const type = CONTENT_TYPES[extname(name)];
      if (type) this.#files.set(name, { body: readFileSync(new URL(name, dir), 'utf8'), type });
    }
  }

  /** Answers with the named file; false when there is no such file (the caller answers 404). */
  serve(exchange: HttpExchange, name: string): boolean {
    const file = this.#files.get(name);
    if (!file) return false;
    exchange.send(200, file.body, file.type, PAGE_HEADERS);
    return true;
  }
}
