/**
 * Storing a checked export as a new run (the HTTP import and its checks are in ../export.ts): a new id, events
 * re-labelled with it, task events in packed chunks and the others in rows, as the recorder stores a run, and
 * checkpoints as the recorder would have written them, all in ONE transaction [R7].
 */
import { CHUNK_EVENTS, MAX_DELTA, type ChunkEvent, type EventRow } from './chunk-format.ts';
import type { PlaygroundEvent, RunExport } from '../../../shared/protocol/index.ts';
import { addTaskEvent, emptyTaskCounts } from '../../../shared/protocol/task-counts.ts';
import { CHECKPOINT_EVERY, insertCheckpoint } from './counts.ts';
import { ROWS_PER_INSERT, type StoreContext } from './statements.ts';
import { freshRunId, insertEvents, insertRun, insertTaskChunk, updateProgress } from './writes.ts';
import { importedEndValues, importedPipelineRow, importedProgress, type ImportedEnd } from '../imported-run.ts';

/** Rows per insertEvents call while importing: bounds what one import holds in memory at a time. */
const IMPORT_ROWS_PER_CALL = ROWS_PER_INSERT * 100;

/**
 * An imported run's event rows, stored IMPORT_ROWS_PER_CALL at a time (a pipeline run's and a graph run's,
 * graph-import.ts). `flush` stores what is left.
 */
export function importedRows(s: StoreContext['s'], pk: number): { add(row: EventRow): void; flush(): void } {
  let rows: EventRow[] = [];
  return {
    add(row) {
      rows.push(row);
      if (rows.length === IMPORT_ROWS_PER_CALL) {
        insertEvents(s, pk, rows);
        rows = [];
      }
    },
    flush() {
      insertEvents(s, pk, rows);
      rows = [];
    },
  };
}

/**
 * Stores an imported run's progress (its events' count and seq range, as the export said) and its end, with
 * `summary` (the pipeline's summary, or a graph run's books) as the export holds it.
 */
export function storeImportedEnd(
  s: StoreContext['s'],
  pk: number,
  run: ImportedEnd,
  events: readonly { seq: number }[],
  summary: object | null,
): void {
  updateProgress(s, pk, importedProgress(run, events));
  const end = importedEndValues(run, summary);
  s.importedEnd.run(end.status, end.endedAt, end.reason, end.summary, end.durationMs, pk);
}

/**
 * Whether a task event of this seq can go into a chunk: a chunk's seq column holds steps from 0 below MAX_DELTA
 * (2^51). A recorded run never comes near it; a file edited to a larger seq (the export's schema sets no upper
 * bound) keeps such events as rows, as every import did before, and the reads merge both tables in seq order.
 */
const fitsChunk = (seq: number): boolean => Number.isSafeInteger(seq) && seq < MAX_DELTA;

/** Stores `doc` as a new run of `owner`; on any failure nothing of it is stored [R7]. Returns the new run's id. */
export function importRun(store: StoreContext, doc: RunExport, owner: string | null): string {
  const { s } = store;
  const { run, events } = doc;
  const id = freshRunId(s);
  store.transaction(() => {
    const pk = insertRun(s, importedPipelineRow(run, id, owner), { importedFrom: run.id });
    const counts = emptyTaskCounts();
    const rows = importedRows(s, pk);
    let tasks: ChunkEvent[] = [];
    events.forEach((event, i) => {
      const stored = { ...event, run: id } satisfies PlaygroundEvent;
      if (event.type.startsWith('task:') && fitsChunk(event.seq)) {
        // The chunk keeps what JSON.stringify(stored) writes, as a row's text would be: the reads answer the same.
        tasks.push({ seq: event.seq, t: event.t, json: null, event: stored });
        if (tasks.length === CHUNK_EVENTS) {
          insertTaskChunk(s, pk, tasks);
          tasks = [];
        }
      } else {
        rows.add({ seq: event.seq, t: event.t, type: event.type, json: JSON.stringify(stored) });
      }
      addTaskEvent(counts, event);
      if ((i + 1) % CHECKPOINT_EVERY === 0) insertCheckpoint(s, pk, event.seq, counts);
    });
    rows.flush();
    if (tasks.length > 0) insertTaskChunk(s, pk, tasks);
    storeImportedEnd(s, pk, run, events, run.summary);
  });
  return id;
}
