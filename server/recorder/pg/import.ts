/**
 * Storing a checked export as a new run in PostgreSQL, as store/import.ts and store/graph-import.ts do in SQLite:
 * a new id, events relabelled with it, a pipeline run's task events in packed chunks of 1,000 and its other events
 * as rows, checkpoints every CHECKPOINT_EVERY events; ONE transaction, so nothing of a failed import is stored.
 * Rows go in multi-row inserts of IMPORT_ROWS at a time, which bounds what an import holds besides its document.
 */
import type pg from 'pg';
import type { GraphRunExport, PlaygroundEvent, RunExport } from '../../../shared/protocol/index.ts';
import {
  addTaskEvent,
  cloneTaskCounts,
  emptyTaskCounts,
  type TaskCounts,
} from '../../../shared/protocol/task-counts.ts';
import { MAX_DELTA, type ChunkEvent, type EventRow } from '../store/chunk-format.ts';
import { CHECKPOINT_EVERY } from '../store/counts.ts';
import type { NewRun } from '../store/writes.ts';
import {
  importedEndValues,
  importedGraphRow,
  importedPipelineRow,
  importedProgress,
  type ImportedEnd,
} from '../imported-run.ts';
import { transaction } from './writer.ts';
import {
  freshRunId,
  insertCheckpoints,
  insertEvents,
  insertRun,
  insertTaskChunks,
  storeImportedEnd,
  updateProgress,
} from './writes.ts';

/** Rows (or task events) per INSERT while importing. */
const IMPORT_ROWS = 10_000;

/** A task event of a seq a chunk cannot hold (only in an edited file) stays a row, as in SQLite. */
const fitsChunk = (seq: number): boolean => Number.isSafeInteger(seq) && seq < MAX_DELTA;

interface ImportedRun extends ImportedEnd {
  id: string;
}

/** Stores the events of an imported run and its end; `chunked`: task events go into chunks (a pipeline run). */
async function storeImported(
  client: pg.PoolClient,
  newRun: NewRun,
  run: ImportedRun,
  events: readonly PlaygroundEvent[],
  summary: object | null,
  chunked: boolean,
): Promise<void> {
  const pk = await insertRun(client, newRun, { importedFrom: run.id }, null);
  let rows: EventRow[] = [];
  let tasks: ChunkEvent[] = [];
  let checkpoints: { seq: number; counts: TaskCounts }[] = [];
  const counts = emptyTaskCounts();
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const stored = { ...event, run: newRun.id };
    if (chunked && event.type.startsWith('task:') && fitsChunk(event.seq)) {
      tasks.push({ seq: event.seq, t: event.t, json: null, event: stored });
      if (tasks.length === IMPORT_ROWS) {
        await insertTaskChunks(client, pk, tasks);
        tasks = [];
      }
    } else {
      rows.push({ seq: event.seq, t: event.t, type: event.type, json: JSON.stringify(stored) });
      if (rows.length === IMPORT_ROWS) {
        await insertEvents(client, pk, rows);
        rows = [];
      }
    }
    if (chunked) {
      addTaskEvent(counts, event);
      if ((i + 1) % CHECKPOINT_EVERY === 0) checkpoints.push({ seq: event.seq, counts: cloneTaskCounts(counts) });
      if (checkpoints.length === 100) {
        await insertCheckpoints(client, pk, checkpoints);
        checkpoints = [];
      }
    }
  }
  await insertEvents(client, pk, rows);
  await insertTaskChunks(client, pk, tasks);
  await insertCheckpoints(client, pk, checkpoints);
  await updateProgress(client, pk, importedProgress(run, events));
  await storeImportedEnd(client, pk, importedEndValues(run, summary));
}

/** Stores a checked pipeline export as a new run of `owner`, in one transaction. Returns the new run's id. */
export function importRun(pool: pg.Pool, doc: RunExport, owner: string | null): Promise<string> {
  const { run, events } = doc;
  return transaction(pool, async (client) => {
    const id = await freshRunId(client);
    const newRun = importedPipelineRow(run, id, owner);
    await storeImported(client, newRun, run, events, run.summary, true);
    return id;
  });
}

/** Stores a checked graph export as a new graph run of `owner`, in one transaction. Returns the new run's id. */
export function importGraphRun(pool: pg.Pool, doc: GraphRunExport, owner: string | null): Promise<string> {
  const { run, events } = doc;
  return transaction(pool, async (client) => {
    const id = await freshRunId(client);
    const newRun = importedGraphRow(run, id, owner);
    await storeImported(client, newRun, run, events, run.graphSummary, false);
    return id;
  });
}
