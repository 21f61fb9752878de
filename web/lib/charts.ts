/**
 * Pure data for the charts panel: per-worker bars, throughput over time, per-task latency histograms and batch
 * time against worker count across recorded runs. No DOM, no runes: everything here is unit-tested in node.
 *
 * Task events may be sampled by the server at high rates (frames say how many they `dropped`): bars come from the
 * exact counters, throughput is scaled up to them, and latencies are computed from the pairs that did arrive.
 *
 * This module holds the per-worker bars and the collector that folds the event stream; the scales, throughput,
 * latency and batch parts live in web/lib/charts/ and are re-exported here, so callers import from one place.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import {
  KIND_DONE,
  KIND_RECEIVED,
  KIND_SENT,
  forEachInOrder,
  type TaskColumns,
} from '../../shared/protocol/task-frame.ts';
import { countAt } from './charts/throughput.ts';
import { LatencyPairs } from './charts/latency.ts';

export * from './charts/scales.ts';
export * from './charts/throughput.ts';
export * from './charts/latency.ts';
export * from './charts/batch.ts';

// ---------------------------------------------------------------------------------------------------------------
// Per-worker distribution

export interface WorkerBar {
  id: string;
  received: number;
  done: number;
  lost: number;
}

/**
 * One row per worker: the listed workers in their order, then any other id the counters name (removed workers,
 * and "unknown" for lost tasks nobody can attribute).
 */
export function workerBars(
  workerIds: readonly string[],
  received: Readonly<Record<string, number>>,
  done: Readonly<Record<string, number>>,
  lostBy: Readonly<Record<string, number>>,
): WorkerBar[] {
  const ids: string[] = [...workerIds];
  const known = new Set(ids);
  for (const source of [received, done, lostBy]) {
    for (const id of Object.keys(source)) {
      if (known.has(id) || (source[id] ?? 0) === 0) continue;
      known.add(id);
      ids.push(id);
    }
  }
  return ids.map((id) => ({ id, received: received[id] ?? 0, done: done[id] ?? 0, lost: lostBy[id] ?? 0 }));
}
// ---------------------------------------------------------------------------------------------------------------
// Everything the live charts need from the event stream, folded incrementally

/** What a frame brings (EventsFrame and replay frames both fit). */
export interface ChartFrame {
  events: readonly PlaygroundEvent[];
  /** A binary frame's task events (stream-client.svelte.ts), read through a cursor: no object per event. */
  tasks?: TaskColumns;
  dropped: number;
}

/**
 * Folds frames of one run at a time, O(events of the frame) each: fine per-100 ms counts of sent / received /
 * done and the latency pairs. A run:started starts afresh; a frame that goes back in seq (a replay seeking
 * backwards rebuilds from the start) starts the same run afresh.
 */
export class ChartCollector {
  runId: string | null = null;
  lastSeq = 0;
  lastT = 0;
  dropped = 0;
  sentSeen = 0;
  receivedSeen = 0;
  doneSeen = 0;
  sentFine: number[] = [];
  receivedFine: number[] = [];
  doneFine: number[] = [];
  pairs = new LatencyPairs();
  /** Bumped on every change: the panel recomputes only when it moved. */
  version = 0;

  add(frame: ChartFrame): void {
    const events = frame.events;
    const tasks = frame.tasks && frame.tasks.count > 0 ? frame.tasks : null;
    if (events.length === 0 && !tasks && frame.dropped === 0) return;
    // The frame's first event: a task row when one comes before the other events.
    const first = events[0];
    if (tasks && (!first || tasks.seq[0]! < first.seq)) {
      if (tasks.seq[0]! <= this.lastSeq) this.#reset(tasks.runAt(0));
    } else if (first && first.seq <= this.lastSeq && first.type !== 'run:started') this.#reset(first.run);
    forEachInOrder(
      events,
      tasks,
      (event) => {
        if (event.type === 'run:started') this.#reset(event.run);
        else if (this.runId === null) this.runId = event.run;
        if (event.run !== this.runId) return;
        this.lastSeq = event.seq;
        if (event.t > this.lastT) this.lastT = event.t;
        switch (event.type) {
          case 'task:sent':
            this.sentSeen++;
            countAt(this.sentFine, event.t);
            break;
          case 'task:received':
            this.receivedSeen++;
            countAt(this.receivedFine, event.t);
            break;
          case 'task:done':
            this.doneSeen++;
            countAt(this.doneFine, event.t);
            break;
          default:
            break;
        }
        this.pairs.add(event);
      },
      // A binary frame's task events, read from its columns: the same steps, no object.
      (i) => {
        const columns = tasks!;
        const run = columns.runAt(i);
        if (this.runId === null) this.runId = run;
        if (run !== this.runId) return;
        const t = columns.t[i]!;
        this.lastSeq = columns.seq[i]!;
        if (t > this.lastT) this.lastT = t;
        const kind = columns.kind[i]!;
        if (kind === KIND_SENT) {
          this.sentSeen++;
          countAt(this.sentFine, t);
        } else if (kind === KIND_RECEIVED) {
          this.receivedSeen++;
          countAt(this.receivedFine, t);
        } else if (kind === KIND_DONE) {
          this.doneSeen++;
          countAt(this.doneFine, t);
        }
        this.pairs.addTask(columns.typeAt(i), columns.task[i]!, t);
      },
    );
    this.dropped += frame.dropped;
    this.version++;
  }

  #reset(run: string): void {
    this.runId = run;
    this.lastSeq = 0;
    this.lastT = 0;
    this.dropped = 0;
    this.sentSeen = 0;
    this.receivedSeen = 0;
    this.doneSeen = 0;
    this.sentFine = [];
    this.receivedFine = [];
    this.doneFine = [];
    this.pairs = new LatencyPairs();
  }
}
export function total(record: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(record)) n += v;
  return n;
}
