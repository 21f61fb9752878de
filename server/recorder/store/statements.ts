/**
 * Every SQL statement of the store, prepared once per connection (~40). The modules beside this one (reads,
 * writes, counts, import) run them; nothing else touches SQL.
 */
import type Database from 'better-sqlite3';
import type { ChunkRow } from './chunk-format.ts';
import type { RunRow } from './schema.ts';

/** Rows per multi-row INSERT (fewer calls into SQLite; 5 parameters each, far below the 32,766 limit). */
export const ROWS_PER_INSERT = 64;

/** Per-type (and per-worker) counts of a run's task events: the material of summaries and counters. */
export interface TaskCount {
  type: string;
  worker: string | null;
  n: number;
}

/** A task event as the CSV export reads it (defined with the storage interface). */
export type { TaskRow } from '../store-api.ts';
import type { TaskRow } from '../store-api.ts';

export function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare<
      [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        number,
        number,
        string,
        string | null,
        string | null,
        string | null,
        number | null,
        'pipeline' | 'graph',
      ]
    >(
      `INSERT INTO runs (id, playground, scenario, name, params, endpoints, workers, started_at, status, format_version, source, imported_from, owner, lesson, name_n, kind)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Per owner: a visitor's default names count its own runs, and say nothing about anyone else's. A lesson's
    // runs are numbered among themselves; the scenario's, among those outside any lesson.
    countScenario: db.prepare<[string, string | null], { n: number }>(
      'SELECT count(*) AS n FROM runs WHERE scenario = ? AND lesson IS NULL AND owner IS ?',
    ),
    countLesson: db.prepare<[string, string | null], { n: number }>(
      'SELECT count(*) AS n FROM runs WHERE lesson = ? AND owner IS ?',
    ),
    insertEvent: db.prepare<[number, number, number, string, string]>(
      'INSERT INTO events (run, seq, t, type, json) VALUES (?, ?, ?, ?, ?)',
    ),
    insertEvents: db.prepare<unknown[]>(
      `INSERT INTO events (run, seq, t, type, json) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`,
    ),
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
    setIncomplete: db.prepare<[string | null, number, number]>(
      "UPDATE runs SET status = 'incomplete', summary = ?, duration = ? WHERE pk = ?",
    ),
    taskCounts: db.prepare<[number, number, number], TaskCount>(
      `SELECT type, json_extract(json, '$.worker') AS worker, count(*) AS n
       FROM events WHERE run = ? AND seq > ? AND seq <= ? AND type LIKE 'task:%' GROUP BY 1, 2`,
    ),
    insertCheckpoint: db.prepare<[number, number, string]>(
      'INSERT INTO checkpoints (run, seq, counts) VALUES (?, ?, ?)',
    ),
    checkpointAtOrBefore: db.prepare<[number, number], { seq: number; counts: string }>(
      'SELECT seq, counts FROM checkpoints WHERE run = ? AND seq <= ? ORDER BY seq DESC LIMIT 1',
    ),
    deleteCheckpoints: db.prepare<[number]>('DELETE FROM checkpoints WHERE run = ?'),
    maxExternal: db.prepare<[number], { n: number | null }>(
      "SELECT max(json_extract(json, '$.external')) AS n FROM events WHERE run = ? AND type = 'peers:changed'",
    ),
    last: db.prepare<[number], { seq: number; t: number }>(
      'SELECT seq, t FROM events WHERE run = ? ORDER BY seq DESC LIMIT 1',
    ),
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
    access: db.prepare<
      [string],
      { owner: string | null; playground: string; public: number; source: 'live' | 'imported' }
    >('SELECT owner, playground, public, source FROM runs WHERE id = ?'),
    setPublic: db.prepare<[number, string]>('UPDATE runs SET public = ? WHERE id = ?'),
    // A name someone typed is theirs: shown as it is, in every language.
    rename: db.prepare<[string, string]>('UPDATE runs SET name = ?, name_n = NULL WHERE id = ?'),
    deleteEvents: db.prepare<[number]>('DELETE FROM events WHERE run = ?'),
    deleteChunks: db.prepare<[number]>('DELETE FROM task_chunks WHERE run = ?'),
    insertChunk: db.prepare<[number, number, number, number, number, number, Buffer]>(
      'INSERT INTO task_chunks (run, first_seq, last_seq, first_t, last_t, count, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    /** The chunk that holds seq (or the last one before it). */
    chunkAtOrBefore: db.prepare<[number, number], { first_seq: number }>(
      'SELECT first_seq FROM task_chunks WHERE run = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1',
    ),
    chunksFrom: db.prepare<[number, number, number], ChunkRow>(
      'SELECT run, first_seq, last_seq, count, data FROM task_chunks WHERE run = ? AND first_seq >= ? AND first_seq <= ? ORDER BY first_seq',
    ),
    /** The first chunk with an event at or after t (t never decreases as seq grows). */
    chunkEndingAtOrAfterT: db.prepare<[number, number], ChunkRow>(
      'SELECT run, first_seq, last_seq, count, data FROM task_chunks WHERE run = ? AND last_t >= ? ORDER BY last_t, first_seq LIMIT 1',
    ),
    /** The last chunk with an event at or before t. */
    chunkStartingAtOrBeforeT: db.prepare<[number, number], ChunkRow>(
      'SELECT run, first_seq, last_seq, count, data FROM task_chunks WHERE run = ? AND first_t <= ? ORDER BY first_t DESC, first_seq DESC LIMIT 1',
    ),
    lastChunk: db.prepare<[number], { seq: number; t: number }>(
      'SELECT last_seq AS seq, last_t AS t FROM task_chunks WHERE run = ? ORDER BY first_seq DESC LIMIT 1',
    ),
    deleteRun: db.prepare<[number]>('DELETE FROM runs WHERE pk = ?'),
    seqAtOrAfterT: db.prepare<[number, number], { seq: number }>(
      'SELECT seq FROM events WHERE run = ? AND t >= ? ORDER BY t, seq LIMIT 1',
    ),
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

export type Statements = ReturnType<typeof prepareStatements>;

/** What the store's modules share: its statements, and a way to run several in one transaction. */
export interface StoreContext {
  readonly s: Statements;
  /** Runs fn in one transaction (all or nothing). */
  transaction<T>(fn: () => T): T;
}
