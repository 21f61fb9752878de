/**
 * The proxy side of the capacity case with several instances (bench/capacity.ts, `--instances N`): HAProxy in front
 * of the instances, configured by deploy/haproxy.cfg as `npm run cluster` fills it in (fillHaproxyConfig of
 * scripts/cluster.ts), from the same commit as the server that is measured. It runs as our child in the foreground
 * (-db), on a free loopback port, with its admin socket in a folder of the case; the case waits until HAProxy's own
 * health checks have every instance up, so that the first learners already have the choice of all of them.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fillHaproxyConfig } from '../scripts/cluster.ts';

const LOOPBACK = '127.0.0.1';
/** Bound on HAProxy's start and on its health checks finding every instance up (rise 2, every second: about 2 s). */
const PROXY_READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;

/** The haproxy binary ($HAPROXY, Debian's /usr/sbin/haproxy, or the PATH's), or null when it is not installed. */
export function haproxyBinary(): string | null {
  for (const candidate of [process.env.HAPROXY, '/usr/sbin/haproxy', '/usr/bin/haproxy']) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  return spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim() || null;
}

/** A free loopback port (the system picks it; it is free again when this resolves). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One command on HAProxy's admin socket; its whole answer (bounded by 5 s). */
function adminCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to "${command}" within 5 s`)), 5000);
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The status HAProxy's health checks give each server of the backend `instances` (UP, DOWN, NOLB, ...). */
async function serverStatuses(socketPath: string): Promise<Map<string, string>> {
  const [header, ...rows] = (await adminCommand(socketPath, 'show stat')).trim().split('\n');
  const columns = header!.replace(/^# /, '').split(',');
  const name = columns.indexOf('pxname');
  const server = columns.indexOf('svname');
  const status = columns.indexOf('status');
  const statuses = new Map<string, string>();
  for (const row of rows) {
    const fields = row.split(',');
    if (fields[name] === 'instances' && !['FRONTEND', 'BACKEND'].includes(fields[server]!))
      statuses.set(fields[server]!, fields[status]!.split(' ')[0]!);
  }
  return statuses;
}

export interface Proxy {
  /** http://127.0.0.1:<port>: the one URL learners use. */
  base: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts HAProxy in front of `instances` with `template` (deploy/haproxy.cfg) filled in, its files in `folder`;
 * resolves once it answers and its checks have every instance up.
 */
export async function startProxy(
  template: string,
  instances: readonly { name: string; address: string }[],
  folder: string,
): Promise<Proxy> {
  const haproxy = haproxyBinary();
  if (!haproxy) throw new Error("HAProxy is not installed: apt-get install haproxy (Debian's package)");
  fs.mkdirSync(folder, { recursive: true });
  const port = await freePort();
  const configFile = path.join(folder, 'haproxy.cfg');
  fs.writeFileSync(
    configFile,
    fillHaproxyConfig(template, { bind: `${LOOPBACK}:${port}`, runtime: folder, instances }),
  );
  const check = spawnSync(haproxy, ['-c', '-q', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`HAProxy refused the configuration:\n${check.stderr}${check.stdout}`);
  const child = spawn(haproxy, ['-db', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr!.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proxy: Proxy = {
    base: `http://${LOOPBACK}:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(killer);
    },
  };
  const deadline = performance.now() + PROXY_READY_TIMEOUT_MS;
  const socketPath = path.join(folder, 'haproxy.sock');
  let statuses = new Map<string, string>();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`HAProxy ended at its start:\n${said}`);
    try {
      statuses = await serverStatuses(socketPath);
      if (instances.every(({ name }) => statuses.get(name) === 'UP')) break;
    } catch {
      // its admin socket is not there yet
    }
    if (performance.now() > deadline) {
      await proxy.stop();
      const seen = [...statuses].map(([name, status]) => `${name} ${status}`).join(', ') || 'no answer';
      throw new Error(`HAProxy did not have every instance up within ${PROXY_READY_TIMEOUT_MS / 1000} s (${seen})`);
    }
    await sleep(200);
  }
  return proxy;
}
