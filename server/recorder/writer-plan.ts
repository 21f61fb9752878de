/**
 * The rules both run writers follow (the SQLite RunWriter in writer.ts, synchronous; the PostgreSQL PgRunWriter in
 * pg/writer.ts, asynchronous): which run rows to create, what one transaction writes of each run (event rows, task
 * events for its chunk, checkpoints, progress, its end), how events are charged as lost, and how the in-memory state
 * of the runs moves on once a transaction has committed or failed. Each writer executes the plan with its own
 * statements inside its own transaction; nothing here touches a database.
 */
import { randomBytes } from 'node:crypto';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { LESSON_TEXT_EN } from '../../shared/lessons/text/en.ts';
import { addTaskEvent, cloneTaskCounts, emptyTaskCounts, type TaskCounts } from '../../shared/protocol/task-counts.ts';
import type { ChunkEvent, EventRow } from './store/chunk-format.ts';
import { PackedBatch, PackedTaskRows } from './packed.ts';
import { CHECKPOINT_EVERY } from './store/counts.ts';
import type { NewRun, RunEnd, RunProgress } from './store/writes.ts';
import type { Batch, Entry, PlaygroundRef, WriteReport } from './writer.ts';

/** Ended runs (per playground) whose late events are still stored. */
export const KEEP_ENDED_RUNS = 4;

export type RunEnded = Extract<PlaygroundEvent, { type: 'run:ended' | 'graph:ended' }>;
export type RunStarted = Extract<PlaygroundEvent, { type: 'run:started' | 'graph:started' }>;

export const isStart = (event: PlaygroundEvent): event is RunStarted =>
  event.type === 'run:started' || event.type === 'graph:started';
export const isEnd = (event: PlaygroundEvent): event is RunEnded =>
  event.type === 'run:ended' || event.type === 'graph:ended';

export interface RunState {
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
export interface PendingStart {
  started: RunStarted;
  lost: number;
  end: RunEnded | null;
}

export interface PlaygroundState {
  ref: PlaygroundRef;
  /** By live run id: runs whose row is still to be created. */
  pendingStarts: Map<string, PendingStart>;
  /** By live run id: runs in progress and the last KEEP_ENDED_RUNS ended ones. */
  runs: Map<string, RunState>;
  ended: string[];
  wallClock: Map<number, number>;
  overflow: Map<string, number>;
}

/**
 * The events of one write or transaction: entries (objects, as the main thread's InlineChannel hands them), or a
 * range of a batch posted as columns (the writer threads), whose task events stay in their columns.
 */
export type BatchEvents = Entry[] | PackedBatch;

/** What one transaction writes of one run. */
export interface RunDelta {
  rows: EventRow[];
  /** Its task events: as events (entries), or as positions in the batch's columns (a posted batch). */
  tasks: ChunkEvent[] | PackedTaskRows;
  firstSeq: number;
  lastSeq: number;
  lastT: number;
  counts: TaskCounts;
}

/** What one transaction writes: per run its delta, the runs it ends, and how many events belong to no stored run. */
export interface TransactionPlan {
  touched: Map<RunState, RunDelta>;
  ends: Map<RunState, RunEnded>;
  unknown: number;
}

/** Called when a run reaches a checkpoint; `counts` is the plan's running copy (it changes with later events). */
export type OnCheckpoint = (run: RunState, seq: number, counts: TaskCounts) => void;

export const emptyReport = (): WriteReport => ({ recorded: 0, dropped: 0, flushes: 0, errors: [], retry: false });

const now = () => new Date().toISOString();

/** Adds one report's counts and errors to another (closeAll). */
export function addReport(into: WriteReport, one: WriteReport): void {
  into.recorded += one.recorded;
  into.dropped += one.dropped;
  into.flushes += one.flushes;
  into.errors.push(...one.errors);
}

/** The state of a playground, made at its first batch. */
export function playgroundState(playgrounds: Map<string, PlaygroundState>, ref: PlaygroundRef): PlaygroundState {
  let state = playgrounds.get(ref.id);
  if (!state) {
    state = { ref, pendingStarts: new Map(), runs: new Map(), ended: [], wallClock: new Map(), overflow: new Map() };
    playgrounds.set(ref.id, state);
  }
  return state;
}

/** Takes a batch's wall clocks and its buffer-cap losses (charged to stored runs, kept for runs still to be made). */
export function takeBatchNotes(state: PlaygroundState, batch: Batch): void {
  for (const [seq, ms] of batch.wallClock) state.wallClock.set(seq, ms);
  for (const [run, n] of batch.overflow) {
    const known = state.runs.get(run);
    if (known) known.lost += n;
    else state.overflow.set(run, (state.overflow.get(run) ?? 0) + n);
  }
}

/** The playground has something for a retry: a run whose row is still to be created, or a run:ended not stored. */
export function waitsForRetry(state: PlaygroundState): boolean {
  if (state.pendingStarts.size > 0) return true;
  for (const run of state.runs.values()) if (run.pendingEnd) return true;
  return false;
}

export function anyWaitsForRetry(playgrounds: Map<string, PlaygroundState>): boolean {
  for (const state of playgrounds.values()) if (waitsForRetry(state)) return true;
  return false;
}

/** The entries (objects) among `events`: all of them, or a posted batch's events that are not task events. */
function* objectEntries(events: BatchEvents): Iterable<Entry> {
  if (!(events instanceof PackedBatch)) {
    yield* events;
    return;
  }
  for (const [index, entry] of events.columns.others) if (index >= events.start && index < events.end) yield entry;
}

/** Queues the runs started in `entries` for their rows to be created (with those still waiting). */
export function queueStarts(playground: PlaygroundState, entries: BatchEvents): void {
  for (const { event } of objectEntries(entries)) {
    if (isStart(event) && !playground.runs.has(event.run) && !playground.pendingStarts.has(event.run)) {
      playground.pendingStarts.set(event.run, { started: event, lost: 0, end: null });
    }
  }
}

/** The id to try after `id` was taken by a stored run. Live run ids are random; one may still match a stored run. */
export const otherRunId = (liveId: string): string => `${liveId}-${randomBytes(2).toString('hex')}`;

/** The row of a started run, stored as `storedId`. */
export function newRunRow(playground: PlaygroundState, event: RunStarted, storedId: string): NewRun {
  const startedAt = playground.wallClock.get(event.seq) ?? Date.now();
  const owner = playground.ref.owner ?? null;
  const common = {
    id: storedId,
    playground: playground.ref.id,
    scenario: event.scenario,
    scenarioTitle: playground.ref.title,
  };
  return event.type === 'graph:started'
    ? { ...common, params: event.graph, endpoints: [], workers: [], startedAt, owner, kind: 'graph' }
    : {
        ...common,
        lesson: event.lesson ?? null,
        lessonTitle: event.lesson ? LESSON_TEXT_EN[event.lesson]?.title : undefined,
        params: event.params,
        endpoints: event.endpoints,
        workers: event.workers,
        startedAt,
        owner,
      };
}

/** The state of a run whose row was just made; events the buffer cap dropped before it existed are lost to it. */
export function newRunState(playground: PlaygroundState, event: RunStarted, pk: number, storedId: string): RunState {
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

/** A run's row was created (its transaction committed). */
export function runCreated(playground: PlaygroundState, id: string, pending: PendingStart, run: RunState): void {
  playground.pendingStarts.delete(id);
  playground.wallClock.delete(pending.started.seq);
  // Events that came while it had no row are lost to it; an end that came then is stored by the next write.
  run.lost += pending.lost;
  run.pendingEnd = pending.end;
  playground.runs.set(id, run);
}

/** A run's row could not be created: it stays queued for the next write or retry. */
export function runNotCreated(report: WriteReport, playground: PlaygroundState, id: string, error: unknown): void {
  report.errors.push({
    message: `could not store run ${id} of playground ${playground.ref.id}: ${(error as Error).message}`,
    at: now(),
  });
}

export function markIncompleteFailed(report: WriteReport, run: RunState, error: unknown): void {
  report.errors.push({ message: `marking run ${run.storedId} incomplete: ${(error as Error).message}`, at: now() });
}

/**
 * Plans one transaction of `entries`: per stored run, its event rows and task events (a chunk stores a task event's
 * JSON.stringify from the event itself: its text is made only if it needs one; a posted batch's task events stay
 * positions in its columns, encoded from them), its progress and, for each run ended (now or by an earlier failed
 * batch), its end. Events of runs without a row are charged to their pending start. `onCheckpoint` is called every
 * CHECKPOINT_EVERY events of a run.
 */
export function planTransaction(
  playground: PlaygroundState,
  entries: BatchEvents,
  onCheckpoint: OnCheckpoint,
): TransactionPlan {
  const touched = new Map<RunState, RunDelta>();
  const ends = new Map<RunState, RunEnded>();
  let unknown = 0;
  const list = entries instanceof PackedBatch ? null : entries;
  const columns = entries instanceof PackedBatch ? entries.columns : null;
  const from = entries instanceof PackedBatch ? entries.start : 0;
  const to = entries instanceof PackedBatch ? entries.end : entries.length;
  // A task event from the columns is counted through the shared reducer as this one reused object, not its own.
  const counted: { type: string; worker: string | null } = { type: '', worker: null };
  // A batch is nearly always one run's events in a row: its run and delta are looked up once, not per event.
  let lastRunId: string | null = null;
  let lastRun: RunState | undefined;
  let lastDelta: RunDelta | undefined;
  for (let index = from; index < to; index++) {
    // A posted batch's task event is read from its columns (null here); every other event is an entry.
    const entry = list !== null ? list[index]! : columns!.isTask(index) ? null : columns!.others.get(index)!;
    const runId = entry !== null ? entry.event.run : columns!.runOf(index);
    let run: RunState | undefined;
    if (runId === lastRunId) run = lastRun;
    else {
      run = playground.runs.get(runId);
      lastRunId = runId;
      lastRun = run;
      lastDelta = run ? touched.get(run) : undefined;
    }
    if (!run) {
      // Its row could not be created yet (it is lost to it, counted when it is), or the run ended long ago.
      const pending = playground.pendingStarts.get(runId);
      if (pending) {
        pending.lost++;
        if (entry !== null && isEnd(entry.event)) pending.end = entry.event;
      }
      unknown++;
      continue;
    }
    const seq = entry !== null ? entry.event.seq : columns!.numbers[index * 3]!;
    const t = entry !== null ? entry.event.t : columns!.numbers[index * 3 + 1]!;
    let delta = lastDelta;
    if (!delta) {
      delta = {
        rows: [],
        tasks: columns !== null ? new PackedTaskRows(columns, run.storedId) : [],
        firstSeq: seq,
        lastSeq: seq,
        lastT: t,
        counts: cloneTaskCounts(run.counts),
      };
      touched.set(run, delta);
      lastDelta = delta;
    }
    if (entry === null) {
      // Stored under the run's stored id by the encoder (PackedTaskRows.run), so relabelling costs nothing here.
      (delta.tasks as PackedTaskRows).at.push(index);
      counted.type = columns!.typeOf(index);
      counted.worker = columns!.workerOf(index);
      addTaskEvent(delta.counts, counted);
    } else {
      const { event, json } = entry;
      // Task events go into the run's chunk of this transaction, every other event into a row of its own. (A posted
      // batch carries every task event in its columns: packEvents packs every task type.)
      const relabelled = run.storedId !== event.run;
      const stored = relabelled ? { ...event, run: run.storedId } : event;
      const text = relabelled ? null : json;
      if (list !== null && event.type.startsWith('task:')) {
        // An unpacked entry carries seq and t: it is its own chunk row (no copy per event) unless relabelled.
        const ownRow = !relabelled && entry.seq === event.seq && entry.t === event.t;
        (delta.tasks as ChunkEvent[]).push(
          ownRow ? (entry as ChunkEvent) : { seq: event.seq, t: event.t, json: text, event: stored },
        );
      } else delta.rows.push({ seq: event.seq, t: event.t, type: event.type, json: text ?? JSON.stringify(stored) });
      addTaskEvent(delta.counts, event);
      if (isEnd(event) && !run.ended) ends.set(run, event);
    }
    delta.lastSeq = seq;
    delta.lastT = t;
    if ((run.eventCount + delta.rows.length + delta.tasks.length) % CHECKPOINT_EVERY === 0)
      onCheckpoint(run, seq, delta.counts);
  }
  for (const run of playground.runs.values()) {
    if (run.pendingEnd && !ends.has(run)) ends.set(run, run.pendingEnd);
  }
  return { touched, ends, unknown };
}

/** The progress a run's row gets from a transaction. */
export const progressOf = (run: RunState, delta: RunDelta): RunProgress => ({
  eventCount: run.eventCount + delta.rows.length + delta.tasks.length,
  firstSeq: run.firstSeq ?? delta.firstSeq,
  lastSeq: delta.lastSeq,
  durationMs: delta.lastT,
  lostEvents: run.lost,
});

/** The end a run's row gets from its run:ended. */
export const endOf = (playground: PlaygroundState, run: RunState, end: RunEnded): RunEnd => ({
  endedAt: playground.wallClock.get(end.seq) ?? Date.now(),
  reason: end.reason,
  summary: end.summary,
  lostEvents: run.lost,
});

/**
 * A transaction failed: nothing of its batch is stored. It is counted against the runs already stored; a run:ended
 * among it is stored by the retry, which then marks its run incomplete.
 */
export function transactionFailed(
  playground: PlaygroundState,
  entries: BatchEvents,
  report: WriteReport,
  error: unknown,
): void {
  if (entries instanceof PackedBatch) {
    const { columns, start, end } = entries;
    for (let index = start; index < end; index++) {
      if (!columns.isTask(index)) continue; // below, with the entries
      const run = playground.runs.get(columns.runOf(index));
      if (run) run.lost++;
    }
  }
  for (const { event } of objectEntries(entries)) {
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
}

/** A transaction committed: the in-memory state of its runs moves on (and only then). */
export function transactionCommitted(
  playground: PlaygroundState,
  plan: TransactionPlan,
  entries: BatchEvents,
  report: WriteReport,
): void {
  for (const [run, delta] of plan.touched) {
    run.eventCount += delta.rows.length + delta.tasks.length;
    run.firstSeq ??= delta.firstSeq;
    run.counts = delta.counts;
  }
  for (const [run, end] of plan.ends) {
    run.ended = true;
    run.pendingEnd = null;
    playground.wallClock.delete(end.seq);
    playground.ended.push(end.run);
    if (playground.ended.length > KEEP_ENDED_RUNS) playground.runs.delete(playground.ended.shift()!);
  }
  report.recorded += entries.length - plan.unknown;
  report.dropped += plan.unknown;
  report.flushes++;
}
