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
 *
 * With `--instances N` (N >= 2; issue 13's "the second instance adds at least 0.8x the first's capacity"), the same
 * ramp runs three times in one case, alternating: one instance, N instances, one instance again, each time behind
 * HAProxy (deploy/haproxy.cfg of the measured commit, filled in as `npm run cluster` does; bench/capacity-cluster.ts)
 * with a fresh database of one throw-away PostgreSQL (scripts/throwaway-postgres.ts) as the instances' shared store,
 * as `npm run cluster` runs them. The learners use the proxy's one URL only: a new visitor lands on the least loaded
 * instance (leastconn: every watched playground holds a WebSocket through the proxy) and stays there (the
 * zpg_instance cookie, sent back as a browser does); its playgrounds' requests and streams go where their ids say.
 * The health checks go to each instance directly (as HAProxy's own do) and a window's p99 is the worst instance's;
 * memory and CPU are the instances' sums. The case prints each capacity and the ratio: what the N instances hold
 * beyond one (the mean of the two one-instance ramps), over what one holds.
 *
 * This file holds the ramp: its limits, a window's measurement, the table and the verdict. The server's process, its
 * /proc figures and the health checks are in capacity-server.ts; the learners and their runs in capacity-learner.ts;
 * HAProxy in capacity-cluster.ts.
 */
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_CATCH_UP_MS } from '../server/pipeline/pace.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../scripts/throwaway-postgres.ts';
import { haproxyBinary, type Proxy, startProxy } from './capacity-cluster.ts';
import { BATCH_LIMIT_MS, BATCH_TASKS, Learner, type Outcome, RUN_TIMEOUT_MS } from './capacity-learner.ts';
import {
  buildCommittedServer,
  cpuSeconds,
  probeHealth,
  processTreeCpuSeconds,
  ROOT,
  rssMiB,
  type Sample,
  type Server,
  startServer,
} from './capacity-server.ts';

const LEARNERS_PER_STEP = 2;
/** Each learner holds two playgrounds (the tutorial's and the sandbox's). */
const PLAYGROUNDS_PER_LEARNER = 2;
/** Hard caps of the ramp, whatever the measurements say. */
const MAX_PLAYGROUNDS = 200;
const TIME_LIMIT_MS = 10 * 60_000;
/** With --instances N: each of the three ramps (the case as a whole stays under bench/run.ts's 30 minutes). */
const CLUSTER_RAMP_TIME_LIMIT_MS = 7 * 60_000;
/** About one round of a learner (tutorial 12 s, batch about 1 s, two pauses), so that each step sees both runs. */
const STEP_WINDOW_MS = 25_000;

/** A window whose health checks' p99 passes this fails. */
const HEALTH_P99_LIMIT_MS = 200;

// ---------------------------------------------------------------------------------------------------------------
// The ramp

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)]!;
}

/** The servers under one load (one, or the instances behind the proxy), each one's health checks, their runs' outcomes. */
interface Observed {
  servers: Server[];
  /** The health checks of servers[i]. */
  samples: Sample[][];
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

/** What the servers' health checks and runs did between `from` and `to`; health p99: the worst server's. */
function observedBetween(observed: Observed, from: number, to: number) {
  const perServer = observed.samples.map((samples) =>
    samples.filter((sample) => sample.at >= from && sample.at < to).map((sample) => sample.ms),
  );
  const health = perServer.flat();
  const worstP99 = Math.max(...perServer.map((times) => percentile(times, 99)));
  const ended = observed.outcomes.filter((outcome) => outcome.endedAt >= from && outcome.endedAt < to);
  const tutorials = ended.filter((outcome) => outcome.kind === 'tutorial');
  const batches = ended.filter((outcome) => outcome.kind === 'batch');
  const batchTimes = batches.flatMap((outcome) => (outcome.ms === undefined ? [] : [outcome.ms]));
  return {
    health,
    worstP99,
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
  const pids = loaded.servers.map((server) => server.pid);
  const rssNow = () => pids.reduce((sum, pid) => sum + rssMiB(pid), 0);
  const cpuNow = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const from = performance.now();
  const serverCpuFrom = cpuNow();
  const benchCpuFrom = process.cpuUsage();
  let rssPeak = rssNow();
  const until = from + STEP_WINDOW_MS;
  while (!signal.aborted && performance.now() < until) {
    await sleep(Math.min(1000, until - performance.now()), undefined, { signal }).catch(() => {});
    rssPeak = Math.max(rssPeak, rssNow());
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
    healthP99: mine.worstP99,
    healthCount: mine.health.length,
    tutorials: mine.tutorials,
    worstLateMs: mine.worstLateMs,
    batches: mine.batches,
    batchMedianMs: percentile(mine.batchTimes, 50),
    batchWorstMs: mine.batchTimes.length ? Math.max(...mine.batchTimes) : NaN,
    missed: mine.missed,
    rssMiB: rssNow(),
    rssPeakMiB: rssPeak,
    serverCpuPercent: ((cpuNow() - serverCpuFrom) / seconds) * 100,
    benchCpuPercent: ((benchCpu.user + benchCpu.system) / 1e6 / seconds) * 100,
    load: load1(),
    controlP99: controlled.worstP99,
    controlWorstLateMs: controlled.worstLateMs,
    controlMissed: controlled.missed,
  };
}

const HEADER =
  'learners | playgrounds | health p50 / p99 ms (n) | tutorials: runs, latest send | batches: runs, median / worst s | ' +
  'control: p99, latest send | RSS MiB end / peak | server CPU % | bench CPU % | load 1m | verdict\n' +
  "(with several instances: health p99 the worst instance's, RSS and CPU the sum of the instances)";

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

/** How one ramp ended. */
interface RampResult {
  instances: number;
  idle: StepResult;
  /** The last step that passed, or null. */
  held: StepResult | null;
  stoppedBy: string;
  /** True when the ramp stopped before the load did (the cap, the time limit, a machine too busy to tell). */
  atLeast: boolean;
  /** Every window, failed ones too (their memory is measured all the same): for RSS per playground. */
  measured: StepResult[];
  /** Playgrounds per instance when the ramp ended, e.g. "a 10, b 8". */
  placement: string;
}

/** Learners the ramp held (0 when not even the first step passed). */
const heldLearners = (result: RampResult) => result.held?.learners ?? 0;

/**
 * Adds learners to `loaded` step by step (through `base`: the server or the proxy) until a step fails, the cap or
 * `timeLimitMs`; prints its table and verdict. Its learners and health checks end with it; the control's go on.
 */
async function ramp(
  loaded: Observed,
  control: Observed,
  base: string,
  runtimeDirOf: (playgroundId: string) => string,
  timeLimitMs: number,
  caseSignal: AbortSignal,
): Promise<RampResult> {
  const stopRamp = new AbortController();
  const stopOnCase = () => stopRamp.abort();
  caseSignal.addEventListener('abort', stopOnCase);
  setMaxListeners(MAX_PLAYGROUNDS * 2, stopRamp.signal);
  const signal = stopRamp.signal;
  const learners: Learner[] = [];
  const working: Promise<void>[] = [];
  loaded.samples = loaded.servers.map(() => []);
  const probing = loaded.servers.map((server, i) => probeHealth(server.base, loaded.samples[i]!, signal));
  try {
    const began = performance.now();
    console.log(HEADER);
    const idle = await measureWindow(loaded, control, 0, signal);
    console.log(row(idle, 'idle'));
    const measured: StepResult[] = [idle];

    let held: StepResult | null = null;
    let stoppedBy = '';
    let inconclusive = false;
    let count = 0;
    while (!stoppedBy) {
      if (caseSignal.aborted) {
        stoppedBy = 'the case being stopped';
        break;
      }
      if ((count + LEARNERS_PER_STEP) * PLAYGROUNDS_PER_LEARNER > MAX_PLAYGROUNDS) {
        stoppedBy = `the cap of ${MAX_PLAYGROUNDS} playgrounds`;
        break;
      }
      if (performance.now() - began + STEP_WINDOW_MS > timeLimitMs) {
        stoppedBy = `the time limit of ${timeLimitMs / 60_000} minutes`;
        break;
      }
      const joinBegan = performance.now();
      const joining: Learner[] = [];
      for (let i = 0; i < LEARNERS_PER_STEP; i++) joining.push(new Learner(++count, base, runtimeDirOf));
      learners.push(...joining);
      const joined = await Promise.allSettled(joining.map((learner) => learner.join()));
      const refused = joined.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      if (refused.length > 0) {
        stoppedBy = `a learner could not join: ${refused[0]}`;
        break;
      }
      const joinMs = performance.now() - joinBegan;
      for (const learner of joining) working.push(learner.work(loaded.outcomes, signal));

      // A step passes with its first window that keeps every limit. A failed window counts against the load only
      // when the control server kept its limits in it (else the machine was slow for everyone: measured again);
      // two such windows, or three failed windows in all, end the ramp.
      let loadFailures = 0;
      for (let window = 1; window <= WINDOWS_PER_STEP; window++) {
        const step = await measureWindow(loaded, control, count, signal);
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

    const placed = new Map<string, number>();
    for (const learner of learners)
      for (const instance of learner.instances()) placed.set(instance, (placed.get(instance) ?? 0) + 1);
    const placement = [...placed]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([instance, playgrounds]) => `${instance} ${playgrounds}`)
      .join(', ');
    const atLeast =
      inconclusive ||
      stoppedBy.startsWith('the cap') ||
      stoppedBy.startsWith('the time') ||
      stoppedBy.startsWith('the case');
    const result: RampResult = {
      instances: loaded.servers.length,
      idle,
      held,
      stoppedBy,
      atLeast,
      measured,
      placement,
    };
    printRamp(result, loaded.servers);
    return result;
  } finally {
    caseSignal.removeEventListener('abort', stopOnCase);
    stopRamp.abort();
    for (const learner of learners) learner.close();
    // The learners' loops end with their current run (it fails once its watcher is gone): bounded anyway.
    await Promise.race([Promise.allSettled(working), sleep(RUN_TIMEOUT_MS, undefined, { ref: false })]);
    await Promise.all(probing);
  }
}

function printRamp(result: RampResult, servers: Server[]): void {
  const { held, measured, idle } = result;
  const what = result.instances === 1 ? 'one instance holds' : `${result.instances} instances hold`;
  const warnings = servers
    .flatMap((server) => [...server.warnings])
    .map(([text, times]) => `${times} x "${text}"`)
    .join(', ');
  console.log(`stopped by ${result.stoppedBy}`);
  if (warnings) console.log(`server warnings: ${warnings}`);
  if (held) {
    console.log(
      `${what} ${result.atLeast ? 'at least ' : ''}${held.learners} learners (${held.playgrounds} playgrounds) ` +
        `on this machine: health p99 ${held.healthP99.toFixed(0)} ms, latest tutorial send ${held.worstLateMs.toFixed(0)} ms ` +
        `late, worst batch ${(held.batchWorstMs / 1000).toFixed(1)} s`,
    );
  } else {
    console.log(`${what} fewer than ${LEARNERS_PER_STEP} learners on this machine, now`);
  }
  if (result.placement) console.log(`playgrounds per instance at the end: ${result.placement}`);
  const perPlayground = rssPerPlayground(measured);
  const last = measured[measured.length - 1]!;
  console.log(
    `server RSS (peaks${servers.length > 1 ? ', all instances' : ''}): ${idle.rssPeakMiB.toFixed(0)} MiB idle, ` +
      `${last.rssPeakMiB.toFixed(0)} MiB at ${last.playgrounds} playgrounds; ${perPlayground.toFixed(1)} MiB per playground ` +
      `(least-squares slope over ${measured.length} windows), ${(perPlayground * PLAYGROUNDS_PER_LEARNER).toFixed(1)} per learner`,
  );
  console.log(`load average: ${loadText()}`);
}

export interface CapacityOptions {
  /**
   * 1 (default): one server, as `npm start` runs it (its own SQLite file), learners straight to it. N >= 2: the
   * comparison behind HAProxy with a shared PostgreSQL, ramps of 1, N and 1 instances.
   */
  instances: number;
}

export async function capacityCase({ instances }: CapacityOptions = { instances: 1 }): Promise<void> {
  const cluster = instances > 1;
  console.log(
    `\n== capacity: learners (2 playgrounds each: the tutorial, then a ${BATCH_TASKS}-task batch, 3-7 s apart, ` +
      `both watched) added ${LEARNERS_PER_STEP} a step, ${STEP_WINDOW_MS / 1000} s measured per step, until the ` +
      `health check's p99 passes ${HEALTH_P99_LIMIT_MS} ms or a run misses its pace (a tutorial send > ` +
      `${MAX_CATCH_UP_MS} ms late, a batch > ${BATCH_LIMIT_MS / 1000} s); at most ${MAX_PLAYGROUNDS} playgrounds ` +
      `or ${(cluster ? CLUSTER_RAMP_TIME_LIMIT_MS : TIME_LIMIT_MS) / 60_000} minutes${cluster ? ' per ramp' : ''}. ` +
      `Control: a second server with one learner's tutorials only.`,
  );
  if (cluster) {
    console.log(
      `Ramps, alternating: 1, ${instances}, 1 instance(s), each behind HAProxy (deploy/haproxy.cfg) with a fresh ` +
        `database of one throw-away PostgreSQL shared by the instances; learners through the proxy's one URL.`,
    );
    if (!haproxyBinary()) throw new Error("HAProxy is not installed: apt-get install haproxy (Debian's package)");
  }
  console.log(`load average at the start: ${loadText()} (${os.cpus().length} cores)`);
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  // Under the project folder: the bundle loads zeromq and better-sqlite3 from its node_modules at run time.
  const build = fs.mkdtempSync(path.join(ROOT, 'dist', 'bench-capacity-'));
  const bundle = path.join(build, 'server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-capacity-'));
  const stopAll = new AbortController();
  const servers: Server[] = [];
  let postgres: ThrowawayPostgres | null = null;
  let controlWork: Promise<void> | null = null;
  let controlLearner: Learner | null = null;
  let controlProbe: Promise<void> | null = null;
  try {
    const commit = await buildCommittedServer(build, bundle);
    const entry = path.join(bundle, 'main.js');
    const controlDir = path.join(dir, 'control');
    const control: Observed = {
      servers: [await startServer(entry, controlDir, MAX_PLAYGROUNDS)],
      samples: [[]],
      outcomes: [],
    };
    servers.push(control.servers[0]!);
    console.log(
      `servers: ${commit.text}, built into ${path.relative(ROOT, bundle)}/main.js; control: pid ` +
        `${control.servers[0]!.pid} ${control.servers[0]!.base}`,
    );
    controlProbe = probeHealth(control.servers[0]!.base, control.samples[0]!, stopAll.signal);
    controlLearner = new Learner(0, control.servers[0]!.base, () => path.join(controlDir, 'run'));
    await controlLearner.join();
    controlWork = controlLearner.work(control.outcomes, stopAll.signal, false);

    if (!cluster) {
      const loadedDir = path.join(dir, 'loaded');
      const server = await startServer(entry, loadedDir, MAX_PLAYGROUNDS);
      servers.push(server);
      console.log(`loaded: pid ${server.pid} ${server.base} (its own SQLite file)`);
      const loaded: Observed = { servers: [server], samples: [], outcomes: [] };
      await ramp(loaded, control, server.base, () => path.join(loadedDir, 'run'), TIME_LIMIT_MS, stopAll.signal);
      return;
    }

    // The proxy's configuration of the measured commit, as the server is.
    const template = spawnSync('git', ['show', `${commit.hash}:deploy/haproxy.cfg`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (template.status !== 0) throw new Error(`commit ${commit.hash} has no deploy/haproxy.cfg: ${template.stderr}`);
    postgres = await startThrowawayPostgres();
    console.log(`PostgreSQL (throw-away, pid ${postgres.pid}): ${postgres.url}`);
    const order = [1, instances, 1];
    const results: RampResult[] = [];
    for (const [index, count] of order.entries()) {
      const rampDir = path.join(dir, `ramp${index + 1}`);
      const names = 'abcdefgh'.slice(0, count).split('');
      const db = await postgres.createDatabase(`capacity_ramp${index + 1}`);
      const rampServers: Server[] = [];
      let proxy: Proxy | null = null;
      try {
        // One at a time: both would otherwise create their folders and load their modules at once on 2 cores.
        for (const name of names) {
          const server = await startServer(entry, path.join(rampDir, name), MAX_PLAYGROUNDS, { name, db });
          rampServers.push(server);
        }
        proxy = await startProxy(
          template.stdout,
          names.map((name, i) => ({ name, address: new URL(rampServers[i]!.base).host })),
          path.join(rampDir, 'proxy'),
        );
        console.log(
          `\n-- ramp ${index + 1} of ${order.length}: ${count} instance(s) behind HAProxy ${proxy.base} (pid ` +
            `${proxy.pid}): ${names.map((name, i) => `${name} pid ${rampServers[i]!.pid}`).join(', ')}; database ${db}`,
        );
        const loaded: Observed = { servers: rampServers, samples: [], outcomes: [] };
        const runtimeDirOf = (id: string) => path.join(rampDir, id.split('.')[0]!, 'run');
        // What the proxy and the database cost beside the instances, over the whole ramp (not in the table).
        const besides = () => [processTreeCpuSeconds(postgres!.pid), cpuSeconds(proxy!.pid)] as const;
        const [postgresFrom, proxyFrom] = besides();
        const rampBegan = performance.now();
        results.push(await ramp(loaded, control, proxy.base, runtimeDirOf, CLUSTER_RAMP_TIME_LIMIT_MS, stopAll.signal));
        const [postgresTo, proxyTo] = besides();
        const seconds = (performance.now() - rampBegan) / 1000;
        console.log(
          `over the ramp (${seconds.toFixed(0)} s): PostgreSQL ${(((postgresTo - postgresFrom) / seconds) * 100).toFixed(1)} % ` +
            `of a core (its processes still running), HAProxy ${(((proxyTo - proxyFrom) / seconds) * 100).toFixed(1)} %`,
        );
      } finally {
        await proxy?.stop();
        await Promise.all(rampServers.map((server) => server.stop()));
      }
    }
    printComparison(results, instances);
  } finally {
    stopAll.abort();
    controlLearner?.close();
    await Promise.race([
      Promise.allSettled([controlWork, controlProbe]),
      sleep(RUN_TIMEOUT_MS, undefined, { ref: false }),
    ]);
    await Promise.all(servers.map((server) => server.stop()));
    await postgres?.stop();
    fs.rmSync(build, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The comparison's verdict: each ramp's capacity, and what the N instances add beyond one, over one's. */
function printComparison(results: RampResult[], instances: number): void {
  const ones = results.filter((result) => result.instances === 1);
  const many = results.find((result) => result.instances === instances)!;
  const text = (result: RampResult) => `${result.atLeast ? '>= ' : ''}${heldLearners(result)}`;
  const one = ones.reduce((sum, result) => sum + heldLearners(result), 0) / ones.length;
  const added = heldLearners(many) - one;
  const ratio = one > 0 ? added / one : NaN;
  console.log(
    `\ncapacity behind HAProxy, in learners (2 playgrounds each): one instance ${ones.map(text).join(' and ')} ` +
      `(ramps 1 and 3, mean ${one.toFixed(1)}); ${instances} instances ${text(many)} (ramp 2, playgrounds per ` +
      `instance ${many.placement || '-'})`,
  );
  console.log(
    Number.isNaN(ratio)
      ? `ratio: undefined (one instance held fewer than ${LEARNERS_PER_STEP} learners)`
      : `the other ${instances - 1} instance(s) add ${added.toFixed(1)} learners: ${ratio.toFixed(2)}x one instance's ` +
          `capacity (issue 13 asks >= ${(0.8 * (instances - 1)).toFixed(1)}x; on ${os.cpus().length} cores the instances ` +
          `share the same cores, the proxy and PostgreSQL run on them too)`,
  );
}
