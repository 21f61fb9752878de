/**
 * Where the server's own files are. The server runs two ways: from its TypeScript sources (`npm run serve`, the
 * tests: tsx compiles each module as it loads, this file is server/layout.ts) or from the bundle `npm run build`
 * writes (`npm start`: dist/server/main.js and its siblings, plain JavaScript, nothing compiled at start). The
 * build defines __PLAYGROUND_BUNDLE__ (scripts/build.ts); from the sources the name does not exist.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __PLAYGROUND_BUNDLE__: boolean | undefined;

/** True in the built server (dist/server), false when running from the sources. */
export const RUNNING_BUILT = typeof __PLAYGROUND_BUNDLE__ !== 'undefined' && __PLAYGROUND_BUNDLE__;

/** server/ from the sources; dist/server (or wherever the build wrote the bundle) when built. */
const here = path.dirname(fileURLToPath(import.meta.url));

/** The built page: dist/web, beside dist/server. */
export const BUILT_PAGE_DIR = RUNNING_BUILT ? path.resolve(here, '../web') : path.resolve(here, '../dist/web');

/**
 * The entry a process worker is forked from, and the node flags it needs: the built worker needs none (it is
 * JavaScript); from the sources, tsx's loader compiles it in the child.
 */
export const WORKER_PROCESS_ENTRY = RUNNING_BUILT
  ? { file: path.join(here, 'worker-process.js'), execArgv: [] as string[] }
  : { file: path.join(here, 'workers/worker-process.ts'), execArgv: ['--import', 'tsx'] };

/**
 * The entry a graph node running as its own process is forked from (server/engine/graph-process.ts), built or from
 * the sources as a process worker's.
 */
export const GRAPH_PROCESS_ENTRY = RUNNING_BUILT
  ? { file: path.join(here, 'graph-node-process.js'), execArgv: [] as string[] }
  : { file: path.join(here, 'engine/graph-node-process.ts'), execArgv: ['--import', 'tsx'] };

/**
 * The in-process workers' thread's entry (server/workers/worker-thread-host.ts): as the writer thread's, built
 * JavaScript, or from the sources a .mjs that registers tsx and loads the TypeScript.
 */
export const WORKER_THREAD_ENTRY = RUNNING_BUILT
  ? new URL('./worker-thread.js', import.meta.url)
  : new URL('./workers/worker-thread.mjs', import.meta.url);

/**
 * The recording writer thread's entry: the built one is JavaScript; from the sources, writer-thread.mjs registers
 * tsx in the thread and then loads writer-thread.ts.
 */
export const WRITER_THREAD_ENTRY = RUNNING_BUILT
  ? new URL('./writer-thread.js', import.meta.url)
  : new URL('./recorder/writer-thread.mjs', import.meta.url);

/** The PostgreSQL store's writer thread (server/recorder/pg/writer-thread.ts), built or from the sources alike. */
export const PG_WRITER_THREAD_ENTRY = RUNNING_BUILT
  ? new URL('./pg-writer-thread.js', import.meta.url)
  : new URL('./recorder/pg/writer-thread.mjs', import.meta.url);
