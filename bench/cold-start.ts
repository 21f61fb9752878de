/**
 * Cold start (`npm run bench -- --case cold-start`): from starting the server to its first answer, a 200 on
 * /api/health. Each round starts, one after the other:
 *   sources: tsx server/main.ts (TypeScript compiled as it loads: what `npm start` ran before, `npm run serve` now)
 *   built:   node dist/server/main.js (the server `npm run build` bundled)
 *   npm:     npm start (npm, the start script's freshness check, then the built server)
 * The page and the server are built once before the rounds; a round whose `npm start` found the sources newer
 * than the build (someone edited a file meanwhile) rebuilt, and its figure is dropped. One start of each is made
 * first and not counted (the file cache, a new database file). Each start gets its own port (--port 0) and the
 * same temp-file database; it is ended with SIGTERM to its process group, SIGKILL after 5 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const START_TIMEOUT_MS = 60_000;

interface Variant {
  name: string;
  what: string;
  command: string;
  args: string[];
}

const VARIANTS: Variant[] = [
  {
    name: 'sources',
    what: 'tsx server/main.ts',
    command: path.join(ROOT, 'node_modules/.bin/tsx'),
    args: ['server/main.ts'],
  },
  { name: 'built', what: 'node dist/server/main.js', command: process.execPath, args: ['dist/server/main.js'] },
  { name: 'npm', what: 'npm start (built)', command: 'npm', args: ['start', '--silent', '--'] },
];

interface Start {
  /** From spawn to the 200 of /api/health. */
  ms: number;
  /** The start rebuilt first (npm start with sources newer than the build): not a cold start of a built server. */
  rebuilt: boolean;
}

function health(base: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${base}/api/health`, { timeout: START_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('no answer from /api/health')));
    request.on('error', reject);
  });
}

/** Starts `variant`, times its first 200 on /api/health, then stops it (and everything it started). */
async function startOnce(variant: Variant, dir: string): Promise<Start> {
  const began = performance.now();
  const child = spawn(
    variant.command,
    [...variant.args, '--port', '0', '--runtime-dir', dir, '--db', path.join(dir, 'runs.db')],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: npm and tsx start the server as a child; the group is stopped as one.
      detached: true,
    },
  );
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${variant.what} printed no URL within ${START_TIMEOUT_MS} ms:\n${output}`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${variant.what} exited before it answered:\n${output}`));
      });
    });
    const status = await health(base);
    const ms = performance.now() - began;
    if (status !== 200) throw new Error(`${variant.what}: /api/health answered ${status}`);
    return { ms, rebuilt: output.includes('building') };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(killer);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export async function coldStartCase(rounds: number): Promise<void> {
  console.log(
    `\ncold start: spawn -> first 200 on /api/health, ${rounds} rounds (${VARIANTS.map((v) => v.name).join(', ')} in turn)`,
  );
  console.log(
    `load average at the start: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} (${os.cpus().length} cores)`,
  );
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-cold-'));
  try {
    const times = new Map(VARIANTS.map((variant) => [variant.name, [] as number[]]));
    let dropped = 0;
    for (const variant of VARIANTS) await startOnce(variant, dir); // not counted
    for (let round = 1; round <= rounds; round++) {
      const line: string[] = [];
      for (const variant of VARIANTS) {
        const start = await startOnce(variant, dir);
        if (start.rebuilt) {
          dropped++;
          line.push(`${variant.name} rebuilt (dropped)`);
          continue;
        }
        times.get(variant.name)!.push(start.ms);
        line.push(`${variant.name} ${start.ms.toFixed(0)} ms`);
      }
      console.log(`  round ${round}: ${line.join(', ')}`);
    }
    for (const variant of VARIANTS) {
      const values = times.get(variant.name)!;
      if (values.length === 0) continue;
      console.log(
        `${variant.what.padEnd(26)}: median ${median(values).toFixed(0)} ms (min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}, ${values.length} starts)`,
      );
    }
    const sources = times.get('sources')!;
    const built = times.get('built')!;
    if (sources.length && built.length)
      console.log(`built / sources: ${(median(built) / median(sources)).toFixed(2)} of the time`);
    if (dropped) console.log(`${dropped} npm start(s) rebuilt first (sources edited meanwhile) and were dropped`);
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
