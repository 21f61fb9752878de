import { describe, expect, it } from 'vitest';
import { addTaskEvent, emptyTaskCounts, foldTaskCounts } from '../../../shared/protocol/task-counts.ts';
import { addCheckpoint, encodeCheckpoint } from './counts.ts';

describe('checkpoints', () => {
  it('read back as the counts they were written from', () => {
    const counts = foldTaskCounts(emptyTaskCounts(['worker-1', 'worker-2']), [
      { type: 'task:sent' },
      { type: 'task:sent' },
      { type: 'task:received', worker: 'worker-1' },
      { type: 'task:received', worker: '__proto__' },
      { type: 'task:done', worker: 'worker-1' },
      { type: 'task:collected', worker: 'worker-1' },
      { type: 'task:lost', worker: 'worker-2' },
      { type: 'task:lost', worker: null },
    ]);
    const read = emptyTaskCounts(['worker-1', 'worker-2']);
    addCheckpoint(read, encodeCheckpoint(counts));
    expect(read).toEqual(counts);
    expect(Object.getOwnPropertyDescriptor(read.received, '__proto__')?.value).toBe(1);
  });

  it('written by the earlier writer (every task event keyed by its own worker, a lost one without) read the same', () => {
    // What the writer stored before the shared reducer: "type|worker" of each event as it came.
    const earlier = JSON.stringify({
      'task:sent|': 3,
      'task:received|worker-1': 2,
      'task:done|worker-1': 2,
      'task:collected|worker-1': 2,
      'task:lost|': 1,
      'task:lost|worker-2': 1,
    });
    const read = emptyTaskCounts();
    addCheckpoint(read, earlier);
    const expected = emptyTaskCounts();
    addTaskEvent(expected, { type: 'task:sent' }, 3);
    addTaskEvent(expected, { type: 'task:received', worker: 'worker-1' }, 2);
    addTaskEvent(expected, { type: 'task:done', worker: 'worker-1' }, 2);
    addTaskEvent(expected, { type: 'task:collected', worker: 'worker-1' }, 2);
    addTaskEvent(expected, { type: 'task:lost', worker: null });
    addTaskEvent(expected, { type: 'task:lost', worker: 'worker-2' });
    expect(read).toEqual(expected);
    expect(read).toEqual({
      sent: 3,
      received: { 'worker-1': 2 },
      done: { 'worker-1': 2 },
      collected: 2,
      lost: 2,
      lostBy: { unknown: 1, 'worker-2': 1 },
    });
  });
});
