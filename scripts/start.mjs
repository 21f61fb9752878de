// npm start: the server built ahead of time (dist/server/main.js) in this process, so that nothing is compiled at
// start. Built first (npm run build: the page and the server) when there is no build yet or a source is newer
// than the last one (dist/build-stamp.json, written by scripts/build.ts). Plain JavaScript: it runs before
// anything is built, and every millisecond it takes is part of the start.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(root, 'dist/build-stamp.json');
const SERVER = path.join(root, 'dist/server/main.js');
const PAGE = path.join(root, 'dist/web/index.html');
/** What the build reads: a change to any of these makes the build stale. Tests are not part of it. */
const INPUT_DIRS = ['server', 'shared', 'web'];
const INPUT_FILES = [
  'scripts/build.ts',
  'scripts/build-server.ts',
  'scripts/precompress.ts',
  'vite.config.ts',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
];

/** The newest modification time (ms) among the build's inputs. */
function newestInput() {
  let newest = 0;
  const visit = (file) => {
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return; // an optional input that does not exist
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(file)) if (!name.endsWith('.test.ts')) visit(path.join(file, name));
    } else if (stat.mtimeMs > newest) newest = stat.mtimeMs;
  };
  for (const input of [...INPUT_DIRS, ...INPUT_FILES]) visit(path.join(root, input));
  return newest;
}

/** When the last complete build started, or null if there is none. */
function builtAt() {
  try {
    if (!fs.existsSync(SERVER) || !fs.existsSync(PAGE)) return null;
    return JSON.parse(fs.readFileSync(STAMP, 'utf8')).startedAt ?? null;
  } catch {
    return null;
  }
}

const built = builtAt();
if (built === null || newestInput() >= built) {
  console.log(
    built === null
      ? 'Building the page and the server (first start)...'
      : 'The sources changed since the last build: building...',
  );
  // tsx runs the build script (TypeScript); only here, never when the server starts from a fresh build.
  const build = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/build.ts')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// The server reads its flags from process.argv: `npm start -- --port 9000` reaches it unchanged.
await import(pathToFileURL(SERVER).href);
