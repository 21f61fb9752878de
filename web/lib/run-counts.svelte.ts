/**
 * The run's task counts: the one record the page shows (sent, received and done per worker, collected, lost and
 * lost per worker). Every figure on the page reads it, the workers' own included (WorkerView.count, done, lost).
 *
 * It holds the newest exact counts of the run: the counters every frame carries (the server's, or the replay's
 * for the moment shown), and at the end the summary. Before any exact counts of the run arrived (history of an
 * earlier run being caught up), it holds the tally of the run's events folded so far, counted by the shared
 * reducer (shared/protocol/task-counts.ts). Task events may be sampled, so the tally never replaces exact counts.
 */
import type { Counters, RunSummary } from '../../shared/protocol/index.ts';
import { addTaskEvent, cloneTaskCounts, emptyTaskCounts, type TaskCounts } from '../../shared/protocol/task-counts.ts';

/**
 * Counters reach the page at most this often while a run goes on (frames come every ~33 ms): the figures stay
 * exact, and the page re-lays out its numbers 10 times a second instead of 30.
 */
export const COUNTERS_EVERY_MS = 100;

/** Counts with lost tasks per worker: what the page shows. */
export type ShownCounts = TaskCounts & { lostBy: Record<string, number> };

function emptyShown(): ShownCounts {
  return { ...emptyTaskCounts(), lostBy: {} };
}

/** What countTask hands the shared reducer, reused: it reads the two fields and keeps nothing. */
const scratch: { type: string; worker?: unknown } = { type: '', worker: undefined };

export class RunCounts {
  /** What the page shows. */
  shown = $state.raw<ShownCounts>(emptyShown());
  /** Task events the server left out of frames (sampling) during this run, as far as shown. */
  dropped = $state(0);

  /** The run's task events folded so far (a sample, when the server sampled them). */
  #tally: ShownCounts = emptyShown();
  #hasExact = false;
  /** Lost tasks per worker from the summary, once the run ended (counters built for a replay carry none). */
  #finalLostBy: Record<string, number> | null = null;
  /** The newest exact counts not yet shown, and the task events left out since the last ones shown. */
  #pending: { counts: TaskCounts; dropped: number } | null = null;
  #shownAt = -Infinity;

  /** Zero (a new run, another playground). */
  reset(): void {
    this.shown = emptyShown();
    this.dropped = 0;
    this.#tally = emptyShown();
    this.#hasExact = false;
    this.#finalLostBy = null;
    this.#pending = null;
    this.#shownAt = -Infinity;
  }

  /** Counts a task event of the run in the tally. */
  count(event: { type: string; worker?: unknown }): void {
    addTaskEvent(this.#tally, event);
  }

  /** The same from the event's type and worker (a binary frame's columns: no event object). */
  countTask(type: string, worker: string | null | undefined): void {
    scratch.type = type;
    scratch.worker = worker;
    addTaskEvent(this.#tally, scratch);
  }

  /** How many received events of `worker` were folded (the floor of what its dots have brought so far). */
  tallied(worker: string): number {
    return this.#tally.received[worker] ?? 0;
  }

  /**
   * After a frame: its counters when they are about this run (null otherwise) and the task events it left out.
   * While the run goes on, exact counts are shown at most every COUNTERS_EVERY_MS of `now`.
   */
  endFrame(counters: Counters | null, dropped: number, now: number, isRunning: boolean): void {
    if (counters) {
      this.#pending = { counts: counters, dropped: (this.#pending?.dropped ?? 0) + dropped };
      if (!isRunning || now - this.#shownAt >= COUNTERS_EVERY_MS) this.#showPending(now);
    } else if (!this.#hasExact) {
      this.shown = cloneTaskCounts(this.#tally);
    }
  }

  /** Shows pending counts that are due; returns whether some are still waiting. */
  tick(now: number): boolean {
    if (this.#pending && now - this.#shownAt >= COUNTERS_EVERY_MS) this.#showPending(now);
    return this.#pending !== null;
  }

  /** The run ended: its summary is exact. */
  final(summary: RunSummary): void {
    const { sent, received, done, collected, lost, lostBy } = summary;
    this.shown = { sent, received, done, collected, lost, lostBy };
    this.#hasExact = true;
    this.#finalLostBy = lostBy;
  }

  #showPending(now: number): void {
    const pending = this.#pending;
    this.#pending = null;
    this.#shownAt = now;
    if (!pending) return;
    const { sent, received, done, collected, lost } = pending.counts;
    // Counters a replay builds for a moment (and older recordings) have no lostBy: the summary says it once the
    // run ended, the events' tally before.
    const lostBy = pending.counts.lostBy ?? this.#finalLostBy ?? { ...this.#tally.lostBy };
    this.shown = { sent, received, done, collected, lost, lostBy };
    this.#hasExact = true;
    this.dropped += pending.dropped;
  }
}
