/**
 * The server side of the capacity case (bench/capacity.ts): building the server of a recent commit, starting and
 * stopping it as its own process, its memory and CPU from /proc, and the health checks that run all through the case.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildServer } from '../scripts/build-server.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');

const START_TIMEOUT_MS = 60_000;
/** Linux reports CPU time in /proc in clock ticks of 1/100 s (USER_HZ, the same on every architecture Node runs). */
const CLOCK_TICKS_PER_SECOND = 100;

/** One health check every 50 ms: 20 a second, under the default per-visitor HTTP limit (50 a second). */
const HEALTH_EVERY_MS = 50;
const HEALTH_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------------------------
// The server

/** How far back from HEAD to look for a commit whose server builds (another helper may have committed half a change). */
const COMMITS_TRIED = 10;

/**
 * Builds the server of the newest commit, from HEAD back, whose server builds, into `bundle`: its server and shared
 * sources are taken out with git archive into `build`/src. Returns which commit, in words (`text`), and its hash.
 */
export async function buildCommittedServer(build: string, bundle: string): Promise<{ text: string; hash: string }> {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const commits = git('log', `-${COMMITS_TRIED}`, '--format=%h').split('\n').filter(Boolean);
  const skipped: string[] = [];
  for (const commit of commits) {
    const source = path.join(build, 'src');
    fs.rmSync(source, { recursive: true, force: true });
    fs.mkdirSync(source);
    const archive = spawnSync(
      'sh',
      ['-c', 'git archive --format=tar "$1" server shared package.json tsconfig.json | tar -x -C "$0"', source, commit],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (archive.status !== 0) throw new Error(`git archive ${commit} failed`);
    try {
      await buildServer(bundle, source); // esbuild prints what failed
    } catch (error) {
      const first = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? (error as Error).message;
      console.log(`commit ${commit}: its server does not build (${first}); trying the one before`);
      skipped.push(commit);
      continue;
    }
    const edited = spawnSync('git', ['status', '--porcelain', '--', 'server', 'shared'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .stdout.split('\n')
      .filter(Boolean).length;
    const text =
      `commit ${git('log', '-1', '--format=%h %cI', commit)}` +
      (skipped.length ? ` (the newest that builds: ${skipped.join(', ')} did not)` : '') +
      (edited ? `; ${edited} uncommitted change(s) under server/ and shared/ not measured` : '');
    return { text, hash: commit };
  }
  throw new Error(`none of the last ${COMMITS_TRIED} commits has a server that builds`);
}

export interface Server {
  base: string;
  pid: number;
  /** Warnings the server printed (slow readers dropped, and the like), counted by their first words. */
  warnings: Map<string, number>;
  stop(): Promise<void>;
}

/** How an instance behind a proxy is started (bench/capacity-cluster.ts); a standalone server has none of it. */
export interface InstanceOptions {
  /** --instance: its playground ids start with `name.`. */
  name: string;
  /** --db: the store the instances share (a postgres:// URL) instead of a file in the server's folder. */
  db: string;
}

/**
 * Starts the built server with its runtime folder (and its database, unless `instance` names one) in `dir` (made
 * here), its server-wide playground limit raised above `playgroundCap` (the ramp's cap). As an instance behind a
 * proxy it gets its name and --trust-proxy, as `npm run cluster` starts it.
 */
export async function startServer(
  entry: string,
  dir: string,
  playgroundCap: number,
  instance?: InstanceOptions,
): Promise<Server> {
  fs.mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--port',
      '0',
      '--runtime-dir',
      path.join(dir, 'run'),
      '--db',
      instance?.db ?? path.join(dir, 'runs.db'),
      '--max-playgrounds',
      String(playgroundCap + 10),
      ...(instance ? ['--instance', instance.name, '--trust-proxy'] : []),
    ],
    // Its own process group: stopped as one, whatever it started.
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const warnings = new Map<string, number>();
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server printed no URL within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it answered:\n${output}`));
    });
  });
  // The log is JSON lines (pino); what matters here is which warnings and how many.
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let message = line;
      try {
        message = String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
      } catch {
        // not JSON: counted as it is
      }
      const key = message.split(':')[0]!.slice(0, 80);
      warnings.set(key, (warnings.get(key) ?? 0) + 1);
    }
  });
  return {
    base,
    pid: child.pid!,
    warnings,
    async stop() {
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, name);
        } catch {
          // already gone
        }
      };
      signal('SIGTERM');
      const killer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The server's resident memory in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU seconds the server has used so far, every thread (its own, libzmq's, the recorder's writer thread). */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of a process and its children so far (PostgreSQL: the postmaster and its backends, writer and the
 * like). A child that has ended meanwhile is no longer counted: a figure over a stretch is a lower bound.
 */
export function processTreeCpuSeconds(pid: number): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command name: state, then the parent's pid.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === pid || parent === pid) total += cpuSeconds(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// Health checks, all through the case

export interface Sample {
  at: number;
  ms: number;
}

/** One GET /api/health on a fresh connection; its time, or HEALTH_TIMEOUT_MS when it failed or took longer. */
function healthOnce(base: string, cookie: string): Promise<number> {
  const began = performance.now();
  return new Promise((resolve) => {
    const request = http.get(
      `${base}/api/health`,
      { agent: false, headers: { cookie }, timeout: HEALTH_TIMEOUT_MS },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200 ? performance.now() - began : HEALTH_TIMEOUT_MS));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(HEALTH_TIMEOUT_MS));
  });
}

export async function probeHealth(base: string, samples: Sample[], signal: AbortSignal): Promise<void> {
  const cookie = `zpg_session=${randomBytes(32).toString('base64url')}`;
  while (!signal.aborted) {
    const at = performance.now();
    const ms = await healthOnce(base, cookie);
    samples.push({ at, ms });
    const wait = at + HEALTH_EVERY_MS - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => {});
  }
}
