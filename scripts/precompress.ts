/**
 * A Vite plugin that writes a brotli (.br) and a gzip (.gz) copy beside each text file of the built page, once,
 * at build time, so that the server sends them as they are (@fastify/static's preCompressed, server/http/page-files.ts)
 * instead of the page's ~450 KB of JavaScript uncompressed, and never compresses per request. A copy that would
 * not be smaller is not written; the file is then sent as it is.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'vite';

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Text formats compress well; images and fonts are compressed already. */
const COMPRESSIBLE = /\.(?:html|js|mjs|css|svg|json|txt|map|wasm|xml)$/;

/** Writes `file`.br and `file`.gz (each only if smaller than the file); answers the sizes, for the build's log. */
export async function precompressFile(file: string): Promise<{ size: number; br: number | null; gz: number | null }> {
  const content = await fs.readFile(file);
  const [br, gz] = await Promise.all([
    // Quality 11, the slowest and smallest: paid once per build (about a second for the page's script).
    brotli(content, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: content.length },
    }),
    gzip(content, { level: 9 }),
  ]);
  const written = async (suffix: string, compressed: Buffer) => {
    if (compressed.length >= content.length) return null;
    await fs.writeFile(`${file}${suffix}`, compressed);
    return compressed.length;
  };
  return { size: content.length, br: await written('.br', br), gz: await written('.gz', gz) };
}

export function precompress(): Plugin {
  return {
    name: 'playground:precompress',
    apply: 'build',
    // After the files are on disk: every emitted text file of this build (the out dir was emptied before it).
    async writeBundle(options, bundle) {
      const dir = options.dir!;
      const files = Object.keys(bundle).filter((name) => COMPRESSIBLE.test(name));
      await Promise.all(files.map((name) => precompressFile(path.join(dir, name))));
    },
  };
}
