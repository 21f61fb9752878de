import { describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from './index.ts';
import { VALID_EVENTS } from './fixtures.ts';
import {
  addTaskEvent,
  cloneTaskCounts,
  emptyTaskCounts,
  foldTaskCounts,
  receivedTotal,
  UNKNOWN_WORKER,
} from './task-counts.ts';

const base = { run: 'run-1', t: 0 };
const sent = (seq: number): PlaygroundEvent => ({ type: 'task:sent', seq, ...base, task: seq, body: String(seq) });
const received = (seq: number, worker: string): PlaygroundEvent => ({
  type: 'task:received',
  seq,
  ...base,
  task: seq,
  worker,
  body: '',
});
const done = (seq: number, worker: string): PlaygroundEvent => ({ type: 'task:done', seq, ...base, task: seq, worker });
const collected = (seq: number, worker: string): PlaygroundEvent => ({
  type: 'task:collected',
  seq,
  ...base,
  task: seq,
  worker,
});
const lost = (seq: number, worker: string | null): PlaygroundEvent => ({
  type: 'task:lost',
  seq,
  ...base,
  task: seq,
  worker,
});

describe('the task-count reducer', () => {
  it('counts each kind of task event where summaries and counters keep it', () => {
    const counts = foldTaskCounts(emptyTaskCounts(), [
      sent(1),
      sent(2),
      sent(3),
      received(4, 'worker-1'),
      received(5, 'worker-2'),
      received(6, 'worker-1'),
      done(7, 'worker-1'),
      collected(8, 'worker-1'),
      lost(9, 'worker-2'),
      lost(10, null),
    ]);
    expect(counts).toEqual({
      sent: 3,
      received: { 'worker-1': 2, 'worker-2': 1 },
      done: { 'worker-1': 1 },
      collected: 1,
      lost: 2,
      lostBy: { 'worker-2': 1, [UNKNOWN_WORKER]: 1 },
    });
    expect(receivedTotal(counts)).toBe(3);
  });

  it('ignores every event that is not a task event, and a receipt or completion without a worker', () => {
    const others = Object.values(VALID_EVENTS).filter((event) => !event.type.startsWith('task:'));
    expect(others.length).toBeGreaterThan(10);
    expect(foldTaskCounts(emptyTaskCounts(), others)).toEqual(emptyTaskCounts());
    const counts = emptyTaskCounts();
    addTaskEvent(counts, { type: 'task:received', worker: null });
    addTaskEvent(counts, { type: 'task:done' });
    expect(counts).toEqual(emptyTaskCounts());
  });

  it('adds n events at once (a stored count of grouped rows or a checkpoint) as n single ones', () => {
    const one = emptyTaskCounts();
    for (let i = 0; i < 5; i++) addTaskEvent(one, { type: 'task:lost', worker: 'worker-3' });
    expect(addTaskEvent(emptyTaskCounts(), { type: 'task:lost', worker: 'worker-3' }, 5)).toEqual(one);
  });

  it('lists every worker of a run at zero, and keeps lostBy only when asked to', () => {
    expect(emptyTaskCounts(['worker-1', 'worker-2'])).toEqual({
      sent: 0,
      received: { 'worker-1': 0, 'worker-2': 0 },
      done: { 'worker-1': 0, 'worker-2': 0 },
      collected: 0,
      lost: 0,
      lostBy: {},
    });
    const withoutLostBy = foldTaskCounts(emptyTaskCounts([], { lostBy: false }), [lost(1, 'worker-1')]);
    expect(withoutLostBy.lost).toBe(1);
    expect(withoutLostBy).not.toHaveProperty('lostBy');
  });

  it('folds into a new object and leaves its input as it was', () => {
    const start = foldTaskCounts(emptyTaskCounts(), [received(1, 'worker-1'), lost(2, 'worker-1')]);
    const before = structuredClone(start);
    const next = foldTaskCounts(start, [received(3, 'worker-1'), done(4, 'worker-1'), lost(5, null)]);
    expect(start).toEqual(before);
    expect(next.received['worker-1']).toBe(2);
    const copy = cloneTaskCounts(next);
    addTaskEvent(copy, lost(6, 'worker-1'));
    expect(next.lostBy).toEqual({ 'worker-1': 1, [UNKNOWN_WORKER]: 1 });
  });

  it('counts workers whose ids are names of Object.prototype (an imported file picks its own ids)', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const counts = foldTaskCounts(
      emptyTaskCounts(),
      names.flatMap((worker, i) => [received(i * 3 + 1, worker), received(i * 3 + 2, worker), lost(i * 3 + 3, worker)]),
    );
    for (const worker of names) {
      expect(Object.getOwnPropertyDescriptor(counts.received, worker)?.value).toBe(2);
      expect(Object.getOwnPropertyDescriptor(counts.lostBy, worker)?.value).toBe(1);
    }
    expect(Object.getPrototypeOf(counts.received)).toBe(Object.prototype);
    expect(receivedTotal(counts)).toBe(8);
    expect(JSON.parse(JSON.stringify(counts.received))).toEqual(Object.fromEntries(names.map((name) => [name, 2])));
  });
});
