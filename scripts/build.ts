/**
 * npm run build: the page (vite: dist/web) and the server (esbuild: dist/server), then dist/build-stamp.json,
 * which says when this build started. `npm start` (scripts/start.mjs) runs the built server and builds first only
 * when the stamp is missing or a source is newer than it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build as buildPage } from 'vite';
import { buildServer } from './build-server.ts';

const root = path.resolve(import.meta.dirname, '..');
// Before anything is read: a source saved while the build runs is newer than the stamp, so the next start rebuilds.
const startedAt = Date.now();
const began = performance.now();
await buildPage({ root: path.join(root, 'web'), configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
await buildServer(path.join(root, 'dist/server'), root);
fs.writeFileSync(path.join(root, 'dist/build-stamp.json'), `${JSON.stringify({ startedAt })}\n`);
console.log(`Built dist/web and dist/server in ${((performance.now() - began) / 1000).toFixed(1)} s.`);
