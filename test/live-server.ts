/**
 * The real server as a separate process, for tests where what matters is that the process survives (an uncaught
 * exception would end it, which an in-process app cannot show). A client keeps the cookies the server sets and
 * sends the page's own Origin, as a browser on the page would.
 */
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import type { RunDetail } from '../shared/protocol/index.ts';
import { StreamProbe, run, type Exited } from './helpers.ts';

export interface LiveServer {
  base: string;
  child: ChildProcess;
  exited: Promise<Exited>;
  /** True while the process runs. */
  alive(): boolean;
  /** What it printed so far, stdout then stderr. */
  output(): string;
  stop(): Promise<Exited>;
}

/**
 * Starts server/main.ts on a free loopback port; resolves once it printed its URL. `args` are more flags (a limit,
 * `--db` to a file: the last one given wins).
 */
export async function startServer(runtimeDir: string, timeoutMs = 20_000, args: string[] = []): Promise<LiveServer> {
  // --db :memory:: nothing lands in the user's data folder.
  const server = run(
    'node_modules/.bin/tsx',
    ['server/main.ts', '--port', '0', '--runtime-dir', runtimeDir, '--db', ':memory:', ...args],
    10 * 60_000,
  );
  let stderr = '';
  server.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let ended = false;
  const exited = server.exited.finally(() => (ended = true));
  exited.catch(() => {});
  const deadline = Date.now() + timeoutMs;
  let base: string | null = null;
  while (!base) {
    base = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(server.output())?.[1] ?? null;
    if (base) break;
    if (ended || Date.now() > deadline)
      throw new Error(`server printed no URL within ${timeoutMs} ms: ${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    child: server.child,
    exited,
    alive: () => !ended && server.child.exitCode === null && server.child.signalCode === null,
    output: () => `${server.output()}${stderr}`,
    async stop() {
      if (!ended) server.child.kill('SIGTERM');
      return await exited;
    },
  };
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** A client of one server: keeps its cookies, sends its Origin, answers status and parsed body. */
export class ApiClient {
  readonly #cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { origin: this.base };
    if (this.#cookies.size > 0) headers.cookie = this.cookieHeader;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(20_000),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      if (at > 0) this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: the text is the body
    }
    return { status: response.status, body: parsed as T, text };
  }

  /** Opens the playground's stream; resolves once the server said hello. */
  async stream(playground: string): Promise<{ socket: WebSocket; probe: StreamProbe; closed: Promise<number> }> {
    const headers: Record<string, string> = { origin: this.base };
    if (this.#cookies.size > 0) headers.cookie = this.cookieHeader;
    const socket = new WebSocket(`${this.base.replace(/^http/, 'ws')}/api/playgrounds/${playground}/stream`, {
      headers,
    });
    const probe = new StreamProbe();
    probe.attach(socket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('error', () => {}); // a refused or dropped socket shows as `closed`
    await probe.waitFor((message) => message.type === 'hello');
    return { socket, probe, closed };
  }

  /** Polls the run (bounded) until it has ended. */
  async runEnded(playground: string, runId: string, timeoutMs = 30_000): Promise<RunDetail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { status, body } = await this.request<RunDetail>('GET', `/api/playgrounds/${playground}/runs/${runId}`);
      if (status === 200 && body.endedAt) return body;
      if (Date.now() > deadline)
        throw new Error(`run ${runId} had not ended after ${timeoutMs} ms (last answer ${status})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
