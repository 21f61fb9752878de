/**
 * Test helpers shared by the server tests: a private runtime folder per test file and an event collector that
 * waits for a condition without sleeping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { WebSocket } from 'ws';
import { decodeServerMessage, type PlaygroundEvent, type ServerMessage } from '../shared/protocol/index.ts';
import { defaultPolicy, type EndpointPolicy } from '../server/pipeline/endpoints.ts';
import type { Playground } from '../server/pipeline/playground.ts';

/** A short, private runtime folder (ipc paths must stay under 107 characters). */
export function testPolicy(overrides: Partial<EndpointPolicy> = {}): EndpointPolicy & { cleanup(): void } {
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-'));
  const policy = defaultPolicy({ runtimeDir, allowedIpcPaths: new Set(), ...overrides });
  return { ...policy, cleanup: () => fs.rmSync(runtimeDir, { recursive: true, force: true }) };
}

/** Collects every event a playground logs from now on. */
export function collect(playground: Playground): PlaygroundEvent[] {
  const events: PlaygroundEvent[] = [];
  playground.log.subscribe((event) => events.push(event));
  return events;
}

/** Resolves with the first event matching `predicate` (already logged or future); rejects after `timeoutMs`. */
export function waitForEvent<T extends PlaygroundEvent>(
  playground: Playground,
  predicate: (event: PlaygroundEvent) => event is T,
  timeoutMs?: number,
): Promise<T>;
export function waitForEvent(
  playground: Playground,
  predicate: (event: PlaygroundEvent) => boolean,
  timeoutMs?: number,
): Promise<PlaygroundEvent>;
export function waitForEvent(
  playground: Playground,
  predicate: (event: PlaygroundEvent) => boolean,
  timeoutMs = 10_000,
): Promise<PlaygroundEvent> {
  const seen = playground.log.since(0).find(predicate);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = playground.log.subscribe((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

/** Resolves once the run ends, with its run:ended event. */
export function runEnded(playground: Playground, run: string, timeoutMs = 20_000) {
  return waitForEvent(
    playground,
    (event): event is Extract<PlaygroundEvent, { type: 'run:ended' }> =>
      event.type === 'run:ended' && event.run === run,
    timeoutMs,
  );
}

export function ofType<K extends PlaygroundEvent['type']>(events: PlaygroundEvent[], type: K) {
  return events.filter((event): event is Extract<PlaygroundEvent, { type: K }> => event.type === type);
}

/** A tcp port on loopback that was free a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Bodies each worker received, in order, from task:received events. */
export function receivedBy(events: PlaygroundEvent[]): Record<string, string[]> {
  const byWorker: Record<string, string[]> = {};
  for (const event of ofType(events, 'task:received')) (byWorker[event.worker] ??= []).push(event.body);
  return byWorker;
}

/**
 * A WebSocket client for tests that keeps every decoded message and can wait for one that matches.
 * Listeners are attached at init, before the server's hello can arrive.
 */
export class StreamProbe {
  readonly messages: ServerMessage[] = [];
  readonly undecodable: string[] = [];
  #waiters: (() => void)[] = [];

  attach(socket: WebSocket): void {
    socket.on('message', (data) => {
      const text = data.toString();
      const decoded = decodeServerMessage(text);
      if (decoded.ok) this.messages.push(decoded.value);
      else this.undecodable.push(text);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  events(): PlaygroundEvent[] {
    return this.messages.flatMap((m) => (m.type === 'events' ? m.events : []));
  }

  /** Resolves with the first message matching `predicate`; rejects after timeoutMs. */
  async waitFor<T extends ServerMessage>(
    predicate: (message: ServerMessage) => message is T,
    timeoutMs?: number,
  ): Promise<T>;
  async waitFor(predicate: (message: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  async waitFor(predicate: (message: ServerMessage) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching message within ${timeoutMs} ms; got ${this.messages.map((m) => m.type).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the first event matching `predicate` inside any events frame. */
  async waitForEvent(predicate: (event: PlaygroundEvent) => boolean, timeoutMs = 10_000): Promise<PlaygroundEvent> {
    const frame = await this.waitFor((m) => m.type === 'events' && m.events.some(predicate), timeoutMs);
    return (frame as Extract<typeof frame, { type: 'events' }>).events.find(predicate)!;
  }
}

/** The name a session cookie has (server/http/session.ts); tests read it from Set-Cookie. */
const SESSION_COOKIE = 'zpg_session';

/** "zpg_session=abc; Path=/; HttpOnly" (one or several Set-Cookie values) -> "zpg_session=abc", if there is one. */
export function sessionCookieOf(setCookie: string | string[] | undefined): string | null {
  for (const line of [setCookie ?? []].flat()) {
    const pair = line.split(';', 1)[0]!.trim();
    if (pair.startsWith(`${SESSION_COOKIE}=`)) return pair;
  }
  return null;
}

/**
 * One visitor of an app under test: a browser, as the server sees it. It keeps the session cookie the server
 * sets (as a browser or `curl -c/-b` does) and sends it back on every request and WebSocket handshake, with the
 * Host and Origin of the server's own page. Two Visitors of one app are two strangers.
 */
export class Visitor {
  cookie: string | null = null;

  constructor(
    readonly app: FastifyInstance,
    /** The Origin its WebSocket handshakes send (the page's own, as a browser would). */
    readonly origin = 'http://localhost',
  ) {}

  /** app.inject with this visitor's cookie (unless the request sets its own cookie header). */
  async inject(request: string | InjectOptions): Promise<LightMyRequestResponse> {
    const options: InjectOptions = typeof request === 'string' ? { url: request } : request;
    const headers: Record<string, string | string[] | number | undefined> = {
      ...(options.headers as Record<string, string>),
    };
    if (this.cookie && headers.cookie === undefined) headers.cookie = this.cookie;
    const response = await this.app.inject({ ...options, headers });
    this.cookie = sessionCookieOf(response.headers['set-cookie']) ?? this.cookie;
    return response;
  }

  /** Makes sure the visitor has its cookie (a WebSocket handshake cannot receive one); null if the server sets none. */
  async session(): Promise<string | null> {
    if (!this.cookie) await this.inject('/api/health');
    return this.cookie;
  }

  /**
   * A WebSocket to `url` as this visitor; `probe` and `onInit` get the socket before the server's hello can
   * arrive; `headers` replace the visitor's own (another Origin, no cookie...).
   */
  async injectWS(
    url: string,
    options: {
      probe?: StreamProbe;
      headers?: Record<string, string | undefined>;
      onInit?: (socket: WebSocket) => void;
    } = {},
  ): Promise<WebSocket> {
    const cookie = await this.session();
    const headers = Object.fromEntries(
      Object.entries({
        host: 'localhost',
        origin: this.origin,
        cookie: cookie ?? undefined,
        ...options.headers,
      }).filter(([, value]) => value !== undefined),
    );
    return await this.app.injectWS(
      url,
      { headers },
      {
        onInit: (ws) => {
          options.probe?.attach(ws);
          options.onInit?.(ws);
        },
      },
    );
  }
}

/**
 * fetch for a server in another process, as one visitor: it keeps the session cookie between calls. The
 * requests carry no Origin (like curl), so JSON bodies get the content type the server requires.
 */
export function visitorFetch(): (url: string, init?: RequestInit) => Promise<Response> {
  let cookie: string | null = null;
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers });
    cookie = sessionCookieOf(response.headers.getSetCookie()) ?? cookie;
    return response;
  };
}

/** Debian's python3 with pyzmq (the pyenv python3 on PATH may lack it); PLAYGROUND_PYTHON overrides. */
export const PYTHON = process.env.PLAYGROUND_PYTHON ?? '/usr/bin/python3';

/** Throws a plain instruction when python3-zmq is missing, instead of a cryptic failure later. */
export function requirePyzmq(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import zmq'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `These tests run the tutorial's Python clients and need pyzmq for ${PYTHON}. ` +
        'On Debian: apt-get install python3-zmq (or set PLAYGROUND_PYTHON to a python3 that has zmq).',
    );
  }
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns a process and collects its output; `exited` rejects if it is still running after timeoutMs (then kills it). */
export function run(command: string, args: string[], timeoutMs: number, options: { cwd?: string } = {}) {
  const child: ChildProcess = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exited>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${command} ${args.join(' ')} still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited, output: () => stdout };
}
