/**
 * Pure pieces of the replay of a recorded run: counting, finding events by time, the frame a RunState folds to
 * show the run at time t, the playhead clock, the state-at-t reference reducer, and the figures of the history
 * list and the comparison. No DOM, no runes: tests call these directly.
 *
 * The replay feeds recorded events through the same RunState.applyFrame the live stream uses (one rendering
 * path); `replayFrame` builds that frame. `stateAt` is a plain reducer of the same events, a reference for the
 * tests (replay-live.svelte.test.ts compares the page's own state, live and replayed, and this fold beside it).
 */
import type {
  Counters,
  NewWorker,
  PlaygroundEvent,
  RunParams,
  RunSummary,
  WorkerInfo,
} from '../../shared/protocol/index.ts';
import { addTaskEvent, cloneTaskCounts, emptyTaskCounts } from '../../shared/protocol/task-counts.ts';
import { nextLinkState, type LinkState } from './run-model.ts';

type Ev<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

/** Runs with fewer events than this are fetched whole; bigger ones window by window. */
export const WHOLE_RUN_EVENTS = 20_000;
/** Playback speeds offered by the timeline. */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;
export type Speed = (typeof SPEEDS)[number];

/**
 * Exact counts of a run's task events (counted by the shared reducer, shared/protocol/task-counts.ts); `lastSeq`
 * is the last event folded in. No `lostBy`: the counters the server answers for a moment do not carry it.
 */
export interface Counts {
  sent: number;
  received: Record<string, number>;
  done: Record<string, number>;
  collected: number;
  lost: number;
  lastSeq: number;
}

export function emptyCounts(): Counts {
  return { ...emptyTaskCounts([], { lostBy: false }), lastSeq: 0 };
}

/** Counts plus one event (a new object; the input is not changed). */
export function addToCounts(counts: Counts, events: readonly PlaygroundEvent[]): Counts {
  const next = cloneTaskCounts(counts);
  for (const e of events) {
    if (e.seq <= next.lastSeq) continue;
    next.lastSeq = e.seq;
    addTaskEvent(next, e);
  }
  return next;
}

/** Number of events with t <= time (events are in seq order, t never decreases). */
export function countUpTo(events: readonly PlaygroundEvent[], time: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.t <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The time of the first event strictly after `time` (null when none is loaded). */
export function nextEventTime(events: readonly PlaygroundEvent[], time: number): number | null {
  return events[countUpTo(events, time)]?.t ?? null;
}

/** The time of the last event strictly before `time` (null when none is loaded). */
export function previousEventTime(events: readonly PlaygroundEvent[], time: number): number | null {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.t < time) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : events[lo - 1]!.t;
}

/** The last event with t <= time, if loaded. */
export function eventAt(events: readonly PlaygroundEvent[], time: number): PlaygroundEvent | null {
  const n = countUpTo(events, time);
  return n === 0 ? null : events[n - 1]!;
}

/** Counters (the stream's shape) of a run from exact counts. */
export function toCounters(run: string, counts: Counts): Counters {
  return {
    run,
    sent: counts.sent,
    received: counts.received,
    done: counts.done,
    collected: counts.collected,
    lost: counts.lost,
  };
}

/**
 * The loaded part of a recorded run: `base` counts every event up to `base.lastSeq` (exact, from the server or
 * from the events themselves), `events` follow it in seq order. `prologue` holds the run's topology events
 * (run:started first) for when `events` do not start at the beginning.
 */
export interface LoadedWindow {
  run: string;
  prologue: readonly PlaygroundEvent[];
  base: Counts;
  events: readonly PlaygroundEvent[];
  /** Times this window can show exactly: [fromT, toT]. */
  fromT: number;
  toT: number;
}

/** What RunState.applyFrame takes (the stream client's EventsFrame shape). */
export interface ReplayFrame {
  events: PlaygroundEvent[];
  dropped: number;
  counters: Counters;
  historyUntil: number;
}

/**
 * The frame that rebuilds the run's state at `time` from scratch: the prologue and every loaded event up to
 * `time`, exact counters, and events within `animateMs` of `time` marked as news (so their dots are drawn
 * in flight, exactly where they were at `time`) while older ones are history (no animation).
 */
export function replayFrame(window: LoadedWindow, time: number, animateMs: number): ReplayFrame {
  const n = countUpTo(window.events, time);
  const upTo = window.events.slice(0, n);
  const firstSeq = upTo[0]?.seq ?? Infinity;
  // run:started always: before its own moment the diagram shows the topology the run started with, not nothing.
  const prologue = window.prologue.filter(
    (e) => e.seq < firstSeq && (e.seq <= window.base.lastSeq || e.type === 'run:started'),
  );
  const events = prologue.concat(upTo);
  const counts = addToCounts(window.base, upTo);
  const old = countUpTo(events, time - animateMs);
  const historyUntil = old === 0 ? 0 : events[old - 1]!.seq;
  return { events, dropped: 0, counters: toCounters(window.run, counts), historyUntil };
}

/** The events after `afterSeq` up to `time`, as a live-like frame (playing forward). */
export function forwardFrame(window: LoadedWindow, afterSeq: number, time: number): ReplayFrame {
  const n = countUpTo(window.events, time);
  const upTo = window.events.slice(0, n);
  const events = upTo.filter((e) => e.seq > afterSeq);
  return { events, dropped: 0, counters: toCounters(window.run, addToCounts(window.base, upTo)), historyUntil: 0 };
}

/** Whether the window can show `time` exactly. */
export function covers(window: LoadedWindow | null, time: number): boolean {
  return window !== null && time >= window.fromT && time <= window.toT;
}

/** A moment the timeline can mark: the event's type, or 'worker:killed' for a process worker's kill. */
export interface TimelineMark {
  t: number;
  type: string;
}

/** The timeline's marks of a run's non-task events (a kill is told apart from the process's other news). */
export function timelineMarks(events: readonly PlaygroundEvent[]): TimelineMark[] {
  const marks: TimelineMark[] = [];
  for (const e of events) {
    if (e.type.startsWith('task:')) continue;
    const isKill = e.type === 'worker:process' && e.action === 'killed';
    marks.push({ t: e.t, type: isKill ? 'worker:killed' : e.type });
  }
  return marks;
}

/** The playhead after `elapsedMs` of real time at `speed`, clamped to [0, durationMs]. */
export function advance(time: number, elapsedMs: number, speed: number, durationMs: number): number {
  return Math.min(durationMs, Math.max(0, time + elapsedMs * speed));
}

/** "0:01.25" (m:ss.cc). */
export function formatClock(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  const minutes = Math.floor(total / 60);
  const seconds = total - minutes * 60;
  return `${minutes}:${seconds.toFixed(2).padStart(5, '0')}`;
}

/** Reads `?run=<id>` (the permalink of a recorded run). */
export function runFromUrl(href: string): string | null {
  const value = new URL(href).searchParams.get('run');
  return value && /^[A-Za-z0-9_.:-]{1,64}$/.test(value) ? value : null;
}

/**
 * A recorded run's permalink: this page's address with `?run=<id>` alone. No playground (whoever opens it gets
 * their own, not the sender's), no lesson, no #fragment (a `#history` left by the header link made the page open
 * scrolled to the middle of the replay's charts).
 * @example permalink('http://h/?p=pg-1&lesson=tutorial#history', 'run-9') // 'http://h/?run=run-9'
 */
export function permalink(href: string, run: string, graphScenario?: string): string {
  const url = new URL(href);
  url.search = '';
  url.hash = '';
  // A graph run (issue 11) is replayed on the patterns page: `?graph=<scenario>&run=<id>`.
  if (graphScenario !== undefined) url.searchParams.set('graph', graphScenario);
  url.searchParams.set('run', run);
  return url.toString();
}

/** The same URL with `?run=` set (or removed with null). */
export function withRun(href: string, run: string | null): string {
  const url = new URL(href);
  if (run === null) url.searchParams.delete('run');
  else url.searchParams.set('run', run);
  return url.toString();
}

// ---------------------------------------------------------------- the reference reducer (tests)

/** A plain snapshot of what the page shows at a moment: the facts a test compares between live and replay. */
export interface StateSnapshot {
  run: string | null;
  status: 'idle' | 'running' | 'ended';
  sent: number;
  received: Record<string, number>;
  done: Record<string, number>;
  collected: number;
  lost: number;
  /** Endpoints bound so far, with the address really bound. */
  bound: Record<string, string | null>;
  /** The built-in workers on the diagram, in the order they appeared (mid-run additions included). */
  workers: string[];
  /** Links of the built-in workers. */
  links: Record<string, LinkState>;
  /** Bodies each worker received, in order. */
  messages: Record<string, string[]>;
  stopped: string[];
  ventilator: 'idle' | 'sending' | 'blocked';
  lastSeq: number;
}

/** Folds events (one run, starting at run:started) into a snapshot: the state after the last of them. */
export function foldSnapshot(events: readonly PlaygroundEvent[]): StateSnapshot {
  const s: StateSnapshot = {
    run: null,
    status: 'idle',
    sent: 0,
    received: {},
    done: {},
    collected: 0,
    lost: 0,
    bound: {},
    workers: [],
    links: {},
    messages: {},
    stopped: [],
    ventilator: 'idle',
    lastSeq: 0,
  };
  for (const e of events) {
    if (e.type === 'run:started') {
      Object.assign(s, foldSnapshot([]));
      s.run = e.run;
      s.status = 'running';
      for (const w of e.workers) {
        s.workers.push(w.id);
        s.links[w.id] = 'idle';
        s.messages[w.id] = [];
      }
    }
    if (e.run !== s.run) continue;
    s.lastSeq = e.seq;
    switch (e.type) {
      case 'endpoint:bound':
        s.bound[e.endpoint.name] = e.endpoint.actual;
        break;
      case 'socket:event':
        if (e.node in s.links) s.links[e.node] = nextLinkState(s.links[e.node]!, e.kind);
        break;
      case 'worker:connecting':
        if (e.worker in s.links && s.links[e.worker] !== 'stopped' && s.links[e.worker] !== 'connected')
          s.links[e.worker] = 'connecting';
        break;
      case 'worker:updated':
        if (!s.workers.includes(e.worker.id)) {
          s.workers.push(e.worker.id);
          s.links[e.worker.id] = 'idle';
          s.messages[e.worker.id] = [];
        }
        break;
      case 'worker:removed':
        s.workers = s.workers.filter((id) => id !== e.worker);
        break;
      case 'worker:stopped':
        s.links[e.worker] = 'stopped';
        if (!s.stopped.includes(e.worker)) s.stopped.push(e.worker);
        break;
      case 'ventilator:state':
        s.ventilator = e.state;
        break;
      case 'task:received':
        (s.messages[e.worker] ??= []).push(e.body);
        break;
      case 'run:ended':
        s.status = 'ended';
        s.ventilator = 'idle';
        break;
      default:
        break;
    }
    addTaskEvent(s, e);
  }
  return s;
}

/** The state of a recorded run at time t: every event with t' <= t folded. */
export function stateAt(events: readonly PlaygroundEvent[], time: number): StateSnapshot {
  return foldSnapshot(events.slice(0, countUpTo(events, time)));
}

// ---------------------------------------------------------------- history list and comparison

/** One worker's share of a run's received tasks. */
export interface Share {
  worker: string;
  received: number;
  /** 0..1 of all received by built-in workers (0 when nothing was received). */
  share: number;
}

/** Per-worker received shares of a finished run, in the run's worker order (workers that joined later after). */
export function distribution(summary: RunSummary | null, workers: readonly Pick<WorkerInfo, 'id'>[]): Share[] {
  if (!summary) return [];
  const ids = workers.map((w) => w.id);
  for (const id of Object.keys(summary.received)) if (!ids.includes(id)) ids.push(id);
  const total = ids.reduce((n, id) => n + (summary.received[id] ?? 0), 0);
  return ids.map((worker) => {
    const received = summary.received[worker] ?? 0;
    return { worker, received, share: total === 0 ? 0 : received / total };
  });
}

/** A short label for a worker in small places: "worker-tcp" -> "tcp", "worker-3" -> "3". */
export function shortWorker(id: string): string {
  return id.startsWith('worker-') ? id.slice('worker-'.length) : id;
}

/** One row of the comparison: a worker and what it received (and lost) in each run. */
export interface CompareRow {
  worker: string;
  a: { received: number; done: number; lost: number; share: number } | null;
  b: { received: number; done: number; lost: number; share: number } | null;
}

interface Comparable {
  summary: RunSummary | null;
  workers: readonly Pick<WorkerInfo, 'id'>[];
}

/** Per-worker rows of two runs side by side (workers of A first, then those only in B). */
export function compareWorkers(a: Comparable, b: Comparable): CompareRow[] {
  const sa = distribution(a.summary, a.workers);
  const sb = distribution(b.summary, b.workers);
  const ids = sa.map((s) => s.worker);
  for (const s of sb) if (!ids.includes(s.worker)) ids.push(s.worker);
  const cell = (summary: RunSummary | null, shares: Share[], id: string): CompareRow['a'] => {
    const share = shares.find((s) => s.worker === id);
    if (!summary || !share) return null;
    return { received: share.received, done: summary.done[id] ?? 0, lost: summary.lostBy[id] ?? 0, share: share.share };
  };
  return ids.map((worker) => ({ worker, a: cell(a.summary, sa, worker), b: cell(b.summary, sb, worker) }));
}

/** What "run again with the same settings" needs from a recorded run's run:started event. */
export interface RunSettings {
  scenario: string;
  params: RunParams;
  workers: NewWorker[];
}

export function settingsOf(started: Ev<'run:started'>): RunSettings {
  return {
    scenario: started.scenario,
    params: started.params,
    workers: started.workers.map((w) => ({
      transport: w.transport,
      mode: w.mode,
      workMs: w.workMs,
      connections: w.connections,
    })),
  };
}

/** Whether a playground's workers already match the wanted ones (same order, transport, mode, work, connections). */
export function sameWorkers(have: readonly WorkerInfo[], want: readonly NewWorker[]): boolean {
  return (
    have.length === want.length &&
    have.every((w, i) => {
      const x = want[i]!;
      return (
        w.transport === x.transport &&
        w.mode === x.mode &&
        w.connections === x.connections &&
        w.workMs.min === x.workMs?.min &&
        w.workMs.max === x.workMs?.max
      );
    })
  );
}
