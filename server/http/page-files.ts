/**
 * How the built page is served: the .br or .gz copy the build wrote beside each file (scripts/precompress.ts),
 * chosen by the request's Accept-Encoding, and cache headers by what the file is. Vite names everything under
 * /assets/ by a hash of its content, so a browser may keep those for a year without asking again (a new build has
 * new names); index.html, which names them, and anything else, is revalidated on every load (ETag: a 304 when
 * unchanged), so a new build is seen at once.
 */
import path from 'node:path';
import type { FastifyStaticOptions } from '@fastify/static';

export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const REVALIDATE_CACHE = 'no-cache';

/** The options @fastify/static serves the page in `root` with. */
export function pageFileOptions(root: string): FastifyStaticOptions {
  const assets = path.join(path.resolve(root), 'assets') + path.sep;
  return {
    root,
    preCompressed: true,
    // Set here instead, per file: send's own header would be max-age=0 for all.
    cacheControl: false,
    setHeaders: (reply, file) => {
      reply.header('cache-control', path.resolve(file).startsWith(assets) ? IMMUTABLE_CACHE : REVALIDATE_CACHE);
    },
  };
}
