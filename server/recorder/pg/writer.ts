/**
 * The PostgreSQL store's writer: the rules of the SQLite RunWriter (server/recorder/writer.ts), planned by the same
 * code (../writer-plan.ts), executed asynchronously over a pool of its own store. Batches are written one after the other (never two transactions of the writer at once):
 *
 * - run:started creates the run row in a transaction of its own, before its batch; a row that cannot be created is
 *   tried again at every write and retry, its events meanwhile counted as lost to it. run:ended stores reason,
 *   summary and end time; events after it (a late monitor event) still belong to the run.
 * - One transaction per batch of at most BATCH_SIZE events: per run, its non-task events in ONE multi-row INSERT
 *   (unnest of arrays), its task events packed into chunks (the SQLite store's format) in ONE INSERT, its checkpoints
 *   in one, then its progress. A failed transaction stores nothing of its batch: its events are counted as dropped
 *   and against their runs (lostEvents, so they end "incomplete"); a run:ended lost that way is stored by a retry.
 * - The in-memory state of a run changes only once its transaction has committed.
 * - Each run row records the server's instance (`--instance`): a server that starts marks only its own interrupted
 *   runs incomplete.
 */
import type pg from 'pg';
import { cloneTaskCounts, type TaskCounts } from '../../../shared/protocol/task-counts.ts';
import { BATCH_SIZE, type Batch, type WriteReport } from '../writer.ts';
import * as rules from '../writer-plan.ts';
import type { BatchEvents, PlaygroundState, RunStarted, RunState } from '../writer-plan.ts';
import { runExists } from './reads.ts';
import {
  finishRun,
  insertCheckpoints,
  insertEvents,
  insertRun,
  insertTaskChunks,
  markIncomplete,
  updateProgress,
} from './writes.ts';

/**
 * Runs fn between BEGIN and COMMIT on a client of the pool (ROLLBACK when it throws). A client whose transaction
 * failed is not given back to the pool but closed: its connection may be what failed.
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(failed);
  }
}

export class PgRunWriter {
  readonly #playgrounds = new Map<string, PlaygroundState>();

  /** `instance` is recorded on every run row it creates. The writer is sequential: one transaction at a time. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly instance: string | null,
  ) {}

  async write(batch: Batch): Promise<WriteReport> {
    const report = rules.emptyReport();
    const state = rules.playgroundState(this.#playgrounds, batch.playground);
    rules.takeBatchNotes(state, batch);
    const { entries } = batch;
    for (let start = 0; start < entries.length || start === 0; start += BATCH_SIZE) {
      await this.#transaction(
        state,
        entries.length <= BATCH_SIZE ? entries : entries.slice(start, start + BATCH_SIZE),
        report,
      );
      if (entries.length === 0) break;
    }
    state.overflow.clear(); // what is left belongs to runs that were never stored
    report.retry = this.hasPending();
    return report;
  }

  /** Stores run:ended events whose batch failed, and creates run rows that could not be created yet. */
  async retry(): Promise<WriteReport> {
    const report = rules.emptyReport();
    for (const state of this.#playgrounds.values()) {
      if (rules.waitsForRetry(state)) await this.#transaction(state, [], report);
    }
    report.retry = this.hasPending();
    return report;
  }

  /** A playground closed: its runs that never ended are marked incomplete, and it is forgotten. */
  async closePlayground(id: string): Promise<WriteReport> {
    const report = await this.retry();
    const state = this.#playgrounds.get(id);
    if (!state) return report;
    this.#playgrounds.delete(id);
    for (const run of state.runs.values()) {
      if (run.ended) continue;
      try {
        await transaction(this.pool, (client) => markIncomplete(client, run.pk));
      } catch (error) {
        rules.markIncompleteFailed(report, run, error);
      }
    }
    return report;
  }

  async closeAll(): Promise<WriteReport> {
    const report = rules.emptyReport();
    for (const id of [...this.#playgrounds.keys()]) rules.addReport(report, await this.closePlayground(id));
    return report;
  }

  /** Something waits for a retry: a run:ended not stored yet, or a run whose row could not be created. */
  hasPending(): boolean {
    return rules.anyWaitsForRetry(this.#playgrounds);
  }

  // -------------------------------------------------------------------------------------------------------------

  /** Creates the rows of the runs started in `entries` and of those still waiting, each in its own transaction. */
  async #createRuns(playground: PlaygroundState, entries: BatchEvents, report: WriteReport): Promise<void> {
    rules.queueStarts(playground, entries);
    for (const [id, pending] of playground.pendingStarts) {
      let run: RunState;
      try {
        run = await transaction(this.pool, (client) => this.#createRun(client, playground, pending.started));
      } catch (error) {
        rules.runNotCreated(report, playground, id, error);
        continue;
      }
      rules.runCreated(playground, id, pending, run);
    }
  }

  async #transaction(playground: PlaygroundState, entries: BatchEvents, report: WriteReport): Promise<void> {
    await this.#createRuns(playground, entries, report);
    // What the transaction writes, planned first (CPU only), then sent in a few statements per run. A checkpoint
    // keeps a copy of the running counts: they move on with the later events of the plan.
    const checkpoints = new Map<RunState, { seq: number; counts: TaskCounts }[]>();
    const plan = rules.planTransaction(playground, entries, (run, seq, counts) => {
      const list = checkpoints.get(run);
      const checkpoint = { seq, counts: cloneTaskCounts(counts) };
      if (list) list.push(checkpoint);
      else checkpoints.set(run, [checkpoint]);
    });
    if (plan.touched.size === 0 && plan.ends.size === 0) {
      report.dropped += plan.unknown;
      return;
    }
    try {
      await transaction(this.pool, async (client) => {
        for (const [run, delta] of plan.touched) {
          await insertEvents(client, run.pk, delta.rows);
          await insertTaskChunks(client, run.pk, delta.tasks);
          await insertCheckpoints(client, run.pk, checkpoints.get(run) ?? []);
          await updateProgress(client, run.pk, rules.progressOf(run, delta));
        }
        for (const [run, end] of plan.ends) await finishRun(client, run.pk, rules.endOf(playground, run, end));
      });
    } catch (error) {
      rules.transactionFailed(playground, entries, report, error);
      return;
    }
    rules.transactionCommitted(playground, plan, entries, report);
  }

  async #createRun(client: pg.PoolClient, playground: PlaygroundState, event: RunStarted): Promise<RunState> {
    let storedId = event.run;
    // Live run ids are random; one may still match a stored run (another instance, an earlier server, an import).
    while (await runExists(client, storedId)) storedId = rules.otherRunId(event.run);
    const pk = await insertRun(client, rules.newRunRow(playground, event, storedId), null, this.instance);
    return rules.newRunState(playground, event, pk, storedId);
  }
}
