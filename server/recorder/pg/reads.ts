/**
 * Reading stored runs from PostgreSQL: the same answers as SQLite's store/reads.ts (the rows have the same columns,
 * so its toRun/toDetail shape them, and the task chunks are decoded by the same Chunk), with every event query a
 * bounded seq range, and task chunks fetched a page at a time.
 */
import type pg from 'pg';
import { text } from '../../../shared/protocol/server-text.ts';
import {
  MAX_RUN_PAGE,
  type RecordedGraphRunDetail,
  type RecordedRunDetail,
  type RunCountersAt,
  type RunPage,
  type WorkerInfo,
} from '../../../shared/protocol/index.ts';
import { addTaskEvent, emptyTaskCounts, type TaskCounts } from '../../../shared/protocol/task-counts.ts';
import { CodedError } from '../../errors.ts';
import type { ChunkRow } from '../store/chunk-format.ts';
import { Chunk } from '../store/chunk-read.ts';
import { addCheckpoint } from '../store/counts.ts';
import { toDetail, toGraphDetail, toRun } from '../store/reads.ts';
import type { RunRow } from '../store/schema.ts';
import type { EventRange, Exportable, JsonWindow, ListOptions, RunAccess, TaskRow } from '../store-api.ts';

/** A pool, or a client inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

/** Chunk rows fetched per query while walking a seq range (a chunk holds up to 1,000 events, often fewer). */
const CHUNK_PAGE = 8;

const CHUNK_COLUMNS = 'run, first_seq, last_seq, count, data';

export async function runRow(db: Db, id: string): Promise<RunRow> {
  const { rows } = await db.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) throw new CodedError('PG_ERR_NOT_FOUND', text('record.unknownRun', { run: id.slice(0, 64) }));
  return row;
}

export async function runByPk(db: Db, pk: number): Promise<RunRow | undefined> {
  return (await db.query<RunRow>('SELECT * FROM runs WHERE pk = $1', [pk])).rows[0];
}

export async function runExists(db: Db, id: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM runs WHERE id = $1', [id])).rowCount! > 0;
}

export async function listRuns(db: Db, options: ListOptions = {}): Promise<RunPage> {
  const limit = Math.max(1, Math.min(options.limit ?? 50, MAX_RUN_PAGE));
  let cursor = Number.MAX_SAFE_INTEGER;
  if (options.before !== undefined) {
    if (!/^[0-9]{1,15}$/.test(options.before)) {
      throw new CodedError('PG_ERR_VALIDATION', text('record.badCursor', { before: options.before.slice(0, 20) }));
    }
    cursor = Number(options.before);
  }
  const { viewer } = options;
  // A viewer's runs: owned, or recorded live by a playground it may watch (an import names a playground of another
  // server, or of anyone, so it never counts).
  const mine = "(owner = $1 OR (source = 'live' AND playground = ANY($2::text[])))";
  const [page, total] = viewer
    ? await Promise.all([
        db.query<RunRow>(`SELECT * FROM runs WHERE ${mine} AND pk < $3 ORDER BY pk DESC LIMIT $4`, [
          viewer.visitor,
          viewer.playgrounds,
          cursor,
          limit + 1,
        ]),
        db.query<{ n: number }>(`SELECT count(*) AS n FROM runs WHERE ${mine}`, [viewer.visitor, viewer.playgrounds]),
      ])
    : await Promise.all([
        db.query<RunRow>('SELECT * FROM runs WHERE pk < $1 ORDER BY pk DESC LIMIT $2', [cursor, limit + 1]),
        db.query<{ n: number }>('SELECT count(*) AS n FROM runs'),
      ]);
  const rows = page.rows;
  const more = rows.length > limit;
  if (more) rows.pop();
  return {
    runs: rows.map((row) => toRun(row, viewer?.visitor)),
    nextBefore: more ? String(rows[rows.length - 1]!.pk) : null,
    total: total.rows[0]?.n ?? 0,
  };
}

export async function accessOf(db: Db, id: string): Promise<RunAccess | null> {
  const { rows } = await db.query<{ owner: string | null; playground: string; public: number; source: string }>(
    'SELECT owner, playground, public, source FROM runs WHERE id = $1',
    [id],
  );
  const row = rows[0];
  return row
    ? { owner: row.owner, playground: row.source === 'live' ? row.playground : null, public: row.public === 1 }
    : null;
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

/** Calls `each` for up to `limit` chunked task events with lo <= seq <= hi, in seq order. */
async function forChunkEvents(
  db: Db,
  pk: number,
  lo: number,
  hi: number,
  limit: number,
  each: (chunk: Chunk, i: number) => void,
): Promise<void> {
  if (limit <= 0) return;
  const before = await db.query<{ first_seq: number }>(
    'SELECT first_seq FROM task_chunks WHERE run = $1 AND first_seq <= $2 ORDER BY first_seq DESC LIMIT 1',
    [pk, lo],
  );
  let from = before.rows[0]?.first_seq ?? lo;
  let n = 0;
  for (;;) {
    const { rows } = await db.query<ChunkRow>(
      `SELECT ${CHUNK_COLUMNS} FROM task_chunks WHERE run = $1 AND first_seq >= $2 AND first_seq <= $3
       ORDER BY first_seq LIMIT ${CHUNK_PAGE}`,
      [pk, from, hi],
    );
    for (const row of rows) {
      const chunk = new Chunk(row);
      for (let i = chunk.indexOfSeq(lo); i < chunk.count; i++) {
        if (chunk.seq(i) > hi || n >= limit) break;
        each(chunk, i);
        n++;
      }
      if (n >= limit || row.last_seq >= hi) return;
    }
    if (rows.length < CHUNK_PAGE) return;
    from = rows[rows.length - 1]!.first_seq + 1;
  }
}

async function chunkEvents(
  db: Db,
  pk: number,
  lo: number,
  hi: number,
  limit: number,
): Promise<{ seq: number; t: number; json: string }[]> {
  // With t, as SQLite's reads answer chunked events (callers read seq and json).
  const out: { seq: number; t: number; json: string }[] = [];
  await forChunkEvents(db, pk, lo, hi, limit, (chunk, i) =>
    out.push({ seq: chunk.seq(i), t: chunk.t(i), json: chunk.json(i) }),
  );
  return out;
}

/** Up to `limit` events (rows and chunks) with lo <= seq <= hi, in seq order. */
async function events(
  db: Db,
  pk: number,
  lo: number,
  hi: number,
  limit: number,
): Promise<{ seq: number; json: string }[]> {
  const [rows, chunked] = await Promise.all([
    db.query<{ seq: number; json: string }>(
      'SELECT seq, json FROM events WHERE run = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4',
      [pk, lo, hi, limit],
    ),
    chunkEvents(db, pk, lo, hi, limit),
  ]);
  return mergeBySeq(rows.rows, chunked, limit);
}

/** The seq of the first event with t' >= t, or null. */
async function seqAtOrAfterT(db: Db, pk: number, t: number): Promise<number | null> {
  const [rowResult, chunkResult] = await Promise.all([
    db.query<{ seq: number }>('SELECT seq FROM events WHERE run = $1 AND t >= $2 ORDER BY t, seq LIMIT 1', [pk, t]),
    db.query<ChunkRow>(
      `SELECT ${CHUNK_COLUMNS} FROM task_chunks WHERE run = $1 AND last_t >= $2 ORDER BY last_t, first_seq LIMIT 1`,
      [pk, t],
    ),
  ]);
  const row = rowResult.rows[0]?.seq ?? null;
  let chunked: number | null = null;
  const found = chunkResult.rows[0];
  if (found) {
    const chunk = new Chunk(found);
    const i = chunk.indexOfT(t);
    if (i < chunk.count) chunked = chunk.seq(i);
  }
  return row === null ? chunked : chunked === null ? row : Math.min(row, chunked);
}

/** The seq of the last event with t' <= t, or null. */
export async function seqAtOrBeforeT(db: Db, pk: number, t: number): Promise<number | null> {
  const [rowResult, chunkResult] = await Promise.all([
    db.query<{ seq: number }>('SELECT seq FROM events WHERE run = $1 AND t <= $2 ORDER BY t DESC, seq DESC LIMIT 1', [
      pk,
      t,
    ]),
    db.query<ChunkRow>(
      `SELECT ${CHUNK_COLUMNS} FROM task_chunks WHERE run = $1 AND first_t <= $2 ORDER BY first_t DESC, first_seq DESC LIMIT 1`,
      [pk, t],
    ),
  ]);
  const row = rowResult.rows[0]?.seq ?? null;
  let chunked: number | null = null;
  const found = chunkResult.rows[0];
  if (found) {
    const chunk = new Chunk(found);
    let i = chunk.indexOfT(t);
    while (i < chunk.count && chunk.t(i) <= t) i++;
    if (i > 0) chunked = chunk.seq(i - 1);
  }
  return row === null ? chunked : chunked === null ? row : Math.max(row, chunked);
}

export async function eventWindow(db: Db, id: string, range: EventRange): Promise<JsonWindow> {
  const row = await runRow(db, id);
  let lo = range.fromSeq ?? 0;
  let hi = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  if (range.fromT !== undefined)
    lo = Math.max(lo, (await seqAtOrAfterT(db, row.pk, range.fromT)) ?? Number.MAX_SAFE_INTEGER);
  if (range.toT !== undefined) hi = Math.min(hi, (await seqAtOrBeforeT(db, row.pk, range.toT)) ?? -1);
  if (lo > hi) return { run: row.id, json: [], nextSeq: null };
  const rows =
    range.kind === 'topology'
      ? (
          await db.query<{ seq: number; json: string }>(
            `SELECT seq, json FROM events WHERE run = $1 AND seq >= $2 AND seq <= $3 AND type NOT LIKE 'task:%'
             ORDER BY seq LIMIT $4`,
            [row.pk, lo, hi, range.limit + 1],
          )
        ).rows
      : await events(db, row.pk, lo, hi, range.limit + 1);
  const more = rows.length > range.limit;
  if (more) rows.pop();
  return { run: row.id, json: rows.map((r) => r.json), nextSeq: more ? rows[rows.length - 1]!.seq + 1 : null };
}

/**
 * Counts of a run's task events with seq <= upTo: the nearest checkpoint plus the events after it (rows grouped by
 * PostgreSQL, chunked events one by one), as store/counts.ts's countsUpTo.
 */
export async function countsUpTo(db: Db, pk: number, upTo: number, workers: readonly string[]): Promise<TaskCounts> {
  const counts = emptyTaskCounts(workers);
  const checkpoint = (
    await db.query<{ seq: number; counts: string }>(
      'SELECT seq, counts FROM checkpoints WHERE run = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1',
      [pk, upTo],
    )
  ).rows[0];
  if (checkpoint) addCheckpoint(counts, checkpoint.counts);
  const afterSeq = checkpoint?.seq ?? 0;
  const grouped = await db.query<{ type: string; worker: string | null; n: number }>(
    `SELECT type, json::json ->> 'worker' AS worker, count(*) AS n
     FROM events WHERE run = $1 AND seq > $2 AND seq <= $3 AND type LIKE 'task:%' GROUP BY 1, 2`,
    [pk, afterSeq, upTo],
  );
  for (const row of grouped.rows) addTaskEvent(counts, row, row.n);
  await forChunkEvents(db, pk, afterSeq + 1, upTo, Number.MAX_SAFE_INTEGER, (chunk, i) =>
    addTaskEvent(counts, chunk.fields(i)),
  );
  return counts;
}

export async function countersAt(db: Db, id: string, t: number): Promise<RunCountersAt> {
  const row = await runRow(db, id);
  const lastSeq = (await seqAtOrBeforeT(db, row.pk, t)) ?? 0;
  const workers = (JSON.parse(row.workers) as WorkerInfo[]).map((worker) => worker.id);
  const counts = lastSeq > 0 ? await countsUpTo(db, row.pk, lastSeq, workers) : emptyTaskCounts(workers);
  const { sent, received, done, collected, lost } = counts;
  return { run: row.id, t, lastSeq, sent, received, done, collected, lost };
}

export async function exportable(db: Db, id: string): Promise<Exportable> {
  const row = await runRow(db, id);
  if (row.status === 'running') throw new CodedError('PG_ERR_RUN_ACTIVE', text('record.activeExport', { run: id }));
  return row.kind === 'graph'
    ? { pk: row.pk, run: toGraphDetail(row) as RecordedGraphRunDetail, graph: true }
    : { pk: row.pk, run: toDetail(row) as RecordedRunDetail };
}

export function eventsAfter(
  db: Db,
  pk: number,
  afterSeq: number,
  lastSeq: number,
  limit: number,
): Promise<{ seq: number; json: string }[]> {
  return events(db, pk, afterSeq + 1, lastSeq, limit);
}

export async function tasksAfter(
  db: Db,
  pk: number,
  afterSeq: number,
  lastSeq: number,
  limit: number,
): Promise<TaskRow[]> {
  const chunked: TaskRow[] = [];
  const [rows] = await Promise.all([
    db.query<TaskRow>(
      `SELECT seq, t, type, (json::json ->> 'task')::float8 AS task, json::json ->> 'worker' AS worker,
              json::json ->> 'body' AS body
       FROM events WHERE run = $1 AND seq > $2 AND seq <= $3 AND type LIKE 'task:%' ORDER BY seq LIMIT $4`,
      [pk, afterSeq, lastSeq, limit],
    ),
    forChunkEvents(db, pk, afterSeq + 1, lastSeq, limit, (chunk, i) =>
      chunked.push({ seq: chunk.seq(i), t: chunk.t(i), ...chunk.fields(i) }),
    ),
  ]);
  return mergeBySeq(rows.rows, chunked, limit);
}
