/**
 * The run database's tables, their version and migrations, and opening a file safely (refused when newer than
 * this server or damaged).
 *
 * Schema (PRAGMA user_version = SCHEMA_VERSION):
 *   runs   (pk, id UNIQUE, playground, scenario, name, params/endpoints/workers/summary JSON, started_at/ended_at
 *           ms since epoch, reason, event_count, first_seq, last_seq, duration ms, status, lost_events,
 *           format_version = PROTOCOL_VERSION of the stored events, source, imported_from, owner = the visitor
 *           that recorded or imported it (server/http/session.ts; NULL for runs older than version 3: nobody's),
 *           public = 1 when its owner let anyone read it by its id), lesson = the lesson the run was recorded in
 *           (NULL: none; version 4), name_n = the run's number in the server's own name "<title> #n" (NULL once
 *           renamed, and for imports: the page then shows `name` as it is), kind = 'pipeline' or 'graph' (version
 *           6: a graph run keeps its GraphSpec in params, its GraphSummary in summary, no endpoints or workers),
 *           INDEX (owner)
 *   events (run -> runs.pk, seq, t, type, json) PRIMARY KEY (run, seq) WITHOUT ROWID, INDEX (run, t), and a
 *           partial INDEX (run, seq) over the non-task events (added without a version bump: older servers
 *           ignore it, and CREATE ... IF NOT EXISTS builds it once on an older file)
 *   task_chunks (run, first_seq, last_seq, first_t, last_t, count, data) PRIMARY KEY (run, first_seq)
 *           WITHOUT ROWID, INDEX (run, first_t), INDEX (run, last_t): the recorder's task events, one row per run
 *           per transaction, `data` their packed columns (chunk-format.ts; version 5: before, the chunk was JSON
 *           lines and positions, and opening such a file repacks it, legacy-chunks.ts). Readers merge chunks with
 *           the events table, which keeps every other event (and the task events of imports and of files written
 *           before version 2).
 *   checkpoints (run, seq, counts JSON): every CHECKPOINT_EVERY events of a run, the running count of its task
 *           events by "type|worker" up to that seq, so counters at any moment cost one seek plus a short scan
 *           (counts.ts)
 * `t` never decreases as `seq` grows within a run (both are stamped in the same call; imports are checked), which
 * lets a time window be turned into a seq range with two index seeks.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunEndReason, RunStatus } from '../../../shared/protocol/index.ts';
import { DamagedChunkError } from './chunk-format.ts';
import { repackLegacyChunks, setLegacyChunksAside } from './legacy-chunks.ts';
import { MEMORY } from './paths.ts';
import { StoreOpenError } from '../store-api.ts';

/** The database cannot be used by this server (newer schema, unreadable or damaged file): defined with the interface. */
export { StoreOpenError };

/** Bumped on every change to the tables below; a database with a higher user_version is refused. */
export const SCHEMA_VERSION = 6;
/**
 * How long a statement waits for another connection's lock before failing. The main thread's connection must not
 * stall the event loop for long; the writer thread's may wait (a large import or delete holds the lock).
 */
export const BUSY_TIMEOUT_MS = 2000;

const DDL = `
CREATE TABLE IF NOT EXISTS runs (
  pk             INTEGER PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  playground     TEXT    NOT NULL,
  scenario       TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  params         TEXT    NOT NULL,
  endpoints      TEXT    NOT NULL,
  workers        TEXT    NOT NULL,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER,
  reason         TEXT,
  summary        TEXT,
  event_count    INTEGER NOT NULL DEFAULT 0,
  first_seq      INTEGER,
  last_seq       INTEGER,
  duration       REAL    NOT NULL DEFAULT 0,
  status         TEXT    NOT NULL CHECK (status IN ('running', 'ended', 'incomplete')),
  lost_events    INTEGER NOT NULL DEFAULT 0,
  format_version INTEGER NOT NULL,
  source         TEXT    NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'imported')),
  imported_from  TEXT,
  owner          TEXT,
  public         INTEGER NOT NULL DEFAULT 0,
  lesson         TEXT,
  name_n         INTEGER,
  kind           TEXT    NOT NULL DEFAULT 'pipeline' CHECK (kind IN ('pipeline', 'graph'))
);
CREATE TABLE IF NOT EXISTS events (
  run  INTEGER NOT NULL,
  seq  INTEGER NOT NULL,
  t    REAL    NOT NULL,
  type TEXT    NOT NULL,
  json TEXT    NOT NULL,
  PRIMARY KEY (run, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_run_t ON events (run, t);
-- Everything but task events (sockets, workers, endpoints, ventilator): the topology a replay starts from, found
-- without scanning a million task rows. Partial, so it costs nothing per task event; queries repeat its WHERE.
CREATE INDEX IF NOT EXISTS events_topology ON events (run, seq) WHERE type NOT LIKE 'task:%';
CREATE TABLE IF NOT EXISTS task_chunks (
  run       INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  first_t   REAL    NOT NULL,
  last_t    REAL    NOT NULL,
  count     INTEGER NOT NULL,
  data      BLOB    NOT NULL,
  PRIMARY KEY (run, first_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_chunks_first_t ON task_chunks (run, first_t);
CREATE INDEX IF NOT EXISTS task_chunks_last_t ON task_chunks (run, last_t);
CREATE TABLE IF NOT EXISTS checkpoints (
  run    INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  counts TEXT    NOT NULL,
  PRIMARY KEY (run, seq)
) WITHOUT ROWID;
`;

/** One row of `runs`, as SQLite returns it. */
export interface RunRow {
  pk: number;
  id: string;
  playground: string;
  scenario: string;
  name: string;
  params: string;
  endpoints: string;
  workers: string;
  started_at: number;
  ended_at: number | null;
  reason: RunEndReason | null;
  summary: string | null;
  event_count: number;
  first_seq: number | null;
  last_seq: number | null;
  duration: number;
  status: RunStatus;
  lost_events: number;
  format_version: number;
  source: 'live' | 'imported';
  imported_from: string | null;
  owner: string | null;
  public: number;
  lesson: string | null;
  name_n: number | null;
  /** What recorded it: a pipeline playground (run:started ... run:ended) or a graph one (graph:started ...). */
  kind: 'pipeline' | 'graph';
}

/**
 * Version 3 added the owner and public columns. A file of version 1 or 2 gets them here (its runs keep owner
 * NULL: they were recorded before anyone owned anything, so they stay in the file but no visitor sees them).
 */
function migrateToOwners(db: Database.Database): void {
  const columns = new Set((db.pragma('table_info(runs)') as { name: string }[]).map((column) => column.name));
  if (!columns.has('owner')) db.exec('ALTER TABLE runs ADD COLUMN owner TEXT');
  if (!columns.has('public')) db.exec('ALTER TABLE runs ADD COLUMN public INTEGER NOT NULL DEFAULT 0');
  db.exec('CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner)');
}

/**
 * Version 4 added lesson and name_n, so a page can name a run in its own language. Older runs keep their stored
 * name as it is (name_n NULL), and count as runs of no lesson.
 */
function migrateToNameParts(db: Database.Database): void {
  const columns = new Set((db.pragma('table_info(runs)') as { name: string }[]).map((column) => column.name));
  if (!columns.has('lesson')) db.exec('ALTER TABLE runs ADD COLUMN lesson TEXT');
  if (!columns.has('name_n')) db.exec('ALTER TABLE runs ADD COLUMN name_n INTEGER');
}

/**
 * Version 6 added kind, so a listing tells a graph run (issue 11: graph:started ... graph:ended, its graph in
 * `params`, its GraphSummary in `summary`) from a pipeline run. Every older run was a pipeline's.
 */
function migrateToKinds(db: Database.Database): void {
  const columns = new Set((db.pragma('table_info(runs)') as { name: string }[]).map((column) => column.name));
  if (!columns.has('kind'))
    db.exec("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'pipeline' CHECK (kind IN ('pipeline', 'graph'))");
}

/** What to do with a damaged database file, for the operator (the server does not start on one). */
function damagedAdvice(location: string): string {
  return (
    `The server did not start, so nothing more is lost. Move the file aside to start with an empty history ` +
    `(mv '${location}' '${location}.damaged'), or pass --db (or PLAYGROUND_DB) to use another file; ` +
    `sqlite3 '${location}' .recover may save the runs in it.`
  );
}

/**
 * Refuses a damaged file at open (issue 9.12). A file whose first pages are fine opens without complaint, and then
 * every list fails and every event written is dropped; SQLite's quick_check reads every page once (a second or two
 * for a file of a million events) and finds it at start instead.
 */
function checkIntact(db: Database.Database, location: string): void {
  let problems: string[];
  try {
    problems = (db.pragma('quick_check(3)') as { quick_check: string }[]).map((row) => row.quick_check);
  } catch (error) {
    problems = [(error as Error).message];
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw new StoreOpenError(
    `The run database ${location} is damaged (SQLite: ${problems.join('; ')}). ${damagedAdvice(location)}`,
  );
}

/**
 * Opens (creating if needed) the database at `location` (a file path or ":memory:") in WAL mode, brought up to
 * SCHEMA_VERSION. Throws a StoreOpenError, saying what to do, for a file it must not use.
 */
export function openDatabase(location: string, busyTimeoutMs: number): Database.Database {
  if (location !== MEMORY) fs.mkdirSync(path.dirname(path.resolve(location)), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(location, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new StoreOpenError(`Cannot open the run database ${location}: ${(error as Error).message}`);
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreOpenError(
        `The run database ${location} has schema version ${version}, newer than this server knows (${SCHEMA_VERSION}): ` +
          'it was written by a newer version of the playground. Run that version, or pass --db (or PLAYGROUND_DB) to use another file.',
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    if (location !== MEMORY) checkIntact(db, location);
    if (version < SCHEMA_VERSION) {
      db.transaction(() => {
        setLegacyChunksAside(db);
        db.exec(DDL);
        migrateToOwners(db);
        migrateToNameParts(db);
        migrateToKinds(db);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    // At every open: a repack cut short (the server killed) goes on where it stopped.
    repackLegacyChunks(db);
  } catch (error) {
    db.close();
    if (error instanceof StoreOpenError) throw error;
    if (error instanceof DamagedChunkError) {
      throw new StoreOpenError(
        `The run database ${location} is damaged (${error.message}). ${damagedAdvice(location)}`,
      );
    }
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      throw new StoreOpenError(
        `The run database ${location} is damaged (SQLite: ${(error as Error).message}). ${damagedAdvice(location)}`,
      );
    }
    throw new StoreOpenError(`Cannot use the run database ${location}: ${(error as Error).message}`);
  }
  return db;
}
