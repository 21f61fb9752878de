/**
 * What the browser remembers of the lessons: which goals were met, and lesson 2's batch times by worker count.
 * Pure functions over a Storage-like object, so they are tested without a browser.
 */

/** localStorage key of the ids of the lessons whose goal was met. */
export const PROGRESS_KEY = 'zmq-playground.lessons.met';
/** localStorage key of lesson 2's measured batch times. */
export const BATCH_TIMES_KEY = 'zmq-playground.lessons.batch-times';
/** Batch times kept (the oldest are dropped). */
export const BATCH_TIMES_KEPT = 50;

/** The part of Storage these functions use. */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem'>;

/** One of the learner's lesson 2 runs. */
export interface BatchTime {
  run: string;
  workers: number;
  batchMs: number;
}

/** One row of the batch-time table: the learner's figures for a worker count beside the zguide's. */
export interface BatchRow {
  workers: number;
  runs: number;
  latestMs: number | null;
  bestMs: number | null;
  zguideMs: number | null;
}

function readJson(store: KeyValueStore | null, key: string): unknown {
  try {
    const text = store?.getItem(key);
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

function writeJson(store: KeyValueStore | null, key: string, value: unknown): void {
  try {
    store?.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the page still works, it just forgets
  }
}

/** The ids of the lessons met so far. */
export function loadProgress(store: KeyValueStore | null): string[] {
  const value = readJson(store, PROGRESS_KEY);
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
}

/** Adds a met lesson; returns the new list (unchanged when it was met already). */
export function markMet(store: KeyValueStore | null, met: readonly string[], lesson: string): string[] {
  if (met.includes(lesson)) return [...met];
  const next = [...met, lesson];
  writeJson(store, PROGRESS_KEY, next);
  return next;
}

function isBatchTime(value: unknown): value is BatchTime {
  const v = value as Partial<BatchTime> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.run === 'string' &&
    Number.isFinite(v.workers) &&
    Number.isFinite(v.batchMs)
  );
}

/** Lesson 2's batch times measured so far, oldest first. */
export function loadBatchTimes(store: KeyValueStore | null): BatchTime[] {
  const value = readJson(store, BATCH_TIMES_KEY);
  return Array.isArray(value) ? value.filter(isBatchTime) : [];
}

/** Adds one run's batch time (once per run: a replayed event is not counted twice); returns the new list. */
export function addBatchTime(store: KeyValueStore | null, times: readonly BatchTime[], time: BatchTime): BatchTime[] {
  if (time.batchMs <= 0 || time.workers <= 0 || times.some((t) => t.run === time.run)) return [...times];
  const next = [...times, time].slice(-BATCH_TIMES_KEPT);
  writeJson(store, BATCH_TIMES_KEY, next);
  return next;
}

/** Rows for 1, 2 and 4 workers (the zguide's), plus any other count the learner measured, in order. */
export function batchRows(times: readonly BatchTime[], zguide: Readonly<Record<number, number>>): BatchRow[] {
  const counts = new Set([...Object.keys(zguide).map(Number), ...times.map((t) => t.workers)]);
  return [...counts]
    .sort((a, b) => a - b)
    .map((workers) => {
      const mine = times.filter((t) => t.workers === workers);
      return {
        workers,
        runs: mine.length,
        latestMs: mine.at(-1)?.batchMs ?? null,
        bestMs: mine.length > 0 ? Math.min(...mine.map((t) => t.batchMs)) : null,
        zguideMs: zguide[workers] ?? null,
      };
    });
}
