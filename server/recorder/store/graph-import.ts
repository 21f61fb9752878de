/**
 * Storing a checked graph export as a new run (checked by shared/protocol/graph-history.ts): a new id, every
 * event re-labelled with it and stored as a row (a graph run has no task events, so no chunks and no task
 * checkpoints), its graph as `params` and its books as `summary`, all in ONE transaction [R7].
 */
import type { GraphRunExport } from '../../../shared/protocol/index.ts';
import { importedRows, storeImportedEnd } from './import.ts';
import type { StoreContext } from './statements.ts';
import { freshRunId, insertRun } from './writes.ts';
import { importedGraphRow } from '../imported-run.ts';

/** Stores `doc` as a new graph run of `owner`; on any failure nothing of it is stored. Returns the new run's id. */
export function importGraphRun(store: StoreContext, doc: GraphRunExport, owner: string | null): string {
  const { s } = store;
  const { run, events } = doc;
  const id = freshRunId(s);
  store.transaction(() => {
    const pk = insertRun(s, importedGraphRow(run, id, owner), { importedFrom: run.id });
    const rows = importedRows(s, pk);
    for (const event of events)
      rows.add({ seq: event.seq, t: event.t, type: event.type, json: JSON.stringify({ ...event, run: id }) });
    rows.flush();
    storeImportedEnd(s, pk, run, events, run.graphSummary);
  });
  return id;
}
