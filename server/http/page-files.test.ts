/**
 * The built page over HTTP: the brotli or gzip copy the build wrote is sent when the browser accepts it, and it is
 * the same file once decompressed; hashed assets are cached for a year as immutable, index.html is revalidated.
 * First on a page built here from a few files (through the build's own compression step), then on the real build.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_STATIC_DIR, buildApp } from '../app.ts';
import { precompressFile } from '../../scripts/precompress.ts';
import { IMMUTABLE_CACHE, REVALIDATE_CACHE } from './page-files.ts';

const SCRIPT = '/assets/index-AbC123xy.js';
const STYLE = '/assets/index-Zz99aa00.css';
const IMAGE = '/assets/logo-Qq11ww22.png';

let dir: string;
let app: FastifyInstance;
const original = (url: string) => fs.readFileSync(path.join(dir, url === '/' ? 'index.html' : url));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-page-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html><html><head><script type="module" src="${SCRIPT}"></script></head><body>${'<p>text</p>'.repeat(50)}</body></html>`,
  );
  fs.writeFileSync(
    path.join(dir, SCRIPT),
    Array.from({ length: 3000 }, (_, i) => `export const value${i} = ${i} * 2;\n`).join(''),
  );
  fs.writeFileSync(
    path.join(dir, STYLE),
    Array.from({ length: 500 }, (_, i) => `.c${i} { margin: ${i}px; }\n`).join(''),
  );
  fs.writeFileSync(path.join(dir, IMAGE), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]));
  for (const file of ['/', SCRIPT, STYLE]) await precompressFile(path.join(dir, file === '/' ? 'index.html' : file));
  app = await buildApp({ staticDir: dir, store: null });
});

afterAll(async () => {
  await app?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a built page', () => {
  it('writes smaller .br and .gz copies beside each text file at build time', () => {
    for (const file of [SCRIPT, STYLE]) {
      const size = original(file).length;
      expect(fs.statSync(path.join(dir, `${file}.br`)).size).toBeLessThan(size);
      expect(fs.statSync(path.join(dir, `${file}.gz`)).size).toBeLessThan(size);
    }
  });

  it('sends the brotli copy to a browser that accepts br, and it decompresses to the file', async () => {
    const response = await app.inject({
      method: 'GET',
      url: SCRIPT,
      headers: { 'accept-encoding': 'gzip, deflate, br, zstd' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(response.headers.vary).toMatch(/accept-encoding/i);
    expect(response.rawPayload.length).toBeLessThan(original(SCRIPT).length);
    expect(zlib.brotliDecompressSync(response.rawPayload).equals(original(SCRIPT))).toBe(true);
  });

  it('sends the gzip copy to one that accepts only gzip, and the file itself to one that accepts neither', async () => {
    const gzipped = await app.inject({ method: 'GET', url: STYLE, headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers['content-type']).toMatch(/^text\/css/);
    expect(zlib.gunzipSync(gzipped.rawPayload).equals(original(STYLE))).toBe(true);

    const plain = await app.inject({ method: 'GET', url: STYLE, headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(original(STYLE))).toBe(true);
  });

  it('lets browsers keep hashed assets for a year, compressed or not', async () => {
    for (const [url, encoding] of [
      [SCRIPT, 'br'],
      [STYLE, 'gzip'],
      [IMAGE, 'br'],
      [SCRIPT, 'identity'],
    ] as const) {
      const response = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': encoding } });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['cache-control'], `${url} ${encoding}`).toBe(IMMUTABLE_CACHE);
    }
    // An image is not compressed again: the file as it is.
    const image = await app.inject({ method: 'GET', url: IMAGE, headers: { 'accept-encoding': 'br' } });
    expect(image.headers['content-encoding']).toBeUndefined();
    expect(image.rawPayload.equals(original(IMAGE))).toBe(true);
  });

  it('revalidates index.html on every load: no-cache, and a 304 while it is unchanged', async () => {
    const page = await app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'br' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe(REVALIDATE_CACHE);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(zlib.brotliDecompressSync(page.rawPayload).equals(original('/'))).toBe(true);
    const etag = page.headers.etag as string;
    expect(etag).toBeTruthy();
    const again = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-encoding': 'br', 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
    expect(again.headers['cache-control']).toBe(REVALIDATE_CACHE);

    const byName = await app.inject({ method: 'GET', url: '/index.html', headers: { 'accept-encoding': 'gzip' } });
    expect(byName.headers['cache-control']).toBe(REVALIDATE_CACHE);
    expect(zlib.gunzipSync(byName.rawPayload).equals(original('/'))).toBe(true);
  });
});

describe('the real build (dist/web)', () => {
  it('has .br and .gz beside its script and styles, and sends the page script compressed and immutable', async () => {
    if (!fs.existsSync(path.join(DEFAULT_STATIC_DIR, 'index.html')))
      throw new Error('dist/web is not built: run `npx vite build` first');
    const assets = fs.readdirSync(path.join(DEFAULT_STATIC_DIR, 'assets')).filter((name) => /\.(js|css)$/.test(name));
    expect(assets.some((name) => name.endsWith('.js'))).toBe(true);
    for (const name of assets) {
      for (const suffix of ['.br', '.gz'])
        expect(fs.existsSync(path.join(DEFAULT_STATIC_DIR, 'assets', `${name}${suffix}`)), `${name}${suffix}`).toBe(
          true,
        );
    }
    const real = await buildApp({ store: null });
    try {
      const page = await real.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'br' } });
      const html = zlib.brotliDecompressSync(page.rawPayload).toString();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeTruthy();
      const response = await real.inject({ method: 'GET', url: script!, headers: { 'accept-encoding': 'br' } });
      expect(response.headers['content-encoding']).toBe('br');
      expect(response.headers['cache-control']).toBe(IMMUTABLE_CACHE);
      expect(
        zlib.brotliDecompressSync(response.rawPayload).equals(fs.readFileSync(path.join(DEFAULT_STATIC_DIR, script!))),
      ).toBe(true);
    } finally {
      await real.close();
    }
  });
});
