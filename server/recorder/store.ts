/**
 * RunStore: recorded runs and their events in SQLite (better-sqlite3 v12, synchronous). One file per server in
 * the user's data folder by default, ":memory:" for tests. Reads never load a whole run: every event query is a
 * bounded seq range (keyset pagination), so a million-event run is listed, windowed and exported in pages.
 *
 * Schema (PRAGMA user_version = SCHEMA_VERSION):
 *   runs   (pk, id UNIQUE, playground, scenario, name, params/endpoints/workers/summary JSON, started_at/ended_at
 *           ms since epoch, reason, event_count, first_seq, last_seq, duration ms, status, lost_events,
 *           format_version = PROTOCOL_VERSION of the stored events, source, imported_from, owner = the visitor
 *           that recorded or imported it (server/http/session.ts; NULL for runs older than version 3: nobody's),
 *           public = 1 when its owner let anyone read it by its id), lesson = the lesson the run was recorded in
 *           (NULL: none; version 4), name_n = the run's number in the server's own name "<title> #n" (NULL once
 *           renamed, and for imports: the page then shows `name` as it is), INDEX (owner)
 *   events (run -> runs.pk, seq, t, type, json) PRIMARY KEY (run, seq) WITHOUT ROWID, INDEX (run, t), and a
 *           partial INDEX (run, seq) over the non-task events (added without a version bump: older servers
 *           ignore it, and CREATE ... IF NOT EXISTS builds it once on an older file)
 *   task_chunks (run, first_seq, last_seq, first_t, last_t, count, positions, lines) PRIMARY KEY (run, first_seq)
 *           WITHOUT ROWID, INDEX (run, first_t), INDEX (run, last_t): the recorder's task events, one row per run
 *           per transaction (up to CHUNK_EVENTS events): `lines` is their JSON text joined by "\n" (JSON never holds
 *           a raw newline), `positions` a Float64Array of (seq, t, offset of the line) per event. A row per task
 *           event cost ~4 us of SQLite work, more than the pipeline spends on the task; a chunk costs ~0.1 us an
 *           event. Readers merge chunks with the events table, which keeps every other event (and the task events
 *           of imports and of files written before version 2).
 *   checkpoints (run, seq, counts JSON): every CHECKPOINT_EVERY events of a run, the running count of its task
 *           events by "type|worker" up to that seq, so counters at any moment cost one seek plus a short scan
 * `t` never decreases as `seq` grows within a run (both are stamped in the same call; imports are checked), which
 * lets a time window be turned into a seq range with two index seeks.
 */
import { english, text, type ServerText } from '../../shared/protocol/server-text.ts';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  MAX_RUN_PAGE,
  PROTOCOL_VERSION,
  type EndpointInfo,
  type ErrorCode,
  type PlaygroundEvent,
  type RecordedRun,
  type RecordedRunDetail,
  type RunCountersAt,
  type RunEndReason,
  type RunExport,
  type RunPage,
  type RunParams,
  type RunStatus,
  type RunSummary,
  type WorkerInfo,
} from '../../shared/protocol/index.ts';

/** Bumped on every change to the tables below; a database with a higher user_version is refused. */
export const SCHEMA_VERSION = 4;
export const MEMORY = ':memory:';
/**
 * How long a statement waits for another connection's lock before failing. The main thread's connection must not
 * stall the event loop for long; the writer thread's may wait (a large import or delete holds the lock).
 */
export const BUSY_TIMEOUT_MS = 2000;
/**
 * Most task events per chunk row: a read decodes whole chunks, so smaller chunks make small windows cheaper;
 * a chunk row costs SQLite about as much as one event row, so this many cost it next to nothing per event.
 */
const CHUNK_EVENTS = 1000;
/** Rows per multi-row INSERT (fewer calls into SQLite; 5 parameters each, far below the 32,766 limit). */
const ROWS_PER_INSERT = 64;

/** A failure a client caused or can act on (not found, run still recording, bad cursor); carries an HTTP code. */
export class RecordError extends Error {
  readonly text: ServerText;

  /** `message` defaults to the English of `reason`; an import's may say more (every problem TypeBox found). */
  constructor(
    readonly code: ErrorCode,
    reason: ServerText,
    message = english(reason),
  ) {
    super(message);
    this.text = reason;
  }
}

/** The database cannot be used by this server (newer schema, unreadable file). Thrown at open. */
export class StoreOpenError extends Error {}

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
  throw new StoreOpenError(`The run database ${location} is damaged (SQLite: ${problems.join('; ')}). ${damagedAdvice(location)}`);
}

/** $XDG_DATA_HOME (if absolute) or ~/.local/share, then zmq-playground/runs.db. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'zmq-playground', 'runs.db');
}

/** Where the server records: the explicit option, else $PLAYGROUND_DB, else the data-folder file. */
export function resolveDbPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env.PLAYGROUND_DB || defaultDbPath(env);
}

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
  name_n         INTEGER
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
  positions BLOB    NOT NULL,
  lines     TEXT    NOT NULL,
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

interface RunRow {
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
}

export interface NewRun {
  id: string;
  playground: string;
  scenario: string;
  /**
   * Defaults to "<title> #<n>": the lesson's title and n counting its stored runs, else the scenario's and n
   * counting its runs outside lessons (per owner).
   */
  name?: string;
  scenarioTitle?: string;
  /** The lesson the run was recorded in (run:started's `lesson`). */
  lesson?: string | null;
  lessonTitle?: string;
  params: RunParams;
  endpoints: EndpointInfo[];
  workers: WorkerInfo[];
  startedAt: number;
  /** The visitor it belongs to (null: nobody's). */
  owner?: string | null;
}

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

export interface EventRow {
  seq: number;
  t: number;
  type: string;
  json: string;
}

export interface RunProgress {
  eventCount: number;
  firstSeq: number | null;
  lastSeq: number | null;
  durationMs: number;
  lostEvents: number;
}

export interface RunEnd {
  endedAt: number;
  reason: RunEndReason;
  summary: RunSummary;
  lostEvents: number;
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

export interface TaskRow {
  seq: number;
  t: number;
  type: string;
  task: number | null;
  worker: string | null;
  body: string | null;
}

interface ChunkRow {
  first_seq: number;
  last_seq: number;
  positions: Buffer;
  lines: string;
}

/** One stored event located by seq: its time and JSON text. */
interface Located {
  seq: number;
  t: number;
  json: string;
}

/** A task chunk, decoded: per event its seq, t and where its line starts in `lines`. */
class Chunk {
  readonly count: number;
  readonly #positions: Float64Array;
  readonly #lines: string;

  constructor(row: ChunkRow) {
    // Copied into an aligned buffer: SQLite's bytes may start at any offset.
    const bytes = new Uint8Array(row.positions.byteLength);
    bytes.set(row.positions);
    this.#positions = new Float64Array(bytes.buffer);
    this.count = this.#positions.length / 3;
    this.#lines = row.lines;
  }

  seq(i: number): number {
    return this.#positions[i * 3]!;
  }

  t(i: number): number {
    return this.#positions[i * 3 + 1]!;
  }

  json(i: number): string {
    const start = this.#positions[i * 3 + 2]!;
    const end = i + 1 < this.count ? this.#positions[(i + 1) * 3 + 2]! - 1 : this.#lines.length;
    return this.#lines.slice(start, end);
  }

  /** The first index whose seq is >= `seq` (count if none). */
  indexOfSeq(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seq(mid) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose t is >= `t` (count if none). */
  indexOfT(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.t(mid) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Merges two seq-ordered lists into one, keeping at most `limit`. */
function mergeBySeq<T extends { seq: number }>(a: readonly T[], b: readonly T[], limit: number): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && a[i]!.seq < b[j]!.seq)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

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

/** Per-type (and per-worker) counts of a run's task events: the material of summaries and counters. */
interface TaskCount {
  type: string;
  worker: string | null;
  n: number;
}

function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare<
      [string, string, string, string, string, string, string, number, number, string, string | null, string | null, string | null, number | null]
    >(
      `INSERT INTO runs (id, playground, scenario, name, params, endpoints, workers, started_at, status, format_version, source, imported_from, owner, lesson, name_n)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
    ),
    // Per owner: a visitor's default names count its own runs, and say nothing about anyone else's. A lesson's
    // runs are numbered among themselves; the scenario's, among those outside any lesson.
    countScenario: db.prepare<[string, string | null], { n: number }>(
      'SELECT count(*) AS n FROM runs WHERE scenario = ? AND lesson IS NULL AND owner IS ?',
    ),
    countLesson: db.prepare<[string, string | null], { n: number }>('SELECT count(*) AS n FROM runs WHERE lesson = ? AND owner IS ?'),
    insertEvent: db.prepare<[number, number, number, string, string]>('INSERT INTO events (run, seq, t, type, json) VALUES (?, ?, ?, ?, ?)'),
    insertEvents: db.prepare<unknown[]>(`INSERT INTO events (run, seq, t, type, json) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`),
    progress: db.prepare<[number, number | null, number | null, number, number, number]>(
      'UPDATE runs SET event_count = ?, first_seq = ?, last_seq = ?, duration = max(duration, ?), lost_events = ? WHERE pk = ?',
    ),
    finish: db.prepare<[number, number, string, string, number, number, number]>(
      `UPDATE runs SET status = CASE WHEN ? > 0 THEN 'incomplete' ELSE 'ended' END,
         ended_at = ?, reason = ?, summary = ?, duration = max(duration, ?), lost_events = ? WHERE pk = ?`,
    ),
    importedEnd: db.prepare<[string, number | null, string | null, string | null, number, number]>(
      'UPDATE runs SET status = ?, ended_at = ?, reason = ?, summary = ?, duration = ? WHERE pk = ?',
    ),
    byPk: db.prepare<[number], RunRow>('SELECT * FROM runs WHERE pk = ?'),
    running: db.prepare<[], { pk: number }>("SELECT pk FROM runs WHERE status = 'running'"),
    setIncomplete: db.prepare<[string, number, number]>("UPDATE runs SET status = 'incomplete', summary = ?, duration = ? WHERE pk = ?"),
    taskCounts: db.prepare<[number, number, number], TaskCount>(
      `SELECT type, json_extract(json, '$.worker') AS worker, count(*) AS n
       FROM events WHERE run = ? AND seq > ? AND seq <= ? AND type LIKE 'task:%' GROUP BY 1, 2`,
    ),
    insertCheckpoint: db.prepare<[number, number, string]>('INSERT INTO checkpoints (run, seq, counts) VALUES (?, ?, ?)'),
    checkpointAtOrBefore: db.prepare<[number, number], { seq: number; counts: string }>(
      'SELECT seq, counts FROM checkpoints WHERE run = ? AND seq <= ? ORDER BY seq DESC LIMIT 1',
    ),
    deleteCheckpoints: db.prepare<[number]>('DELETE FROM checkpoints WHERE run = ?'),
    maxExternal: db.prepare<[number], { n: number | null }>(
      "SELECT max(json_extract(json, '$.external')) AS n FROM events WHERE run = ? AND type = 'peers:changed'",
    ),
    last: db.prepare<[number], { seq: number; t: number }>('SELECT seq, t FROM events WHERE run = ? ORDER BY seq DESC LIMIT 1'),
    byId: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
    exists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM runs WHERE id = ?'),
    pageFirst: db.prepare<[number], RunRow>('SELECT * FROM runs ORDER BY pk DESC LIMIT ?'),
    pageBefore: db.prepare<[number, number], RunRow>('SELECT * FROM runs WHERE pk < ? ORDER BY pk DESC LIMIT ?'),
    total: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM runs'),
    // A viewer's runs: owned, or recorded live by a playground it may watch (the ids as a JSON array; an import
    // names the playground of another server, or of anyone, so it never counts).
    viewerPageBefore: db.prepare<[string, string, number, number], RunRow>(
      `SELECT * FROM runs WHERE (owner = ? OR (source = 'live' AND playground IN (SELECT value FROM json_each(?)))) AND pk < ?
       ORDER BY pk DESC LIMIT ?`,
    ),
    viewerTotal: db.prepare<[string, string], { n: number }>(
      "SELECT count(*) AS n FROM runs WHERE owner = ? OR (source = 'live' AND playground IN (SELECT value FROM json_each(?)))",
    ),
    access: db.prepare<[string], { owner: string | null; playground: string; public: number; source: 'live' | 'imported' }>(
      'SELECT owner, playground, public, source FROM runs WHERE id = ?',
    ),
    setPublic: db.prepare<[number, string]>('UPDATE runs SET public = ? WHERE id = ?'),
    // A name someone typed is theirs: shown as it is, in every language.
    rename: db.prepare<[string, string]>('UPDATE runs SET name = ?, name_n = NULL WHERE id = ?'),
    deleteEvents: db.prepare<[number]>('DELETE FROM events WHERE run = ?'),
    deleteChunks: db.prepare<[number]>('DELETE FROM task_chunks WHERE run = ?'),
    insertChunk: db.prepare<[number, number, number, number, number, number, Buffer, string]>(
      'INSERT INTO task_chunks (run, first_seq, last_seq, first_t, last_t, count, positions, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    /** The chunk that holds seq (or the last one before it). */
    chunkAtOrBefore: db.prepare<[number, number], { first_seq: number }>(
      'SELECT first_seq FROM task_chunks WHERE run = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
    ),
    chunksFrom: db.prepare<[number, number, number], ChunkRow>(
      'SELECT first_seq, last_seq, positions, lines FROM task_chunks WHERE run = ? AND first_seq >= ? AND first_seq <= ? ORDER BY first_seq',
    ),
    /** The first chunk with an event at or after t (t never decreases as seq grows). */
    chunkEndingAtOrAfterT: db.prepare<[number, number], ChunkRow>(
      'SELECT first_seq, last_seq, positions, lines FROM task_chunks WHERE run = ? AND last_t >= ? ORDER BY last_t, first_seq LIMIT 1',
    ),
    /** The last chunk with an event at or before t. */
    chunkStartingAtOrBeforeT: db.prepare<[number, number], ChunkRow>(
      'SELECT first_seq, last_seq, positions, lines FROM task_chunks WHERE run = ? AND first_t <= ? ORDER BY first_t DESC, first_seq DESC LIMIT 1',
    ),
    lastChunk: db.prepare<[number], { seq: number; t: number }>(
      'SELECT last_seq AS seq, last_t AS t FROM task_chunks WHERE run = ? ORDER BY first_seq DESC LIMIT 1',
    ),
    deleteRun: db.prepare<[number]>('DELETE FROM runs WHERE pk = ?'),
    seqAtOrAfterT: db.prepare<[number, number], { seq: number }>('SELECT seq FROM events WHERE run = ? AND t >= ? ORDER BY t, seq LIMIT 1'),
    seqAtOrBeforeT: db.prepare<[number, number], { seq: number }>(
      'SELECT seq FROM events WHERE run = ? AND t <= ? ORDER BY t DESC, seq DESC LIMIT 1',
    ),
    window: db.prepare<[number, number, number, number], { seq: number; json: string }>(
      'SELECT seq, json FROM events WHERE run = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
    ),
    topologyWindow: db.prepare<[number, number, number, number], { seq: number; json: string }>(
      "SELECT seq, json FROM events INDEXED BY events_topology WHERE run = ? AND seq >= ? AND seq <= ? AND type NOT LIKE 'task:%' ORDER BY seq LIMIT ?",
    ),
    tasksAfterSeq: db.prepare<[number, number, number, number], TaskRow>(
      `SELECT seq, t, type, json_extract(json, '$.task') AS task, json_extract(json, '$.worker') AS worker,
              json_extract(json, '$.body') AS body
       FROM events WHERE run = ? AND seq > ? AND seq <= ? AND type LIKE 'task:%' ORDER BY seq LIMIT ?`,
    ),
  };
}

/** Totals of the task events counted by the taskCounts statement, keyed the way summaries and counters are. */
function totals(rows: TaskCount[], workers: WorkerInfo[]) {
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

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class RunStore {
  readonly location: string;
  readonly #db: Database.Database;
  #closed = false;
  readonly #s: ReturnType<typeof prepareStatements>;

  /**
   * Opens (creating if needed) the database at `location` (a file path or ":memory:"). Runs left "running" by a
   * previous process are marked "incomplete" unless `recover` is false.
   */
  static open(location: string, options: { recover?: boolean; busyTimeoutMs?: number } = {}): RunStore {
    return new RunStore(location, options.recover ?? true, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
  }

  private constructor(location: string, recover: boolean, busyTimeoutMs: number) {
    this.location = location;
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
          db.exec(DDL);
          migrateToOwners(db);
          migrateToNameParts(db);
          db.pragma(`user_version = ${SCHEMA_VERSION}`);
        })();
      }
    } catch (error) {
      db.close();
      if (error instanceof StoreOpenError) throw error;
      const code = (error as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
        throw new StoreOpenError(`The run database ${location} is damaged (SQLite: ${(error as Error).message}). ${damagedAdvice(location)}`);
      }
      throw new StoreOpenError(`Cannot use the run database ${location}: ${(error as Error).message}`);
    }
    this.#db = db;
    this.#s = prepareStatements(db);
    if (recover) this.markInterrupted();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs fn in one transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  runExists(id: string): boolean {
    return this.#s.exists.get(id) !== undefined;
  }

  /** A run id no stored run has yet, shaped like the playground's ("run-" + 8 hex digits). */
  freshRunId(prefix = 'run'): string {
    for (;;) {
      const id = `${prefix}-${randomBytes(4).toString('hex')}`;
      if (!this.runExists(id)) return id;
    }
  }

  /** Inserts a run row with status "running" and returns its pk. */
  insertRun(run: NewRun, source: { importedFrom: string } | null = null): number {
    const owner = run.owner ?? null;
    const lesson = run.lesson ?? null;
    // The server's own name is "<title> #n" in English; name_n lets a page say it in its language.
    const number =
      run.name !== undefined
        ? null
        : (lesson === null ? this.#s.countScenario.get(run.scenario, owner) : this.#s.countLesson.get(lesson, owner))!.n + 1;
    const title = lesson === null ? (run.scenarioTitle ?? run.scenario) : (run.lessonTitle ?? lesson);
    const name = (run.name ?? `${title} #${number}`).slice(0, 100);
    const result = this.#s.insertRun.run(
      run.id,
      run.playground,
      run.scenario,
      name,
      JSON.stringify(run.params),
      JSON.stringify(run.endpoints),
      JSON.stringify(run.workers),
      run.startedAt,
      PROTOCOL_VERSION,
      source ? 'imported' : 'live',
      source?.importedFrom ?? null,
      owner,
      lesson,
      number,
    );
    return Number(result.lastInsertRowid);
  }

  insertEvent(pk: number, seq: number, t: number, type: string, json: string): void {
    this.#s.insertEvent.run(pk, seq, t, type, json);
  }

  /** Inserts rows of one run, ROWS_PER_INSERT per statement (call inside a transaction). */
  insertEvents(pk: number, rows: readonly EventRow[]): void {
    const full = rows.length - (rows.length % ROWS_PER_INSERT);
    const params: unknown[] = new Array(ROWS_PER_INSERT * 5);
    for (let start = 0; start < full; start += ROWS_PER_INSERT) {
      for (let i = 0; i < ROWS_PER_INSERT; i++) {
        const row = rows[start + i]!;
        const at = i * 5;
        params[at] = pk;
        params[at + 1] = row.seq;
        params[at + 2] = row.t;
        params[at + 3] = row.type;
        params[at + 4] = row.json;
      }
      this.#s.insertEvents.run(...params);
    }
    for (let i = full; i < rows.length; i++) {
      const row = rows[i]!;
      this.#s.insertEvent.run(pk, row.seq, row.t, row.type, row.json);
    }
  }

  /**
   * Stores task events of one run (seq increasing, all after the run's previous chunk) as one chunk row (call
   * inside a transaction).
   */
  insertTaskChunk(pk: number, rows: readonly EventRow[]): void {
    if (rows.length > CHUNK_EVENTS) {
      for (let start = 0; start < rows.length; start += CHUNK_EVENTS) this.insertTaskChunk(pk, rows.slice(start, start + CHUNK_EVENTS));
      return;
    }
    if (rows.length === 0) return;
    const positions = new Float64Array(rows.length * 3);
    let offset = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      positions[i * 3] = row.seq;
      positions[i * 3 + 1] = row.t;
      positions[i * 3 + 2] = offset;
      offset += row.json.length + 1;
    }
    let lines = '';
    for (let i = 0; i < rows.length; i++) lines += (i === 0 ? '' : '\n') + rows[i]!.json;
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    this.#s.insertChunk.run(pk, first.seq, last.seq, first.t, last.t, rows.length, Buffer.from(positions.buffer), lines);
  }

  /** Up to `limit` chunked task events with lo <= seq <= hi, in seq order. */
  #chunkEvents(pk: number, lo: number, hi: number, limit: number): Located[] {
    const out: Located[] = [];
    if (limit <= 0) return out;
    const start = this.#s.chunkAtOrBefore.get(pk, lo)?.first_seq ?? lo;
    for (const row of this.#s.chunksFrom.iterate(pk, start, hi)) {
      const chunk = new Chunk(row);
      for (let i = chunk.indexOfSeq(lo); i < chunk.count; i++) {
        const seq = chunk.seq(i);
        if (seq > hi || out.length >= limit) break;
        out.push({ seq, t: chunk.t(i), json: chunk.json(i) });
      }
      if (out.length >= limit || row.last_seq >= hi) break;
    }
    return out;
  }

  /** Up to `limit` events (both tables) with lo <= seq <= hi, in seq order. */
  #events(pk: number, lo: number, hi: number, limit: number): { seq: number; json: string }[] {
    return mergeBySeq(this.#s.window.all(pk, lo, hi, limit), this.#chunkEvents(pk, lo, hi, limit), limit);
  }

  /** The seq of the first event with t' >= t, or null. */
  #seqAtOrAfterT(pk: number, t: number): number | null {
    const row = this.#s.seqAtOrAfterT.get(pk, t)?.seq ?? null;
    const found = this.#s.chunkEndingAtOrAfterT.get(pk, t);
    let chunked: number | null = null;
    if (found) {
      const chunk = new Chunk(found);
      const i = chunk.indexOfT(t);
      if (i < chunk.count) chunked = chunk.seq(i);
    }
    return row === null ? chunked : chunked === null ? row : Math.min(row, chunked);
  }

  /** The seq of the last event with t' <= t, or null. */
  #seqAtOrBeforeT(pk: number, t: number): number | null {
    const row = this.#s.seqAtOrBeforeT.get(pk, t)?.seq ?? null;
    const found = this.#s.chunkStartingAtOrBeforeT.get(pk, t);
    let chunked: number | null = null;
    if (found) {
      const chunk = new Chunk(found);
      // The last event with t' <= t: just before the first one after t.
      let i = chunk.indexOfT(t);
      while (i < chunk.count && chunk.t(i) <= t) i++;
      if (i > 0) chunked = chunk.seq(i - 1);
    }
    return row === null ? chunked : chunked === null ? row : Math.max(row, chunked);
  }

  /** Task event counts by type and worker with afterSeq < seq <= upTo, from both tables. */
  #taskCounts(pk: number, afterSeq: number, upTo: number): TaskCount[] {
    const rows = this.#s.taskCounts.all(pk, afterSeq, upTo);
    const counts = new Map<string, TaskCount>();
    const start = this.#s.chunkAtOrBefore.get(pk, afterSeq + 1)?.first_seq ?? afterSeq + 1;
    for (const row of this.#s.chunksFrom.iterate(pk, start, upTo)) {
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

  /** Stores the running task counts of a run as they stand after the event with this seq. */
  insertCheckpoint(pk: number, seq: number, counts: Map<string, number>): void {
    this.#s.insertCheckpoint.run(pk, seq, JSON.stringify(Object.fromEntries(counts)));
  }

  /** Counts of task events by type and worker with seq <= upTo: the nearest checkpoint plus the events after it. */
  #countsUpTo(pk: number, upTo: number): TaskCount[] {
    const checkpoint = this.#s.checkpointAtOrBefore.get(pk, upTo);
    const rows = this.#taskCounts(pk, checkpoint?.seq ?? 0, upTo);
    if (!checkpoint) return rows;
    for (const [key, n] of Object.entries(JSON.parse(checkpoint.counts) as Record<string, number>)) {
      const bar = key.indexOf('|');
      rows.push({ type: key.slice(0, bar), worker: bar === key.length - 1 ? null : key.slice(bar + 1), n });
    }
    return rows;
  }

  updateProgress(pk: number, progress: RunProgress): void {
    this.#s.progress.run(progress.eventCount, progress.firstSeq, progress.lastSeq, progress.durationMs, progress.lostEvents, pk);
  }

  /** Stores run:ended's facts; the run becomes "ended", or "incomplete" if events were lost on the way. */
  finishRun(pk: number, end: RunEnd): void {
    this.#s.finish.run(end.lostEvents, end.endedAt, end.reason, JSON.stringify(end.summary), end.summary.durationMs, end.lostEvents, pk);
  }

  /** Marks one run (or every run still "running") incomplete, with a summary rebuilt from its stored events. */
  markIncomplete(pk: number): void {
    const row = this.#s.byPk.get(pk);
    if (!row || row.status !== 'running') return;
    const summary = this.#rebuildSummary(row);
    this.#s.setIncomplete.run(JSON.stringify(summary), summary.durationMs, pk);
  }

  /** Called at open: a run still "running" in the file was interrupted (crash, kill -9, power loss). */
  markInterrupted(): number {
    const rows = this.#s.running.all();
    this.transaction(() => {
      for (const { pk } of rows) this.markIncomplete(pk);
    });
    return rows.length;
  }

  #rebuildSummary(row: RunRow): RunSummary {
    const workers = JSON.parse(row.workers) as WorkerInfo[];
    return {
      ...totals(this.#countsUpTo(row.pk, Number.MAX_SAFE_INTEGER), workers),
      externalPeersMax: this.#s.maxExternal.get(row.pk)?.n ?? 0,
      durationMs: Math.max(this.#s.last.get(row.pk)?.t ?? 0, this.#s.lastChunk.get(row.pk)?.t ?? 0),
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Reads

  /** With `visitor`, the run also says whether it is that visitor's (`owned`). */
  #toRun(row: RunRow, visitor?: string): RecordedRun {
    const run: RecordedRun = {
      id: row.id,
      name: row.name,
      playground: row.playground,
      scenario: row.scenario,
      startedAt: iso(row.started_at)!,
      endedAt: iso(row.ended_at),
      durationMs: row.duration,
      status: row.status,
      reason: row.reason,
      summary: row.summary === null ? null : (JSON.parse(row.summary) as RunSummary),
      eventCount: row.event_count,
      firstSeq: row.first_seq ?? 0,
      lastSeq: row.last_seq ?? 0,
      lostEvents: row.lost_events,
      workers: JSON.parse(row.workers) as WorkerInfo[],
      params: JSON.parse(row.params) as RunParams,
      source: row.source,
      public: row.public === 1,
    };
    if (row.name_n !== null) run.defaultName = { scenario: row.scenario, ...(row.lesson !== null ? { lesson: row.lesson } : {}), n: row.name_n };
    if (visitor !== undefined) run.owned = row.owner !== null && row.owner === visitor;
    return run;
  }

  #toDetail(row: RunRow, visitor?: string): RecordedRunDetail {
    return {
      ...this.#toRun(row, visitor),
      params: JSON.parse(row.params) as RunParams,
      endpoints: JSON.parse(row.endpoints) as EndpointInfo[],
      protocolVersion: row.format_version,
    };
  }

  #row(id: string): RunRow {
    const row = this.#s.byId.get(id);
    if (!row) throw new RecordError('PG_ERR_NOT_FOUND', text('record.unknownRun', { run: id.slice(0, 64) }));
    return row;
  }

  /**
   * Newest first (most recently recorded or imported). `before` is the `nextBefore` of the previous page. With a
   * `viewer`, only the runs it may see (RunViewer), each saying whether it is the viewer's; without, every run.
   */
  listRuns(options: { limit?: number; before?: string; viewer?: RunViewer } = {}): RunPage {
    const limit = Math.max(1, Math.min(options.limit ?? 50, MAX_RUN_PAGE));
    let cursor: number | null = null;
    if (options.before !== undefined) {
      if (!/^[0-9]{1,15}$/.test(options.before)) {
        throw new RecordError('PG_ERR_VALIDATION', text('record.badCursor', { before: options.before.slice(0, 20) }));
      }
      cursor = Number(options.before);
    }
    const { viewer } = options;
    let rows: RunRow[];
    let total: number;
    if (viewer) {
      const playgrounds = JSON.stringify(viewer.playgrounds);
      rows = this.#s.viewerPageBefore.all(viewer.visitor, playgrounds, cursor ?? Number.MAX_SAFE_INTEGER, limit + 1);
      total = this.#s.viewerTotal.get(viewer.visitor, playgrounds)?.n ?? 0;
    } else {
      rows = cursor === null ? this.#s.pageFirst.all(limit + 1) : this.#s.pageBefore.all(cursor, limit + 1);
      total = this.#s.total.get()?.n ?? 0;
    }
    const more = rows.length > limit;
    if (more) rows.pop();
    return {
      runs: rows.map((row) => this.#toRun(row, viewer?.visitor)),
      nextBefore: more ? String(rows[rows.length - 1]!.pk) : null,
      total,
    };
  }

  /** Who owns a stored run, which playground recorded it and whether it is public; null for an unknown id. */
  accessOf(id: string): RunAccess | null {
    const row = this.#s.access.get(id);
    return row ? { owner: row.owner, playground: row.source === 'live' ? row.playground : null, public: row.public === 1 } : null;
  }

  /** Makes a run readable by anyone who has its id (or private again). */
  setPublic(id: string, isPublic: boolean): void {
    this.#row(id);
    try {
      this.#s.setPublic.run(isPublic ? 1 : 0, id);
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      throw new RecordError('PG_ERR_LIMIT', text('record.busy'));
    }
  }

  /** With `visitor`, the run also says whether it is that visitor's (`owned`). */
  getRun(id: string, visitor?: string): RecordedRunDetail {
    return this.#toDetail(this.#row(id), visitor);
  }

  renameRun(id: string, name: string): RecordedRunDetail {
    this.#row(id);
    try {
      this.#s.rename.run(name, id);
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      throw new RecordError('PG_ERR_LIMIT', text('record.busy'));
    }
    return this.getRun(id);
  }

  /** Deletes a run and its events in one transaction; a run still being recorded cannot be deleted. */
  deleteRun(id: string): void {
    const row = this.#row(id);
    if (row.status === 'running') {
      throw new RecordError('PG_ERR_RUN_ACTIVE', text('record.activeDelete', { run: id }));
    }
    this.transaction(() => {
      this.#s.deleteEvents.run(row.pk);
      this.#s.deleteChunks.run(row.pk);
      this.#s.deleteCheckpoints.run(row.pk);
      this.#s.deleteRun.run(row.pk);
    });
  }

  /**
   * A window of a run's events in seq order: seq in [fromSeq, toSeq] and t in [fromT, toT], at most `limit`.
   * Time bounds become seq bounds through the (run, t) index, so any window costs two seeks plus its rows.
   */
  eventWindow(id: string, range: EventRange): JsonWindow {
    const row = this.#row(id);
    let lo = range.fromSeq ?? 0;
    let hi = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    if (range.fromT !== undefined) lo = Math.max(lo, this.#seqAtOrAfterT(row.pk, range.fromT) ?? Number.MAX_SAFE_INTEGER);
    if (range.toT !== undefined) hi = Math.min(hi, this.#seqAtOrBeforeT(row.pk, range.toT) ?? -1);
    if (lo > hi) return { run: row.id, json: [], nextSeq: null };
    const rows =
      range.kind === 'topology' ? this.#s.topologyWindow.all(row.pk, lo, hi, range.limit + 1) : this.#events(row.pk, lo, hi, range.limit + 1);
    const more = rows.length > range.limit;
    if (more) rows.pop();
    return { run: row.id, json: rows.map((r) => r.json), nextSeq: more ? rows[rows.length - 1]!.seq + 1 : null };
  }

  /** Exact task totals of a run up to time t (every task event with t' <= t): what the counters showed then. */
  countersAt(id: string, t: number): RunCountersAt {
    const row = this.#row(id);
    const lastSeq = this.#seqAtOrBeforeT(row.pk, t) ?? 0;
    const rows = lastSeq > 0 ? this.#countsUpTo(row.pk, lastSeq) : [];
    const { sent, received, done, collected, lost } = totals(rows, JSON.parse(row.workers) as WorkerInfo[]);
    return { run: row.id, t, lastSeq, sent, received, done, collected, lost };
  }

  /** The row a streaming export starts from; refuses a run still being recorded. */
  exportable(id: string): { pk: number; run: RecordedRunDetail } {
    const row = this.#row(id);
    if (row.status === 'running') {
      throw new RecordError('PG_ERR_RUN_ACTIVE', text('record.activeExport', { run: id }));
    }
    return { pk: row.pk, run: this.#toDetail(row) };
  }

  /** Up to `limit` events with afterSeq < seq <= lastSeq, as stored JSON (the export's page). */
  eventsAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): { seq: number; json: string }[] {
    return this.#events(pk, afterSeq + 1, lastSeq, limit);
  }

  /** Up to `limit` task events with afterSeq < seq <= lastSeq (the CSV export's page). */
  tasksAfter(pk: number, afterSeq: number, lastSeq: number, limit: number): TaskRow[] {
    const chunked = this.#chunkEvents(pk, afterSeq + 1, lastSeq, limit).map(({ seq, t, json }): TaskRow => {
      const event = JSON.parse(json) as { type: string; task?: number; worker?: string | null; body?: string };
      return { seq, t, type: event.type, task: event.task ?? null, worker: event.worker ?? null, body: event.body ?? null };
    });
    return mergeBySeq(this.#s.tasksAfterSeq.all(pk, afterSeq, lastSeq, limit), chunked, limit);
  }

  /**
   * Stores a checked export as a new run (new id, events re-labelled with it) in ONE transaction: on any failure
   * nothing of it is stored [R7].
   */
  importRun(doc: RunExport, owner: string | null = null): RecordedRunDetail {
    const { run, events } = doc;
    const id = this.freshRunId();
    this.transaction(() => {
      const pk = this.insertRun(
        {
          id,
          playground: run.playground,
          scenario: run.scenario,
          name: run.name,
          params: run.params,
          endpoints: run.endpoints,
          workers: run.workers,
          startedAt: Date.parse(run.startedAt) || 0,
          owner,
        },
        { importedFrom: run.id },
      );
      const counts = new Map<string, number>();
      let rows: EventRow[] = [];
      events.forEach((event, i) => {
        rows.push({ seq: event.seq, t: event.t, type: event.type, json: JSON.stringify({ ...event, run: id } satisfies PlaygroundEvent) });
        count(counts, event);
        if ((i + 1) % CHECKPOINT_EVERY === 0) this.insertCheckpoint(pk, event.seq, counts);
        if (rows.length === ROWS_PER_INSERT * 100) {
          this.insertEvents(pk, rows);
          rows = [];
        }
      });
      this.insertEvents(pk, rows);
      this.updateProgress(pk, {
        eventCount: events.length,
        firstSeq: events[0]?.seq ?? null,
        lastSeq: events.at(-1)?.seq ?? null,
        durationMs: run.durationMs,
        lostEvents: run.lostEvents,
      });
      const endedAt = run.endedAt === null ? null : Date.parse(run.endedAt);
      this.#s.importedEnd.run(run.status, Number.isFinite(endedAt) ? endedAt : null, run.reason, run.summary === null ? null : JSON.stringify(run.summary), run.durationMs, pk);
    });
    return this.getRun(id, owner ?? undefined);
  }

  /** Closes the database (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
