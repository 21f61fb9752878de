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
 * This file holds the ramp: its limits, a window's measurement, the table and the verdict. The server's process, its
 * /proc figures and the health checks are in capacity-server.ts; the learners and their runs in capacity-learner.ts.
 */
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_CATCH_UP_MS } from '../server/pipeline/pace.ts';
import { BATCH_LIMIT_MS, BATCH_TASKS, Learner, type Outcome, RUN_TIMEOUT_MS } from './capacity-learner.ts';
import {
  buildCommittedServer,
  cpuSeconds,
  probeHealth,
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
    const loaded: Observed = {
      server: await startServer(entry, loadedDir, MAX_PLAYGROUNDS),
      samples: [],
      outcomes: [],
    };
    servers.push(loaded.server);
    const control: Observed = {
      server: await startServer(entry, controlDir, MAX_PLAYGROUNDS),
      samples: [],
      outcomes: [],
    };
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
