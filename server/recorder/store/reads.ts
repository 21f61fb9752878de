/**
 * Reading stored runs: listings (keyset pages), one run, who may read it, windows of its events, its counters at a
 * moment, and the pages an export reads. Never a whole run at once: every event query is a bounded seq range.
 */
import { text } from '../../../shared/protocol/server-text.ts';
import {
  MAX_RUN_PAGE,
  type EndpointInfo,
  type GraphSpec,
  type GraphSummary,
  type RecordedGraphRunDetail,
  type RecordedRun,
  type RecordedRunDetail,
  type RunCountersAt,
  type RunPage,
  type RunParams,
  type RunSummary,
  type WorkerInfo,
} from '../../../shared/protocol/index.ts';
import { Chunk } from './chunk-read.ts';
import { emptyTaskCounts } from '../../../shared/protocol/task-counts.ts';
import { countsUpTo } from './counts.ts';
import type { RunRow } from './schema.ts';
import type { Statements, TaskRow } from './statements.ts';
import { CodedError } from '../../errors.ts';

import type { EventRange, JsonWindow, RunAccess, RunViewer } from '../store-api.ts';

// The shapes the storage interface answers with are defined once, in store-api.ts.
export type { EventRange, JsonWindow, RunAccess, RunViewer };

/** One stored event located by seq: its time and JSON text. */
interface Located {
  seq: number;
  t: number;
  json: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * With `visitor`, the run also says whether it is that visitor's (`owned`). A graph run says `kind: 'graph'` and
 * carries its books as `graphSummary` (its `params` column holds its graph, its summary column its GraphSummary).
 */
export function toRun(row: RunRow, visitor?: string): RecordedRun {
  const graph = row.kind === 'graph';
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
    summary: graph || row.summary === null ? null : (JSON.parse(row.summary) as RunSummary),
    eventCount: row.event_count,
    firstSeq: row.first_seq ?? 0,
    lastSeq: row.last_seq ?? 0,
    lostEvents: row.lost_events,
    workers: JSON.parse(row.workers) as WorkerInfo[],
    ...(graph ? {} : { params: JSON.parse(row.params) as RunParams }),
    source: row.source,
    public: row.public === 1,
  };
  if (graph) {
    run.kind = 'graph';
    run.graphSummary = row.summary === null ? null : (JSON.parse(row.summary) as GraphSummary);
  }
  if (row.name_n !== null)
    run.defaultName = { scenario: row.scenario, ...(row.lesson !== null ? { lesson: row.lesson } : {}), n: row.name_n };
  if (visitor !== undefined) run.owned = row.owner !== null && row.owner === visitor;
  return run;
}

/** A pipeline run's detail (anyDetail answers for either kind). */
export function toDetail(row: RunRow, visitor?: string): RecordedRunDetail {
  if (row.kind === 'graph') throw new Error(`run ${row.id} is a graph run: read it with anyDetail`);
  return {
    ...toRun(row, visitor),
    params: JSON.parse(row.params) as RunParams,
    endpoints: JSON.parse(row.endpoints) as EndpointInfo[],
    protocolVersion: row.format_version,
  };
}

/** A graph run's detail: the list's fields, its graph as it ran, and the protocol its events were written in. */
export function toGraphDetail(row: RunRow, visitor?: string): RecordedGraphRunDetail {
  const { params: _params, kind: _kind, graphSummary, ...run } = toRun(row, visitor);
  return {
    ...run,
    kind: 'graph',
    graphSummary: graphSummary ?? null,
    graph: JSON.parse(row.params) as GraphSpec,
    protocolVersion: row.format_version,
  };
}

/** One stored run's detail, of either kind. */
export function anyDetail(row: RunRow, visitor?: string): RecordedRunDetail | RecordedGraphRunDetail {
  return row.kind === 'graph' ? toGraphDetail(row, visitor) : toDetail(row, visitor);
}

/** The row of a stored run; PG_ERR_NOT_FOUND for an unknown id. */
export function runRow(s: Statements, id: string): RunRow {
  const row = s.byId.get(id);
  if (!row) throw new CodedError('PG_ERR_NOT_FOUND', text('record.unknownRun', { run: id.slice(0, 64) }));
  return row;
}

/**
 * Newest first (most recently recorded or imported). `before` is the `nextBefore` of the previous page. With a
 * `viewer`, only the runs it may see (RunViewer), each saying whether it is the viewer's; without, every run.
 */
export function listRuns(
  s: Statements,
  options: { limit?: number; before?: string; viewer?: RunViewer } = {},
): RunPage {
  const limit = Math.max(1, Math.min(options.limit ?? 50, MAX_RUN_PAGE));
  let cursor: number | null = null;
  if (options.before !== undefined) {
    if (!/^[0-9]{1,15}$/.test(options.before)) {
      throw new CodedError('PG_ERR_VALIDATION', text('record.badCursor', { before: options.before.slice(0, 20) }));
    }
    cursor = Number(options.before);
  }
  const { viewer } = options;
  let rows: RunRow[];
  let total: number;
  if (viewer) {
    const playgrounds = JSON.stringify(viewer.playgrounds);
    rows = s.viewerPageBefore.all(viewer.visitor, playgrounds, cursor ?? Number.MAX_SAFE_INTEGER, limit + 1);
    total = s.viewerTotal.get(viewer.visitor, playgrounds)?.n ?? 0;
  } else {
    rows = cursor === null ? s.pageFirst.all(limit + 1) : s.pageBefore.all(cursor, limit + 1);
    total = s.total.get()?.n ?? 0;
  }
  const more = rows.length > limit;
  if (more) rows.pop();
  return {
    runs: rows.map((row) => toRun(row, viewer?.visitor)),
    nextBefore: more ? String(rows[rows.length - 1]!.pk) : null,
    total,
  };
}

/** Who owns a stored run, which playground recorded it and whether it is public; null for an unknown id. */
export function accessOf(s: Statements, id: string): RunAccess | null {
  const row = s.access.get(id);
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
function forChunkEvents(
  s: Statements,
  pk: number,
  lo: number,
  hi: number,
  limit: number,
  each: (chunk: Chunk, i: number) => void,
): void {
  let n = 0;
  if (limit <= 0) return;
  const start = s.chunkAtOrBefore.get(pk, lo)?.first_seq ?? lo;
  for (const row of s.chunksFrom.iterate(pk, start, hi)) {
    const chunk = new Chunk(row);
    for (let i = chunk.indexOfSeq(lo); i < chunk.count; i++) {
      if (chunk.seq(i) > hi || n >= limit) break;
      each(chunk, i);
      n++;
    }
    if (n >= limit || row.last_seq >= hi) break;
  }
}

/** Up to `limit` chunked task events with lo <= seq <= hi, in seq order, as their JSON text. */
function chunkEvents(s: Statements, pk: number, lo: number, hi: number, limit: number): Located[] {
  const out: Located[] = [];
  forChunkEvents(s, pk, lo, hi, limit, (chunk, i) =>
    out.push({ seq: chunk.seq(i), t: chunk.t(i), json: chunk.json(i) }),
  );
  return out;
}

/** Up to `limit` events (both tables) with lo <= seq <= hi, in seq order. */
function events(s: Statements, pk: number, lo: number, hi: number, limit: number): { seq: number; json: string }[] {
  return mergeBySeq(s.window.all(pk, lo, hi, limit), chunkEvents(s, pk, lo, hi, limit), limit);
}

/** The seq of the first event with t' >= t, or null. */
function seqAtOrAfterT(s: Statements, pk: number, t: number): number | null {
  const row = s.seqAtOrAfterT.get(pk, t)?.seq ?? null;
  const found = s.chunkEndingAtOrAfterT.get(pk, t);
  let chunked: number | null = null;
  if (found) {
    const chunk = new Chunk(found);
    const i = chunk.indexOfT(t);
    if (i < chunk.count) chunked = chunk.seq(i);
  }
  return row === null ? chunked : chunked === null ? row : Math.min(row, chunked);
}

/** The seq of the last event with t' <= t, or null. */
function seqAtOrBeforeT(s: Statements, pk: number, t: number): number | null {
  const row = s.seqAtOrBeforeT.get(pk, t)?.seq ?? null;
  const found = s.chunkStartingAtOrBeforeT.get(pk, t);
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

/**
 * A window of a run's events in seq order: seq in [fromSeq, toSeq] and t in [fromT, toT], at most `limit`.
 * Time bounds become seq bounds through the (run, t) index, so any window costs two seeks plus its rows.
 */
export function eventWindow(s: Statements, id: string, range: EventRange): JsonWindow {
  const row = runRow(s, id);
  let lo = range.fromSeq ?? 0;
  let hi = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  if (range.fromT !== undefined) lo = Math.max(lo, seqAtOrAfterT(s, row.pk, range.fromT) ?? Number.MAX_SAFE_INTEGER);
  if (range.toT !== undefined) hi = Math.min(hi, seqAtOrBeforeT(s, row.pk, range.toT) ?? -1);
  if (lo > hi) return { run: row.id, json: [], nextSeq: null };
  const rows =
    range.kind === 'topology'
      ? s.topologyWindow.all(row.pk, lo, hi, range.limit + 1)
      : events(s, row.pk, lo, hi, range.limit + 1);
  const more = rows.length > range.limit;
  if (more) rows.pop();
  return { run: row.id, json: rows.map((r) => r.json), nextSeq: more ? rows[rows.length - 1]!.seq + 1 : null };
}

/** Exact task totals of a run up to time t (every task event with t' <= t): what the counters showed then. */
export function countersAt(s: Statements, id: string, t: number): RunCountersAt {
  const row = runRow(s, id);
  const lastSeq = seqAtOrBeforeT(s, row.pk, t) ?? 0;
  const workers = (JSON.parse(row.workers) as WorkerInfo[]).map((worker) => worker.id);
  const counts = lastSeq > 0 ? countsUpTo(s, row.pk, lastSeq, workers) : emptyTaskCounts(workers);
  // Without lostBy: stored counters never carried it (Counters.lostBy is optional).
  const { sent, received, done, collected, lost } = counts;
  return { run: row.id, t, lastSeq, sent, received, done, collected, lost };
}

/** The row a streaming export starts from; refuses a run still being recorded. */
export function exportable(
  s: Statements,
  id: string,
): { pk: number; run: RecordedRunDetail } | { pk: number; run: RecordedGraphRunDetail; graph: true } {
  const row = runRow(s, id);
  if (row.status === 'running') {
    throw new CodedError('PG_ERR_RUN_ACTIVE', text('record.activeExport', { run: id }));
  }
  return row.kind === 'graph'
    ? { pk: row.pk, run: toGraphDetail(row), graph: true }
    : { pk: row.pk, run: toDetail(row) };
}

/** Up to `limit` events with afterSeq < seq <= lastSeq, as stored JSON (the export's page). */
export function eventsAfter(
  s: Statements,
  pk: number,
  afterSeq: number,
  lastSeq: number,
  limit: number,
): { seq: number; json: string }[] {
  return events(s, pk, afterSeq + 1, lastSeq, limit);
}

/** Up to `limit` task events with afterSeq < seq <= lastSeq (the CSV export's page). */
export function tasksAfter(s: Statements, pk: number, afterSeq: number, lastSeq: number, limit: number): TaskRow[] {
  // Read from the chunks' columns: the same fields a parse of each event's text gives, without the parse.
  const chunked: TaskRow[] = [];
  forChunkEvents(s, pk, afterSeq + 1, lastSeq, limit, (chunk, i) =>
    chunked.push({ seq: chunk.seq(i), t: chunk.t(i), ...chunk.fields(i) }),
  );
  return mergeBySeq(s.tasksAfterSeq.all(pk, afterSeq, lastSeq, limit), chunked, limit);
}
