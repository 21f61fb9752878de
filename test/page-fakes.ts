/**
 * Fakes for the page's rune-class tests (`*.svelte.test.ts`, the runes project): a WebSocket the test scripts, a
 * fetch that answers from routes, a frame loop the test steps by hand, the page's address and history, and a
 * small tutorial run as events.
 */
import { vi } from 'vitest';
import { foldTaskCounts, emptyTaskCounts } from '../shared/protocol/task-counts.ts';
import type { Counters, PlaygroundEvent, ServerMessage } from '../shared/protocol/index.ts';
import { VALID_EVENTS } from '../shared/protocol/fixtures.ts';
import { FrameLoop } from '../web/lib/frame-loop.svelte.ts';
import type { EventsFrame, SocketLike } from '../web/lib/stream-client.svelte.ts';

/** A socket the test drives: it records what the client sends and delivers what the test says the server sent. */
export class ScriptedSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  closedWith: number | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
  }
  open(): void {
    this.onopen?.({} as Event);
  }
  deliver(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }
}

/** One request the fake fetch received. */
export interface FetchCall {
  method: string;
  path: string;
  body: unknown;
}

type Route = (call: FetchCall) => { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>;

/**
 * fetch answering from routes keyed "METHOD /path" (the path without its query; the call carries the whole
 * path); an unknown route answers 404 PG_ERR_NOT_FOUND. Every call is recorded.
 */
export class FakeFetch {
  readonly calls: FetchCall[] = [];
  readonly routes = new Map<string, Route>();

  on(method: string, path: string, route: Route): this {
    this.routes.set(`${method} ${path}`, route);
    return this;
  }

  readonly fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' && init.body !== '' ? JSON.parse(init.body) : undefined;
    const call = { method, path: input, body };
    this.calls.push(call);
    const route = this.routes.get(`${method} ${input.split('?')[0]}`);
    const answer = route
      ? await route(call)
      : { status: 404, body: { code: 'PG_ERR_NOT_FOUND', message: `${method} ${input}: no such route` } };
    const status = answer.status ?? 200;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };

  /** The calls other than GETs: what the page changed. */
  changes(): FetchCall[] {
    return this.calls.filter((call) => call.method !== 'GET');
  }
}

/** A frame loop stepped by the test: `frame(ms)` runs one animation frame `ms` after the last one. */
export class SteppedFrames {
  time = 1000;
  #pending: ((now: number) => void) | null = null;
  readonly loop = new FrameLoop({
    requestFrame: (callback) => {
      this.#pending = callback;
      return 1;
    },
    cancelFrame: () => {
      this.#pending = null;
    },
    now: () => this.time,
  });

  /** Whether the loop asked for a frame. */
  get isScheduled(): boolean {
    return this.#pending !== null;
  }

  /** Moves the clock by `ms` and runs the frame the loop asked for, if any. */
  frame(ms = 16): boolean {
    this.time += ms;
    const pending = this.#pending;
    this.#pending = null;
    pending?.(this.time);
    return pending !== null;
  }
}

/** Puts the page at `href`: location, history (pushState, replaceState) and window's listeners. */
export function stubPage(href: string): { readonly href: string } {
  let url = new URL(href);
  const location = {
    get href() {
      return url.toString();
    },
    get protocol() {
      return url.protocol;
    },
    get host() {
      return url.host;
    },
    assign(next: string) {
      url = new URL(next, url);
    },
  };
  const history = {
    state: null,
    replaceState(_state: unknown, _title: string, next: string | URL) {
      url = new URL(String(next), url);
    },
    pushState(_state: unknown, _title: string, next: string | URL) {
      url = new URL(String(next), url);
    },
  };
  vi.stubGlobal('location', location);
  vi.stubGlobal('history', history);
  vi.stubGlobal('window', { addEventListener() {}, removeEventListener() {} });
  return location;
}

type Ev<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

/**
 * The tutorial as events: run:started (worker-tcp, worker-ipc), tcp bound, "1" and "2" to the tcp worker, ipc
 * bound, "3" to the ipc worker, "x" lost with it, run:ended. Times in ms since the start; seqs from `firstSeq`.
 */
export function tutorialRun(run = 'run-1', firstSeq = 1): PlaygroundEvent[] {
  const started = structuredClone(VALID_EVENTS['run:started']) as Ev<'run:started'>;
  const [tcp, ipc] = started.endpoints;
  const body: Omit<PlaygroundEvent, 'seq' | 'run'>[] = [
    { ...started, t: 0 },
    { type: 'endpoint:bound', t: 1, endpoint: tcp! },
    { type: 'worker:connecting', t: 2, worker: 'worker-tcp', address: tcp!.actual! },
    { type: 'socket:event', t: 5, node: 'worker-tcp', kind: 'handshake', address: tcp!.actual! },
    { type: 'task:sent', t: 10, task: 0, body: '1' },
    { type: 'task:received', t: 11, task: 0, worker: 'worker-tcp', body: '1' },
    { type: 'task:done', t: 20, task: 0, worker: 'worker-tcp' },
    { type: 'task:sent', t: 1010, task: 1, body: '2' },
    { type: 'task:received', t: 1011, task: 1, worker: 'worker-tcp', body: '2' },
    { type: 'endpoint:bound', t: 2000, endpoint: ipc! },
    { type: 'socket:event', t: 2005, node: 'worker-ipc', kind: 'handshake', address: ipc!.actual! },
    { type: 'task:sent', t: 2010, task: 2, body: '3' },
    { type: 'task:received', t: 2011, task: 2, worker: 'worker-ipc', body: '3' },
    { type: 'task:sent', t: 2500, task: 3, body: 'x' },
    { type: 'task:lost', t: 2600, task: 3, worker: 'worker-ipc' },
    {
      type: 'run:ended',
      t: 3000,
      reason: 'completed',
      summary: {
        sent: 4,
        received: { 'worker-tcp': 2, 'worker-ipc': 1 },
        done: { 'worker-tcp': 1, 'worker-ipc': 0 },
        collected: 0,
        unattributed: 1,
        lost: 1,
        lostBy: { 'worker-ipc': 1 },
        externalPeersMax: 0,
        durationMs: 3000,
      },
    },
  ] as Omit<PlaygroundEvent, 'seq' | 'run'>[];
  return body.map((event, i) => JSON.parse(JSON.stringify({ ...event, run, seq: firstSeq + i })) as PlaygroundEvent);
}

/** The exact counters of `run` after `events` (what the server's frame would carry), lost per worker included. */
export function countersOf(run: string, events: readonly PlaygroundEvent[]): Counters {
  return {
    run,
    ...foldTaskCounts(
      emptyTaskCounts(),
      events.filter((e) => e.run === run),
    ),
  };
}

/** A frame of `events`; counters about `run` after `countedUpTo` (default: all of them), unless `counters` given. */
export function frameOf(
  events: readonly PlaygroundEvent[],
  options: {
    historyUntil?: number;
    counters?: Counters;
    dropped?: number;
    run?: string;
    countedUpTo?: readonly PlaygroundEvent[];
  } = {},
): EventsFrame {
  const run = options.run ?? events[0]?.run ?? 'run-1';
  return {
    events: [...events],
    dropped: options.dropped ?? 0,
    counters: options.counters ?? countersOf(run, options.countedUpTo ?? events),
    historyUntil: options.historyUntil ?? 0,
  };
}
