/**
 * RunWriter: turns batches of stamped events into rows, one transaction per batch of at most BATCH_SIZE events.
 * Synchronous, over one RunStore connection; it runs either on the main thread (InlineChannel, ":memory:" stores) or
 * inside the writer thread (ThreadChannel, file stores). It never throws: failures come back in the WriteReport.
 *
 * - run:started creates the run row in a transaction of its own, before its batch: when the batch fails (a full
 *   disk), the run is still in the history and ends "incomplete" (issue 9.12). A row that cannot be created either
 *   is tried again at every write and retry until it can; the run's events meanwhile are counted as lost to it.
 *   run:ended stores reason, summary and end time. Events after run:ended (a late monitor event) still belong to
 *   the run and are stored.
 * - A failed transaction stores nothing of its batch: its events are counted as dropped and against their runs
 *   (lostEvents), which then end "incomplete". A run:ended lost that way is stored by the next write (retry).
 * - Task events are stored as one chunk per run per transaction (RunStore.insertTaskChunk), other events as rows.
 *   A batch posted by the main thread keeps its task events in their columns all the way into the chunk (packed.ts).
 * - Every CHECKPOINT_EVERY events of a run, the running task counts are stored (see RunStore.countersAt).
 * - A graph playground's runs (issue 11) are stored the same way: graph:started creates the row (kind 'graph', its
 *   graph as params), graph:ended ends it with its GraphSummary, and every event between is a row.
 * These rules live in writer-plan.ts, shared with the PostgreSQL writer (pg/writer.ts); this class executes them
 * with the RunStore's statements, synchronously, inside its transactions.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { RunStore } from './store.ts';
import * as rules from './writer-plan.ts';
import type { BatchEvents, PlaygroundState, RunStarted, RunState, TransactionPlan } from './writer-plan.ts';

export { KEEP_ENDED_RUNS } from './writer-plan.ts';

/** Most events per transaction. */
export const BATCH_SIZE = 5000;

export interface PlaygroundRef {
  id: string;
  /** The scenario's title, for default run names. */
  title: string;
  /** The visitor that owns the playground: its runs are stored as that visitor's (absent: nobody's). */
  owner?: string | null;
}

/**
 * One event and, when the sender already has it, its JSON text. A task event unpacked in the writer thread also
 * carries its seq and t: the entry then is its own chunk row (ChunkEvent), with no copy made per event.
 */
export interface Entry {
  event: PlaygroundEvent;
  json: string | null;
  seq?: number;
  t?: number;
}

export interface Batch {
  playground: PlaygroundRef;
  /** The events: entries, or a batch posted as columns (packed.ts, the writer threads). */
  entries: BatchEvents;
  /** Wall-clock ms (Date.now()) of run:started / run:ended events, by seq, taken when they were logged. */
  wallClock: [seq: number, ms: number][];
  /** Events the recorder's buffer cap dropped, per live run id. */
  overflow: [run: string, count: number][];
}

export interface WriteReport {
  /** Events stored. */
  recorded: number;
  /** Events not stored (failed transaction, unknown run). */
  dropped: number;
  /** Transactions committed. */
  flushes: number;
  errors: { message: string; at: string }[];
  /** A run:ended is waiting to be stored: call retry() a little later. */
  retry: boolean;
}

export class RunWriter {
  readonly #store: RunStore;
  readonly #playgrounds = new Map<string, PlaygroundState>();

  constructor(store: RunStore) {
    this.#store = store;
  }

  write(batch: Batch): WriteReport {
    const report = rules.emptyReport();
    const state = rules.playgroundState(this.#playgrounds, batch.playground);
    rules.takeBatchNotes(state, batch);
    const { entries } = batch;
    if (this.#store.closed) {
      report.dropped += entries.length;
      report.errors.push({
        message: `the run store is closed: dropping ${entries.length} events`,
        at: new Date().toISOString(),
      });
      return report;
    }
    if (entries.length <= BATCH_SIZE) this.#transaction(state, entries, report);
    else
      for (let start = 0; start < entries.length; start += BATCH_SIZE)
        this.#transaction(state, entries.slice(start, start + BATCH_SIZE), report);
    state.overflow.clear(); // what is left belongs to runs that were never stored
    report.retry = rules.anyWaitsForRetry(this.#playgrounds);
    return report;
  }

  /** Stores run:ended events whose batch failed (they then mark their runs incomplete). */
  retry(): WriteReport {
    const report = rules.emptyReport();
    if (this.#store.closed) return report;
    for (const state of this.#playgrounds.values()) {
      if (rules.waitsForRetry(state)) this.#transaction(state, [], report);
    }
    report.retry = rules.anyWaitsForRetry(this.#playgrounds);
    return report;
  }

  /** A playground closed: runs of it that never ended are marked incomplete, and it is forgotten. */
  closePlayground(id: string): WriteReport {
    const report = this.retry();
    const state = this.#playgrounds.get(id);
    if (!state) return report;
    this.#playgrounds.delete(id);
    if (this.#store.closed) return report;
    for (const run of state.runs.values()) {
      if (run.ended) continue;
      try {
        this.#store.markIncomplete(run.pk);
      } catch (error) {
        rules.markIncompleteFailed(report, run, error);
      }
    }
    return report;
  }

  closeAll(): WriteReport {
    const report = rules.emptyReport();
    for (const id of [...this.#playgrounds.keys()]) rules.addReport(report, this.closePlayground(id));
    return report;
  }

  // -------------------------------------------------------------------------------------------------------------

  /**
   * Creates the rows of the runs started in `entries` and of those still waiting, each in a transaction of its
   * own (a row is small: it may fit where a batch of events does not). One that fails waits for the next try.
   */
  #createRuns(playground: PlaygroundState, entries: BatchEvents, report: WriteReport): void {
    rules.queueStarts(playground, entries);
    for (const [id, pending] of playground.pendingStarts) {
      let run: RunState;
      try {
        run = this.#store.transaction(() => this.#createRun(playground, pending.started));
      } catch (error) {
        rules.runNotCreated(report, playground, id, error);
        continue;
      }
      rules.runCreated(playground, id, pending, run);
    }
  }

  /** One transaction; the in-memory run states change only once it has committed. */
  #transaction(playground: PlaygroundState, entries: BatchEvents, report: WriteReport): void {
    const store = this.#store;
    this.#createRuns(playground, entries, report);
    let plan: TransactionPlan;
    try {
      plan = store.transaction(() => {
        // Planned inside the transaction: a checkpoint is inserted as its event is reached, from the running counts.
        const planned = rules.planTransaction(playground, entries, (run, seq, counts) =>
          store.insertCheckpoint(run.pk, seq, counts),
        );
        for (const [run, delta] of planned.touched) {
          store.insertEvents(run.pk, delta.rows);
          store.insertTaskChunk(run.pk, delta.tasks);
          store.updateProgress(run.pk, rules.progressOf(run, delta));
        }
        for (const [run, end] of planned.ends) store.finishRun(run.pk, rules.endOf(playground, run, end));
        return planned;
      });
    } catch (error) {
      rules.transactionFailed(playground, entries, report, error);
      return;
    }
    rules.transactionCommitted(playground, plan, entries, report);
  }

  #createRun(playground: PlaygroundState, event: RunStarted): RunState {
    const store = this.#store;
    let storedId = event.run;
    // Live run ids are random; one may still match a stored run (an earlier server, an import).
    while (store.runExists(storedId)) storedId = rules.otherRunId(event.run);
    const pk = store.insertRun(rules.newRunRow(playground, event, storedId));
    return rules.newRunState(playground, event, pk, storedId);
  }
}
