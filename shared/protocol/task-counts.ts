/**
 * Counting a run's task events: the one reducer behind every count of task:sent, task:received, task:done,
 * task:collected and task:lost that is made from events. The recorder's checkpoints, the store's counters at a
 * moment and rebuilt summaries, the import's check of a summary against its events, and the replay's counters
 * all fold events through `addTaskEvent`, so they cannot disagree on what a task event counts for.
 *
 * (The running pipeline keeps its own books as it acts, server/pipeline/run.ts: it counts lost tasks beyond
 * the ones it sends a task:lost for, so its counts are not a fold of its events.)
 */
import type { Counters } from './schema.ts';

/** The counts of a run's task events: the stream's counters without the run id. */
export type TaskCounts = Omit<Counters, 'run'>;

/** What the reducer reads of an event (a PlaygroundEvent fits; so does a stored row's type and worker). */
export interface TaskEventLike {
  type: string;
  worker?: unknown;
}

/** The key of a lost task whose worker nobody knows (as in RunSummary.lostBy). */
export const UNKNOWN_WORKER = 'unknown';

/**
 * Zero counts, with every worker in `workers` listed at 0 received and 0 done (a summary lists each worker of
 * its run), and `lostBy` counted. Pass `{ lostBy: false }` for counts that do not keep lost tasks per worker
 * (what the store answers for counters at a moment).
 */
export function emptyTaskCounts(workers: readonly string[] = [], options: { lostBy?: boolean } = {}): TaskCounts {
  const counts: TaskCounts = { sent: 0, received: {}, done: {}, collected: 0, lost: 0 };
  for (const worker of workers) {
    bump(counts.received, worker, 0);
    bump(counts.done, worker, 0);
  }
  if (options.lostBy ?? true) counts.lostBy = {};
  return counts;
}

/** A copy that shares nothing with `counts`. */
export function cloneTaskCounts<T extends TaskCounts>(counts: T): T {
  const copy: T = { ...counts, received: { ...counts.received }, done: { ...counts.done } };
  if (counts.lostBy) copy.lostBy = { ...counts.lostBy };
  return copy;
}

/**
 * Adds `n` (default 1) events of `event`'s type and worker to `counts`, in place, and returns `counts`. Events
 * that are not task events count for nothing, and neither does a receipt or a completion without a worker. A
 * lost task counts in `lostBy` (under its worker, else UNKNOWN_WORKER) when `counts` keeps a `lostBy`.
 */
export function addTaskEvent<T extends TaskCounts>(counts: T, event: TaskEventLike, n = 1): T {
  const worker = typeof event.worker === 'string' ? event.worker : null;
  switch (event.type) {
    case 'task:sent':
      counts.sent += n;
      break;
    case 'task:received':
      if (worker !== null) bump(counts.received, worker, n);
      break;
    case 'task:done':
      if (worker !== null) bump(counts.done, worker, n);
      break;
    case 'task:collected':
      counts.collected += n;
      break;
    case 'task:lost':
      counts.lost += n;
      if (counts.lostBy) bump(counts.lostBy, worker ?? UNKNOWN_WORKER, n);
      break;
    default:
      break;
  }
  return counts;
}

/** `counts` plus `events`, as a new object (the input is not changed). */
export function foldTaskCounts<T extends TaskCounts>(counts: T, events: Iterable<TaskEventLike>): T {
  const next = cloneTaskCounts(counts);
  for (const event of events) addTaskEvent(next, event);
  return next;
}

/** Every task received by a worker. */
export function receivedTotal(counts: Pick<TaskCounts, 'received'>): number {
  let total = 0;
  for (const n of Object.values(counts.received)) total += n;
  return total;
}

/**
 * Adds n to record[key]. Worker ids may be any of [A-Za-z0-9_.:-] (an imported file names its own), so a key
 * may be "constructor" or "__proto__": only own properties count, and "__proto__" is defined, not assigned (an
 * assignment would go to the prototype setter and be lost).
 */
function bump(record: Record<string, number>, key: string, n: number): void {
  const now = Object.hasOwn(record, key) ? record[key]! : 0;
  if (key === '__proto__')
    Object.defineProperty(record, key, { value: now + n, enumerable: true, writable: true, configurable: true });
  else record[key] = now + n;
}
