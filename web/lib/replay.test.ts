/**
 * The pure replay functions: counting, finding events by time, the frame a RunState folds at t (whole runs and
 * windows of big runs give the same counters), the playhead clock, the history list's and comparison's figures.
 */
import { describe, expect, it } from 'vitest';
import type { PlaygroundEvent, RunSummary, WorkerInfo } from '../../shared/protocol/index.ts';
import {
  addToCounts,
  advance,
  compareWorkers,
  countUpTo,
  covers,
  distribution,
  emptyCounts,
  eventAt,
  formatClock,
  forwardFrame,
  nextEventTime,
  previousEventTime,
  foldSnapshot,
  permalink,
  replayFrame,
  runFromUrl,
  sameWorkers,
  settingsOf,
  stateAt,
  withRun,
  type LoadedWindow,
} from './replay.ts';

const RUN = 'run-a';
const worker = (id: string, endpoint: string): WorkerInfo => ({
  id,
  endpoint,
  transport: endpoint as 'tcp' | 'ipc',
  mode: 'in-process',
  workMs: { min: 0, max: 0 },
  connections: 1,
  state: 'idle',
  pid: null,
});

/** A small tutorial-like run: tcp bound, one worker connects, three tasks, ipc bound, two more, end. */
function tutorialRun(): PlaygroundEvent[] {
  let seq = 40;
  const e = <T extends Omit<PlaygroundEvent, 'seq' | 'run'>>(x: T) =>
    ({ ...x, seq: ++seq, run: RUN }) as unknown as PlaygroundEvent;
  const ep = (name: 'tcp' | 'ipc') => ({ name, transport: name, requested: `${name}://x`, actual: `${name}://x` });
  return [
    e({
      type: 'run:started',
      t: 0,
      scenario: 'tutorial',
      params: { intervalMs: 100, builtInWorkers: true, tasks: 12, payloadBytes: 0, drainMs: 1500, syncStart: false },
      endpoints: [ep('tcp'), ep('ipc')],
      workers: [worker('worker-tcp', 'tcp'), worker('worker-ipc', 'ipc')],
    }),
    e({ type: 'endpoint:bound', t: 1, endpoint: ep('tcp') }),
    e({ type: 'socket:event', t: 2, node: 'worker-tcp', kind: 'handshake', address: 'tcp://x' }),
    e({ type: 'task:sent', t: 10, task: 0, body: '1' }),
    e({ type: 'task:received', t: 11, task: 0, worker: 'worker-tcp', body: '1' }),
    e({ type: 'task:sent', t: 110, task: 1, body: '2' }),
    e({ type: 'task:received', t: 111, task: 1, worker: 'worker-tcp', body: '2' }),
    e({ type: 'task:sent', t: 210, task: 2, body: '3' }),
    e({ type: 'task:received', t: 210, task: 2, worker: 'worker-tcp', body: '3' }),
    e({ type: 'endpoint:bound', t: 300, endpoint: ep('ipc') }),
    e({ type: 'socket:event', t: 305, node: 'worker-ipc', kind: 'handshake', address: 'ipc://x' }),
    e({ type: 'task:sent', t: 400, task: 3, body: 'a' }),
    e({ type: 'task:received', t: 401, task: 3, worker: 'worker-ipc', body: 'a' }),
    e({ type: 'task:sent', t: 500, task: 4, body: 'x' }),
    e({ type: 'task:received', t: 501, task: 4, worker: 'worker-tcp', body: 'x' }),
    e({ type: 'task:lost', t: 600, task: 5, worker: null }),
  ];
}

const whole = (events: PlaygroundEvent[]): LoadedWindow => ({
  run: RUN,
  prologue: [],
  base: emptyCounts(),
  events,
  fromT: 0,
  toT: Infinity,
});

describe('finding events by time', () => {
  const events = tutorialRun();
  it('counts the events at or before t, and steps to the next and previous event moments', () => {
    expect(countUpTo(events, -1)).toBe(0);
    expect(countUpTo(events, 0)).toBe(1);
    expect(countUpTo(events, 210)).toBe(9);
    expect(countUpTo(events, 10_000)).toBe(events.length);
    expect(nextEventTime(events, 210)).toBe(300);
    expect(nextEventTime(events, 600)).toBeNull();
    expect(previousEventTime(events, 300)).toBe(210);
    expect(previousEventTime(events, 0)).toBeNull();
    expect(eventAt(events, 300)?.type).toBe('endpoint:bound');
    expect(eventAt(events, -5)).toBeNull();
  });
});

describe('the state at t', () => {
  const events = tutorialRun();
  it('folds exactly the events with t <= the playhead', () => {
    const beforeBind = stateAt(events, 299.9);
    expect(beforeBind.bound).toEqual({ tcp: 'tcp://x' });
    expect(beforeBind.received).toEqual({ 'worker-tcp': 3 });
    const atBind = stateAt(events, 300);
    expect(atBind.bound).toEqual({ tcp: 'tcp://x', ipc: 'ipc://x' });
    expect(atBind.sent).toBe(3);
    expect(atBind.links).toEqual({ 'worker-tcp': 'connected', 'worker-ipc': 'idle' });
    const end = stateAt(events, 1000);
    expect(end.messages).toEqual({ 'worker-tcp': ['1', '2', '3', 'x'], 'worker-ipc': ['a'] });
    expect(end.lost).toBe(1);
  });

  it('builds the frame a RunState folds: every event up to t, exact counters, the last flight as news', () => {
    const frame = replayFrame(whole(events), 300, 150);
    expect(frame.events.map((e) => e.t).at(-1)).toBe(300);
    expect(frame.counters).toEqual({
      run: RUN,
      sent: 3,
      received: { 'worker-tcp': 3 },
      done: {},
      collected: 0,
      lost: 0,
    });
    // Events older than t - 150 are history (no dot); 210 and 300 are news.
    expect(frame.historyUntil).toBe(events[6]!.seq);
  });

  it('shows the topology the run started with before its first event', () => {
    const window: LoadedWindow = { ...whole(events.slice(1)), prologue: events.slice(0, 1) };
    const frame = replayFrame(window, -1, 150);
    expect(frame.events.map((e) => e.type)).toEqual(['run:started']);
    expect(foldSnapshot(frame.events).workers).toEqual(['worker-tcp', 'worker-ipc']);
    expect(frame.counters.sent).toBe(0);
  });

  it('plays forward with only the events that became due', () => {
    const frame = forwardFrame(whole(events), events[8]!.seq, 401);
    expect(frame.events.map((e) => e.type)).toEqual(['endpoint:bound', 'socket:event', 'task:sent', 'task:received']);
    expect(frame.counters.sent).toBe(4);
  });

  it('gives a big run’s window (exact counters at its start + the events after) the same counters as the whole run', () => {
    for (const t of [0, 111, 210, 300, 401, 600]) {
      for (const from of [0, 50, 210]) {
        if (from > t) continue;
        const cut = countUpTo(events, from);
        const base = addToCounts(emptyCounts(), events.slice(0, cut));
        const window: LoadedWindow = {
          run: RUN,
          prologue: events.slice(0, 3),
          base,
          events: events.slice(cut),
          fromT: from,
          toT: 600,
        };
        expect(replayFrame(window, t, 150).counters, `t=${t} from=${from}`).toEqual(
          replayFrame(whole(events), t, 150).counters,
        );
        // The topology (run:started first) is always there.
        expect(replayFrame(window, t, 150).events[0]?.type).toBe('run:started');
      }
    }
    expect(covers(null, 1)).toBe(false);
    expect(covers({ ...whole(events), fromT: 100, toT: 200 }, 250)).toBe(false);
  });
});

describe('the playhead', () => {
  it('advances by real time times the speed, within the run', () => {
    expect(advance(100, 50, 2, 1000)).toBe(200);
    expect(advance(100, 50, 0.25, 1000)).toBe(112.5);
    expect(advance(990, 50, 16, 1000)).toBe(1000);
    expect(advance(0, -5, 1, 1000)).toBe(0);
    expect(formatClock(1250)).toBe('0:01.25');
    expect(formatClock(61_000)).toBe('1:01.00');
  });

  it('reads and writes the ?run= permalink', () => {
    expect(runFromUrl('http://h/?p=pg-1&run=run-3f2a')).toBe('run-3f2a');
    expect(runFromUrl('http://h/?run=../etc')).toBeNull();
    expect(runFromUrl('http://h/')).toBeNull();
    expect(withRun('http://h/?p=pg-1', 'run-9')).toBe('http://h/?p=pg-1&run=run-9');
    expect(withRun('http://h/?p=pg-1&run=run-9', null)).toBe('http://h/?p=pg-1');
  });

  it('a permalink is ?run=<id> alone: no playground, no lesson, no #fragment (issue 10)', () => {
    expect(permalink('http://h/?p=pg-1&lesson=tutorial#history', 'run-9')).toBe('http://h/?run=run-9');
    expect(permalink('http://h/app/?p=pg-1&run=run-3', 'run-9')).toBe('http://h/app/?run=run-9');
  });
});

describe('history figures', () => {
  const summary = (received: Record<string, number>, lost = 0): RunSummary => ({
    sent: Object.values(received).reduce((a, b) => a + b, 0) + lost,
    received,
    done: received,
    collected: 0,
    unattributed: 0,
    lost,
    lostBy: lost > 0 ? { 'worker-tcp': lost } : {},
    externalPeersMax: 0,
    durationMs: 1000,
  });
  const workers = [worker('worker-tcp', 'tcp'), worker('worker-ipc', 'ipc')];

  it('gives each worker its share, in the run’s order, later workers after', () => {
    expect(distribution(summary({ 'worker-ipc': 3, 'worker-tcp': 9, 'worker-3': 0 }), workers)).toEqual([
      { worker: 'worker-tcp', received: 9, share: 0.75 },
      { worker: 'worker-ipc', received: 3, share: 0.25 },
      { worker: 'worker-3', received: 0, share: 0 },
    ]);
    expect(distribution(null, workers)).toEqual([]);
    expect(distribution(summary({}), workers).every((s) => s.share === 0)).toBe(true);
  });

  it('compares two runs per worker, with a worker present in only one of them', () => {
    const rows = compareWorkers(
      { summary: summary({ 'worker-tcp': 9, 'worker-ipc': 3 }), workers },
      {
        summary: summary({ 'worker-tcp': 6, 'worker-ipc': 6, 'worker-3': 2 }, 1),
        workers: [...workers, worker('worker-3', 'tcp')],
      },
    );
    expect(rows.map((r) => r.worker)).toEqual(['worker-tcp', 'worker-ipc', 'worker-3']);
    expect(rows[0]).toMatchObject({ a: { received: 9, share: 0.75, lost: 0 }, b: { received: 6, lost: 1 } });
    expect(rows[2]).toMatchObject({ a: null, b: { received: 2 } });
  });

  it('takes "run again" settings from run:started, and sees when a playground already has those workers', () => {
    const started = tutorialRun()[0]!;
    if (started.type !== 'run:started') throw new Error('fixture');
    const settings = settingsOf(started);
    expect(settings.scenario).toBe('tutorial');
    expect(settings.params.intervalMs).toBe(100);
    expect(settings.workers).toEqual([
      { transport: 'tcp', mode: 'in-process', workMs: { min: 0, max: 0 }, connections: 1 },
      { transport: 'ipc', mode: 'in-process', workMs: { min: 0, max: 0 }, connections: 1 },
    ]);
    expect(sameWorkers(workers, settings.workers)).toBe(true);
    expect(sameWorkers(workers.slice(0, 1), settings.workers)).toBe(false);
    expect(sameWorkers([workers[1]!, workers[0]!], settings.workers)).toBe(false);
  });
});
