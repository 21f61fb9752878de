/**
 * npm run cluster: a course site on this machine, to try (issue 13). A throw-away PostgreSQL (Debian's
 * postgresql, scripts/throwaway-postgres.ts) shared by the instances for the recordings, two instances of the
 * server (`--instance a`, `--instance b`) on free loopback ports, and HAProxy (Debian's haproxy) on a loopback port
 * with deploy/haproxy.cfg filled in. Prints the one URL to open. Ctrl-C (or SIGTERM) stops them all: the instances
 * and HAProxy get SIGTERM (SIGKILL after 5 s), PostgreSQL is stopped, the temporary folder is removed.
 *
 * It builds the page and the server first when they are stale, as `npm start` does, then runs the built server.
 *
 *   npm run cluster -- [--port N] [--instances N] [--store postgres|sqlite] [--from-sources] [--proxy-log]
 *     --port          the proxy's port (default 8080, or a free one when 8080 is taken)
 *     --instances     how many instances (default 2, at most 8), named a, b, c...
 *     --store         postgres (default): one throw-away PostgreSQL for all; sqlite: a file per instance (each
 *                     instance then lists only the runs recorded on it)
 *     --from-sources  run the instances from the TypeScript sources (tsx) without building; the page is served
 *                     from dist/web as it is (the tests use it: they build the page themselves)
 *     --proxy-log     print every request HAProxy handles (which instance, status, timings)
 *
 * While it runs, a line typed on its standard input is a command: `restart a` starts instance a again on its port
 * (after a crash or a `kill`), `stop a` ends it (SIGTERM), `kill a` kills it (SIGKILL). Every instance start prints
 * `instance <name> <url> pid <pid>`, which the end-to-end test reads.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.ts';

const root = path.resolve(import.meta.dirname, '..');
const LOOPBACK = '127.0.0.1';
const NAMES = 'abcdefgh';
/** How long a child gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 5000;
/** Bound on an instance's start (a cold tsx start on a busy 2-core machine takes a few seconds). */
const START_TIMEOUT_MS = 60_000;

function options() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      instances: { type: 'string', default: '2' },
      store: { type: 'string', default: 'postgres' },
      'from-sources': { type: 'boolean', default: false },
      'proxy-log': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      fs
        .readFileSync(import.meta.filename, 'utf8')
        .split('*/')[0]!
        .replace(/^\/\*\*|^ \* ?/gm, ''),
    );
    process.exit(0);
  }
  const port = Number(values.port);
  const count = Number(values.instances);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, not "${values.port}"`);
  if (!Number.isInteger(count) || count < 1 || count > NAMES.length)
    fail(`--instances must be 1-${NAMES.length}, not "${values.instances}"`);
  if (values.store !== 'postgres' && values.store !== 'sqlite')
    fail(`--store must be postgres or sqlite, not "${values.store}"`);
  return {
    port,
    count,
    store: values.store as 'postgres' | 'sqlite',
    fromSources: values['from-sources'],
    proxyLog: values['proxy-log'],
  };
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** A free loopback port: the one asked for when it is free, else one the system picks. */
async function freePort(wanted = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(null));
      server.listen(port, LOOPBACK, () => {
        const { port: got } = server.address() as net.AddressInfo;
        server.close(() => resolve(got));
      });
    });
  return (wanted !== 0 ? await tryPort(wanted) : null) ?? (await tryPort(0))!;
}

/** Which haproxy to run, or a sentence saying how to get one. */
function haproxyBinary(): string {
  for (const candidate of [process.env.HAPROXY, '/usr/sbin/haproxy', '/usr/bin/haproxy']) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  const found = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  fail("HAProxy is not installed: run `apt-get install haproxy` (Debian's package), or set HAPROXY to its binary.");
}

/** deploy/haproxy.cfg filled in: every line (not a comment) naming {{instance}} or {{address}} once per instance. */
export function fillHaproxyConfig(
  template: string,
  values: { bind: string; runtime: string; instances: readonly { name: string; address: string }[] },
): string {
  const out: string[] = [];
  for (const line of template.split('\n')) {
    const isComment = line.trimStart().startsWith('#');
    if (!isComment && (line.includes('{{instance}}') || line.includes('{{address}}'))) {
      for (const { name, address } of values.instances)
        out.push(line.replaceAll('{{instance}}', name).replaceAll('{{address}}', address));
    } else {
      out.push(line.replaceAll('{{bind}}', values.bind).replaceAll('{{runtime}}', values.runtime));
    }
  }
  return out.join('\n');
}

interface Instance {
  name: string;
  port: number;
  runtimeDir: string;
  db: string;
  child: ChildProcess | null;
}

/** Sends SIGTERM, then SIGKILL after the grace time; resolves when the child has exited. */
function stopChild(child: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

/** Prefixes every line a child writes with its name, so that the one terminal says who spoke. */
function relay(child: ChildProcess, name: string, onLine?: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      onLine?.(line);
      console.log(`[${name}] ${line}`);
    });
  }
}

async function main(): Promise<void> {
  const { port: wantedPort, count, store, fromSources, proxyLog } = options();
  const haproxy = haproxyBinary();

  if (!fromSources) {
    // As npm start: build when stale (scripts/start.mjs's check), once, before any instance starts. --help makes the
    // built server print its usage and exit instead of listening.
    const build = spawnSync(process.execPath, [path.join(root, 'scripts/start.mjs'), '--help'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    // What the build said, without the usage the built server printed after it.
    const said = build.stdout.split(/^Usage:/m)[0]!.trim();
    if (said) console.log(said);
    if (build.status !== 0) fail('The build failed; see above.');
  } else if (!fs.existsSync(path.join(root, 'dist/web/index.html'))) {
    fail('--from-sources serves the page from dist/web, which is not built: run `npx vite build` first.');
  }

  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-cluster-'));
  // One key for the visitors' sessions on every instance (server/http/session.ts): a session one instance signed is
  // the same visitor on the others (its playgrounds, its runs). The caller's, or one for this cluster's life; it
  // travels in the environment, not on a command line every local user can read.
  const sessionKey = process.env.PLAYGROUND_SESSION_KEY || randomBytes(32).toString('base64url');
  let postgres: ThrowawayPostgres | null = null;
  let proxy: ChildProcess | null = null;
  const instances: Instance[] = [];
  let stopping: Promise<void> | null = null;

  const stopAll = (code: number) => {
    stopping ??= (async () => {
      await Promise.all([stopChild(proxy), ...instances.map((instance) => stopChild(instance.child))]);
      await postgres?.stop().catch(() => {});
      fs.rmSync(folder, { recursive: true, force: true });
      console.log('Cluster stopped: instances, HAProxy and PostgreSQL ended, temporary folder removed.');
      process.exit(code);
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));
  // Whatever else ends this process (an exception): no child outlives it.
  process.on('exit', () => {
    for (const child of [proxy, ...instances.map((instance) => instance.child)]) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(folder, { recursive: true, force: true });
  });

  try {
    if (store === 'postgres') {
      console.log('Starting a throw-away PostgreSQL...');
      postgres = await startThrowawayPostgres();
    }
    for (const name of NAMES.slice(0, count)) {
      const runtimeDir = path.join(folder, name);
      fs.mkdirSync(runtimeDir);
      instances.push({
        name,
        port: await freePort(),
        runtimeDir,
        db: postgres ? postgres.url : path.join(folder, `${name}.db`),
        child: null,
      });
    }

    const startInstance = (instance: Instance): Promise<void> => {
      const entry = fromSources
        ? ['--import', 'tsx', path.join(root, 'server/main.ts')]
        : [path.join(root, 'dist/server/main.js')];
      const args = [
        ...entry,
        ...['--instance', instance.name, '--host', LOOPBACK, '--port', String(instance.port)],
        ...['--runtime-dir', instance.runtimeDir, '--db', instance.db],
        // HAProxy sets X-Forwarded-For and -Proto (and removes what a client sent): the rate limits count visitors
        // without a session by their own address, and a site behind TLS sets Secure cookies.
        '--trust-proxy',
      ];
      // The cluster decides the instance's name, port, folder and store; nothing of the caller's environment may.
      const env = { ...process.env };
      for (const variable of ['PORT', 'HOST', 'PLAYGROUND_INSTANCE', 'PLAYGROUND_DB', 'PLAYGROUND_RUNTIME_DIR'])
        delete env[variable];
      env.PLAYGROUND_SESSION_KEY = sessionKey;
      const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      instance.child = child;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`instance ${instance.name} did not start within ${START_TIMEOUT_MS / 1000} s`)),
          START_TIMEOUT_MS,
        );
        relay(child, instance.name, (line) => {
          const listening = /^ZeroMQ pipeline playground: (http:\/\/\S+)/.exec(line);
          if (!listening) return;
          clearTimeout(timer);
          // The proxy's configuration names this port: an instance that had to take another is unreachable.
          if (!listening[1]!.includes(`:${instance.port}/`)) {
            reject(new Error(`instance ${instance.name} could not listen on port ${instance.port} (${listening[1]})`));
            return;
          }
          console.log(`instance ${instance.name} ${listening[1]} pid ${child.pid}`);
          resolve();
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`instance ${instance.name} exited at start (${signal ?? `code ${code}`})`));
          if (!stopping) {
            console.log(
              `instance ${instance.name} stopped (${signal ?? `exit code ${code}`}); type "restart ${instance.name}" to start it again`,
            );
          }
        });
      });
    };
    // One at a time: both would otherwise clean and create their folders and compile at once on 2 cores.
    for (const instance of instances) await startInstance(instance);

    const proxyPort = await freePort(wantedPort);
    if (wantedPort !== 0 && proxyPort !== wantedPort)
      console.log(`Port ${wantedPort} is in use; the proxy takes ${proxyPort}.`);
    const config = fillHaproxyConfig(fs.readFileSync(path.join(root, 'deploy/haproxy.cfg'), 'utf8'), {
      bind: `${LOOPBACK}:${proxyPort}`,
      runtime: folder,
      instances: instances.map(({ name, port }) => ({ name, address: `${LOOPBACK}:${port}` })),
    });
    const configFile = path.join(folder, 'haproxy.cfg');
    // --proxy-log: every request HAProxy handles, on its standard error (which the cluster prints as [haproxy]).
    fs.writeFileSync(
      configFile,
      proxyLog
        ? config
            .replace(/^global$/m, 'global\n    log stderr format raw local0 info')
            .replace(/^defaults$/m, 'defaults\n    log global\n    option httplog')
        : config,
    );
    const check = spawnSync(haproxy, ['-c', '-q', '-f', configFile], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`HAProxy refused the configuration:\n${check.stderr}${check.stdout}`);
    // -db: in the foreground, so that it is our child and ends with us.
    proxy = spawn(haproxy, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    relay(proxy, 'haproxy');
    proxy.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`HAProxy ended (${signal ?? `exit code ${code}`}); stopping the cluster.`);
      void stopAll(1);
    });
    await waitForProxy(proxyPort);

    console.log('');
    console.log(
      `Course site (HAProxy in front of ${count} instance${count === 1 ? '' : 's'}): http://${LOOPBACK}:${proxyPort}/`,
    );
    console.log(
      `Recordings: ${postgres ? `PostgreSQL ${postgres.url}` : 'one SQLite file per instance'}. Ctrl-C stops everything.`,
    );
    console.log(`Temporary folder (each instance's runtime folder in it; removed at the end): ${folder}`);

    // Commands on standard input (a terminal or the end-to-end test): restart/stop/kill an instance.
    readline.createInterface({ input: process.stdin }).on('line', (line) => {
      const [command, name] = line.trim().split(/\s+/);
      const instance = instances.find((candidate) => candidate.name === name);
      if (!command) return;
      if (!instance || !['restart', 'stop', 'kill'].includes(command)) {
        console.log(
          `Commands: restart NAME, stop NAME, kill NAME (instances: ${instances.map((i) => i.name).join(', ')})`,
        );
        return;
      }
      if (command === 'kill') void stopChild(instance.child, 'SIGKILL');
      else if (command === 'stop') void stopChild(instance.child);
      else {
        void stopChild(instance.child)
          .then(() => startInstance(instance))
          .catch((error: unknown) => console.error((error as Error).message));
      }
    });
  } catch (error) {
    console.error((error as Error).message);
    await stopAll(1);
  }
}

/** Resolves once the proxy answers /api/health on its port (bounded). */
async function waitForProxy(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(`http://${LOOPBACK}:${port}/api/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`HAProxy did not answer on port ${port} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Run as a script (not imported by a test for fillHaproxyConfig).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
