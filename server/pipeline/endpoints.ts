/**
 * Endpoint checks. Endpoints are a security boundary: libzmq unlinks whatever file sits at an ipc path when it
 * binds, binds 0.0.0.0 for `tcp://*`, and silently wraps tcp ports above 65535 (70000 becomes 4464). So nothing
 * reaches libzmq before these functions have accepted it.
 */
import { english, text, type ServerText } from '../../shared/protocol/server-text.ts';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Transport } from '../../shared/protocol/index.ts';

export class EndpointError extends Error {
  readonly code = 'PG_ERR_ENDPOINT';
  readonly text: ServerText;

  constructor(reason: ServerText) {
    super(english(reason));
    this.text = reason;
  }
}

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
  const base = process.env.XDG_RUNTIME_DIR && fs.existsSync(process.env.XDG_RUNTIME_DIR)
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
 * Parses and checks an endpoint string against the policy. Throws EndpointError with a sentence a person can
 * act on; never touches the file system beyond reading it.
 */
export function checkEndpoint(endpoint: string, policy: EndpointPolicy): ParsedEndpoint {
  const match = /^([a-z]+):\/\/(.*)$/.exec(endpoint);
  if (!match) throw new EndpointError(text('endpoint.syntax', { endpoint: clip(endpoint) }));
  const [, scheme, rest = ''] = match;
  switch (scheme) {
    case 'tcp':
      return checkTcp(rest, policy);
    case 'ipc':
      return checkIpc(rest, policy);
    case 'inproc':
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(rest)) {
        throw new EndpointError(text('endpoint.inprocName', { name: clip(rest) }));
      }
      return { transport: 'inproc', name: rest };
    default:
      throw new EndpointError(text('endpoint.transport', { scheme: clip(scheme ?? '') }));
  }
}

function checkTcp(rest: string, policy: EndpointPolicy): ParsedEndpoint {
  const match = /^([^:]+):(\*|\d{1,5})$/.exec(rest);
  if (!match) throw new EndpointError(text('endpoint.tcpSyntax', { rest: clip(rest) }));
  const [, host = '', portText = ''] = match;
  if (!policy.allowedTcpHosts.has(host)) {
    throw new EndpointError(text('endpoint.tcpHost', { host: clip(host) }));
  }
  if (portText === '*') return { transport: 'tcp', host, port: '*' };
  const port = Number(portText);
  if (port < TCP_PORT_MIN || port > TCP_PORT_MAX) {
    throw new EndpointError(text('endpoint.tcpPort', { port: portText, min: TCP_PORT_MIN, max: TCP_PORT_MAX }));
  }
  return { transport: 'tcp', host, port };
}

function checkIpc(rest: string, policy: EndpointPolicy): ParsedEndpoint {
  const file = rest;
  if (!file.startsWith('/')) throw new EndpointError(text('endpoint.ipcRelative', { folder: policy.runtimeDir }));
  if (file.length > IPC_PATH_MAX) {
    throw new EndpointError(text('endpoint.ipcLength', { length: file.length, max: IPC_PATH_MAX }));
  }
  if (file.split('/').includes('..') || path.normalize(file) !== file) {
    throw new EndpointError(text('endpoint.ipcPlain', { path: clip(file) }));
  }
  const insideRuntime = path.dirname(file) === policy.runtimeDir;
  if (!insideRuntime && !policy.allowedIpcPaths.has(file)) {
    throw new EndpointError(text('endpoint.ipcOutside', { path: clip(file), folder: policy.runtimeDir }));
  }
  return { transport: 'ipc', path: file };
}

export type IpcProbe = 'free' | 'stale-socket' | 'live-socket' | 'not-a-socket';

/**
 * What sits at an ipc path. Binding over a live socket would silently steal its connections, and libzmq would
 * delete a regular file or follow nothing for a symlink: only 'free' and 'stale-socket' are safe to bind.
 */
export async function probeIpcPath(file: string): Promise<IpcProbe> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return 'free';
  }
  if (!stat.isSocket()) return 'not-a-socket';
  return await new Promise<IpcProbe>((resolve) => {
    const probe = net.connect(file);
    const done = (result: IpcProbe) => {
      probe.destroy();
      resolve(result);
    };
    probe.once('connect', () => done('live-socket'));
    probe.once('error', () => done('stale-socket'));
    probe.setTimeout(500, () => done('live-socket'));
  });
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

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
