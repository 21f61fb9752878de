import { describe, expect, it } from 'vitest';
import {
  addBatchTime,
  batchRows,
  loadBatchTimes,
  loadProgress,
  markMet,
  type KeyValueStore,
} from './lesson-progress.ts';

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
}

describe('lesson progress in the browser', () => {
  it('remembers met lessons once each, and survives garbage in storage', () => {
    const store = memoryStore();
    expect(loadProgress(store)).toEqual([]);
    const once = markMet(store, [], 'tutorial');
    const twice = markMet(store, once, 'tutorial');
    expect(markMet(store, twice, 'slow-joiner')).toEqual(['tutorial', 'slow-joiner']);
    expect(loadProgress(store)).toEqual(['tutorial', 'slow-joiner']);
    store.data.set('zmq-playground.lessons.met', '{not json');
    expect(loadProgress(store)).toEqual([]);
    expect(loadProgress(null)).toEqual([]);
  });

  it('keeps one batch time per run and tabulates them beside the zguide', () => {
    const store = memoryStore();
    let times = addBatchTime(store, [], { run: 'r1', workers: 1, batchMs: 5200 });
    times = addBatchTime(store, times, { run: 'r1', workers: 1, batchMs: 5200 });
    times = addBatchTime(store, times, { run: 'r2', workers: 4, batchMs: 1400 });
    times = addBatchTime(store, times, { run: 'r3', workers: 4, batchMs: 1300 });
    times = addBatchTime(store, times, { run: 'r4', workers: 3, batchMs: 0 });
    expect(loadBatchTimes(store)).toEqual(times);
    expect(batchRows(times, { 1: 5034, 2: 2421, 4: 1018 })).toEqual([
      { workers: 1, runs: 1, latestMs: 5200, bestMs: 5200, zguideMs: 5034 },
      { workers: 2, runs: 0, latestMs: null, bestMs: null, zguideMs: 2421 },
      { workers: 4, runs: 2, latestMs: 1300, bestMs: 1300, zguideMs: 1018 },
    ]);
  });
});
