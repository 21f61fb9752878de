/**
 * Endpoint checks. Endpoints are a security boundary: libzmq unlinks whatever file sits at an ipc path when it
 * binds, binds 0.0.0.0 for `tcp://*`, and silently wraps tcp ports above 65535 (70000 becomes 4464). So nothing
 * reaches libzmq before these functions have accepted it.
 */
import { text } from '../../shared/protocol/server-text.ts';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Transport } from '../../shared/protocol/index.ts';
import { CodedError } from '../errors.ts';

/** The longest ipc path libzmq accepts on Linux (sun_path minus the terminating NUL). */
export const IPC_PATH_MAX = 107;
export const TCP_PORT_MIN = 1024;
export const TCP_PORT_MAX = 65535;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

export type ParsedEndpoint =
  | { transport: 'tcp'; host: string; port: number | '*' }
  | { transport: 'ipc'; path: string }
  | { transport: 'inproc'; name: string };

/** Where ipc sockets of this server live unless the operator configured a path explicitly. */
export function defaultRuntimeDir(): string {
  const base =
    process.env.XDG_RUNTIME_DIR && fs.existsSync(process.env.XDG_RUNTIME_DIR)
      ? process.env.XDG_RUNTIME_DIR
      : os.tmpdir();
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(base, `zmq-playground-${uid}`);
}

export interface EndpointPolicy {
  /** Folder for the playground's own ipc files; created on demand. */
  runtimeDir: string;
  /** ipc paths outside runtimeDir that configuration (not a visitor) allowed, like the tutorial's /tmp/zmqdemo. */
  allowedIpcPaths: ReadonlySet<string>;
  /** tcp hosts a bind may use; loopback only unless the operator opened more. */
  allowedTcpHosts: ReadonlySet<string>;
}

export function defaultPolicy(overrides: Partial<EndpointPolicy> = {}): EndpointPolicy {
  return {
    runtimeDir: overrides.runtimeDir ?? defaultRuntimeDir(),
    allowedIpcPaths: overrides.allowedIpcPaths ?? new Set(['/tmp/zmqdemo']),
    allowedTcpHosts: overrides.allowedTcpHosts ?? LOOPBACK_HOSTS,
  };
}

/**
 * Parses and checks an endpoint string against the policy. Throws a CodedError PG_ERR_ENDPOINT with a sentence a
 * person can act on; never touches the file system beyond reading it.
 */
/** Index of the first C0 or C1 control character (NUL included), or -1. */
function firstControlCharacter(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return i;
  }
  return -1;
}

export function checkEndpoint(endpoint: string, policy: EndpointPolicy): ParsedEndpoint {
  // Before anything else: libzmq and the kernel read a path up to its first NUL, so "ipc://<ok path>\0x" would
  // pass every check below as one path and be bound as another; lstat even throws on a NUL, which would make a
  // taken path look free. No transport has a use for control characters.
  const position = firstControlCharacter(endpoint);
  if (position >= 0) {
    const code = endpoint.charCodeAt(position);
    throw new CodedError(
      'PG_ERR_ENDPOINT',
      text('endpoint.control', { char: `U+${code.toString(16).toUpperCase().padStart(4, '0')}`, position }),
    );
  }
  const match = /^([a-z]+):\/\/(.*)$/.exec(endpoint);
  if (!match) throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.syntax', { endpoint: clip(endpoint) }));
  const [, scheme, rest = ''] = match;
  switch (scheme) {
    case 'tcp':
      return checkTcp(rest, policy);
    case 'ipc':
      return checkIpc(rest, policy);
    case 'inproc':
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(rest)) {
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.inprocName', { name: clip(rest) }));
      }
      return { transport: 'inproc', name: rest };
    default:
      throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.transport', { scheme: clip(scheme ?? '') }));
  }
}

function checkTcp(rest: string, policy: EndpointPolicy): ParsedEndpoint {
  const match = /^([^:]+):(\*|\d{1,5})$/.exec(rest);
  if (!match) throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.tcpSyntax', { rest: clip(rest) }));
  const [, host = '', portText = ''] = match;
  if (!policy.allowedTcpHosts.has(host)) {
    throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.tcpHost', { host: clip(host) }));
  }
  if (portText === '*') return { transport: 'tcp', host, port: '*' };
  const port = Number(portText);
  if (port < TCP_PORT_MIN || port > TCP_PORT_MAX) {
    throw new CodedError(
      'PG_ERR_ENDPOINT',
      text('endpoint.tcpPort', { port: portText, min: TCP_PORT_MIN, max: TCP_PORT_MAX }),
    );
  }
  return { transport: 'tcp', host, port };
}

function checkIpc(rest: string, policy: EndpointPolicy): ParsedEndpoint {
  const file = rest;
  if (!file.startsWith('/'))
    throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcRelative', { folder: policy.runtimeDir }));
  // sun_path holds bytes: "é" takes two of them.
  const bytes = Buffer.byteLength(file, 'utf8');
  if (bytes > IPC_PATH_MAX) {
    throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcLength', { length: bytes, max: IPC_PATH_MAX }));
  }
  if (file.split('/').includes('..') || path.normalize(file) !== file) {
    throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcPlain', { path: clip(file) }));
  }
  const insideRuntime = path.dirname(file) === policy.runtimeDir;
  if (!insideRuntime && !policy.allowedIpcPaths.has(file)) {
    throw new CodedError(
      'PG_ERR_ENDPOINT',
      text('endpoint.ipcOutside', { path: clip(file), folder: policy.runtimeDir }),
    );
  }
  return { transport: 'ipc', path: file };
}

/** 'unknown': the path could not be examined (any error but "does not exist"), so it is not taken as free. */
export type IpcProbe = 'free' | 'stale-socket' | 'live-socket' | 'not-a-socket' | 'unknown';

/**
 * What sits at an ipc path. Binding over a live socket would silently steal its connections, and libzmq would
 * delete a regular file or follow nothing for a symlink: only 'free' and 'stale-socket' are safe to bind. Fails
 * closed: only "no such file" means free, only "connection refused" means stale.
 */
export async function probeIpcPath(file: string): Promise<IpcProbe> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    return codeOf(error) === 'ENOENT' ? 'free' : 'unknown';
  }
  if (!stat.isSocket()) return 'not-a-socket';
  return await new Promise<IpcProbe>((resolve) => {
    const probe = net.connect(file);
    const done = (result: IpcProbe) => {
      probe.destroy();
      resolve(result);
    };
    probe.once('connect', () => done('live-socket'));
    // ECONNREFUSED: nobody listens (a socket file left by a dead process). Anything else (EAGAIN: a listener
    // whose backlog is full; EACCES) may well be a live socket.
    probe.once('error', (error) => done(codeOf(error) === 'ECONNREFUSED' ? 'stale-socket' : 'live-socket'));
    probe.setTimeout(500, () => done('live-socket'));
  });
}

/** Why an ipc path could not be claimed: another playground holds or owns its name, or the probe's answer. */
export type IpcRefusal = 'other-playground' | Exclude<IpcProbe, 'free' | 'stale-socket'>;

/**
 * Every ipc path the playgrounds of one server bind, and which playground holds it: the ventilator's (requested,
 * configured or fallback) and the sink's alike. It guarantees that
 * - no playground binds a path another one holds (a second bind on an ipc path silently steals its peers), nor a
 *   name in another live playground's namespace (`<runtime>/<its id>-…`, where its default paths are, so that
 *   its peers started by hand never reach someone else's socket);
 * - nothing binds over a file that is not a socket, or a socket some other program listens on (probeIpcPath);
 * - a release unlinks only the socket file its holder bound, still the same file (device and inode), and never a
 *   path it did not claim;
 * - across processes (two servers on one machine, each with its own IpcClaims), a path is held by one of them at a
 *   time: the claim takes the lock file beside it (ipcLockPath), which a path held by another live process refuses
 *   as 'live-socket' (the other one binds it, or is about to).
 */
export class IpcClaims {
  /** Claimed path -> the playground holding it. */
  readonly #holders = new Map<string, string>();
  /** Claimed path -> the socket file its holder bound there. */
  readonly #bound = new Map<string, { dev: number; ino: number }>();
  /** Live playgrounds: each owns the names that start with its id and a dash. */
  readonly #owners = new Set<string>();

  /** A live playground: names starting with `<owner>-` are its own from now until forget(). */
  register(owner: string): void {
    this.#owners.add(owner);
  }

  /** The playground is gone: its namespace is free again, and any claim it still holds is released. */
  forget(owner: string): void {
    for (const [file, holder] of [...this.#holders]) if (holder === owner) this.release(file, owner);
    this.#owners.delete(owner);
  }

  /** True when `file` is held by another playground, or named in another live playground's namespace. */
  isOthers(file: string, owner: string): boolean {
    const holder = this.#holders.get(file);
    if (holder !== undefined && holder !== owner) return true;
    const name = path.basename(file);
    for (const other of this.#owners) if (other !== owner && name.startsWith(`${other}-`)) return true;
    return false;
  }

  /** Who holds `file`, if anyone. */
  holderOf(file: string): string | undefined {
    return this.#holders.get(file);
  }

  /**
   * Claims `file` for `owner` if it is safe to bind: not held or owned by another playground (nor already held by
   * this one: one path, one bind), and free or a stale socket. Resolves with null once claimed, else with why not.
   * The path is held while it is probed, so two concurrent claims cannot both win.
   */
  async claim(file: string, owner: string): Promise<IpcRefusal | null> {
    if (this.#holders.has(file) || this.isOthers(file, owner)) return 'other-playground';
    this.#holders.set(file, owner);
    // Another server process finds the path free just as well as this one: only the lock file decides between them.
    const lock = lockIpcPath(file);
    if (lock !== 'locked') {
      this.#holders.delete(file);
      return lock;
    }
    const probe = await probeIpcPath(file);
    if (probe === 'free' || probe === 'stale-socket') return null;
    this.#holders.delete(file);
    unlockIpcPath(file);
    return probe;
  }

  /** After a successful bind on a claimed path: remember the socket file, the only one release() may remove. */
  bound(file: string, owner: string): void {
    if (this.#holders.get(file) !== owner) return;
    try {
      const stat = fs.lstatSync(file);
      if (stat.isSocket()) this.#bound.set(file, { dev: stat.dev, ino: stat.ino });
    } catch {
      // not there: nothing of ours to remove later
    }
  }

  /** Ends `owner`'s claim on `file`, removing the socket file it bound there (and nothing else). */
  release(file: string, owner: string): void {
    if (this.#holders.get(file) !== owner) return;
    const bound = this.#bound.get(file);
    this.#holders.delete(file);
    this.#bound.delete(file);
    // The socket file goes before the lock: once the lock is gone, another process may bind the path.
    try {
      const stat = bound && fs.lstatSync(file);
      if (bound && stat && stat.isSocket() && stat.dev === bound.dev && stat.ino === bound.ino) fs.unlinkSync(file);
    } catch {
      // already gone
    }
    unlockIpcPath(file);
  }
}

/**
 * The lock file that holds an ipc path across processes: beside it, named after it, holding the pid of the
 * process that claimed it. A regular file, so no claim ever binds there (probeIpcPath: 'not-a-socket').
 */
export function ipcLockPath(file: string): string {
  return `${file}.lock`;
}

/** Lock files this process holds (every IpcClaims of it): a lock naming our own pid but not here is stale. */
const locksHeldHere = new Set<string>();

/**
 * Takes the lock file of `file` for this process. The file is written in full under a temporary name and then
 * linked into place, which fails when a lock is there already: two processes can never both succeed, and nobody
 * ever reads a half-written pid. A lock whose process is gone is taken over (takeOverStaleLock). Fails closed:
 * a lock held by a live process, or one that cannot be read, refuses as 'live-socket'; a lock that cannot be
 * created (the folder is not writable) refuses as 'unknown'.
 */
function lockIpcPath(file: string): 'locked' | 'live-socket' | 'unknown' {
  const lock = ipcLockPath(file);
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = createPidFile(lock);
    if (created === 'created') {
      locksHeldHere.add(lock);
      return 'locked';
    }
    if (created === 'failed') return 'unknown';
    if (!takeOverStaleLock(lock)) return 'live-socket';
  }
  return 'live-socket';
}

/** Ends this process's lock on `file`, if it holds it (the file still names our pid). */
function unlockIpcPath(file: string): void {
  const lock = ipcLockPath(file);
  if (!locksHeldHere.delete(lock)) return;
  if (pidIn(lock) === process.pid) removeQuietly(lock);
}

/** Creates `target` holding our pid, atomically: 'exists' when something is there already. */
function createPidFile(target: string): 'created' | 'exists' | 'failed' {
  const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  try {
    fs.writeFileSync(temporary, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch {
    return 'failed';
  }
  try {
    fs.linkSync(temporary, target);
    return 'created';
  } catch (error) {
    return codeOf(error) === 'EEXIST' ? 'exists' : 'failed';
  } finally {
    removeQuietly(temporary);
  }
}

/**
 * Removes `lock` if the process it names is gone, and says whether it did. Removal and re-creation must not race
 * with another process doing the same (it could remove the lock we just made), so a takeover is done under a
 * second lock (`<lock>.takeover`); a takeover lock left by a dead process is removed, and this claim gives up
 * (the next one may take over).
 */
function takeOverStaleLock(lock: string): boolean {
  const takeover = `${lock}.takeover`;
  if (createPidFile(takeover) !== 'created') {
    const owner = pidIn(takeover);
    if (owner !== null && !isLiveHolder(owner, takeover)) removeQuietly(takeover);
    return false;
  }
  try {
    const owner = pidIn(lock);
    if (owner === null) return !fs.existsSync(lock); // unreadable or not a pid: fail closed; gone: try again
    if (isLiveHolder(owner, lock)) return false;
    removeQuietly(lock);
    return true;
  } finally {
    removeQuietly(takeover);
  }
}

/** A lock file, a takeover lock, or the temporary file either is written to (`.<pid>.<random>`) before linking. */
const LOCK_FILE = /\.lock(\.takeover)?(\.(\d+)\.[a-z0-9]+)?$/;

/**
 * For a server starting in a runtime folder: removes a lock file of this module left there by a dead process (a
 * lock through the same takeover as a claim, so a live process taking it over at this moment is never undone).
 * Says whether `file` was such a file and is gone now.
 */
export function removeStaleLockFile(file: string): boolean {
  const match = LOCK_FILE.exec(file);
  if (!match) return false;
  if (match[2]) {
    // A temporary file: its writer's pid is in its name.
    const writer = Number(match[3]);
    if (writer === process.pid || isLiveHolder(writer, file)) return false;
    removeQuietly(file);
    return true;
  }
  if (match[1]) {
    const owner = pidIn(file);
    if (owner === null || isLiveHolder(owner, file)) return false;
    removeQuietly(file);
    return true;
  }
  // A second try: the first may only have removed a takeover lock its dead process left.
  return takeOverStaleLock(file) || takeOverStaleLock(file);
}

/** Whether `pid`, named in `lock`, still holds it: a live process, ourselves only if we really took that lock. */
function isLiveHolder(pid: number, lock: string): boolean {
  if (pid === process.pid) return locksHeldHere.has(lock);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) === 'EPERM'; // alive, under another user
  }
}

/** The pid written in a lock file, or null if it is missing or holds anything else. */
function pidIn(lock: string): number | null {
  try {
    const content = fs.readFileSync(lock, 'utf8').trim();
    return /^[1-9]\d{0,9}$/.test(content) ? Number(content) : null;
  } catch {
    return null;
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone, or not ours to remove
  }
}

/** The transport named by an endpoint string, or null for anything else. */
export function transportOf(endpoint: string): Transport | null {
  if (endpoint.startsWith('tcp://')) return 'tcp';
  if (endpoint.startsWith('ipc://')) return 'ipc';
  if (endpoint.startsWith('inproc://')) return 'inproc';
  return null;
}

export function ensureRuntimeDir(policy: EndpointPolicy): void {
  fs.mkdirSync(policy.runtimeDir, { recursive: true, mode: 0o700 });
}

/** Removes an ipc socket file we created; leaves anything that is not a socket alone. */
export function removeIpcFile(file: string): void {
  try {
    if (fs.lstatSync(file).isSocket()) fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
