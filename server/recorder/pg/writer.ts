/**
 * The PostgreSQL store's writer: the rules of the SQLite RunWriter (server/recorder/writer.ts), asynchronous, over a
 * pool of its own store. Batches are written one after the other (never two transactions of the writer at once):
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
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PlaygroundEvent } from '../../../shared/protocol/index.ts';
import { LESSON_TEXT_EN } from '../../../shared/lessons/text/en.ts';
import {
  addTaskEvent,
  cloneTaskCounts,
  emptyTaskCounts,
  type TaskCounts,
} from '../../../shared/protocol/task-counts.ts';
import { CHECKPOINT_EVERY } from '../store/counts.ts';
import type { ChunkEvent, EventRow } from '../store/chunk-format.ts';
import {
  BATCH_SIZE,
  KEEP_ENDED_RUNS,
  type Batch,
  type Entry,
  type PlaygroundRef,
  type WriteReport,
} from '../writer.ts';
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

type RunEnded = Extract<PlaygroundEvent, { type: 'run:ended' | 'graph:ended' }>;
type RunStarted = Extract<PlaygroundEvent, { type: 'run:started' | 'graph:started' }>;

const isStart = (event: PlaygroundEvent): event is RunStarted =>
  event.type === 'run:started' || event.type === 'graph:started';
const isEnd = (event: PlaygroundEvent): event is RunEnded => event.type === 'run:ended' || event.type === 'graph:ended';

interface RunState {
  pk: number;
  storedId: string;
  eventCount: number;
  firstSeq: number | null;
  lost: number;
  counts: TaskCounts;
  pendingEnd: RunEnded | null;
  ended: boolean;
}

interface PendingStart {
  started: RunStarted;
  lost: number;
  end: RunEnded | null;
}

interface PlaygroundState {
  ref: PlaygroundRef;
  pendingStarts: Map<string, PendingStart>;
  runs: Map<string, RunState>;
  ended: string[];
  wallClock: Map<number, number>;
  overflow: Map<string, number>;
}

/** What one transaction writes of one run. */
interface Delta {
  rows: EventRow[];
  tasks: ChunkEvent[];
  checkpoints: { seq: number; counts: TaskCounts }[];
  firstSeq: number;
  lastSeq: number;
  lastT: number;
  counts: TaskCounts;
}

export const emptyReport = (): WriteReport => ({ recorded: 0, dropped: 0, flushes: 0, errors: [], retry: false });

const now = () => new Date().toISOString();

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
    const report = emptyReport();
    const state = this.#playground(batch.playground);
    for (const [seq, ms] of batch.wallClock) state.wallClock.set(seq, ms);
    for (const [run, n] of batch.overflow) {
      const known = state.runs.get(run);
      if (known) known.lost += n;
      else state.overflow.set(run, (state.overflow.get(run) ?? 0) + n);
    }
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
    const report = emptyReport();
    for (const state of this.#playgrounds.values()) {
      if (state.pendingStarts.size > 0 || [...state.runs.values()].some((run) => run.pendingEnd))
        await this.#transaction(state, [], report);
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
        report.errors.push({
          message: `marking run ${run.storedId} incomplete: ${(error as Error).message}`,
          at: now(),
        });
      }
    }
    return report;
  }

  async closeAll(): Promise<WriteReport> {
    const report = emptyReport();
    for (const id of [...this.#playgrounds.keys()]) {
      const one = await this.closePlayground(id);
      report.recorded += one.recorded;
      report.dropped += one.dropped;
      report.flushes += one.flushes;
      report.errors.push(...one.errors);
    }
    return report;
  }

  /** Something waits for a retry: a run:ended not stored yet, or a run whose row could not be created. */
  hasPending(): boolean {
    for (const state of this.#playgrounds.values()) {
      if (state.pendingStarts.size > 0) return true;
      for (const run of state.runs.values()) if (run.pendingEnd) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------------------------

  #playground(ref: PlaygroundRef): PlaygroundState {
    let state = this.#playgrounds.get(ref.id);
    if (!state) {
      state = { ref, pendingStarts: new Map(), runs: new Map(), ended: [], wallClock: new Map(), overflow: new Map() };
      this.#playgrounds.set(ref.id, state);
    }
    return state;
  }

  /** Creates the rows of the runs started in `entries` and of those still waiting, each in its own transaction. */
  async #createRuns(playground: PlaygroundState, entries: Entry[], report: WriteReport): Promise<void> {
    for (const { event } of entries) {
      if (isStart(event) && !playground.runs.has(event.run) && !playground.pendingStarts.has(event.run)) {
        playground.pendingStarts.set(event.run, { started: event, lost: 0, end: null });
      }
    }
    for (const [id, pending] of playground.pendingStarts) {
      let run: RunState;
      try {
        run = await transaction(this.pool, (client) => this.#createRun(client, playground, pending.started));
      } catch (error) {
        report.errors.push({
          message: `could not store run ${id} of playground ${playground.ref.id}: ${(error as Error).message}`,
          at: now(),
        });
        continue;
      }
      playground.pendingStarts.delete(id);
      playground.wallClock.delete(pending.started.seq);
      run.lost += pending.lost;
      run.pendingEnd = pending.end;
      playground.runs.set(id, run);
    }
  }

  async #transaction(playground: PlaygroundState, entries: Entry[], report: WriteReport): Promise<void> {
    await this.#createRuns(playground, entries, report);
    // What the transaction writes, gathered first (CPU only), then sent in a few statements.
    const touched = new Map<RunState, Delta>();
    const ends = new Map<RunState, RunEnded>();
    let unknown = 0;
    for (const { event, json } of entries) {
      const run = playground.runs.get(event.run);
      if (!run) {
        const pending = playground.pendingStarts.get(event.run);
        if (pending) {
          pending.lost++;
          if (isEnd(event)) pending.end = event;
        }
        unknown++;
        continue;
      }
      let delta = touched.get(run);
      if (!delta) {
        delta = {
          rows: [],
          tasks: [],
          checkpoints: [],
          firstSeq: event.seq,
          lastSeq: event.seq,
          lastT: event.t,
          counts: cloneTaskCounts(run.counts),
        };
        touched.set(run, delta);
      }
      const relabelled = run.storedId !== event.run;
      const stored = relabelled ? { ...event, run: run.storedId } : event;
      const text = relabelled ? null : json;
      if (event.type.startsWith('task:')) delta.tasks.push({ seq: event.seq, t: event.t, json: text, event: stored });
      else delta.rows.push({ seq: event.seq, t: event.t, type: event.type, json: text ?? JSON.stringify(stored) });
      delta.lastSeq = event.seq;
      delta.lastT = event.t;
      addTaskEvent(delta.counts, event);
      if ((run.eventCount + delta.rows.length + delta.tasks.length) % CHECKPOINT_EVERY === 0)
        delta.checkpoints.push({ seq: event.seq, counts: cloneTaskCounts(delta.counts) });
      if (isEnd(event) && !run.ended) ends.set(run, event);
    }
    for (const run of playground.runs.values()) {
      if (run.pendingEnd && !ends.has(run)) ends.set(run, run.pendingEnd);
    }
    if (touched.size === 0 && ends.size === 0) {
      report.dropped += unknown;
      return;
    }
    try {
      await transaction(this.pool, async (client) => {
        for (const [run, delta] of touched) {
          await insertEvents(client, run.pk, delta.rows);
          await insertTaskChunks(client, run.pk, delta.tasks);
          await insertCheckpoints(client, run.pk, delta.checkpoints);
          await updateProgress(client, run.pk, {
            eventCount: run.eventCount + delta.rows.length + delta.tasks.length,
            firstSeq: run.firstSeq ?? delta.firstSeq,
            lastSeq: delta.lastSeq,
            durationMs: delta.lastT,
            lostEvents: run.lost,
          });
        }
        for (const [run, end] of ends) {
          await finishRun(client, run.pk, {
            endedAt: playground.wallClock.get(end.seq) ?? Date.now(),
            reason: end.reason,
            summary: end.summary,
            lostEvents: run.lost,
          });
        }
      });
    } catch (error) {
      // Nothing of this batch is stored: counted against the runs already stored; a run:ended among it waits.
      for (const { event } of entries) {
        const run = playground.runs.get(event.run);
        if (run) run.lost++;
        if (isEnd(event) && run && !run.ended) run.pendingEnd = event;
        else if (isEnd(event)) playground.wallClock.delete(event.seq);
      }
      report.dropped += entries.length;
      report.errors.push({
        message: `could not store ${entries.length} events of playground ${playground.ref.id}: ${(error as Error).message}`,
        at: now(),
      });
      return;
    }
    for (const [run, delta] of touched) {
      run.eventCount += delta.rows.length + delta.tasks.length;
      run.firstSeq ??= delta.firstSeq;
      run.counts = delta.counts;
    }
    for (const [run, end] of ends) {
      run.ended = true;
      run.pendingEnd = null;
      playground.wallClock.delete(end.seq);
      playground.ended.push(end.run);
      if (playground.ended.length > KEEP_ENDED_RUNS) playground.runs.delete(playground.ended.shift()!);
    }
    report.recorded += entries.length - unknown;
    report.dropped += unknown;
    report.flushes++;
  }

  async #createRun(client: pg.PoolClient, playground: PlaygroundState, event: RunStarted): Promise<RunState> {
    let storedId = event.run;
    // Live run ids are random; one may still match a stored run (another instance, an earlier server, an import).
    while (await runExists(client, storedId)) storedId = `${event.run}-${randomBytes(2).toString('hex')}`;
    const startedAt = playground.wallClock.get(event.seq) ?? Date.now();
    const owner = playground.ref.owner ?? null;
    const common = {
      id: storedId,
      playground: playground.ref.id,
      scenario: event.scenario,
      scenarioTitle: playground.ref.title,
      startedAt,
      owner,
    };
    const pk =
      event.type === 'graph:started'
        ? await insertRun(
            client,
            { ...common, params: event.graph, endpoints: [], workers: [], kind: 'graph' },
            null,
            this.instance,
          )
        : await insertRun(
            client,
            {
              ...common,
              lesson: event.lesson ?? null,
              lessonTitle: event.lesson ? LESSON_TEXT_EN[event.lesson]?.title : undefined,
              params: event.params,
              endpoints: event.endpoints,
              workers: event.workers,
            },
            null,
            this.instance,
          );
    return {
      pk,
      storedId,
      eventCount: 0,
      firstSeq: null,
      lost: playground.overflow.get(event.run) ?? 0,
      counts: emptyTaskCounts(),
      pendingEnd: null,
      ended: false,
    };
  }
}
