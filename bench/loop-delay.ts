/**
 * Loop delay (`npm run bench -- --case loop-delay`): what a 10,000-task batch at interval 0 does to everything else
 * the server's event loop runs (other visitors' timers, the health check, WebSocket frames). Rounds alternate:
 *   turns:    the pipeline as it runs, every send and receive loop giving the event loop a turn each 4 ms
 *             (server/pipeline/loop-turns.ts)
 *   no turns: the same batch with the slice set to Infinity, as the loops ran before
 * For each: the batch's tasks/s, the worst gap between the ticks of a 1 ms timer beside it, the event loop delay's
 * p99 and maximum (perf_hooks), and the worst gap the process itself spent busy (CPU time within the gap: a gap
 * where the machine, not the loop, held the process up counts for less). Medians over --rounds N.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import { Playground } from '../server/pipeline/playground.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { LOOP_SLICE_MS, sharedLoopTurns } from '../server/pipeline/loop-turns.ts';
import { SCENARIOS } from '../shared/scenarios/index.ts';

const TASKS = 10_000;
const RUN_TIMEOUT_MS = 120_000;

interface LoopFigures {
  tasksPerSecond: number;
  worstGapMs: number;
  worstBusyGapMs: number;
  delayP99Ms: number;
  delayMaxMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function batch(runtimeDir: string, sliceMs: number): Promise<LoopFigures> {
  sharedLoopTurns.sliceMs = sliceMs;
  const playground = new Playground({
    scenario: SCENARIOS.get('pipeline')!,
    params: { tasks: TASKS, intervalMs: 0, payloadBytes: 16, drainMs: 5000 },
    policy: defaultPolicy({ runtimeDir }),
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let worstGapMs = 0;
  let worstBusyGapMs = 0;
  let lastTick = performance.now();
  let lastCpu = process.cpuUsage();
  const ticker = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const gap = now - lastTick;
    worstGapMs = Math.max(worstGapMs, gap);
    worstBusyGapMs = Math.max(worstBusyGapMs, Math.min(gap, (cpu.user + cpu.system) / 1000));
    lastTick = now;
    lastCpu = process.cpuUsage();
  }, 1);
  try {
    let first = -1;
    let last = -1;
    let received = 0;
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the batch did not end within ${RUN_TIMEOUT_MS} ms`)),
        RUN_TIMEOUT_MS,
      );
      playground.log.subscribe((event) => {
        if (event.type === 'task:sent' && first < 0) first = event.t;
        else if (event.type === 'task:received') {
          last = event.t;
          received++;
        } else if (event.type === 'run:ended') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    delay.enable();
    lastTick = performance.now();
    lastCpu = process.cpuUsage();
    worstGapMs = 0;
    worstBusyGapMs = 0;
    playground.startRun();
    await ended;
    delay.disable();
    if (received !== TASKS) throw new Error(`the batch delivered ${received} of ${TASKS} tasks`);
    return {
      tasksPerSecond: (TASKS / (last - first)) * 1000,
      worstGapMs,
      worstBusyGapMs,
      delayP99Ms: delay.percentile(99) / 1e6,
      delayMaxMs: delay.max / 1e6,
    };
  } finally {
    clearInterval(ticker);
    delay.disable();
    sharedLoopTurns.sliceMs = LOOP_SLICE_MS;
    await playground.close();
  }
}

const describe = (figures: LoopFigures) =>
  `${figures.tasksPerSecond.toFixed(0)} tasks/s, worst 1 ms tick gap ${figures.worstGapMs.toFixed(1)} ms ` +
  `(busy ${figures.worstBusyGapMs.toFixed(1)} ms), loop delay p99 ${figures.delayP99Ms.toFixed(1)} ms, ` +
  `max ${figures.delayMaxMs.toFixed(1)} ms`;

export async function loopDelayCase(rounds: number, runtimeDir: string): Promise<void> {
  const load = () =>
    os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
  console.log(`\n== loop-delay: a ${TASKS}-task batch at interval 0, with turns every ${LOOP_SLICE_MS} ms and without`);
  console.log(`load average at the start: ${load()} (${os.cpus().length} cores)`);
  const withTurns: LoopFigures[] = [];
  const without: LoopFigures[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Alternate which goes first, so that a change in the machine's load hits both.
    const order = round % 2 ? [LOOP_SLICE_MS, Infinity] : [Infinity, LOOP_SLICE_MS];
    for (const sliceMs of order) {
      const figures = await batch(runtimeDir, sliceMs);
      (sliceMs === Infinity ? without : withTurns).push(figures);
      console.log(`  round ${round}, ${sliceMs === Infinity ? 'no turns' : 'turns   '}: ${describe(figures)}`);
    }
  }
  const summary = (all: LoopFigures[]): LoopFigures => ({
    tasksPerSecond: median(all.map((f) => f.tasksPerSecond)),
    worstGapMs: median(all.map((f) => f.worstGapMs)),
    worstBusyGapMs: median(all.map((f) => f.worstBusyGapMs)),
    delayP99Ms: median(all.map((f) => f.delayP99Ms)),
    delayMaxMs: median(all.map((f) => f.delayMaxMs)),
  });
  const turns = summary(withTurns);
  const none = summary(without);
  console.log(`median, turns:    ${describe(turns)}`);
  console.log(`median, no turns: ${describe(none)}`);
  console.log(
    `ratios turns/no turns: tasks/s ${(turns.tasksPerSecond / none.tasksPerSecond).toFixed(2)}, ` +
      `worst tick gap ${(turns.worstGapMs / none.worstGapMs).toFixed(2)}, loop delay max ${(turns.delayMaxMs / none.delayMaxMs).toFixed(2)}`,
  );
  console.log(`load average at the end: ${load()}`);
}
