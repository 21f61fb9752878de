/**
 * Capacity (`npm run bench -- --case capacity`, issue 13): how many learners one server holds on this machine, and
 * the server's memory per playground.
 *
 * The real server runs as its own process, built as `npm start` runs it: the server bundle (scripts/build-server.ts)
 * of the last commit (HEAD, taken out with git archive into a private folder under dist/ and built there), so that the
 * figure belongs to a commit, and neither a stale dist/server nor a working tree that someone is halfway through
 * editing is measured or disturbed (uncommitted edits are not measured: commit them first). It listens on a loopback
 * port, with a temp-file database (every run is recorded, as always) and the server-wide playground limit raised
 * above this case's cap (--max-playgrounds).
 *
 * A learner is one visitor (its own session cookie, so per-visitor limits apply to each as they would to people)
 * with two playgrounds, as the page makes them: the tutorial and the pipeline sandbox, each watched by a WebSocket
 * client as an open page watches it. It runs, round after round until the case ends: the tutorial (12 sends, one a
 * second), a pause of 3-7 s (a person reading and clicking), a 10,000-task batch (the pipeline scenario, two
 * built-in workers, as fast as they go), another pause; half of them begin with the batch. The tutorial's tcp and ipc endpoints are moved to a free port
 * and a file in the server's runtime folder (as a learner may): the scenario's fixed port 12345 and /tmp/zmqdemo
 * stay free for everyone else on the machine.
 *
 * The ramp adds LEARNERS_PER_STEP learners (4 playgrounds) per step, starting within 3 s, then measures a window of
 * STEP_WINDOW_MS (about one round of a learner):
 *   health: GET /api/health every 50 ms (a new connection each time, as a proxy's health check makes), p50/p99;
 *   pace:   every run that ended in the window: a tutorial misses its pace when a send goes out more than
 *           MAX_CATCH_UP_MS (100 ms) later than its interval says (beyond that server/pipeline/pace.ts gives up
 *           catching up and the run's rate drops); a batch misses it when it takes more than 10 s from the click
 *           to its run:ended (below 1,000 tasks/s, the rate a person watches), or when it does not deliver all
 *           10,000 tasks. A failed or stopped run, a refused request or a watcher closed by the server count too;
 *   memory: the server's VmRSS (/proc/<pid>/status) and its CPU (utime + stime of every thread, /proc/<pid>/stat).
 * The ramp stops when the health check's p99 passes 200 ms or a run misses its pace. The machine is shared (other
 * people's tests and builds run on the same two cores), so a second server of the same build runs beside it as a
 * control: one learner running only the tutorial, its own health checks in the same moments. A failed window
 * counts against the load only when the control kept its limits in it; otherwise the machine was slow for everyone,
 * and the step is measured again. A step fails with two windows failed by the load, or three failed in all (then
 * the verdict says that the machine, not the load, stopped the ramp). It also stops at MAX_PLAYGROUNDS playgrounds
 * or TIME_LIMIT_MS. One instance holds the learners of the last step that passed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { buildServer } from '../scripts/build-server.ts';
import { MAX_CATCH_UP_MS } from '../server/pipeline/pace.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const LEARNERS_PER_STEP = 2;
/** Each learner holds two playgrounds (the tutorial's and the sandbox's). */
const PLAYGROUNDS_PER_LEARNER = 2;
/** Hard caps of the ramp, whatever the measurements say. */
const MAX_PLAYGROUNDS = 200;
const TIME_LIMIT_MS = 10 * 60_000;
/** About one round of a learner (tutorial 12 s, batch about 1 s, two pauses), so that each step sees both runs. */
const STEP_WINDOW_MS = 25_000;
/** New learners start their first run at a random moment within this, as a class does not click at once. */
const START_SPREAD_MS = 3000;
/** A person's pause between runs. */
const THINK_MS = { min: 3000, max: 7000 };

/** One health check every 50 ms: 20 a second, under the default per-visitor HTTP limit (50 a second). */
const HEALTH_EVERY_MS = 50;
const HEALTH_TIMEOUT_MS = 5000;
const HEALTH_P99_LIMIT_MS = 200;

const BATCH_TASKS = 10_000;
/** 10,000 tasks in 10 s: 1,000 tasks a second. */
const BATCH_LIMIT_MS = 10_000;
/** A run that has not ended after this is given up (a failure). */
const RUN_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 60_000;
/** Linux reports CPU time in /proc in clock ticks of 1/100 s (USER_HZ, the same on every architecture Node runs). */
const CLOCK_TICKS_PER_SECOND = 100;

// ---------------------------------------------------------------------------------------------------------------
// The server

/** How far back from HEAD to look for a commit whose server builds (another helper may have committed half a change). */
const COMMITS_TRIED = 10;

/**
 * Builds the server of the newest commit, from HEAD back, whose server builds, into `bundle`: its server and shared
 * sources are taken out with git archive into `build`/src. Returns which commit, in words.
 */
async function buildCommittedServer(build: string, bundle: string): Promise<string> {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const commits = git('log', `-${COMMITS_TRIED}`, '--format=%h').split('\n').filter(Boolean);
  const skipped: string[] = [];
  for (const commit of commits) {
    const source = path.join(build, 'src');
    fs.rmSync(source, { recursive: true, force: true });
    fs.mkdirSync(source);
    const archive = spawnSync(
      'sh',
      ['-c', 'git archive --format=tar "$1" server shared package.json tsconfig.json | tar -x -C "$0"', source, commit],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (archive.status !== 0) throw new Error(`git archive ${commit} failed`);
    try {
      await buildServer(bundle, source); // esbuild prints what failed
    } catch (error) {
      const first = (error as { errors?: { text: string }[] }).errors?.[0]?.text ?? (error as Error).message;
      console.log(`commit ${commit}: its server does not build (${first}); trying the one before`);
      skipped.push(commit);
      continue;
    }
    const edited = spawnSync('git', ['status', '--porcelain', '--', 'server', 'shared'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .stdout.split('\n')
      .filter(Boolean).length;
    return (
      `commit ${git('log', '-1', '--format=%h %cI', commit)}` +
      (skipped.length ? ` (the newest that builds: ${skipped.join(', ')} did not)` : '') +
      (edited ? `; ${edited} uncommitted change(s) under server/ and shared/ not measured` : '')
    );
  }
  throw new Error(`none of the last ${COMMITS_TRIED} commits has a server that builds`);
}

interface Server {
  base: string;
  pid: number;
  /** Warnings the server printed (slow readers dropped, and the like), counted by their first words. */
  warnings: Map<string, number>;
  stop(): Promise<void>;
}

/** Starts the built server with its runtime folder and database in `dir` (made here). */
async function startServer(entry: string, dir: string): Promise<Server> {
  fs.mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--port',
      '0',
      '--runtime-dir',
      path.join(dir, 'run'),
      '--db',
      path.join(dir, 'runs.db'),
      '--max-playgrounds',
      String(MAX_PLAYGROUNDS + 10),
    ],
    // Its own process group: stopped as one, whatever it started.
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const warnings = new Map<string, number>();
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server printed no URL within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it answered:\n${output}`));
    });
  });
  // The log is JSON lines (pino); what matters here is which warnings and how many.
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let message = line;
      try {
        message = String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
      } catch {
        // not JSON: counted as it is
      }
      const key = message.split(':')[0]!.slice(0, 80);
      warnings.set(key, (warnings.get(key) ?? 0) + 1);
    }
  });
  return {
    base,
    pid: child.pid!,
    warnings,
    async stop() {
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, name);
        } catch {
          // already gone
        }
      };
      signal('SIGTERM');
      const killer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The server's resident memory in MiB (VmRSS). */
function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU seconds the server has used so far, every thread (its own, libzmq's, the recorder's writer thread). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

// ---------------------------------------------------------------------------------------------------------------
// Health checks, all through the case

interface Sample {
  at: number;
  ms: number;
}

/** One GET /api/health on a fresh connection; its time, or HEALTH_TIMEOUT_MS when it failed or took longer. */
function healthOnce(base: string, cookie: string): Promise<number> {
  const began = performance.now();
  return new Promise((resolve) => {
    const request = http.get(
      `${base}/api/health`,
      { agent: false, headers: { cookie }, timeout: HEALTH_TIMEOUT_MS },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200 ? performance.now() - began : HEALTH_TIMEOUT_MS));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(HEALTH_TIMEOUT_MS));
  });
}

async function probeHealth(base: string, samples: Sample[], signal: AbortSignal): Promise<void> {
  const cookie = `zpg_session=${randomBytes(32).toString('base64url')}`;
  while (!signal.aborted) {
    const at = performance.now();
    const ms = await healthOnce(base, cookie);
    samples.push({ at, ms });
    const wait = at + HEALTH_EVERY_MS - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Learners

interface RunEnd {
  reason: string;
  sent: number;
  received: number;
  /** task:sent times (ms since the run started) as the stream delivered them; tutorial only. */
  sentT: number[];
  /** Task events the stream sampled out of this run's frames (0 for a tutorial, unless the server was congested). */
  dropped: number;
}

interface Outcome {
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
    this.#closedWhy ??= 'closed by the bench';
    this.socket?.terminate();
  }
}

class Learner {
  readonly cookie = `zpg_session=${randomBytes(32).toString('base64url')}`;
  tutorial!: Watched;
  batch!: Watched;

  constructor(
    readonly number: number,
    readonly base: string,
    readonly runtimeDir: string,
  ) {}

  async request(method: string, url: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.base}${url}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
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
      address: `ipc://${this.runtimeDir}/learner-${this.number}.ipc`,
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

// ---------------------------------------------------------------------------------------------------------------
// The ramp

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)]!;
}

/** A server, its health checks and the outcomes of its learners' runs. */
interface Observed {
  server: Server;
  samples: Sample[];
  outcomes: Outcome[];
}

interface StepResult {
  learners: number;
  playgrounds: number;
  healthP50: number;
  healthP99: number;
  healthCount: number;
  tutorials: number;
  worstLateMs: number;
  batches: number;
  batchMedianMs: number;
  batchWorstMs: number;
  missed: string[];
  /** The loaded server's VmRSS, sampled every second of the window: its end and its peak. */
  rssMiB: number;
  rssPeakMiB: number;
  serverCpuPercent: number;
  benchCpuPercent: number;
  load: number;
  /** The control server in the same window: its health check's p99, its one tutorial's latest send, its misses. */
  controlP99: number;
  controlWorstLateMs: number;
  controlMissed: string[];
}

const load1 = () => os.loadavg()[0]!;
const loadText = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** What one server's health checks and runs did between `from` and `to`. */
function observedBetween(observed: Observed, from: number, to: number) {
  const health = observed.samples.filter((sample) => sample.at >= from && sample.at < to).map((sample) => sample.ms);
  const ended = observed.outcomes.filter((outcome) => outcome.endedAt >= from && outcome.endedAt < to);
  const tutorials = ended.filter((outcome) => outcome.kind === 'tutorial');
  const batches = ended.filter((outcome) => outcome.kind === 'batch');
  const batchTimes = batches.flatMap((outcome) => (outcome.ms === undefined ? [] : [outcome.ms]));
  return {
    health,
    tutorials: tutorials.length,
    worstLateMs: Math.max(0, ...tutorials.map((outcome) => outcome.worstLateMs ?? 0)),
    batches: batches.length,
    batchTimes,
    missed: ended.flatMap((outcome) => (outcome.missed ? [outcome.missed] : [])),
  };
}

/** Measures one window: health checks and run ends inside it on both servers, the loaded one's memory and CPU. */
async function measureWindow(
  loaded: Observed,
  control: Observed,
  learners: number,
  signal: AbortSignal,
): Promise<StepResult> {
  const pid = loaded.server.pid;
  const from = performance.now();
  const serverCpuFrom = cpuSeconds(pid);
  const benchCpuFrom = process.cpuUsage();
  let rssPeak = rssMiB(pid);
  const until = from + STEP_WINDOW_MS;
  while (!signal.aborted && performance.now() < until) {
    await sleep(Math.min(1000, until - performance.now()), undefined, { signal }).catch(() => {});
    rssPeak = Math.max(rssPeak, rssMiB(pid));
  }
  const to = performance.now();
  const seconds = (to - from) / 1000;
  const benchCpu = process.cpuUsage(benchCpuFrom);
  const mine = observedBetween(loaded, from, to);
  const controlled = observedBetween(control, from, to);
  return {
    learners,
    playgrounds: learners * PLAYGROUNDS_PER_LEARNER,
    healthP50: percentile(mine.health, 50),
    healthP99: percentile(mine.health, 99),
    healthCount: mine.health.length,
    tutorials: mine.tutorials,
    worstLateMs: mine.worstLateMs,
    batches: mine.batches,
    batchMedianMs: percentile(mine.batchTimes, 50),
    batchWorstMs: mine.batchTimes.length ? Math.max(...mine.batchTimes) : NaN,
    missed: mine.missed,
    rssMiB: rssMiB(pid),
    rssPeakMiB: rssPeak,
    serverCpuPercent: ((cpuSeconds(pid) - serverCpuFrom) / seconds) * 100,
    benchCpuPercent: ((benchCpu.user + benchCpu.system) / 1e6 / seconds) * 100,
    load: load1(),
    controlP99: percentile(controlled.health, 99),
    controlWorstLateMs: controlled.worstLateMs,
    controlMissed: controlled.missed,
  };
}

const HEADER =
  'learners | playgrounds | health p50 / p99 ms (n) | tutorials: runs, latest send | batches: runs, median / worst s | ' +
  'control: p99, latest send | RSS MiB end / peak | server CPU % | bench CPU % | load 1m | verdict';

function row(step: StepResult, verdict: string): string {
  const seconds = (ms: number) => (Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2));
  return [
    String(step.learners).padStart(8),
    String(step.playgrounds).padStart(11),
    `${step.healthP50.toFixed(1)} / ${step.healthP99.toFixed(1)} (${step.healthCount})`.padStart(24),
    `${step.tutorials}, ${step.worstLateMs.toFixed(0)} ms late`.padStart(28),
    `${step.batches}, ${seconds(step.batchMedianMs)} / ${seconds(step.batchWorstMs)}`.padStart(32),
    `${step.controlP99.toFixed(0)} ms, ${step.controlWorstLateMs.toFixed(0)} ms late`.padStart(25),
    `${step.rssMiB.toFixed(0)} / ${step.rssPeakMiB.toFixed(0)}`.padStart(18),
    step.serverCpuPercent.toFixed(0).padStart(12),
    step.benchCpuPercent.toFixed(0).padStart(11),
    step.load.toFixed(2).padStart(7),
    verdict,
  ].join(' | ');
}

/**
 * MiB of RSS per playground: the least-squares slope of the peaks over the playgrounds open, idle window included.
 * A slope, not (RSS - idle RSS) / playgrounds: the heap the server's start left behind is collected at some moment
 * during the first steps, which makes any one difference from the idle figure misleading.
 */
function rssPerPlayground(steps: StepResult[]): number {
  const n = steps.length;
  const meanX = steps.reduce((sum, step) => sum + step.playgrounds, 0) / n;
  const meanY = steps.reduce((sum, step) => sum + step.rssPeakMiB, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const step of steps) {
    covariance += (step.playgrounds - meanX) * (step.rssPeakMiB - meanY);
    variance += (step.playgrounds - meanX) ** 2;
  }
  return variance > 0 ? covariance / variance : NaN;
}

/** Why a step failed, or null when it passed. */
function failure(step: StepResult): string | null {
  const reasons: string[] = [];
  if (step.healthP99 > HEALTH_P99_LIMIT_MS) reasons.push(`health p99 ${step.healthP99.toFixed(0)} ms`);
  if (step.missed.length > 0) {
    const examples = step.missed.slice(0, 3).join('; ');
    reasons.push(`${step.missed.length} run(s) missed their pace (e.g. ${examples})`);
  }
  return reasons.length ? reasons.join('; ') : null;
}

/** True when the idle control server missed a limit in the same window: the machine, not the load, was slow. */
function controlMissed(step: StepResult): boolean {
  return (
    step.controlP99 > HEALTH_P99_LIMIT_MS || step.controlWorstLateMs > MAX_CATCH_UP_MS || step.controlMissed.length > 0
  );
}

/** Most windows one step is measured in before it counts as failed (see capacityCase). */
const WINDOWS_PER_STEP = 3;
/** Windows failed while the control kept its limits, that make a step fail. */
const LOAD_FAILURES_PER_STEP = 2;

export async function capacityCase(): Promise<void> {
  console.log(
    `\n== capacity: learners (2 playgrounds each: the tutorial, then a ${BATCH_TASKS}-task batch, 3-7 s apart, ` +
      `both watched) added ${LEARNERS_PER_STEP} a step, ${STEP_WINDOW_MS / 1000} s measured per step, until the ` +
      `health check's p99 passes ${HEALTH_P99_LIMIT_MS} ms or a run misses its pace (a tutorial send > ` +
      `${MAX_CATCH_UP_MS} ms late, a batch > ${BATCH_LIMIT_MS / 1000} s); at most ${MAX_PLAYGROUNDS} playgrounds ` +
      `or ${TIME_LIMIT_MS / 60_000} minutes. Control: a second server with one learner's tutorials only.`,
  );
  console.log(`load average at the start: ${loadText()} (${os.cpus().length} cores)`);
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  // Under the project folder: the bundle loads zeromq and better-sqlite3 from its node_modules at run time.
  const build = fs.mkdtempSync(path.join(ROOT, 'dist', 'bench-capacity-'));
  const bundle = path.join(build, 'server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-capacity-'));
  const stopAll = new AbortController();
  // Every learner's pauses listen to it.
  setMaxListeners(MAX_PLAYGROUNDS * 2, stopAll.signal);
  const learners: Learner[] = [];
  const working: Promise<void>[] = [];
  const servers: Server[] = [];
  try {
    const commit = await buildCommittedServer(build, bundle);
    const entry = path.join(bundle, 'main.js');
    const loadedDir = path.join(dir, 'loaded');
    const controlDir = path.join(dir, 'control');
    const loaded: Observed = { server: await startServer(entry, loadedDir), samples: [], outcomes: [] };
    servers.push(loaded.server);
    const control: Observed = { server: await startServer(entry, controlDir), samples: [], outcomes: [] };
    servers.push(control.server);
    console.log(
      `servers: ${commit}, built into ${path.relative(ROOT, bundle)}/main.js; loaded: pid ${loaded.server.pid} ` +
        `${loaded.server.base}, control: pid ${control.server.pid} ${control.server.base}`,
    );
    const probing = [loaded, control].map((observed) =>
      probeHealth(observed.server.base, observed.samples, stopAll.signal),
    );
    const controlLearner = new Learner(0, control.server.base, path.join(controlDir, 'run'));
    learners.push(controlLearner);
    await controlLearner.join();
    working.push(controlLearner.work(control.outcomes, stopAll.signal, false));
    const began = performance.now();

    console.log(HEADER);
    const idle = await measureWindow(loaded, control, 0, stopAll.signal);
    console.log(row(idle, 'idle'));
    // Every window, failed ones too (their memory is measured all the same): for RSS per playground.
    const measured: StepResult[] = [idle];

    let held: StepResult | null = null;
    let stoppedBy = '';
    /** True when the ramp stopped because the machine was too busy to tell, not because of the load. */
    let inconclusive = false;
    let count = 0;
    while (!stoppedBy) {
      if ((count + LEARNERS_PER_STEP) * PLAYGROUNDS_PER_LEARNER > MAX_PLAYGROUNDS) {
        stoppedBy = `the cap of ${MAX_PLAYGROUNDS} playgrounds`;
        break;
      }
      if (performance.now() - began + STEP_WINDOW_MS > TIME_LIMIT_MS) {
        stoppedBy = `the time limit of ${TIME_LIMIT_MS / 60_000} minutes`;
        break;
      }
      const joinBegan = performance.now();
      const joining: Learner[] = [];
      for (let i = 0; i < LEARNERS_PER_STEP; i++)
        joining.push(new Learner(++count, loaded.server.base, path.join(loadedDir, 'run')));
      learners.push(...joining);
      const joined = await Promise.allSettled(joining.map((learner) => learner.join()));
      const refused = joined.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      if (refused.length > 0) {
        stoppedBy = `a learner could not join: ${refused[0]}`;
        break;
      }
      const joinMs = performance.now() - joinBegan;
      for (const learner of joining) working.push(learner.work(loaded.outcomes, stopAll.signal));

      // A step passes with its first window that keeps every limit. A failed window counts against the load only
      // when the control server kept its limits in it (else the machine was slow for everyone: measured again);
      // two such windows, or three failed windows in all, end the ramp.
      let loadFailures = 0;
      for (let window = 1; window <= WINDOWS_PER_STEP; window++) {
        const step = await measureWindow(loaded, control, count, stopAll.signal);
        measured.push(step);
        const failed = failure(step);
        if (!failed) {
          console.log(row(step, window === 1 ? `ok (joined in ${joinMs.toFixed(0)} ms)` : `ok (window ${window})`));
          held = step;
          break;
        }
        const machine = controlMissed(step);
        if (!machine) loadFailures++;
        console.log(row(step, `FAILED${machine ? ' (the control too: the machine)' : ''}: ${failed}`));
        if (loadFailures >= LOAD_FAILURES_PER_STEP || window === WINDOWS_PER_STEP) {
          inconclusive = loadFailures === 0;
          stoppedBy = inconclusive ? `a machine too busy to tell (the control missed too): ${failed}` : failed;
          break;
        }
      }
    }

    const server = loaded.server;
    const warnings = [...server.warnings].map(([what, times]) => `${times} x "${what}"`).join(', ');
    console.log(`stopped by ${stoppedBy}`);
    if (warnings) console.log(`server warnings: ${warnings}`);
    if (held) {
      const atLeast = inconclusive || stoppedBy.startsWith('the cap') || stoppedBy.startsWith('the time');
      console.log(
        `one instance holds ${atLeast ? 'at least ' : ''}${held.learners} learners (${held.playgrounds} playgrounds) ` +
          `on this machine: health p99 ${held.healthP99.toFixed(0)} ms, latest tutorial send ${held.worstLateMs.toFixed(0)} ms ` +
          `late, worst batch ${(held.batchWorstMs / 1000).toFixed(1)} s`,
      );
    } else {
      console.log(`one instance held fewer than ${LEARNERS_PER_STEP} learners on this machine, now`);
    }
    const perPlayground = rssPerPlayground(measured);
    const last = measured[measured.length - 1]!;
    console.log(
      `server RSS (peaks): ${idle.rssPeakMiB.toFixed(0)} MiB idle, ${last.rssPeakMiB.toFixed(0)} MiB at ${last.playgrounds} ` +
        `playgrounds; ${perPlayground.toFixed(1)} MiB per playground (least-squares slope over ${measured.length} windows), ` +
        `${(perPlayground * PLAYGROUNDS_PER_LEARNER).toFixed(1)} per learner`,
    );
    console.log(`load average at the end: ${loadText()}`);
    stopAll.abort();
    await Promise.all(probing);
  } finally {
    stopAll.abort();
    for (const learner of learners) learner.close();
    // The learners' loops end with their current run (it fails once its watcher is gone): bounded anyway.
    await Promise.race([Promise.allSettled(working), sleep(RUN_TIMEOUT_MS, undefined, { ref: false })]);
    await Promise.all(servers.map((server) => server.stop()));
    fs.rmSync(build, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
