/**
 * Counting a run's task events at any moment: the nearest checkpoint (the running counts the writer stored every
 * CHECKPOINT_EVERY events) plus the events after it, from both the events table and the task chunks.
 */
import type { PlaygroundEvent, WorkerInfo } from '../../../shared/protocol/index.ts';
import { Chunk } from './chunk-format.ts';
import type { Statements, TaskCount } from './statements.ts';

/** A checkpoint every this many events of a run. */
// Counting the events after a checkpoint parses their JSON (task chunks), so checkpoints are dense: a row of
// ~200 bytes every 2,000 events keeps counters at any moment within a few ms.
export const CHECKPOINT_EVERY = 2_000;

/**
 * Adds a task event to running counts keyed "type|worker" ("task:sent|", "task:received|worker-1"); other events
 * are not counted. The recorder and the import keep these counts and store them as checkpoints.
 */
export function count(counts: Map<string, number>, event: PlaygroundEvent): void {
  if (!event.type.startsWith('task:')) return;
  const worker = (event as { worker?: unknown }).worker;
  const key = `${event.type}|${typeof worker === 'string' ? worker : ''}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Stores the running task counts of a run as they stand after the event with this seq. */
export function insertCheckpoint(s: Statements, pk: number, seq: number, counts: Map<string, number>): void {
  s.insertCheckpoint.run(pk, seq, JSON.stringify(Object.fromEntries(counts)));
}

/** Task event counts by type and worker with afterSeq < seq <= upTo, from both tables. */
function taskCountsBetween(s: Statements, pk: number, afterSeq: number, upTo: number): TaskCount[] {
  const rows = s.taskCounts.all(pk, afterSeq, upTo);
  const counts = new Map<string, TaskCount>();
  const start = s.chunkAtOrBefore.get(pk, afterSeq + 1)?.first_seq ?? afterSeq + 1;
  for (const row of s.chunksFrom.iterate(pk, start, upTo)) {
    const chunk = new Chunk(row);
    for (let i = chunk.indexOfSeq(afterSeq + 1); i < chunk.count && chunk.seq(i) <= upTo; i++) {
      const event = JSON.parse(chunk.json(i)) as { type: string; worker?: string | null };
      const worker = typeof event.worker === 'string' ? event.worker : null;
      const key = `${event.type}|${worker ?? ''}`;
      const known = counts.get(key);
      if (known) known.n++;
      else counts.set(key, { type: event.type, worker, n: 1 });
    }
    if (row.last_seq >= upTo) break;
  }
  return rows.concat([...counts.values()]);
}

/** Counts of task events by type and worker with seq <= upTo: the nearest checkpoint plus the events after it. */
export function countsUpTo(s: Statements, pk: number, upTo: number): TaskCount[] {
  const checkpoint = s.checkpointAtOrBefore.get(pk, upTo);
  const rows = taskCountsBetween(s, pk, checkpoint?.seq ?? 0, upTo);
  if (!checkpoint) return rows;
  for (const [key, n] of Object.entries(JSON.parse(checkpoint.counts) as Record<string, number>)) {
    const bar = key.indexOf('|');
    rows.push({ type: key.slice(0, bar), worker: bar === key.length - 1 ? null : key.slice(bar + 1), n });
  }
  return rows;
}

/** Totals of task counts, keyed the way summaries and counters are (every worker of the run listed). */
export function totals(rows: TaskCount[], workers: WorkerInfo[]) {
  const received: Record<string, number> = {};
  const done: Record<string, number> = {};
  const lostBy: Record<string, number> = {};
  for (const worker of workers) {
    received[worker.id] = 0;
    done[worker.id] = 0;
  }
  let sent = 0;
  let receivedTotal = 0;
  let collected = 0;
  let lost = 0;
  for (const { type, worker, n } of rows) {
    if (type === 'task:sent') sent += n;
    else if (type === 'task:received' && worker !== null) {
      received[worker] = (received[worker] ?? 0) + n;
      receivedTotal += n;
    } else if (type === 'task:done' && worker !== null) done[worker] = (done[worker] ?? 0) + n;
    else if (type === 'task:collected') collected += n;
    else if (type === 'task:lost') {
      lost += n;
      const by = worker ?? 'unknown';
      lostBy[by] = (lostBy[by] ?? 0) + n;
    }
  }
  return { sent, received, done, collected, lost, lostBy, unattributed: Math.max(0, sent - receivedTotal) };
}
