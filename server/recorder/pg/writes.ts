/**
 * Writing stored runs to PostgreSQL: a run's row and default name, its events as multi-row inserts (rows through
 * unnest of arrays: one statement for any number of rows), its task chunks (the packed format of
 * store/chunk-pack.ts), checkpoints, progress and end, a run marked incomplete with a summary rebuilt from its events,
 * and the history's own changes. Callers group them into transactions (a client between BEGIN and COMMIT).
 */
import { randomBytes } from 'node:crypto';
import { text } from '../../../shared/protocol/server-text.ts';
import type { RunSummary, WorkerInfo } from '../../../shared/protocol/index.ts';
import type { TaskCounts } from '../../../shared/protocol/task-counts.ts';
import { CodedError } from '../../errors.ts';
import { CHUNK_EVENTS, type EventRow } from '../store/chunk-format.ts';
import { encodeTaskRows, type TaskRows } from '../store/chunk-pack.ts';
import { encodeCheckpoint, summaryCounts } from '../store/counts.ts';
import type { ImportedEndValues } from '../imported-run.ts';
import { newRunValues, runName, type NewRun, type RunEnd, type RunProgress } from '../store/writes.ts';
import { countsUpTo, runByPk, runExists, runRow, type Db } from './reads.ts';

/**
 * A name as PostgreSQL can store it: TEXT holds no U+0000, so it becomes U+FFFD, as a lone surrogate does on its way
 * to UTF-8 (SQLite keeps both as they are; the API lets any character into a name).
 */
const storableName = (name: string): string => name.replaceAll('\u0000', '\uFFFD');

/** A run id no stored run has yet, shaped like the playground's ("run-" + 8 hex digits). */
export async function freshRunId(db: Db, prefix = 'run'): Promise<string> {
  for (;;) {
    const id = `${prefix}-${randomBytes(4).toString('hex')}`;
    if (!(await runExists(db, id))) return id;
  }
}

/** Inserts a run row with status "running" (recorded by `instance`) and returns its pk. */
export async function insertRun(
  db: Db,
  run: NewRun,
  source: { importedFrom: string } | null,
  instance: string | null,
): Promise<number> {
  const owner = run.owner ?? null;
  const lesson = run.lesson ?? null;
  // The server's own name is "<title> #n" in English; name_n lets a page say it in its language. Per owner: a
  // lesson's runs are numbered among themselves, the scenario's among those outside any lesson.
  let number: number | null = null;
  if (run.name === undefined) {
    const counted =
      lesson === null
        ? await db.query<{ n: number }>(
            'SELECT count(*) AS n FROM runs WHERE scenario = $1 AND lesson IS NULL AND owner IS NOT DISTINCT FROM $2',
            [run.scenario, owner],
          )
        : await db.query<{ n: number }>(
            'SELECT count(*) AS n FROM runs WHERE lesson = $1 AND owner IS NOT DISTINCT FROM $2',
            [lesson, owner],
          );
    number = counted.rows[0]!.n + 1;
  }
  const name = storableName(runName(run, number));
  const { rows } = await db.query<{ pk: number }>(
    `INSERT INTO runs (id, playground, scenario, name, params, endpoints, workers, started_at, status, format_version,
                       source, imported_from, owner, lesson, name_n, kind, instance)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9, $10, $11, $12, $13, $14, $15, $16) RETURNING pk`,
    [...newRunValues(run, name, number, source), source ? null : instance],
  );
  return rows[0]!.pk;
}

/** Inserts event rows of one run in one statement. */
export async function insertEvents(db: Db, pk: number, rows: readonly EventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const seqs = new Array<number>(rows.length);
  const ts = new Array<number>(rows.length);
  const types = new Array<string>(rows.length);
  const texts = new Array<string>(rows.length);
  rows.forEach((row, i) => {
    seqs[i] = row.seq;
    ts[i] = row.t;
    types[i] = row.type;
    texts[i] = row.json;
  });
  await db.query(
    `INSERT INTO events (run, seq, t, type, json)
     SELECT $1, * FROM unnest($2::bigint[], $3::float8[], $4::text[], $5::text[])`,
    [pk, seqs, ts, types, texts],
  );
}

/**
 * Stores task events of one run (seq increasing, after its previous chunk) as chunk rows of at most CHUNK_EVENTS,
 * in one statement. The packing is the CPU part (the same encoder as SQLite's).
 */
export async function insertTaskChunks(db: Db, pk: number, events: TaskRows): Promise<void> {
  if (events.length === 0) return;
  const columns: [number[], number[], number[], number[], number[], Buffer[]] = [[], [], [], [], [], []];
  for (let start = 0; start < events.length; start += CHUNK_EVENTS) {
    const chunk = encodeTaskRows(events, start, Math.min(start + CHUNK_EVENTS, events.length));
    columns[0].push(chunk.firstSeq);
    columns[1].push(chunk.lastSeq);
    columns[2].push(chunk.firstT);
    columns[3].push(chunk.lastT);
    columns[4].push(chunk.count);
    columns[5].push(chunk.data);
  }
  await db.query(
    `INSERT INTO task_chunks (run, first_seq, last_seq, first_t, last_t, count, data)
     SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::float8[], $5::float8[], $6::int[], $7::bytea[])`,
    [pk, ...columns],
  );
}

/** Stores checkpoints (the running task counts after each seq) of one run in one statement. */
export async function insertCheckpoints(
  db: Db,
  pk: number,
  checkpoints: readonly { seq: number; counts: TaskCounts }[],
): Promise<void> {
  if (checkpoints.length === 0) return;
  await db.query('INSERT INTO checkpoints (run, seq, counts) SELECT $1, * FROM unnest($2::bigint[], $3::text[])', [
    pk,
    checkpoints.map((c) => c.seq),
    checkpoints.map((c) => encodeCheckpoint(c.counts)),
  ]);
}

export async function updateProgress(db: Db, pk: number, progress: RunProgress): Promise<void> {
  await db.query(
    `UPDATE runs SET event_count = $1, first_seq = $2, last_seq = $3, duration = greatest(duration, $4),
       lost_events = $5 WHERE pk = $6`,
    [progress.eventCount, progress.firstSeq, progress.lastSeq, progress.durationMs, progress.lostEvents, pk],
  );
}

/** Stores run:ended's facts; the run becomes "ended", or "incomplete" if events were lost on the way. */
export async function finishRun(db: Db, pk: number, end: RunEnd): Promise<void> {
  await db.query(
    `UPDATE runs SET status = CASE WHEN $1::bigint > 0 THEN 'incomplete' ELSE 'ended' END,
       ended_at = $2, reason = $3, summary = $4, duration = greatest(duration, $5), lost_events = $1 WHERE pk = $6`,
    [end.lostEvents, end.endedAt, end.reason, JSON.stringify(end.summary), end.summary.durationMs, pk],
  );
}

/** An imported run's end, as the export says it. */
export async function storeImportedEnd(db: Db, pk: number, end: ImportedEndValues): Promise<void> {
  await db.query('UPDATE runs SET status = $1, ended_at = $2, reason = $3, summary = $4, duration = $5 WHERE pk = $6', [
    end.status,
    end.endedAt,
    end.reason,
    end.summary,
    end.durationMs,
    pk,
  ]);
}

/**
 * Marks one run (still "running") incomplete, with a summary rebuilt from its stored events; whether it did. The
 * UPDATE itself requires "running" too: a run:ended the run's writer commits meanwhile (a live instance taken for
 * dead, pg/liveness.ts) wins, and two servers marking the same run at once mark it once.
 */
export async function markIncomplete(db: Db, pk: number): Promise<boolean> {
  const row = await runByPk(db, pk);
  if (!row || row.status !== 'running') return false;
  const last = await db.query<{ t: number | null }>(
    `SELECT greatest((SELECT max(t) FROM events WHERE run = $1), (SELECT max(last_t) FROM task_chunks WHERE run = $1)) AS t`,
    [pk],
  );
  const lastT = last.rows[0]?.t ?? 0;
  if (row.kind === 'graph') {
    // A graph run's books cannot be rebuilt from part of its events: no summary, the timeline to its last event.
    const marked = await db.query(
      "UPDATE runs SET status = 'incomplete', summary = NULL, duration = $1 WHERE pk = $2 AND status = 'running'",
      [lastT, pk],
    );
    return marked.rowCount === 1;
  }
  const workers = (JSON.parse(row.workers) as WorkerInfo[]).map((worker) => worker.id);
  const external = await db.query<{ n: number | null }>(
    `SELECT max((json::json ->> 'external')::float8) AS n FROM events WHERE run = $1 AND type = 'peers:changed'`,
    [pk],
  );
  const summary: RunSummary = {
    ...summaryCounts(await countsUpTo(db, pk, Number.MAX_SAFE_INTEGER, workers)),
    externalPeersMax: external.rows[0]?.n ?? 0,
    durationMs: lastT,
  };
  const marked = await db.query(
    "UPDATE runs SET status = 'incomplete', summary = $1, duration = $2 WHERE pk = $3 AND status = 'running'",
    [JSON.stringify(summary), summary.durationMs, pk],
  );
  return marked.rowCount === 1;
}

export async function setPublic(db: Db, id: string, isPublic: boolean): Promise<void> {
  await runRow(db, id);
  await db.query('UPDATE runs SET public = $1 WHERE id = $2', [isPublic ? 1 : 0, id]);
}

/** A name someone typed is theirs: shown as it is, in every language. */
export async function renameRun(db: Db, id: string, name: string): Promise<void> {
  await runRow(db, id);
  await db.query('UPDATE runs SET name = $1, name_n = NULL WHERE id = $2', [storableName(name), id]);
}

/** Deletes a run and everything of it (call inside a transaction); a run still being recorded cannot be. */
export async function deleteRun(db: Db, id: string): Promise<void> {
  const row = await runRow(db, id);
  if (row.status === 'running') throw new CodedError('PG_ERR_RUN_ACTIVE', text('record.activeDelete', { run: id }));
  for (const table of ['events', 'task_chunks', 'checkpoints'])
    await db.query(`DELETE FROM ${table} WHERE run = $1`, [row.pk]);
  await db.query('DELETE FROM runs WHERE pk = $1', [row.pk]);
}
