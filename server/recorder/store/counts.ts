/**
 * Counting a run's task events at any moment: the nearest checkpoint (the running counts the writer stored every
 * CHECKPOINT_EVERY events) plus the events after it, from both the events table and the task chunks. Every count
 * goes through the shared reducer (shared/protocol/task-counts.ts).
 */
import { addTaskEvent, emptyTaskCounts, receivedTotal, type TaskCounts } from '../../../shared/protocol/task-counts.ts';
import type { RunSummary } from '../../../shared/protocol/index.ts';
import { Chunk } from './chunk-read.ts';
import type { Statements } from './statements.ts';

/** A checkpoint every this many events of a run. */
// Counting the events after a checkpoint reads each (task chunks: their columns), so checkpoints are dense: a row of
// ~200 bytes every 2,000 events keeps counters at any moment within a few ms.
export const CHECKPOINT_EVERY = 2_000;

/**
 * A checkpoint's JSON: the counts keyed "type|worker" ("task:sent|", "task:received|worker-1", "task:lost|unknown"),
 * the form every server of this schema version writes and reads, so an older one still reads a newer one's file.
 */
export function encodeCheckpoint(counts: TaskCounts): string {
  const keyed: [string, number][] = [];
  const add = (type: string, worker: string, n: number) => {
    if (n > 0) keyed.push([`${type}|${worker}`, n]);
  };
  add('task:sent', '', counts.sent);
  for (const [worker, n] of Object.entries(counts.received)) add('task:received', worker, n);
  for (const [worker, n] of Object.entries(counts.done)) add('task:done', worker, n);
  add('task:collected', '', counts.collected);
  if (counts.lostBy) for (const [worker, n] of Object.entries(counts.lostBy)) add('task:lost', worker, n);
  else add('task:lost', '', counts.lost);
  // fromEntries defines its keys, so a worker named "__proto__" survives.
  return JSON.stringify(Object.fromEntries(keyed));
}

/** Adds a stored checkpoint to `counts` (a key with nothing after "|" has no worker). */
export function addCheckpoint(counts: TaskCounts, json: string): void {
  for (const [key, n] of Object.entries(JSON.parse(json) as Record<string, number>)) {
    const bar = key.indexOf('|');
    addTaskEvent(counts, { type: key.slice(0, bar), worker: bar === key.length - 1 ? null : key.slice(bar + 1) }, n);
  }
}

/** Stores the running task counts of a run as they stand after the event with this seq. */
export function insertCheckpoint(s: Statements, pk: number, seq: number, counts: TaskCounts): void {
  s.insertCheckpoint.run(pk, seq, encodeCheckpoint(counts));
}

/**
 * Counts of a run's task events with seq <= upTo: the nearest checkpoint plus the events after it (table rows
 * grouped by SQLite, chunked events one by one). Every worker in `workers` is listed, at 0 if it got nothing.
 */
export function countsUpTo(s: Statements, pk: number, upTo: number, workers: readonly string[]): TaskCounts {
  const counts = emptyTaskCounts(workers);
  const checkpoint = s.checkpointAtOrBefore.get(pk, upTo);
  if (checkpoint) addCheckpoint(counts, checkpoint.counts);
  const afterSeq = checkpoint?.seq ?? 0;
  for (const row of s.taskCounts.all(pk, afterSeq, upTo)) addTaskEvent(counts, row, row.n);
  const start = s.chunkAtOrBefore.get(pk, afterSeq + 1)?.first_seq ?? afterSeq + 1;
  for (const row of s.chunksFrom.iterate(pk, start, upTo)) {
    const chunk = new Chunk(row);
    for (let i = chunk.indexOfSeq(afterSeq + 1); i < chunk.count && chunk.seq(i) <= upTo; i++) {
      addTaskEvent(counts, chunk.fields(i));
    }
    if (row.last_seq >= upTo) break;
  }
  return counts;
}

/** The counting part of a run's summary: the counts, lost tasks per worker, and the tasks no worker received. */
export function summaryCounts(
  counts: TaskCounts,
): Pick<RunSummary, 'sent' | 'received' | 'done' | 'collected' | 'lost' | 'lostBy' | 'unattributed'> {
  const { sent, received, done, collected, lost, lostBy = {} } = counts;
  return { sent, received, done, collected, lost, lostBy, unattributed: Math.max(0, sent - receivedTotal(counts)) };
}
