/**
 * Entry point: read flags and environment, listen on loopback, print the URL, close cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { buildApp } from './app.ts';
import { frameAncestorOrigin } from './http/framing.ts';
import { defaultPolicy, defaultRuntimeDir } from './pipeline/endpoints.ts';
import { neverBlockAtExit } from './pipeline/sockets.ts';
import { defaultDbPath, resolveDbPath } from './recorder/store.ts';
import { StoreOpenError } from './recorder/store-api.ts';
import { isPostgresLocation } from './recorder/store-open.ts';
import { DEFAULT_LIMITS, LIMIT_SETTINGS, MiB, type ServerLimits } from './limits.ts';
import { cleanLeftovers, recordWorkersIn } from './workers/leftovers.ts';
import { checkInstanceName } from './instance.ts';

const LIMIT_NAMES = Object.keys(LIMIT_SETTINGS) as (keyof ServerLimits)[];
/** "  --max-workers N  ... (default 32, or $PLAYGROUND_MAX_WORKERS)" for every limit. */
const LIMITS_USAGE = LIMIT_NAMES.map((name) => {
  const { flag, env, unit } = LIMIT_SETTINGS[name];
  const value = unit === 'MiB' ? DEFAULT_LIMITS[name] / MiB : DEFAULT_LIMITS[name];
  return `  --${flag.padEnd(29)} default ${value}, or $${env}`;
}).join('\n');

const USAGE = `Usage: npm run serve -- [--port N] [--host 127.0.0.1] [--expose HOST] [--runtime-dir DIR] [--db PATH|URL]
                         [--allowed-host NAME] [--allowed-origin ORIGIN] [--trust-proxy] [--frame-ancestors ORIGIN]
                         [--instance NAME]
  --port            HTTP port (default 8080, or $PORT); if taken, a free port is used instead
  --host            HTTP host to listen on (default 127.0.0.1)
  --expose          also allow ZeroMQ tcp binds on HOST (default: loopback only)
  --runtime-dir     folder for ipc socket files (default ${defaultRuntimeDir()}, or
                    ${defaultRuntimeDir()}-NAME with --instance NAME)
  --db              SQLite file where every run is recorded (:memory: keeps them only until exit), or a
                    PostgreSQL database, postgres://USER[:PASSWORD]@HOST:PORT/DB, that instances share
                    (docs/recording.md) (default $PLAYGROUND_DB, else ${defaultDbPath()})
  --allowed-host    a name browsers reach this server by (e.g. a proxy's public name), besides IP addresses,
                    localhost, --host and --expose; repeatable, or $PLAYGROUND_ALLOWED_HOSTS (comma-separated)
  --allowed-origin  another site allowed to send commands (scheme://host[:port]); repeatable, or
                    $PLAYGROUND_ALLOWED_ORIGINS (comma-separated)
  --trust-proxy     believe X-Forwarded-Proto/-Host (only behind a reverse proxy; or PLAYGROUND_TRUST_PROXY=1)
  --frame-ancestors a site whose pages may embed this one in an <iframe> (scheme://host[:port]); repeatable, or
                    $PLAYGROUND_FRAME_ANCESTORS (comma-separated); default: none besides this server's own pages
  --instance        this server's name behind a proxy (1-16 lower-case letters or digits, or $PLAYGROUND_INSTANCE):
                    every playground id starts with it ("a.pg-..."), which the proxy routes by (deploy/README.md);
                    default: none, a standalone server
Limits (README, "Operator settings"; sizes in MiB):
${LIMITS_USAGE}`;

/** "a, b" -> ["a", "b"]: lists given in one environment variable. */
const listFromEnv = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function parseFlags() {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string', default: process.env.PORT ?? '8080' },
        host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
        expose: { type: 'string', multiple: true, default: [] },
        'runtime-dir': { type: 'string', default: process.env.PLAYGROUND_RUNTIME_DIR },
        db: { type: 'string', default: process.env.PLAYGROUND_DB },
        'allowed-host': { type: 'string', multiple: true, default: listFromEnv(process.env.PLAYGROUND_ALLOWED_HOSTS) },
        'allowed-origin': {
          type: 'string',
          multiple: true,
          default: listFromEnv(process.env.PLAYGROUND_ALLOWED_ORIGINS),
        },
        'trust-proxy': { type: 'boolean', default: process.env.PLAYGROUND_TRUST_PROXY === '1' },
        'frame-ancestors': {
          type: 'string',
          multiple: true,
          default: listFromEnv(process.env.PLAYGROUND_FRAME_ANCESTORS),
        },
        instance: { type: 'string', default: process.env.PLAYGROUND_INSTANCE || undefined },
        help: { type: 'boolean', default: false },
        ...Object.fromEntries(
          LIMIT_NAMES.map((name) => [
            LIMIT_SETTINGS[name].flag,
            { type: 'string' as const, default: process.env[LIMIT_SETTINGS[name].env] },
          ]),
        ),
      },
    });
    const limits: Partial<ServerLimits> = {};
    for (const name of LIMIT_NAMES) {
      const { flag, unit } = LIMIT_SETTINGS[name];
      const given = (values as Record<string, unknown>)[flag] as string | undefined;
      if (given === undefined || given === '') continue;
      const value = Number(given);
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`--${flag} must be a whole number of at least 1, not "${given}"`);
      limits[name] = unit === 'MiB' ? value * MiB : value;
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be 0-65535, not "${values.port}"`);
    if (values.instance !== undefined) checkInstanceName(values.instance);
    for (const origin of values['allowed-origin']) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin))
        throw new Error(`--allowed-origin must look like https://example.org, not "${origin}"`);
    }
    for (const origin of values['frame-ancestors']) {
      if (frameAncestorOrigin(origin) === null)
        throw new Error(`--frame-ancestors must look like https://example.org, not "${origin}"`);
    }
    return { ...values, port, limits };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const flags = parseFlags();
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

neverBlockAtExit();

const db = resolveDbPath(flags.db);
// Instances on one machine never share a runtime folder: each one's start cleans what the folder's last server left.
const runtimeDir =
  flags['runtime-dir'] ?? (flags.instance ? `${defaultRuntimeDir()}-${flags.instance}` : defaultRuntimeDir());

// What a server that died hard left here (issue 9.10): its hung workers, its ipc socket files. Then this server
// records its own workers, so that the next one can do the same for it.
const leftovers = await cleanLeftovers(runtimeDir);
if (leftovers.killed.length > 0 || leftovers.removedSockets.length > 0) {
  console.warn(
    `Cleaned what a server that ended without closing left in ${runtimeDir}: ` +
      `${leftovers.killed.length} worker process(es) killed (${leftovers.killed.join(', ') || 'none'}), ` +
      `${leftovers.removedSockets.length} socket file(s) nobody listened on removed.`,
  );
}
const workers = recordWorkersIn(runtimeDir);
// Ended by an uncaught exception or process.exit: no worker outlives the server (a SIGKILL runs nothing; the next
// start cleans up then).
process.on('exit', () => workers.killAll());
const app = await buildApp({
  logger: { level: process.env.LOG_LEVEL ?? 'warn' },
  policy: defaultPolicy({
    runtimeDir,
    allowedTcpHosts: new Set(['127.0.0.1', 'localhost', ...flags.expose]),
  }),
  store: db,
  // The names this server is reached by: what it listens on and exposes, and what the operator adds.
  site: {
    allowedHosts: [flags.host, ...flags.expose, ...flags['allowed-host']],
    allowedOrigins: flags['allowed-origin'],
  },
  trustProxy: flags['trust-proxy'],
  frameAncestors: flags['frame-ancestors'],
  limits: flags.limits,
  // Shared by a site's instances and kept across restarts, signed session cookies stay signed (http/session.ts).
  sessionKey: process.env.PLAYGROUND_SESSION_KEY || null,
  instance: flags.instance ?? null,
}).catch((error: unknown) => {
  if (!(error instanceof StoreOpenError)) throw error;
  console.error(error.message);
  process.exit(1);
});

let address: string;
try {
  address = await app.listen({ host: flags.host, port: flags.port });
} catch (error) {
  if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
  address = await app.listen({ host: flags.host, port: 0 });
  console.warn(`Port ${flags.port} is in use; listening on a free port instead.`);
}
console.log(`ZeroMQ pipeline playground: ${address.replace('[::1]', 'localhost')}/`);
console.log(`Runs are recorded in ${publicLocation(db)}`);
if (flags.instance) console.log(`Instance ${flags.instance}: playground ids start with "${flags.instance}."`);

/** Where runs are recorded, as a log may say it: a PostgreSQL URL without its user and password. */
function publicLocation(location: string): string {
  if (!isPostgresLocation(location)) return location;
  try {
    const url = new URL(location);
    url.username = '';
    url.password = '';
    return `PostgreSQL, ${url.toString()}`;
  } catch {
    return 'PostgreSQL';
  }
}

let closing = false;
// SIGHUP too (a closed terminal): its default would end the server without closing anything.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => {
      console.error('Shutdown took more than 5 s; exiting anyway.');
      process.exit(1);
    }, 5000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
