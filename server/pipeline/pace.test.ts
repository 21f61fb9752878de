/**
 * The ventilator's pace on a clock the test moves: a send never goes out before its due time (first + n x
 * interval), a late wake-up is caught up by sending at once, so the count of sends follows the rate; a stall longer
 * than MAX_CATCH_UP_MS restarts the schedule instead of ending in a burst. Then the same on real sockets: a batch of
 * 2,000 tasks at 1 ms.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { collect, ofType, runEnded, testPolicy } from '../../test/helpers.ts';
import { MAX_CATCH_UP_MS, Pace } from './pace.ts';
import { Playground } from './playground.ts';

/**
 * Drives a pace as the run's loop does: send, ask when the next is due, sleep until then if it is ahead, waking
 * `lateBy(n)` ms after the due time (a timer's lateness); `sendMs` is what a send takes. Answers the send times.
 */
function drive(
  pace: Pace,
  clock: { now: number },
  sends: number,
  lateBy: (n: number) => number,
  sendMs = 0.01,
): number[] {
  const times: number[] = [];
  for (let n = 0; n < sends; n++) {
    clock.now += sendMs;
    times.push(clock.now);
    const due = pace.afterSend();
    if (due > clock.now) clock.now = due + lateBy(n); // a sleep: never wakes before its deadline
  }
  return times;
}

describe('Pace', () => {
  it('never sends before the due time, and keeps the rate when every timer wakes late', () => {
    const clock = { now: 1000 };
    const pace = new Pace(1, () => clock.now);
    // Timers wake 0.1-1.9 ms late, as Node's do at 1 ms: a sleep after each send would manage about 400/s.
    const times = drive(pace, clock, 2000, (n) => 0.1 + ((n * 7) % 19) / 10);
    const first = times[0]!;
    times.forEach((time, n) => expect(time, `send ${n}`).toBeGreaterThanOrEqual(first + n * 1 - 1e-9));
    // 2,000 sends at 1 ms take 1,999 ms plus at most one timer's lateness: 1,000 tasks a second.
    const span = times.at(-1)! - first;
    expect(span).toBeGreaterThanOrEqual(1999);
    expect(span).toBeLessThan(1999 + 2);
  });

  it('sends at once while behind, and sleeps again once caught up', () => {
    const clock = { now: 0 };
    const pace = new Pace(10, () => clock.now);
    expect(pace.afterSend()).toBe(10); // the first send starts the schedule
    clock.now = 35; // woke 25 ms late: sends 1, 2 and 3 are due at 10, 20 and 30
    expect(pace.afterSend()).toBe(20);
    expect(pace.afterSend()).toBe(30);
    expect(pace.afterSend()).toBe(40); // caught up: the next is ahead, 5 ms to sleep
  });

  it('restarts the schedule after a stall instead of catching it up in a burst', () => {
    const clock = { now: 0 };
    const pace = new Pace(10, () => clock.now);
    pace.afterSend();
    clock.now = 10;
    expect(pace.afterSend()).toBe(20);
    // The next send was blocked (a full pipe) and went out long after its due time.
    clock.now = 20 + MAX_CATCH_UP_MS + 1;
    expect(pace.afterSend()).toBe(clock.now + 10);
    // Lateness within MAX_CATCH_UP_MS is caught up.
    clock.now += 10 + MAX_CATCH_UP_MS - 1;
    const due = pace.afterSend();
    expect(due).toBeLessThan(clock.now);
  });
});

describe('a 2,000-task batch at interval 1 ms, on real sockets', () => {
  it(
    'sends no task before its due time, takes at least 1.9 s, and keeps 1,000 tasks/s +-5 % when the machine keeps up',
    { timeout: 90_000 },
    async () => {
      const policy = testPolicy();
      const playground = new Playground({
        scenario: SCENARIOS.get('pipeline')!,
        params: { tasks: 2000, intervalMs: 1, payloadBytes: 0, syncStart: true },
        policy,
      });
      // How late this process's timers ran during the batch: a machine that held it up for 50 ms or more cannot be
      // asked for a rate (the schedule restarts after 100 ms behind), only for a schedule never run ahead of.
      const lag = monitorEventLoopDelay({ resolution: 10 });
      try {
        const events = collect(playground);
        const run = playground.startRun();
        lag.enable();
        const ended = await runEnded(playground, run.id, 80_000);
        lag.disable();
        expect(ended.reason).toBe('completed');
        const sent = ofType(events, 'task:sent').filter((event) => event.run === run.id);
        expect(sent).toHaveLength(2000);
        const first = sent[0]!.t;
        // t is stamped in microseconds (rounded): a thousandth of a millisecond of tolerance.
        const early = sent
          .filter((event) => event.t < first + event.task * 1 - 0.001)
          .map((event) => `task ${event.task} at ${(event.t - first).toFixed(3)} ms`);
        expect(early).toEqual([]);
        const spanMs = sent.at(-1)!.t - first;
        expect(spanMs).toBeGreaterThanOrEqual(1900);
        const worstLagMs = lag.max / 1e6;
        if (worstLagMs < 50) {
          // 1,999 intervals at 1,000/s +-5 %: at most 2,099 ms (a sleep after each send took 3-6 s).
          expect(spanMs, `worst event loop lag ${worstLagMs.toFixed(1)} ms`).toBeLessThanOrEqual(2099);
        } else {
          console.info(
            `pace: the machine held this process up for ${worstLagMs.toFixed(0)} ms; the rate (${((1999 / spanMs) * 1000).toFixed(0)} tasks/s) is not checked`,
          );
        }
      } finally {
        lag.disable();
        await playground.close();
        policy.cleanup();
      }
    },
  );
});
