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
 *   path it did not claim.
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
    const probe = await probeIpcPath(file);
    if (probe === 'free' || probe === 'stale-socket') return null;
    this.#holders.delete(file);
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
    if (!bound) return;
    try {
      const stat = fs.lstatSync(file);
      if (stat.isSocket() && stat.dev === bound.dev && stat.ino === bound.ino) fs.unlinkSync(file);
    } catch {
      // already gone
    }
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
