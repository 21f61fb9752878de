/**
 * The server, built ahead of time: esbuild bundles our TypeScript into plain JavaScript under `outdir`, so that
 * `npm start` loads JavaScript instead of compiling TypeScript at every start (tsx). Six entries, because six
 * things start on their own: the server (main.js), a process worker (worker-process.js, forked by the server), a
 * graph node running as its own process (graph-node-process.js, forked by a graph run), the
 * recording writer thread (writer-thread.js; pg-writer-thread.js for a PostgreSQL store) and the in-process
 * workers' thread (worker-thread.js). Code they share goes into chunk files beside them.
 *
 * Packages are bundled too, apart from the native ones (zeromq, better-sqlite3: compiled add-ons, loaded from
 * node_modules at run time): resolving and reading Fastify's hundreds of small files took about a third of the
 * start. server/layout.ts tells the bundle from the sources by __PLAYGROUND_BUNDLE__, defined here.
 */
import fs from 'node:fs';
import { build } from 'esbuild';

export const SERVER_ENTRIES = {
  main: 'server/main.ts',
  'worker-process': 'server/workers/worker-process.ts',
  'graph-node-process': 'server/engine/graph-node-process.ts',
  'writer-thread': 'server/recorder/writer-thread.ts',
  'pg-writer-thread': 'server/recorder/pg/writer-thread.ts',
  'worker-thread': 'server/workers/worker-thread.ts',
};

/** Builds the server into `outdir` (emptied first); `root` is the project folder. */
export async function buildServer(outdir: string, root = process.cwd()): Promise<void> {
  fs.rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: SERVER_ENTRIES,
    outdir,
    bundle: true,
    // Chunks beside the entries, never in a subfolder: server/layout.ts finds the built files from where its own
    // code is, whichever of these files that is.
    splitting: true,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ws tries these optional add-ons in a try/catch and works without them.
    external: ['zeromq', 'better-sqlite3', 'bufferutil', 'utf-8-validate'],
    // The CommonJS packages inside an ES module bundle still call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __playgroundCreateRequire } from 'node:module'; const require = __playgroundCreateRequire(import.meta.url);",
    },
    define: { __PLAYGROUND_BUNDLE__: 'true' },
    // A stack trace names the bundle's lines; `node --enable-source-maps dist/server/main.js` maps them back.
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}
