/**
 * What both stores write of an imported run (a checked export stored as a new run: store/import.ts and
 * store/graph-import.ts in SQLite, pg/import.ts in PostgreSQL): its run row, its progress as the export says it,
 * and its end. Each store writes them with its own statements; its events are stored by the store itself.
 */
import type { GraphRunExport, RunExport } from '../../shared/protocol/index.ts';
import type { NewRun, RunProgress } from './store/writes.ts';

/** What of an exported run, pipeline or graph, its end says: how far it got and how it ended. */
export interface ImportedEnd {
  status: 'ended' | 'incomplete';
  endedAt: string | null;
  reason: string | null;
  durationMs: number;
  lostEvents: number;
}

/** The values an imported run's end stores (the `summary` column holds the export's summary as JSON text). */
export interface ImportedEndValues {
  status: string;
  endedAt: number | null;
  reason: string | null;
  summary: string | null;
  durationMs: number;
}

type ExportedRun = RunExport['run'] | GraphRunExport['run'];

/** The fields of an imported run's row that a pipeline run and a graph run share: a new id, and `owner`. */
const importedRow = (run: ExportedRun, id: string, owner: string | null) => ({
  id,
  playground: run.playground,
  scenario: run.scenario,
  name: run.name,
  startedAt: Date.parse(run.startedAt) || 0,
  owner,
});

/** The row of an imported pipeline run. */
export const importedPipelineRow = (run: RunExport['run'], id: string, owner: string | null): NewRun => ({
  ...importedRow(run, id, owner),
  params: run.params,
  endpoints: run.endpoints,
  workers: run.workers,
});

/** The row of an imported graph run: its graph as `params`, no endpoints or workers. */
export const importedGraphRow = (run: GraphRunExport['run'], id: string, owner: string | null): NewRun => ({
  ...importedRow(run, id, owner),
  params: run.graph,
  endpoints: [],
  workers: [],
  kind: 'graph',
});

/** An imported run's progress: its events' count and seq range, its duration and losses as the export said. */
export const importedProgress = (run: ImportedEnd, events: readonly { seq: number }[]): RunProgress => ({
  eventCount: events.length,
  firstSeq: events[0]?.seq ?? null,
  lastSeq: events.at(-1)?.seq ?? null,
  durationMs: run.durationMs,
  lostEvents: run.lostEvents,
});

/** An imported run's end, with `summary` (the pipeline's summary, or a graph run's books) as the export holds it. */
export function importedEndValues(run: ImportedEnd, summary: object | null): ImportedEndValues {
  const endedAt = run.endedAt === null ? null : Date.parse(run.endedAt);
  return {
    status: run.status,
    endedAt: Number.isFinite(endedAt) ? endedAt : null,
    reason: run.reason,
    summary: summary === null ? null : JSON.stringify(summary),
    durationMs: run.durationMs,
  };
}
