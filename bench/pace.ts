/**
 * Pace (`npm run bench -- --case pace`): the ventilator's rate at interval 1 ms and 10 ms against the rate asked for
 * (1,000 and 100 tasks/s). Each round runs, in turn:
 *   playground: the pipeline scenario headless (two in-process workers, synchronised start, not recorded), rate
 *               from the first task:sent to the last (its `t`): (tasks - 1) / span
 *   sleep:      bare zeromq.js, PUSH -> PULL over tcp, a sleep of the interval after each send: how the ventilator
 *               paced before it kept a schedule (server/pipeline/pace.ts), measured on the same machine
 * 2,000 tasks at 1 ms, 300 at 10 ms. Medians of --rounds N; the event loop's worst lag during each playground run
 * says how much the machine held the process up (beyond 100 ms behind, the schedule restarts: the rate drops).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import * as zmq from 'zeromq';
import { Playground } from '../server/pipeline/playground.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { SCENARIOS } from '../shared/scenarios/index.ts';

const LOADS = [
  { intervalMs: 1, tasks: 2000 },
  { intervalMs: 10, tasks: 300 },
];
const RUN_TIMEOUT_MS = 120_000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The playground's batch at `intervalMs`: achieved tasks/s and the worst event loop lag (ms) during it. */
async function playgroundRate(
  runtimeDir: string,
  intervalMs: number,
  tasks: number,
): Promise<{ rate: number; lagMs: number }> {
  const playground = new Playground({
    scenario: SCENARIOS.get('pipeline')!,
    params: { tasks, intervalMs, payloadBytes: 0, syncStart: true, drainMs: 1500 },
    policy: defaultPolicy({ runtimeDir }),
  });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  try {
    let first = -1;
    let last = -1;
    let sent = 0;
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`pace run at ${intervalMs} ms did not end within ${RUN_TIMEOUT_MS} ms`)),
        RUN_TIMEOUT_MS,
      );
      playground.log.subscribe((event) => {
        if (event.type === 'task:sent') {
          if (first < 0) first = event.t;
          last = event.t;
          sent++;
        } else if (event.type === 'run:ended') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    lag.enable();
    playground.startRun();
    await ended;
    lag.disable();
    if (sent !== tasks) throw new Error(`pace run at ${intervalMs} ms sent ${sent} of ${tasks}`);
    return { rate: ((tasks - 1) / (last - first)) * 1000, lagMs: lag.max / 1e6 };
  } finally {
    lag.disable();
    await playground.close();
  }
}

/** Bare zeromq.js with a sleep of `intervalMs` after each send, as the ventilator used to pace. */
async function sleepAfterEachSend(intervalMs: number, tasks: number): Promise<number> {
  const push = new zmq.Push({ linger: 0 });
  const pull = new zmq.Pull({ linger: 0 });
  try {
    await push.bind('tcp://127.0.0.1:*');
    pull.connect(push.lastEndpoint!);
    const receiving = (async () => {
      for (let received = 0; received < tasks; received++) await pull.receive();
    })();
    let first = 0;
    for (let task = 0; task < tasks; task++) {
      await push.send(String(task));
      if (task === 0) first = performance.now();
      if (task < tasks - 1) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    const span = performance.now() - first;
    await receiving;
    return ((tasks - 1) / span) * 1000;
  } finally {
    push.close();
    pull.close();
  }
}

export async function paceCase(rounds: number, runtimeDir: string): Promise<void> {
  console.log(
    `\n== pace: achieved tasks/s at interval 1 ms and 10 ms, ${rounds} rounds (playground, then a sleep after each send)`,
  );
  console.log(
    `load average at the start: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')} (${os.cpus().length} cores)`,
  );
  for (const { intervalMs, tasks } of LOADS) {
    const asked = 1000 / intervalMs;
    const playground: number[] = [];
    const sleeping: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const paced = await playgroundRate(runtimeDir, intervalMs, tasks);
      const slept = await sleepAfterEachSend(intervalMs, tasks);
      playground.push(paced.rate);
      sleeping.push(slept);
      console.log(
        `  ${intervalMs} ms, round ${round}: playground ${paced.rate.toFixed(0)} tasks/s (worst event loop lag ${paced.lagMs.toFixed(0)} ms), ` +
          `sleep after each send ${slept.toFixed(0)} tasks/s`,
      );
    }
    const achieved = median(playground);
    console.log(
      `interval ${intervalMs} ms (${asked} tasks/s asked), ${tasks} tasks: playground ${achieved.toFixed(0)} tasks/s ` +
        `(${(((achieved - asked) / asked) * 100).toFixed(1)} % off), a sleep after each send ${median(sleeping).toFixed(0)} tasks/s`,
    );
  }
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
}
