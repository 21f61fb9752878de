/**
 * The learners of the capacity case (bench/capacity.ts): Watched, a playground and the WebSocket client watching it,
 * and Learner, a visitor with its two playgrounds that runs them round after round; how each run kept its pace.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { MAX_CATCH_UP_MS } from '../server/pipeline/pace.ts';

/** New learners start their first run at a random moment within this, as a class does not click at once. */
const START_SPREAD_MS = 3000;
/** A person's pause between runs. */
const THINK_MS = { min: 3000, max: 7000 };

export const BATCH_TASKS = 10_000;
/** 10,000 tasks in 10 s: 1,000 tasks a second. */
export const BATCH_LIMIT_MS = 10_000;
/** A run that has not ended after this is given up (a failure). */
export const RUN_TIMEOUT_MS = 60_000;

interface RunEnd {
  reason: string;
  sent: number;
  received: number;
  /** task:sent times (ms since the run started) as the stream delivered them; tutorial only. */
  sentT: number[];
  /** Task events the stream sampled out of this run's frames (0 for a tutorial, unless the server was congested). */
  dropped: number;
}

export interface Outcome {
  kind: 'tutorial' | 'batch';
  endedAt: number;
  /** Why it missed its pace; absent when it kept it. */
  missed?: string;
  /** Tutorial: the latest send, in ms behind its interval. */
  worstLateMs?: number;
  /** Batch: from the click (POST) to its run:ended, in ms. */
  ms?: number;
}

/** The tutorial's default interval: one send a second. */
const TUTORIAL_INTERVAL_MS = 1000;

/**
 * How late the latest send of a paced run went out, in ms after its due time, reckoned as server/pipeline/pace.ts
 * keeps the schedule: send n is due at first + n x interval, and the schedule starts again from a send more than
 * MAX_CATCH_UP_MS late. `sentT` are the task:sent times in order.
 */
function latestSend(sentT: readonly number[], intervalMs: number): number {
  let worst = 0;
  let first = sentT[0] ?? 0;
  let since = 0;
  for (const t of sentT.slice(1)) {
    since++;
    const late = t - (first + since * intervalMs);
    worst = Math.max(worst, late);
    if (late > MAX_CATCH_UP_MS) {
      first = t;
      since = 0;
    }
  }
  return worst;
}

/** A playground of a learner and the WebSocket client watching it. */
class Watched {
  readonly #ended = new Map<string, RunEnd>();
  readonly #waiters = new Map<string, (end: RunEnd) => void>();
  readonly #sentT = new Map<string, number[]>();
  readonly #dropped = new Map<string, number>();
  #closedWhy: string | null = null;
  #onClose: ((why: string) => void)[] = [];
  socket!: WebSocket;

  constructor(
    readonly id: string,
    readonly kind: 'tutorial' | 'batch',
  ) {}

  async watch(base: string, cookie: string): Promise<void> {
    const socket = new WebSocket(`${base.replace('http', 'ws')}/api/playgrounds/${this.id}/stream`, {
      headers: { cookie },
    });
    this.socket = socket;
    socket.on('message', (data: Buffer) => this.#onFrame(data.toString()));
    socket.on('close', (code) => this.#closed(`its watcher was closed by the server (${code})`));
    socket.on('error', (error) => this.#closed(`its watcher failed: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'subscribe' }));
  }

  #closed(why: string): void {
    if (this.#closedWhy !== null) return;
    this.#closedWhy = why;
    for (const listener of this.#onClose) listener(why);
  }

  #onFrame(text: string): void {
    // A batch's frames come every 33 ms with up to 400 task events: only one with its end is read (the bench
    // shares the machine's two cores with the server, so its own work is kept small).
    if (this.kind === 'batch' && !text.includes('"run:ended"')) return;
    const message = JSON.parse(text) as {
      type: string;
      dropped?: number;
      events?: { type: string; run: string; t: number; reason?: string; summary?: Record<string, unknown> }[];
    };
    if (message.type !== 'events' || !message.events) return;
    const firstRun = message.events[0]?.run;
    if (firstRun && message.dropped) this.#dropped.set(firstRun, (this.#dropped.get(firstRun) ?? 0) + message.dropped);
    for (const event of message.events) {
      if (event.type === 'task:sent') {
        let times = this.#sentT.get(event.run);
        if (!times) this.#sentT.set(event.run, (times = []));
        times.push(event.t);
      } else if (event.type === 'run:ended') {
        const summary = event.summary as { sent: number; received: Record<string, number> };
        const end: RunEnd = {
          reason: event.reason ?? '?',
          sent: summary.sent,
          received: Object.values(summary.received).reduce((a, b) => a + b, 0),
          sentT: this.#sentT.get(event.run) ?? [],
          dropped: this.#dropped.get(event.run) ?? 0,
        };
        this.#sentT.delete(event.run);
        this.#dropped.delete(event.run);
        const waiter = this.#waiters.get(event.run);
        if (waiter) waiter(end);
        else this.#ended.set(event.run, end);
      }
    }
  }

  /** Resolves with the run's end as the watcher heard it; rejects after RUN_TIMEOUT_MS or when the watcher closes. */
  ended(run: string): Promise<RunEnd> {
    const already = this.#ended.get(run);
    if (already) {
      this.#ended.delete(run);
      return Promise.resolve(already);
    }
    return new Promise<RunEnd>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`it did not end within ${RUN_TIMEOUT_MS / 1000} s`)),
        RUN_TIMEOUT_MS,
      );
      const onClose = (why: string) => finish(new Error(why));
      const finish = (result: RunEnd | Error) => {
        clearTimeout(timer);
        this.#waiters.delete(run);
        this.#onClose = this.#onClose.filter((listener) => listener !== onClose);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      if (this.#closedWhy !== null) return finish(new Error(this.#closedWhy));
      this.#onClose.push(onClose);
      this.#waiters.set(run, finish);
    });
  }

  close(): void {
    // Through #closed, so that a run waiting for its end hears it now (not after RUN_TIMEOUT_MS).
    this.#closed('closed by the bench');
    this.socket?.terminate();
  }
}

export class Learner {
  readonly #session = `zpg_session=${randomBytes(32).toString('base64url')}`;
  /** Behind a proxy: the instance cookie HAProxy gave this visitor (zpg_instance), sent back as a browser does. */
  #instanceCookie = '';
  tutorial!: Watched;
  batch!: Watched;

  /**
   * `base` is the server's URL or the proxy's; `runtimeDirOf` says the runtime folder of the server that holds a
   * playground (by its id: behind a proxy, "a.pg-..." lives on instance a), where its ipc endpoint may be.
   */
  constructor(
    readonly number: number,
    readonly base: string,
    readonly runtimeDirOf: (playgroundId: string) => string,
  ) {}

  get cookie(): string {
    return this.#instanceCookie ? `${this.#session}; ${this.#instanceCookie}` : this.#session;
  }

  /** The instance each of its playgrounds lives on (the part of the id before the dot; '-' for a standalone server). */
  instances(): string[] {
    return [this.tutorial, this.batch].flatMap((watched) =>
      watched ? [watched.id.includes('.') ? watched.id.split('.')[0]! : '-'] : [],
    );
  }

  async request(method: string, url: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.base}${url}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // HAProxy's stickiness: a visitor's later requests go to the instance its first one landed on.
    const instance = response.headers
      .getSetCookie()
      .map((cookie) => /^zpg_instance=[^;]*/.exec(cookie)?.[0])
      .find(Boolean);
    if (instance) this.#instanceCookie = instance;
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  }

  /** Opens both playgrounds and their watchers. */
  async join(): Promise<void> {
    const tutorial = (await this.request('POST', '/api/playgrounds', { scenario: 'tutorial' })) as { id: string };
    // Off the scenario's fixed port and path: both stay free for whoever else uses this machine.
    await this.request('PATCH', `/api/playgrounds/${tutorial.id}/endpoints/tcp`, { address: 'tcp://127.0.0.1:*' });
    await this.request('PATCH', `/api/playgrounds/${tutorial.id}/endpoints/ipc`, {
      address: `ipc://${this.runtimeDirOf(tutorial.id)}/learner-${this.number}.ipc`,
    });
    const batch = (await this.request('POST', '/api/playgrounds', {
      scenario: 'pipeline',
      params: { tasks: BATCH_TASKS },
    })) as { id: string };
    this.tutorial = new Watched(tutorial.id, 'tutorial');
    this.batch = new Watched(batch.id, 'batch');
    await this.tutorial.watch(this.base, this.cookie);
    await this.batch.watch(this.base, this.cookie);
  }

  async #run(watched: Watched): Promise<{ end: RunEnd; ms: number }> {
    const began = performance.now();
    const { run } = (await this.request('POST', `/api/playgrounds/${watched.id}/runs`)) as { run: string };
    const end = await watched.ended(run);
    return { end, ms: performance.now() - began };
  }

  async runTutorial(): Promise<Outcome> {
    try {
      const { end } = await this.#run(this.tutorial);
      const worstLateMs = latestSend(end.sentT, TUTORIAL_INTERVAL_MS);
      const outcome: Outcome = { kind: 'tutorial', endedAt: performance.now(), worstLateMs };
      if (end.reason !== 'completed') outcome.missed = `tutorial ended ${end.reason}`;
      else if (end.sent !== 12 || end.received !== 12)
        outcome.missed = `tutorial sent ${end.sent}, received ${end.received}`;
      else if (end.sentT.length !== 12)
        outcome.missed = `tutorial: its watcher saw ${end.sentT.length} of 12 sends (${end.dropped} sampled out)`;
      else if (worstLateMs > MAX_CATCH_UP_MS) outcome.missed = `tutorial send ${worstLateMs.toFixed(0)} ms late`;
      return outcome;
    } catch (error) {
      return { kind: 'tutorial', endedAt: performance.now(), missed: `tutorial: ${(error as Error).message}` };
    }
  }

  async runBatch(): Promise<Outcome> {
    try {
      const { end, ms } = await this.#run(this.batch);
      const outcome: Outcome = { kind: 'batch', endedAt: performance.now(), ms };
      if (end.reason !== 'completed') outcome.missed = `batch ended ${end.reason}`;
      else if (end.sent !== BATCH_TASKS || end.received !== BATCH_TASKS)
        outcome.missed = `batch sent ${end.sent}, received ${end.received}`;
      else if (ms > BATCH_LIMIT_MS) outcome.missed = `batch took ${(ms / 1000).toFixed(1)} s`;
      return outcome;
    } catch (error) {
      return { kind: 'batch', endedAt: performance.now(), missed: `batch: ${(error as Error).message}` };
    }
  }

  /**
   * Tutorial, pause, batch, pause (only tutorials when `batches` is false), until `signal`; every outcome into
   * `outcomes`. Half the learners begin with the batch, so that the first window of a step already has both.
   */
  async work(outcomes: Outcome[], signal: AbortSignal, batches = true): Promise<void> {
    const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => {});
    let next: Outcome['kind'] = batches && Math.random() < 0.5 ? 'batch' : 'tutorial';
    await pause(Math.random() * START_SPREAD_MS);
    while (!signal.aborted) {
      outcomes.push(next === 'tutorial' ? await this.runTutorial() : await this.runBatch());
      if (batches) next = next === 'tutorial' ? 'batch' : 'tutorial';
      await pause(THINK_MS.min + Math.random() * (THINK_MS.max - THINK_MS.min));
    }
  }

  close(): void {
    this.tutorial?.close();
    this.batch?.close();
  }
}
