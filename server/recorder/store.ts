/**
 * RunStore: recorded runs and their events in SQLite (better-sqlite3 v12, synchronous). One file per server in
 * the user's data folder by default, ":memory:" for tests. Reads never load a whole run: every event query is a
 * bounded seq range (keyset pagination), so a million-event run is listed, windowed and exported in pages.
 *
 * This class is the store's one entry point; the parts are in store/:
 *   paths.ts         where the database file is
 *   schema.ts        the tables (described there), their version and migrations, opening a file safely
 *                    (StoreOpenError: the server cannot start on it)
 *   statements.ts    every SQL statement, prepared once per connection
 *   chunk-format.ts  the task chunk: many task events in one row, as packed columns (chunk-pack.ts writes one,
 *                    chunk-read.ts reads one; legacy-chunks.ts repacks a version 4 file's chunks at open)
 *   counts.ts        task counts at any moment (checkpoints plus the events after them)
 *   reads.ts         listings, one run, event windows, counters at t, export pages
 *   writes.ts        run rows, events, progress, end, rename, public, delete
 *   import.ts        a checked export stored as a new run (graph-import.ts: a graph run's)
 * A failure a client caused or can act on (unknown run, run still recording, bad cursor) is a CodedError
 * (server/errors.ts).
 */
import type Database from 'better-sqlite3';
import type {
  GraphRunExport,
  RecordedGraphRunDetail,
  RecordedRunDetail,
  RunCountersAt,
  RunExport,
  RunPage,
} from '../../shared/protocol/index.ts';
import type { TaskCounts } from '../../shared/protocol/task-counts.ts';
import type { EventRow } from './store/chunk-format.ts';
import type { TaskRows } from './store/chunk-pack.ts';
import { insertCheckpoint } from './store/counts.ts';
import { importRun } from './store/import.ts';
import { importGraphRun } from './store/graph-import.ts';
import * as reads from './store/reads.ts';
import { BUSY_TIMEOUT_MS, openDatabase } from './store/schema.ts';
import { prepareStatements, type Statements, type StoreContext, type TaskRow } from './store/statements.ts';
import * as writes from './store/writes.ts';

export { MEMORY, defaultDbPath, resolveDbPath } from './store/paths.ts';
export { BUSY_TIMEOUT_MS, SCHEMA_VERSION, StoreOpenError } from './store/schema.ts';
export { CHECKPOINT_EVERY } from './store/counts.ts';
export type { ChunkEvent, EventRow } from './store/chunk-format.ts';
export type { TaskRow } from './store/statements.ts';
export type { EventRange, JsonWindow, RunAccess, RunViewer } from './store/reads.ts';
export type { NewRun, RunEnd, RunProgress } from './store/writes.ts';

export class RunStore {
  readonly location: string;
  readonly #db: Database.Database;
  #closed = false;
  readonly #s: Statements;
  /** What the store's modules get: the statements and this store's transactions. */
  readonly #context: StoreContext;

  /**
   * Opens (creating if needed) the database at `location` (a file path or ":memory:"). Runs left "running" by a
   * previous process are marked "incomplete" unless `recover` is false.
   */
  static open(location: string, options: { recover?: boolean; busyTimeoutMs?: number } = {}): RunStore {
    return new RunStore(location, options.recover ?? true, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
  }

  private constructor(location: string, recover: boolean, busyTimeoutMs: number) {
    this.location = location;
    this.#db = openDatabase(location, busyTimeoutMs);
    this.#s = prepareStatements(this.#db);
    this.#context = { s: this.#s, transaction: (fn) => this.transaction(fn) };
    if (recover) this.markInterrupted();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs fn in one transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  // ---- writes (writes.ts): the recorder's writer calls these, grouped into transactions

  runExists(id: string): boolean {
    return writes.runExists(this.#s, id);
  }

  /** A run id no stored run has yet, shaped like the playground's ("run-" + 8 hex digits). */
  freshRunId(prefix = 'run'): string {
    return writes.freshRunId(this.#s, prefix);
  }

  /** Inserts a run row with status "running" and returns its pk. */
  insertRun(run: writes.NewRun, source: { importedFrom: string } | null = null): number {
    return writes.insertRun(this.#s, run, source);
  }

  insertEvent(pk: number, seq: number, t: number, type: string, json: string): void {
    this.#s.insertEvent.run(pk, seq, t, type, json);
  }

  /** Inserts rows of one run, many per statement (call inside a transaction). */
  insertEvents(pk: number, rows: readonly EventRow[]): void {
    writes.insertEvents(this.#s, pk, rows);
  }

  /** Stores task events of one run (seq increasing, after its previous chunk) as chunk rows (inside a transaction). */
  insertTaskChunk(pk: number, rows: TaskRows): void {
    writes.insertTaskChunk(this.#s, pk, rows);
  }

  /** Stores the running task counts of a run as they stand after the event with this seq. */
  insertCheckpoint(pk: number, seq: number, counts: TaskCounts): void {
    insertCheckpoint(this.#s, pk, seq, counts);
  }

  updateProgress(pk: number, progress: writes.RunProgress): void {
    writes.updateProgress(this.#s, pk, progress);
  }

  /** Stores run:ended's facts; the run becomes "ended", or "incomplete" if events were lost on the way. */
  finishRun(pk: number, end: writes.RunEnd): void {
    writes.finishRun(this.#s, pk, end);
  }

  /** Marks one run (still "running") incomplete, with a summary rebuilt from its stored events. */
  markIncomplete(pk: number): void {
    writes.markIncomplete(this.#s, pk);
  }

  /** Called at open: a run still "running" in the file was interrupted (crash, kill -9, power loss). */
  markInterrupted(): number {
    return writes.markInterrupted(this.#context);
  }

  // ---- reads (reads.ts)

  /**
   * Newest first (most recently recorded or imported). `before` is the `nextBefore` of the previous page. With a
   * `viewer`, only the runs it may see (RunViewer), each saying whether it is the viewer's; without, every run.
   */
  listRuns(options: { limit?: number; before?: string; viewer?: reads.RunViewer } = {}): RunPage {
    return reads.listRuns(this.#s, options);
  }

  /** Who owns a stored run, which playground recorded it and whether it is public; null for an unknown id. */
  accessOf(id: string): reads.RunAccess | null {
    return reads.accessOf(this.#s, id);
  }

  /** A pipeline run. With `visitor`, the run also says whether it is that visitor's (`owned`). */
  getRun(id: string, visitor?: string): RecordedRunDetail {
    return reads.toDetail(reads.runRow(this.#s, id), visitor);
  }

  /** A run of either kind (a graph run's detail has `kind: 'graph'` and its graph). */
  getAnyRun(id: string, visitor?: string): RecordedRunDetail | RecordedGraphRunDetail {
    return reads.anyDetail(reads.runRow(this.#s, id), visitor);
  }

  /** A window of a run's events in seq order (seq and time bounds, at most `limit`). */
  eventWindow(id: string, range: reads.EventRange): reads.JsonWindow {
    return reads.eventWindow(this.#s, id, range);
  }

  /** Exact task totals of a run up to time t (every task event with t' <= t): what the counters showed then. */
  countersAt(id: string, t: number): RunCountersAt {
    return reads.countersAt(this.#s, id, t);
  }

  /** The row a streaming export starts from; refuses a run still being recorded. */
  exportable(id: string): ReturnType<typeof reads.exportable> {
    return reads.exportable(this.#s, id);
  }

  /** Up to `limit` events with afterSeq < seq <= lastSeq, as stored JSON (the export's page). */
  eventsAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): { seq: number; json: string }[] {
    return reads.eventsAfter(this.#s, pk, afterSeq, lastSeq, limit);
  }

  /** Up to `limit` task events with afterSeq < seq <= lastSeq (the CSV export's page). */
  tasksAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): TaskRow[] {
    return reads.tasksAfter(this.#s, pk, afterSeq, lastSeq, limit);
  }

  // ---- the history's own changes

  /** Makes a run readable by anyone who has its id (or private again). */
  setPublic(id: string, isPublic: boolean): void {
    writes.setPublic(this.#s, id, isPublic);
  }

  renameRun(id: string, name: string): RecordedRunDetail | RecordedGraphRunDetail {
    writes.renameRun(this.#s, id, name);
    return this.getAnyRun(id);
  }

  /** Deletes a run and its events in one transaction; a run still being recorded cannot be deleted. */
  deleteRun(id: string): void {
    writes.deleteRun(this.#context, id);
  }

  /**
   * Stores a checked export as a new run (new id, events re-labelled with it) in ONE transaction: on any failure
   * nothing of it is stored [R7].
   */
  importRun(doc: RunExport, owner: string | null = null): RecordedRunDetail {
    return this.getRun(importRun(this.#context, doc, owner), owner ?? undefined);
  }

  /** Stores a checked graph export as a new run, in ONE transaction, as importRun does a pipeline's. */
  importGraphRun(doc: GraphRunExport, owner: string | null = null): RecordedGraphRunDetail {
    return reads.toGraphDetail(reads.runRow(this.#s, importGraphRun(this.#context, doc, owner)), owner ?? undefined);
  }

  /** Closes the database (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
