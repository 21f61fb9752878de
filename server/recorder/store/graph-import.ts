/**
 * Storing a checked graph export as a new run (checked by shared/protocol/graph-history.ts): a new id, every
 * event re-labelled with it and stored as a row (a graph run has no task events, so no chunks and no task
 * checkpoints), its graph as `params` and its books as `summary`, all in ONE transaction [R7].
 */
import type { GraphRunExport } from '../../../shared/protocol/index.ts';
import type { EventRow } from './chunk-format.ts';
import { ROWS_PER_INSERT, type StoreContext } from './statements.ts';
import { freshRunId, insertEvents, insertRun, updateProgress } from './writes.ts';

/** Rows per insertEvents call: bounds what one import holds in memory at a time. */
const ROWS_PER_CALL = ROWS_PER_INSERT * 100;

/** Stores `doc` as a new graph run of `owner`; on any failure nothing of it is stored. Returns the new run's id. */
export function importGraphRun(store: StoreContext, doc: GraphRunExport, owner: string | null): string {
  const { s } = store;
  const { run, events } = doc;
  const id = freshRunId(s);
  store.transaction(() => {
    const pk = insertRun(
      s,
      {
        id,
        playground: run.playground,
        scenario: run.scenario,
        name: run.name,
        params: run.graph,
        endpoints: [],
        workers: [],
        startedAt: Date.parse(run.startedAt) || 0,
        owner,
        kind: 'graph',
      },
      { importedFrom: run.id },
    );
    let rows: EventRow[] = [];
    for (const event of events) {
      rows.push({ seq: event.seq, t: event.t, type: event.type, json: JSON.stringify({ ...event, run: id }) });
      if (rows.length === ROWS_PER_CALL) {
        insertEvents(s, pk, rows);
        rows = [];
      }
    }
    insertEvents(s, pk, rows);
    updateProgress(s, pk, {
      eventCount: events.length,
      firstSeq: events[0]?.seq ?? null,
      lastSeq: events.at(-1)?.seq ?? null,
      durationMs: run.durationMs,
      lostEvents: run.lostEvents,
    });
    const endedAt = run.endedAt === null ? null : Date.parse(run.endedAt);
    s.importedEnd.run(
      run.status,
      Number.isFinite(endedAt) ? endedAt : null,
      run.reason,
      run.graphSummary === null ? null : JSON.stringify(run.graphSummary),
      run.durationMs,
      pk,
    );
  });
  return id;
}
