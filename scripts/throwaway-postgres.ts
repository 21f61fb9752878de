// A throw-away PostgreSQL cluster for tests, benchmarks and `npm run cluster`: Debian's postgresql binaries
// (/usr/lib/postgresql/<version>/bin, or $PG_BIN) run a fresh cluster in a temporary folder, listening on a free
// loopback port only, its unix socket inside that folder, trust authentication (the cluster is reachable from
// this machine only and lives as long as its caller). `stop()` ends it and removes the folder.
//
// initdb and postgres refuse to run as root, and the project's machines (CI too) run as root: as root both run as
// the `postgres` user (Debian's package creates it; `nobody` when it is missing) through setpriv, which execs the
// program itself, so the child we hold is the postmaster and a signal reaches it. The folder is handed to that user.
//
// As a script: `tsx scripts/throwaway-postgres.ts` prints the URL and stops the cluster on Ctrl-C.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** The postmaster's process id (its children are the server's other processes). */
  pid: number;
  /** The temporary folder (data in `data/`, the unix socket in `socket/`); removed by stop(). */
  folder: string;
  /** Creates a database in this cluster and returns its URL (tests give each file or case its own). */
  createDatabase(name: string): Promise<string>;
  /** Ends the cluster (fast shutdown, SIGKILL after 5 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ThrowawayPostgresOptions {
  /** Bound on initdb + start + ready (default 60 s: initdb takes a few seconds on a busy 2-core machine). */
  timeoutMs?: number;
  /**
   * Keep fsync on (default off: nothing in a throw-away cluster has to survive a power cut, and tests should not
   * wait for the disk). A benchmark of write cost against a real deployment turns it on.
   */
  durable?: boolean;
}

const LOOPBACK = '127.0.0.1';

/** The folder holding initdb and postgres: $PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBin(): string {
  const fromEnv = process.env.PG_BIN;
  const hasBinaries = (dir: string) =>
    fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'));
  if (fromEnv) {
    if (!hasBinaries(fromEnv))
      throw new Error(
        `PG_BIN=${fromEnv} holds no initdb and postgres: point it at PostgreSQL's bin folder, or unset it`,
      );
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && hasBinaries(path.join(root, v, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/<version>/bin/initdb): " +
        'run `apt-get install postgresql` (scripts/test-deps.sh does it as root), or set PG_BIN to their folder',
    );
  }
  return path.join(root, versions[0]!, 'bin');
}

interface RunAs {
  uid: number;
  gid: number;
}

/** As root, the unprivileged user initdb and postgres run as; otherwise null (they run as we are). */
async function unprivilegedUser(): Promise<RunAs | null> {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number((await execFileAsync('id', ['-u', name])).stdout.trim());
      const gid = Number((await execFileAsync('id', ['-g', name])).stdout.trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error(
    'Running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as (initdb refuses root)',
  );
}

/** The command line that runs `program args` as `user` (setpriv execs it: the pid we get is the program's). */
function asUser(user: RunAs | null, program: string, args: string[]): [string, string[]] {
  if (!user) return [program, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', program, ...args]];
}

/** A loopback port nobody listens on right now (the OS picks it; postgres binds it moments later). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Keeps the last lines a child wrote, to say why it failed. */
function tailOf(child: ChildProcess, lines: string[], max = 40): void {
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > max) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}

async function run(
  user: RunAs | null,
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<void> {
  const [command, argv] = asUser(user, program, args);
  try {
    await execFileAsync(command, argv, { env, timeout: timeoutMs, killSignal: 'SIGKILL' });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; killed?: boolean; message: string };
    const why = e.killed ? `did not finish within ${timeoutMs} ms` : (e.stderr || e.stdout || e.message).trim();
    throw new Error(`${path.basename(program)} failed: ${why}`, { cause: error });
  }
}

/** Every cluster this process started and has not stopped: ended if the process exits without stop(). */
const live = new Set<{ child: ChildProcess; folder: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const { child, folder } of live) {
      // SIGQUIT: immediate shutdown; the postmaster takes its children with it.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
}

export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const bin = findPostgresBin();
  const user = await unprivilegedUser();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-postgres-'));
  const dataDir = path.join(folder, 'data');
  const socketDir = path.join(folder, 'socket');
  fs.mkdirSync(socketDir);
  if (user) {
    for (const p of [folder, socketDir]) fs.chownSync(p, user.uid, user.gid);
  }
  // LC_ALL=C: the server's messages in English, whatever the machine's locale (we read its readiness and errors).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: folder, LC_ALL: 'C', LANG: 'C' };
  const removeFolder = () => fs.rmSync(folder, { recursive: true, force: true });

  try {
    await run(
      user,
      path.join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      env,
      remaining(),
    );
  } catch (error) {
    removeFolder();
    throw error;
  }

  // A port taken between our probe and postgres' bind: try another, a few times.
  let lastFailure = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const args = [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      `listen_addresses=${LOOPBACK}`,
      '-c',
      'lc_messages=C',
      '-c',
      'logging_collector=off',
      '-c',
      'max_connections=200',
    ];
    if (!options.durable) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    const [command, argv] = asUser(user, path.join(bin, 'postgres'), args);
    const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    tailOf(child, lines);
    const entry = { child, folder };
    live.add(entry);
    installExitHook();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

    const ready = await waitUntilReady(bin, port, child, remaining());
    if (ready === 'ready') {
      const url = `postgres://postgres@${LOOPBACK}:${port}/postgres`;
      let stopped: Promise<void> | null = null;
      return {
        url,
        port,
        pid: child.pid!,
        folder,
        async createDatabase(name: string) {
          if (!/^[a-z_][a-z0-9_]*$/.test(name))
            throw new Error(`database name ${JSON.stringify(name)}: use a-z, 0-9 and _`);
          await run(
            null,
            path.join(bin, 'createdb'),
            ['-h', LOOPBACK, '-p', String(port), '-U', 'postgres', name],
            env,
            30_000,
          );
          return `postgres://postgres@${LOOPBACK}:${port}/${name}`;
        },
        stop() {
          stopped ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGINT'); // fast shutdown: ends the sessions, no waiting for clients
              const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
              await exited;
              clearTimeout(killer);
            }
            live.delete(entry);
            removeFolder();
          })();
          return stopped;
        },
      };
    }
    // Not ready: stop it (if it still runs) and say why, or try another port if the one we chose was taken.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    live.delete(entry);
    lastFailure = lines.slice(-8).join('\n');
    if (ready === 'timeout') {
      removeFolder();
      throw new Error(
        `PostgreSQL (${bin}/postgres) was not ready on ${LOOPBACK}:${port} within ${timeoutMs} ms. Its last lines:\n${lastFailure}`,
      );
    }
    if (!/could not bind|Address already in use/i.test(lastFailure)) break;
  }
  removeFolder();
  throw new Error(`PostgreSQL (${bin}/postgres) did not start. Its last lines:\n${lastFailure}`);
}

/** Polls pg_isready until the server accepts connections, exits, or the time is up. */
async function waitUntilReady(
  bin: string,
  port: number,
  child: ChildProcess,
  withinMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + withinMs;
  const isready = path.join(bin, 'pg_isready');
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      await execFileAsync(isready, ['-q', '-h', LOOPBACK, '-p', String(port), '-t', '1'], { timeout: 5_000 });
      return 'ready';
    } catch {
      // not yet (or exited: checked above)
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 'timeout';
}

// As a script: start one, print its URL, stop it on Ctrl-C / SIGTERM.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const pg = await startThrowawayPostgres();
  console.log(`PostgreSQL is ready: ${pg.url}  (folder ${pg.folder}; Ctrl-C stops it and removes the folder)`);
  const shutdown = () => void pg.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
