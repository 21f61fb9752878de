/**
 * Writing stored runs: a new run's row and default name, its events (rows and task chunks), its progress and
 * end, an interrupted run marked incomplete with a summary rebuilt from its events, and the history's own changes
 * (rename, make public, delete). Callers group writes into transactions (StoreContext.transaction).
 */
import { randomBytes } from 'node:crypto';
import { text } from '../../../shared/protocol/server-text.ts';
import {
  PROTOCOL_VERSION,
  type EndpointInfo,
  type GraphSpec,
  type GraphSummary,
  type RunEndReason,
  type RunParams,
  type RunSummary,
  type WorkerInfo,
} from '../../../shared/protocol/index.ts';
import { CHUNK_EVENTS, type EventRow } from './chunk-format.ts';
import { encodeTaskRows, type TaskRows } from './chunk-pack.ts';
import { countsUpTo, summaryCounts } from './counts.ts';
import { runRow } from './reads.ts';
import type { RunRow } from './schema.ts';
import { ROWS_PER_INSERT, type StoreContext, type Statements } from './statements.ts';
import { CodedError } from '../../errors.ts';

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
  /** A pipeline run's parameters; a graph run's graph as it ran. */
  params: RunParams | GraphSpec;
  endpoints: EndpointInfo[];
  workers: WorkerInfo[];
  startedAt: number;
  /** The visitor it belongs to (null: nobody's). */
  owner?: string | null;
  /** A graph run keeps its GraphSpec as `params` and no endpoints or workers (default 'pipeline'). */
  kind?: 'pipeline' | 'graph';
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
  /** A graph run's end stores its GraphSummary. */
  summary: RunSummary | GraphSummary;
  lostEvents: number;
}

export function runExists(s: Statements, id: string): boolean {
  return s.exists.get(id) !== undefined;
}

/** A run id no stored run has yet, shaped like the playground's ("run-" + 8 hex digits). */
export function freshRunId(s: Statements, prefix = 'run'): string {
  for (;;) {
    const id = `${prefix}-${randomBytes(4).toString('hex')}`;
    if (!runExists(s, id)) return id;
  }
}

/** Inserts a run row with status "running" and returns its pk. */
export function insertRun(s: Statements, run: NewRun, source: { importedFrom: string } | null = null): number {
  const owner = run.owner ?? null;
  const lesson = run.lesson ?? null;
  // The server's own name is "<title> #n" in English; name_n lets a page say it in its language.
  const number =
    run.name !== undefined
      ? null
      : (lesson === null ? s.countScenario.get(run.scenario, owner) : s.countLesson.get(lesson, owner))!.n + 1;
  const result = s.insertRun.run(...newRunValues(run, runName(run, number), number, source));
  return Number(result.lastInsertRowid);
}

/** A run row's values (see newRunValues). */
type NewRunValues = [
  id: string,
  playground: string,
  scenario: string,
  name: string,
  params: string,
  endpoints: string,
  workers: string,
  startedAt: number,
  formatVersion: number,
  source: string,
  importedFrom: string | null,
  owner: string | null,
  lesson: string | null,
  nameN: number | null,
  kind: 'pipeline' | 'graph',
];

/** A new run's name: its own, else "<title> #<number>" (the lesson's title in a lesson, else the scenario's). */
export function runName(run: NewRun, number: number | null): string {
  const lesson = run.lesson ?? null;
  const title = lesson === null ? (run.scenarioTitle ?? run.scenario) : (run.lessonTitle ?? lesson);
  return (run.name ?? `${title} #${number}`).slice(0, 100);
}

/**
 * The values of a new run's row, in the order both stores' INSERTs name their columns: id, playground, scenario,
 * name, params, endpoints, workers, started_at, format_version, source, imported_from, owner, lesson, name_n, kind.
 */
export function newRunValues(
  run: NewRun,
  name: string,
  number: number | null,
  source: { importedFrom: string } | null,
): NewRunValues {
  return [
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
    run.owner ?? null,
    run.lesson ?? null,
    number,
    run.kind ?? 'pipeline',
  ];
}

/** Inserts rows of one run, ROWS_PER_INSERT per statement (call inside a transaction). */
export function insertEvents(s: Statements, pk: number, rows: readonly EventRow[]): void {
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
    s.insertEvents.run(...params);
  }
  for (let i = full; i < rows.length; i++) {
    const row = rows[i]!;
    s.insertEvent.run(pk, row.seq, row.t, row.type, row.json);
  }
}

/**
 * Stores task events of one run (seq increasing, all after the run's previous chunk) as chunk rows of at most
 * CHUNK_EVENTS (call inside a transaction).
 */
export function insertTaskChunk(s: Statements, pk: number, rows: TaskRows): void {
  for (let start = 0; start < rows.length; start += CHUNK_EVENTS) {
    const chunk = encodeTaskRows(rows, start, Math.min(start + CHUNK_EVENTS, rows.length));
    s.insertChunk.run(pk, chunk.firstSeq, chunk.lastSeq, chunk.firstT, chunk.lastT, chunk.count, chunk.data);
  }
}

export function updateProgress(s: Statements, pk: number, progress: RunProgress): void {
  s.progress.run(
    progress.eventCount,
    progress.firstSeq,
    progress.lastSeq,
    progress.durationMs,
    progress.lostEvents,
    pk,
  );
}

/** Stores run:ended's facts; the run becomes "ended", or "incomplete" if events were lost on the way. */
export function finishRun(s: Statements, pk: number, end: RunEnd): void {
  s.finish.run(
    end.lostEvents,
    end.endedAt,
    end.reason,
    JSON.stringify(end.summary),
    end.summary.durationMs,
    end.lostEvents,
    pk,
  );
}

/** The summary of a run that never ended, from its stored events. */
function rebuildSummary(s: Statements, row: RunRow): RunSummary {
  const workers = (JSON.parse(row.workers) as WorkerInfo[]).map((worker) => worker.id);
  return {
    ...summaryCounts(countsUpTo(s, row.pk, Number.MAX_SAFE_INTEGER, workers)),
    externalPeersMax: s.maxExternal.get(row.pk)?.n ?? 0,
    durationMs: Math.max(s.last.get(row.pk)?.t ?? 0, s.lastChunk.get(row.pk)?.t ?? 0),
  };
}

/** Marks one run incomplete, with a summary rebuilt from its stored events (a run no longer "running": nothing). */
export function markIncomplete(s: Statements, pk: number): void {
  const row = s.byPk.get(pk);
  if (!row || row.status !== 'running') return;
  if (row.kind === 'graph') {
    // A graph run's books cannot be rebuilt from part of its events (copies in flight are unknown): no summary,
    // and the timeline as long as its last stored event.
    s.setIncomplete.run(null, s.last.get(pk)?.t ?? 0, pk);
    return;
  }
  const summary = rebuildSummary(s, row);
  s.setIncomplete.run(JSON.stringify(summary), summary.durationMs, pk);
}

/** Called at open: a run still "running" in the file was interrupted (crash, kill -9, power loss). */
export function markInterrupted(store: StoreContext): number {
  const rows = store.s.running.all();
  store.transaction(() => {
    for (const { pk } of rows) markIncomplete(store.s, pk);
  });
  return rows.length;
}

/** Runs a small change of the history; another connection's lock held too long becomes PG_ERR_LIMIT (try again). */
function changeUnlessBusy(change: () => void): void {
  try {
    change();
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new CodedError('PG_ERR_LIMIT', text('record.busy'));
  }
}

/** Makes a run readable by anyone who has its id (or private again). */
export function setPublic(s: Statements, id: string, isPublic: boolean): void {
  runRow(s, id);
  changeUnlessBusy(() => s.setPublic.run(isPublic ? 1 : 0, id));
}

/** A name someone typed (the run then keeps it in every language). */
export function renameRun(s: Statements, id: string, name: string): void {
  runRow(s, id);
  changeUnlessBusy(() => s.rename.run(name, id));
}

/** Deletes a run and its events in one transaction; a run still being recorded cannot be deleted. */
export function deleteRun(store: StoreContext, id: string): void {
  const { s } = store;
  const row = runRow(s, id);
  if (row.status === 'running') {
    throw new CodedError('PG_ERR_RUN_ACTIVE', text('record.activeDelete', { run: id }));
  }
  store.transaction(() => {
    s.deleteEvents.run(row.pk);
    s.deleteChunks.run(row.pk);
    s.deleteCheckpoints.run(row.pk);
    s.deleteRun.run(row.pk);
  });
}
