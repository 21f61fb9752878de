/**
 * RunState and its parts (topology, counts, event log, flight plan) folding the tutorial's events as the stream
 * delivers them: one record of counts that every figure reads, a task:lost counted once, log lines said in the
 * language of the moment they are drawn, dots and the messages they carry, a run that ends with its last dot.
 * Also the playback clocks and the frame loop they run on.
 */
import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { SteppedFrames, countersOf, frameOf, tutorialRun } from '../../test/page-fakes.ts';
import { translatorFor } from './i18n/translate.ts';
import { say } from './log-lines.ts';
import { LIVE_LAG_MS, MIN_LIVE_LAG_MS, LiveClock, ReplayClock } from './run-clock.svelte.ts';
import { COUNTERS_EVERY_MS, RunState } from './run-state.svelte.ts';

const events = tutorialRun('run-1');
const upTo = (seq: number): PlaygroundEvent[] => events.filter((e) => e.seq <= seq);
const between = (from: number, to: number): PlaygroundEvent[] => events.filter((e) => e.seq >= from && e.seq <= to);
const en = translatorFor('en');
const es = translatorFor('es');

describe('RunState counts', () => {
  it('shows the tally of the events until exact counters of the run come, then those, then the summary', () => {
    const run = new RunState();
    // History of the run with the counters of another one (a later run the server is on): the events' tally.
    run.applyFrame(frameOf(upTo(9), { historyUntil: 9, counters: countersOf('run-0', []) }), 0);
    expect(run.sent).toBe(2);
    expect(run.worker('worker-tcp')!.count).toBe(2);
    expect(run.doneBy).toEqual({ 'worker-tcp': 1 });

    // Exact counters of this run (the server sampled the task events: they say more than the events do).
    const exact = { ...countersOf('run-1', upTo(9)), sent: 40, received: { 'worker-tcp': 30, 'worker-ipc': 9 } };
    run.applyFrame(frameOf(between(10, 11), { counters: exact, dropped: 37 }), 1000);
    expect(run.sent).toBe(40);
    expect(run.received).toEqual({ 'worker-tcp': 30, 'worker-ipc': 9 });
    // The workers read the same record: no copy of their own.
    expect(run.workers.map((w) => [w.id, w.count])).toEqual([
      ['worker-tcp', 30],
      ['worker-ipc', 9],
    ]);
    expect(run.dropped).toBe(37);

    // While the run goes on, newer counters wait COUNTERS_EVERY_MS; the frame loop's tick shows them when due.
    run.applyFrame(frameOf(between(12, 13), { counters: { ...exact, sent: 41 } }), 1000 + COUNTERS_EVERY_MS / 2);
    expect(run.sent).toBe(40);
    expect(run.tick(null, 1000 + COUNTERS_EVERY_MS / 2 + 1)).toBe(false);
    expect(run.sent).toBe(40);
    run.tick(null, 1000 + COUNTERS_EVERY_MS);
    expect(run.sent).toBe(41);

    // The end: the summary is exact.
    run.applyFrame(frameOf(between(14, 16), { historyUntil: 16, counters: countersOf('run-1', events) }), 1200);
    expect(run.status).toBe('ended');
    expect(run.sent).toBe(4);
    expect(run.received).toEqual({ 'worker-tcp': 2, 'worker-ipc': 1 });
    expect(run.worker('worker-ipc')!.count).toBe(1);
  });

  it('counts a lost task once: the total, the worker it was lost with and the accounting agree', () => {
    const run = new RunState();
    // A replay's counters carry no lostBy: the events' tally says which worker lost it.
    const counters = { ...countersOf('run-1', upTo(15)) };
    delete counters.lostBy;
    run.applyFrame(frameOf(upTo(15), { historyUntil: 15, counters }), 0);
    expect(run.lost).toBe(1);
    expect(run.lostBy).toEqual({ 'worker-ipc': 1 });
    expect(run.worker('worker-ipc')!.lost).toBe(1);
    expect(run.worker('worker-tcp')!.lost).toBe(0);
    expect(run.accounting.lost).toBe(1);
    // At the end, the summary's lostBy stands (the replay's counters still have none).
    run.applyFrame(frameOf(between(16, 16), { historyUntil: 16, counters: { ...counters } }), 10);
    expect(run.lostBy).toEqual({ 'worker-ipc': 1 });
  });
});

describe('RunState event log', () => {
  it('keeps lines as keys and parameters, said in the language of the moment they are drawn', () => {
    const run = new RunState();
    run.applyFrame(frameOf(upTo(16), { historyUntil: 16 }), 0);
    const started = run.log.find((entry) => entry.kind === 'run:started')!;
    expect(say(started.text, en, 'en')).toBe('interval 1000 ms, built-in workers on');
    expect(say(started.text, es, 'es')).toBe('intervalo 1000 ms, workers integrados activados');
    const bound = run.log.find(
      (entry) => entry.kind === 'endpoint:bound' && entry.node === 'ventilator' && entry.seq === 10,
    )!;
    // The server's note comes in English only here (no text): it is said as sent.
    expect(say(bound.text, es, 'es')).toMatch(
      /^ipc → ipc:\/\/\/tmp\/zmq-playground-0\/pg-1-ipc\.ipc \(\/tmp\/zmqdemo is in use/,
    );
    expect(run.log[0]!.kind).toBe('run:ended');
    expect(run.log.map((entry) => entry.seq)).toEqual([...run.log.map((entry) => entry.seq)].sort((a, b) => b - a));
  });

  it('lists the lost tasks of a frame as one line per worker', () => {
    const run = new RunState();
    const lostAgain = { ...events[14]!, seq: 15.5, task: 4 } as PlaygroundEvent;
    run.applyFrame(frameOf([...upTo(15), lostAgain], { historyUntil: 16 }), 0);
    const lost = run.log.filter((entry) => entry.kind === 'task:lost');
    expect(lost).toHaveLength(1);
    expect(say(lost[0]!.text, en, 'en')).toBe('2 tasks lost with worker-ipc');
    expect(say(lost[0]!.text, es, 'es')).not.toBe(say(lost[0]!.text, en, 'en'));
  });
});

describe('RunState flights', () => {
  it('flies live receipts, not history, and lists a message when its dot lands', () => {
    const run = new RunState();
    run.applyFrame(frameOf(upTo(4), { historyUntil: 4 }), 0);
    run.applyFrame(frameOf(between(5, 6), { countedUpTo: upTo(6) }), 100);
    expect(run.flights.map((f) => [f.task, f.to])).toEqual([[0, 'worker-tcp']]);
    const tcp = run.worker('worker-tcp')!;
    // Counted at once (exact counters), listed and shown as landed only when the dot arrives.
    expect(tcp.count).toBe(1);
    expect(tcp.inAir).toBe(1);
    expect(tcp.landed).toBe(0);
    expect(tcp.messages).toEqual([]);
    const lands = run.flights[0]!.start + run.flights[0]!.duration;
    expect(run.tick(lands - 1, 200)).toBe(true);
    expect(tcp.messages).toEqual([]);
    run.tick(lands, 300);
    expect(tcp.messages.map((m) => m.body)).toEqual(['1']);
    expect(tcp.landed).toBe(1);
    expect(run.flights).toEqual([]);
  });

  it('ends a live run with its last dot, and at once when the end is history', () => {
    const live = new RunState();
    live.applyFrame(frameOf(upTo(12), { historyUntil: 12 }), 0);
    live.applyFrame(frameOf(between(13, 16), { countedUpTo: events }), 100);
    expect(live.status).toBe('running');
    expect(live.worker('worker-ipc')!.messages).toEqual([]);
    live.tick(4000, 200);
    expect(live.status).toBe('ended');
    expect(live.worker('worker-ipc')!.messages.map((m) => m.body)).toEqual(['3']);
    expect(live.log[0]!.kind).toBe('run:ended');

    const caughtUp = new RunState();
    caughtUp.applyFrame(frameOf(events, { historyUntil: 16 }), 0);
    expect(caughtUp.status).toBe('ended');
    expect(caughtUp.flights).toEqual([]);
    expect(caughtUp.worker('worker-tcp')!.messages.map((m) => m.body)).toEqual(['1', '2']);
  });

  it('starts afresh at the next run:started and tells its reset listeners', () => {
    const run = new RunState();
    let resets = 0;
    run.onReset(() => resets++);
    run.applyFrame(frameOf(events, { historyUntil: 16 }), 0);
    const next = tutorialRun('run-2', 17).slice(0, 2);
    run.applyFrame(frameOf(next), 10);
    expect(resets).toBe(2);
    expect(run.runId).toBe('run-2');
    expect(run.status).toBe('running');
    expect(run.sent).toBe(0);
    expect(run.log.map((entry) => entry.kind)).toEqual(['endpoint:bound', 'run:started']);
  });
});

describe('playback clocks and the frame loop', () => {
  it('live: the frame time minus the smallest delivery delay of the run and the lag; a new run starts unknown', () => {
    let wall = 5000;
    const clock = new LiveClock(() => wall);
    expect(clock.now()).toBeNull();
    clock.follow(
      'run-1',
      [
        { run: 'run-1', t: 100 },
        { run: 'run-0', t: 4900 },
      ],
      1300,
    );
    clock.follow('run-1', [{ run: 'run-1', t: 300 }], 1450);
    expect(clock.now()).toBe(5000 - 1150 - LIVE_LAG_MS);
    wall = 6000;
    expect(clock.now()).toBe(6000 - 1150 - LIVE_LAG_MS);
    clock.follow('run-2', [], 7000);
    expect(clock.now()).toBeNull();
    const replay = new ReplayClock();
    replay.shown = 1234;
    expect(replay.now()).toBe(1234);
  });

  it('live: the lag follows how far the frames spread, slowly and never backwards, within its bounds', () => {
    let wall = 0;
    const clock = new LiveClock(() => wall);
    // Frames every 33 ms: events from the last 33 ms, the newest 2 ms old when it arrives.
    const frame = (at: number, spread: number) =>
      clock.follow(
        'run-1',
        [
          { run: 'run-1', t: at - 2 - spread },
          { run: 'run-1', t: at - 2 },
        ],
        at,
      );
    let drawn = -Infinity;
    for (let at = 1000; at < 4000; at += 33) {
      frame(at, 31);
      for (wall = at; wall < at + 33; wall += 4) {
        const now = clock.now()!;
        expect(now).toBeGreaterThan(drawn);
        drawn = now;
      }
    }
    // 31 ms of spread plus the margin, reached from 80 ms at a fifth of the wall time.
    expect(clock.lag).toBeGreaterThan(31);
    expect(clock.lag).toBeLessThan(45);
    expect(clock.now()).toBeCloseTo(wall - 2 - clock.lag, 6);
    // Frames that come late push it up again, never past LIVE_LAG_MS.
    for (let at = 4000; at < 7000; at += 33) frame(at, 300);
    wall = 7000;
    expect(clock.lag).toBe(LIVE_LAG_MS);
    // A run that starts starts at LIVE_LAG_MS; news that arrives exactly when due brings it down to its least.
    clock.follow('run-2', [{ run: 'run-2', t: 0 }], wall);
    expect(clock.lag).toBe(LIVE_LAG_MS);
    for (let at = 7000; at < 10_000; at += 33) clock.follow('run-2', [{ run: 'run-2', t: at - 7000 }], at);
    wall = 10_000;
    expect(clock.lag).toBe(MIN_LIVE_LAG_MS);
  });

  it('runs every callback on one loop while any needs frames, then sleeps', () => {
    const frames = new SteppedFrames();
    let a = 0;
    let b = 0;
    const removeA = frames.loop.add(() => ++a < 3);
    frames.loop.add(() => {
      b++;
      return false;
    });
    frames.loop.wake();
    while (frames.frame()) flushSync();
    expect([a, b]).toEqual([3, 3]);
    expect(frames.loop.time).toBe(frames.time - 16);
    removeA();
    frames.loop.wake();
    frames.frame();
    expect([a, b]).toEqual([3, 4]);
    expect(frames.isScheduled).toBe(false);
  });
});
