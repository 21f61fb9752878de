/**
 * The ONE storage interface the server uses for recorded runs (issue 13): the history routes, the export, the
 * import, the app and the recorders see a RecordingStore and nothing else. Two implementations:
 *   - SQLite (the embedded default): server/recorder/sqlite-store.ts wraps RunStore (store.ts, better-sqlite3,
 *     synchronous); its write channel is today's (a writer thread for a file, inline for ":memory:").
 *   - PostgreSQL (`--db postgres://...`): server/recorder/pg/ (node-postgres, necessarily asynchronous), with its
 *     own batched write channel.
 * openRecordingStore() (store-open.ts) picks one from the location. Every implementation passes the same
 * conformance suite (conformance.test.ts, stores registered in conformance-stores.ts).
 *
 * Rules every implementation keeps (the conformance suite checks them):
 *   - Reads and management calls return Promises; a failure a client caused or can act on rejects with a
 *     CodedError (server/errors.ts) with the codes RunStore uses: PG_ERR_NOT_FOUND for an unknown run id,
 *     PG_ERR_RUN_ACTIVE for exporting or deleting a run still recorded, PG_ERR_VALIDATION for a bad cursor,
 *     PG_ERR_IMPORT never (imports are checked before they reach the store: export.ts importRun).
 *   - Answers have the exact shapes of shared/protocol (RecordedRun..., RunPage, EventWindow's JSON texts as stored),
 *     so a run reads the same whichever store holds it; an export of a run is byte-identical across stores (but for
 *     exportedAt).
 *   - An import is ONE transaction: refused or failed, nothing of it is stored.
 *   - Opening refuses a database of a newer schema version with a StoreOpenError naming both versions; an older one
 *     is migrated in place. Opening with `recover` (the default) marks every run left "running" as "incomplete"
 *     (markInterrupted), summary rebuilt from its stored events.
 *
 * Changes after the first commit (2026-11-30 ~05:05 UTC) are listed here:
 *   - OpenStoreOptions.instance (H1b, for PostgreSQL): the server's `--instance`; a shared database marks only
 *     that instance's interrupted runs incomplete.
 */
import type {
  GraphRunExport,
  RecordedGraphRunDetail,
  RecordedRunDetail,
  RunCountersAt,
  RunExport,
  RunPage,
} from '../../shared/protocol/index.ts';
import type { EventBatch } from './packed.ts';
import type { PlaygroundRef } from './writer.ts';

/** The database cannot be used by this server (newer schema, unreadable or damaged). Thrown (rejected) at open. */
export class StoreOpenError extends Error {}

/** Who may read a stored run, and who may change it. */
export interface RunAccess {
  owner: string | null;
  /** The live playground that recorded it (null for an import: the id it names proves nothing). */
  playground: string | null;
  public: boolean;
}

/**
 * Whose runs a listing shows: those `visitor` owns and those recorded by the live playgrounds it may watch.
 * Public runs of others are not listed (they are read by their id).
 */
export interface RunViewer {
  visitor: string;
  playgrounds: readonly string[];
}

export interface ListOptions {
  /** 1..MAX_RUN_PAGE, default 50. */
  limit?: number;
  /** The `nextBefore` of the previous page (a decimal string); a malformed one rejects with PG_ERR_VALIDATION. */
  before?: string;
  /** Only the runs this viewer may see, each saying whether it is the viewer's (`owned`); without: every run. */
  viewer?: RunViewer;
}

export interface EventRange {
  fromSeq?: number;
  toSeq?: number;
  fromT?: number;
  toT?: number;
  limit: number;
  /** 'topology': every event but task:* (what a replay of a big run needs before its window). Default 'all'. */
  kind?: 'all' | 'topology';
}

/** A page of stored events as their JSON text (sent on as is: no parse, no stringify). */
export interface JsonWindow {
  run: string;
  json: string[];
  nextSeq: number | null;
}

/** A task event as the CSV export reads it. */
export interface TaskRow {
  seq: number;
  t: number;
  type: string;
  task: number | null;
  worker: string | null;
  body: string | null;
}

/**
 * Where a streaming export starts: the store's own key of the run (`pk`, passed back to eventsAfter/tasksAfter)
 * and its detail as it was when the export began. `graph: true` for a graph run.
 */
export type Exportable =
  { pk: number; run: RecordedRunDetail; graph?: undefined } | { pk: number; run: RecordedGraphRunDetail; graph: true };

/** Counters shared by every recorder of one server (GET /api/recording). */
export class RecordingStats {
  recordedEvents = 0;
  flushes = 0;
  writeErrors = 0;
  droppedEvents = 0;
  lastError: { message: string; at: string } | null = null;
}

export interface ChannelOptions {
  /** The server's counters (a channel makes its own when left out). */
  stats?: RecordingStats;
  /** Told about every write error (the app logs them). */
  onError?: (error: Error) => void;
}

/**
 * Where recorders hand their batches (semantics in docs/recording.md "How it is written"): write() never throws and
 * never blocks on the database; a failed batch stores nothing of itself, counts its events as dropped and charges
 * them to their runs (lostEvents, so they end incomplete); a run's row is created before its first events.
 */
export interface WriteChannel {
  readonly stats: RecordingStats;
  /** Events handed over but not written yet (the recorder waits when this passes its cap). */
  readonly inFlight: number;
  /**
   * The channel wants its batches packed (it posts them to a writer thread): the recorder then packs each event as
   * it arrives (packed.ts, EventPacker) instead of keeping the event. Otherwise it hands over the events themselves.
   */
  readonly packed?: boolean;
  /**
   * Hands over a batch (already out of the recorder's buffer): packed if the channel said so, else the events.
   * Either kind is accepted (a thread's channel whose thread died writes its packed batches inline). Never throws.
   */
  write(
    playground: PlaygroundRef,
    events: EventBatch,
    wallClock: [number, number][],
    overflow: [string, number][],
  ): void;
  /** Resolves once everything handed over so far has been written (or failed). */
  flushed(): Promise<void>;
  /** After the playground's last batch: marks its runs that never ended incomplete. */
  closePlayground(id: string): Promise<void>;
  /**
   * Checks and stores an export (its text, UTF-8 bytes or parsed value) as a new run owned by `owner`; rejects with
   * a CodedError PG_ERR_IMPORT saying what is wrong, nothing stored.
   */
  importRun(input: unknown, owner?: string | null): Promise<RecordedRunDetail | RecordedGraphRunDetail>;
  /** Deletes a stored run and its events; rejects with a CodedError (not found, still recording). */
  deleteRun(id: string): Promise<void>;
  /** Writes what is pending and releases the channel (not the store). Idempotent. */
  close(): Promise<void>;
}

export interface RecordingStore {
  /** Which implementation (for messages and the conformance suite's names). */
  readonly kind: 'sqlite' | 'postgres';
  /**
   * What GET /api/recording shows as `path`: a file's name only ("runs.db"), ":memory:", or a PostgreSQL URL
   * without user or password ("postgres://host:port/db"). Never a server folder or a secret.
   */
  readonly displayName: string;
  /** A server folder no message to a client may name (the SQLite file's folder); null when there is none. */
  readonly privateFolder: string | null;
  readonly closed: boolean;

  /**
   * The channel the server's recorders write through (one per server; the caller closes it before the store).
   * SQLite: a writer thread with its own connection for a file, inline for ":memory:". PostgreSQL: its batched
   * writer.
   */
  openWriteChannel(options?: ChannelOptions): WriteChannel;

  /**
   * Marks every run still "running" incomplete (a previous server stopped mid-run); how many. Done at open. A shared
   * database (PostgreSQL) marks only the runs of this store's instance (OpenStoreOptions.instance).
   */
  markInterrupted(): Promise<number>;

  // ---- reads

  /** Newest first (most recently recorded or imported), keyset pages. */
  listRuns(options?: ListOptions): Promise<RunPage>;
  /** Who owns a stored run, which playground recorded it and whether it is public; null for an unknown id. */
  accessOf(id: string): Promise<RunAccess | null>;
  /** A pipeline run. With `visitor`, the run also says whether it is that visitor's (`owned`). */
  getRun(id: string, visitor?: string): Promise<RecordedRunDetail>;
  /** A run of either kind (a graph run's detail has `kind: 'graph'` and its graph). */
  getAnyRun(id: string, visitor?: string): Promise<RecordedRunDetail | RecordedGraphRunDetail>;
  /** A window of a run's events in seq order (seq and time bounds, at most `limit`). */
  eventWindow(id: string, range: EventRange): Promise<JsonWindow>;
  /** Exact task totals of a run up to time t (every task event with t' <= t). */
  countersAt(id: string, t: number): Promise<RunCountersAt>;
  /** Where a streaming export starts; rejects PG_ERR_RUN_ACTIVE for a run still being recorded. */
  exportable(id: string): Promise<Exportable>;
  /** Up to `limit` events with afterSeq < seq <= lastSeq, in seq order, as stored JSON (the export's page). */
  eventsAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): Promise<{ seq: number; json: string }[]>;
  /** Up to `limit` task events with afterSeq < seq <= lastSeq, in seq order (the CSV export's page). */
  tasksAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): Promise<TaskRow[]>;

  // ---- the history's own changes

  /** Makes a run readable by anyone who has its id (or private again). */
  setPublic(id: string, isPublic: boolean): Promise<void>;
  /** Renames a run (its default name's parts are dropped); answers its detail. */
  renameRun(id: string, name: string): Promise<RecordedRunDetail | RecordedGraphRunDetail>;
  /** Deletes a run and its events in one transaction; PG_ERR_RUN_ACTIVE while it is recorded. */
  deleteRun(id: string): Promise<void>;
  /** Stores a CHECKED export as a new run (new id, events relabelled) in ONE transaction. */
  importRun(doc: RunExport, owner?: string | null): Promise<RecordedRunDetail>;
  /** The same for a checked graph export. */
  importGraphRun(doc: GraphRunExport, owner?: string | null): Promise<RecordedGraphRunDetail>;

  /** Closes the store (after its write channel). Idempotent. */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Mark runs left "running" as incomplete (default true: a server starting on the database). */
  recover?: boolean;
  /**
   * The server's `--instance` name (server/instance.ts; null or absent: a standalone server). PostgreSQL records it
   * on every run row a server creates, and `recover` marks only the runs of this same instance: several servers
   * share one database, and a run another live server records is not interrupted; an instance holds a lock named
   * after it for its life, and marks the runs of a dead instance (pg/liveness.ts). SQLite ignores it (one server
   * per file).
   */
  instance?: string | null;
}

/**
 * How the PostgreSQL module plugs in: server/recorder/pg/index.ts exports
 *   openPostgresStore(url: string, options?: OpenStoreOptions): Promise<RecordingStore>
 * which store-open.ts imports (dynamically) for a postgres:// or postgresql:// location.
 */
export type OpenStore = (location: string, options?: OpenStoreOptions) => Promise<RecordingStore>;
