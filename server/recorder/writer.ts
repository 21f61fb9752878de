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
 * - Every CHECKPOINT_EVERY events of a run, the running task counts are stored (see RunStore.countersAt).
 * - A graph playground's runs (issue 11) are stored the same way: graph:started creates the row (kind 'graph', its
 *   graph as params), graph:ended ends it with its GraphSummary, and every event between is a row.
 */
import { randomBytes } from 'node:crypto';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { LESSON_TEXT_EN } from '../../shared/lessons/text/en.ts';
import { addTaskEvent, cloneTaskCounts, emptyTaskCounts, type TaskCounts } from '../../shared/protocol/task-counts.ts';
import { CHECKPOINT_EVERY, type ChunkEvent, type EventRow, type RunStore } from './store.ts';

/** Most events per transaction. */
export const BATCH_SIZE = 5000;
/** Ended runs (per playground) whose late events are still stored. */
export const KEEP_ENDED_RUNS = 4;

export interface PlaygroundRef {
  id: string;
  /** The scenario's title, for default run names. */
  title: string;
  /** The visitor that owns the playground: its runs are stored as that visitor's (absent: nobody's). */
  owner?: string | null;
}

/** One event and, when the sender already has it, its JSON text. */
export interface Entry {
  event: PlaygroundEvent;
  json: string | null;
}

export interface Batch {
  playground: PlaygroundRef;
  entries: Entry[];
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

type RunEnded = Extract<PlaygroundEvent, { type: 'run:ended' | 'graph:ended' }>;
type RunStarted = Extract<PlaygroundEvent, { type: 'run:started' | 'graph:started' }>;

const isStart = (event: PlaygroundEvent): event is RunStarted =>
  event.type === 'run:started' || event.type === 'graph:started';
const isEnd = (event: PlaygroundEvent): event is RunEnded => event.type === 'run:ended' || event.type === 'graph:ended';

interface RunState {
  pk: number;
  /** The id stored: the live id, unless a stored run already had it. */
  storedId: string;
  eventCount: number;
  firstSeq: number | null;
  lost: number;
  /** Running counts of its task events, for checkpoints. */
  counts: TaskCounts;
  /** run:ended seen but not stored yet (its batch failed). */
  pendingEnd: RunEnded | null;
  ended: boolean;
}

/** A run whose row could not be created yet: its run:started, events lost meanwhile, and its end if it came. */
interface PendingStart {
  started: RunStarted;
  lost: number;
  end: RunEnded | null;
}

interface PlaygroundState {
  ref: PlaygroundRef;
  /** By live run id: runs whose row is still to be created. */
  pendingStarts: Map<string, PendingStart>;
  /** By live run id: runs in progress and the last KEEP_ENDED_RUNS ended ones. */
  runs: Map<string, RunState>;
  ended: string[];
  wallClock: Map<number, number>;
  overflow: Map<string, number>;
}

const emptyReport = (): WriteReport => ({ recorded: 0, dropped: 0, flushes: 0, errors: [], retry: false });

export class RunWriter {
  readonly #store: RunStore;
  readonly #playgrounds = new Map<string, PlaygroundState>();

  constructor(store: RunStore) {
    this.#store = store;
  }

  write(batch: Batch): WriteReport {
    const report = emptyReport();
    const state = this.#playground(batch.playground);
    for (const [seq, ms] of batch.wallClock) state.wallClock.set(seq, ms);
    for (const [run, n] of batch.overflow) {
      const known = state.runs.get(run);
      if (known) known.lost += n;
      else state.overflow.set(run, (state.overflow.get(run) ?? 0) + n);
    }
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
    report.retry = this.#hasPendingEnd();
    return report;
  }

  /** Stores run:ended events whose batch failed (they then mark their runs incomplete). */
  retry(): WriteReport {
    const report = emptyReport();
    if (this.#store.closed) return report;
    for (const state of this.#playgrounds.values()) {
      if (state.pendingStarts.size > 0 || [...state.runs.values()].some((run) => run.pendingEnd))
        this.#transaction(state, [], report);
    }
    report.retry = this.#hasPendingEnd();
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
        report.errors.push({
          message: `marking run ${run.storedId} incomplete: ${(error as Error).message}`,
          at: new Date().toISOString(),
        });
      }
    }
    return report;
  }

  closeAll(): WriteReport {
    const report = emptyReport();
    for (const id of [...this.#playgrounds.keys()]) {
      const one = this.closePlayground(id);
      report.recorded += one.recorded;
      report.dropped += one.dropped;
      report.flushes += one.flushes;
      report.errors.push(...one.errors);
    }
    return report;
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

  /** Something waits for a retry: a run:ended not stored yet, or a run whose row could not be created. */
  #hasPendingEnd(): boolean {
    for (const state of this.#playgrounds.values()) {
      if (state.pendingStarts.size > 0) return true;
      for (const run of state.runs.values()) if (run.pendingEnd) return true;
    }
    return false;
  }

  /**
   * Creates the rows of the runs started in `entries` and of those still waiting, each in a transaction of its
   * own (a row is small: it may fit where a batch of events does not). One that fails waits for the next try.
   */
  #createRuns(playground: PlaygroundState, entries: Entry[], report: WriteReport): void {
    for (const { event } of entries) {
      if (isStart(event) && !playground.runs.has(event.run) && !playground.pendingStarts.has(event.run)) {
        playground.pendingStarts.set(event.run, { started: event, lost: 0, end: null });
      }
    }
    for (const [id, pending] of playground.pendingStarts) {
      let run: RunState;
      try {
        run = this.#store.transaction(() => this.#createRun(playground, pending.started));
      } catch (error) {
        report.errors.push({
          message: `could not store run ${id} of playground ${playground.ref.id}: ${(error as Error).message}`,
          at: new Date().toISOString(),
        });
        continue;
      }
      playground.pendingStarts.delete(id);
      playground.wallClock.delete(pending.started.seq);
      // Events that came while it had no row are lost to it; an end that came then is stored by the next write.
      run.lost += pending.lost;
      run.pendingEnd = pending.end;
      playground.runs.set(id, run);
    }
  }

  /** One transaction; the in-memory run states change only once it has committed. */
  #transaction(playground: PlaygroundState, entries: Entry[], report: WriteReport): void {
    const store = this.#store;
    this.#createRuns(playground, entries, report);
    const touched = new Map<
      RunState,
      { rows: EventRow[]; tasks: ChunkEvent[]; firstSeq: number; lastSeq: number; lastT: number; counts: TaskCounts }
    >();
    const ends = new Map<RunState, RunEnded>();
    let unknown = 0;
    try {
      store.transaction(() => {
        for (const { event, json } of entries) {
          const run = playground.runs.get(event.run);
          if (!run) {
            // Its row could not be created yet (it is lost to it, counted when it is), or the run ended long ago.
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
              firstSeq: event.seq,
              lastSeq: event.seq,
              lastT: event.t,
              counts: cloneTaskCounts(run.counts),
            };
            touched.set(run, delta);
          }
          // Task events go into the run's chunk of this transaction, every other event into a row of its own. A
          // chunk stores a task event's JSON.stringify from the event itself: its text is made only if it needs one.
          const relabelled = run.storedId !== event.run;
          const stored = relabelled ? { ...event, run: run.storedId } : event;
          const text = relabelled ? null : json;
          if (event.type.startsWith('task:'))
            delta.tasks.push({ seq: event.seq, t: event.t, json: text, event: stored });
          else delta.rows.push({ seq: event.seq, t: event.t, type: event.type, json: text ?? JSON.stringify(stored) });
          delta.lastSeq = event.seq;
          delta.lastT = event.t;
          addTaskEvent(delta.counts, event);
          if ((run.eventCount + delta.rows.length + delta.tasks.length) % CHECKPOINT_EVERY === 0)
            store.insertCheckpoint(run.pk, event.seq, delta.counts);
          if (isEnd(event) && !run.ended) ends.set(run, event);
        }
        for (const [run, delta] of touched) {
          store.insertEvents(run.pk, delta.rows);
          store.insertTaskChunk(run.pk, delta.tasks);
          store.updateProgress(run.pk, {
            eventCount: run.eventCount + delta.rows.length + delta.tasks.length,
            firstSeq: run.firstSeq ?? delta.firstSeq,
            lastSeq: delta.lastSeq,
            durationMs: delta.lastT,
            lostEvents: run.lost,
          });
        }
        for (const run of playground.runs.values()) {
          if (run.pendingEnd && !ends.has(run)) ends.set(run, run.pendingEnd);
        }
        for (const [run, end] of ends) {
          store.finishRun(run.pk, {
            endedAt: playground.wallClock.get(end.seq) ?? Date.now(),
            reason: end.reason,
            summary: end.summary,
            lostEvents: run.lost,
          });
        }
      });
    } catch (error) {
      // Nothing of this batch is stored. Count it against the runs already stored; a run:ended among it is
      // stored by the retry, which then marks its run incomplete.
      for (const { event } of entries) {
        const run = playground.runs.get(event.run);
        if (run) run.lost++;
        if (isEnd(event) && run && !run.ended) run.pendingEnd = event;
        else if (isEnd(event)) playground.wallClock.delete(event.seq);
      }
      report.dropped += entries.length;
      report.errors.push({
        message: `could not store ${entries.length} events of playground ${playground.ref.id}: ${(error as Error).message}`,
        at: new Date().toISOString(),
      });
      return;
    }
    // Committed.
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

  #createRun(playground: PlaygroundState, event: RunStarted): RunState {
    const store = this.#store;
    let storedId = event.run;
    // Live run ids are random; one may still match a stored run (an earlier server, an import).
    while (store.runExists(storedId)) storedId = `${event.run}-${randomBytes(2).toString('hex')}`;
    const startedAt = playground.wallClock.get(event.seq) ?? Date.now();
    const owner = playground.ref.owner ?? null;
    const pk =
      event.type === 'graph:started'
        ? store.insertRun({
            id: storedId,
            playground: playground.ref.id,
            scenario: event.scenario,
            scenarioTitle: playground.ref.title,
            params: event.graph,
            endpoints: [],
            workers: [],
            startedAt,
            owner,
            kind: 'graph',
          })
        : this.#insertPipelineRun(playground, event, storedId, startedAt, owner);
    // Events of this run that the recorder's buffer cap dropped before its row existed.
    const lost = playground.overflow.get(event.run) ?? 0;
    return {
      pk,
      storedId,
      eventCount: 0,
      firstSeq: null,
      lost,
      counts: emptyTaskCounts(),
      pendingEnd: null,
      ended: false,
    };
  }

  #insertPipelineRun(
    playground: PlaygroundState,
    event: Extract<PlaygroundEvent, { type: 'run:started' }>,
    storedId: string,
    startedAt: number,
    owner: string | null,
  ): number {
    return this.#store.insertRun({
      id: storedId,
      playground: playground.ref.id,
      scenario: event.scenario,
      scenarioTitle: playground.ref.title,
      lesson: event.lesson ?? null,
      lessonTitle: event.lesson ? LESSON_TEXT_EN[event.lesson]?.title : undefined,
      params: event.params,
      endpoints: event.endpoints,
      workers: event.workers,
      startedAt,
      owner,
    });
  }
}
