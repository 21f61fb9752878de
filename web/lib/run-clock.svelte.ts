/**
 * The playback clock: which moment of the run (ms since its start, the events' `t`) the diagram draws now. Live,
 * that is the wall clock minus the delivery delay and a small lag; in a replay, the playhead. The diagram and the
 * run state read it the same way, so one drawing path serves both.
 */
import type { TaskColumns } from '../../shared/protocol/task-frame.ts';

/**
 * How far (ms) live drawing runs behind the newest data at most, and at first: enough for the server's batching
 * (~33 ms) and a late frame. The lag then follows how far the run's frames actually spread (below).
 */
export const LIVE_LAG_MS = 80;
/** The least lag: half a frame of margin over events that arrive exactly when due. */
export const MIN_LIVE_LAG_MS = 8;
/** Margin over the measured spread (ms). */
const LAG_MARGIN_MS = 6;
/** Frames the spread is measured over (~2 s at the server's 33 ms), and how many it needs before the lag moves. */
const SPREAD_FRAMES = 60;
const SPREAD_FRAMES_NEEDED = 10;
/** The share of frames whose every event is known before it is drawn. */
const SPREAD_QUANTILE = 0.9;
/**
 * How fast the lag moves toward its target (ms per ms of wall time): drawing runs at 0.8-1.2x for a moment (80 ms
 * down to 40 in 0.2 s: a short burst of tasks is over in 1-2 s), never backwards.
 */
const LAG_SLEW = 0.2;

/**
 * A measuring hook (bench/page-perf.ts sets it; absent otherwise): called with each frame of the run's events as
 * it reaches the page, with the run time of its newest event, the time it arrived and the lag then, so that the
 * bench tells the delivery's share of the event-to-pixel latency from the drawing's.
 */
type ArrivalProbe = (run: string, t: number, now: number, lag: number) => void;

/** The moment of the run being drawn. */
export interface PlaybackClock {
  /** Run time drawn now; null while the clock cannot place the run (live, before any of its events arrived). */
  now(): number | null;
}

/**
 * Live: run time = wall time - offset - lag, where the offset is the smallest delivery delay seen for the current
 * run's events (wall time at arrival minus their `t`) and the lag covers how much later than that a frame's
 * oldest event arrives (the server's batching, a late frame), so every event of a batch is known before the moment
 * it is drawn. The lag starts at LIVE_LAG_MS and, once 10 frames have come, follows the 90th percentile of that
 * spread over the last ~2 s plus a small margin (issue 12: a fixed 80 ms was most of the page's event-to-pixel
 * latency), moving slowly enough that dots never jump. An event later than that is drawn when it comes: its dot
 * starts part of the way along (eased, so a few ms late is not seen). A new run starts without an offset.
 */
export class LiveClock implements PlaybackClock {
  #offset = $state<number | null>(null);
  #run: string | null = null;
  readonly #wall: () => number;
  /** The lag at wall time #lagWall, and where it is heading. */
  #lag = LIVE_LAG_MS;
  #lagWall = 0;
  #lagTarget = LIVE_LAG_MS;
  /** The newest frames' spread: how much later than the offset their oldest event of the run arrived (ms). */
  #spreads: number[] = [];

  /** `wall` is the time of the frame being drawn (the frame loop's `time`). */
  constructor(wall: () => number) {
    this.#wall = wall;
  }

  /**
   * Learns from a frame's events of run `run`, which arrived at wall time `arrivedAt`: `events`, and a binary
   * frame's task events as columns (`tasks`, read in place).
   */
  follow(
    run: string | null,
    events: readonly { run: string; t: number }[],
    arrivedAt: number,
    tasks?: TaskColumns,
  ): void {
    if (run !== this.#run) this.reset(run);
    let offset = this.#offset;
    let oldest = Infinity;
    let newest = -Infinity;
    const see = (t: number): void => {
      const delay = arrivedAt - t;
      if (offset === null || delay < offset) offset = delay;
      if (t < oldest) oldest = t;
      if (t > newest) newest = t;
    };
    for (const event of events) if (event.run === run) see(event.t);
    if (tasks) {
      const runIndex = tasks.runs.indexOf(run ?? '');
      for (let i = 0; i < tasks.count; i++) if (tasks.run[i] === runIndex) see(tasks.t[i]!);
    }
    if (offset !== this.#offset) this.#offset = offset;
    if (offset === null || oldest === Infinity) return;
    this.#learnSpread(arrivedAt - oldest - offset, arrivedAt);
    (globalThis as { zpgArrivalProbe?: ArrivalProbe }).zpgArrivalProbe?.(
      run!,
      newest,
      arrivedAt,
      this.#lagAt(arrivedAt),
    );
  }

  /** Forgets the offset and the spread (another playground, another run). */
  reset(run: string | null = null): void {
    this.#run = run;
    this.#offset = null;
    this.#lag = this.#lagTarget = LIVE_LAG_MS;
    this.#spreads = [];
  }

  /** The lag at the moment (ms). */
  get lag(): number {
    return this.#lagAt(this.#wall());
  }

  /** Run time drawn at wall time `wall`. */
  at(wall: number): number | null {
    return this.#offset === null ? null : wall - this.#offset - this.#lagAt(wall);
  }

  now(): number | null {
    return this.at(this.#wall());
  }

  #lagAt(wall: number): number {
    const step = LAG_SLEW * Math.max(0, wall - this.#lagWall);
    return this.#lag > this.#lagTarget
      ? Math.max(this.#lagTarget, this.#lag - step)
      : Math.min(this.#lagTarget, this.#lag + step);
  }

  #learnSpread(spread: number, arrivedAt: number): void {
    this.#spreads.push(spread);
    if (this.#spreads.length > SPREAD_FRAMES) this.#spreads.shift();
    if (this.#spreads.length < SPREAD_FRAMES_NEEDED) return;
    const sorted = [...this.#spreads].sort((a, b) => a - b);
    const quantile = sorted[Math.min(sorted.length - 1, Math.floor(SPREAD_QUANTILE * sorted.length))]!;
    // The lag reached so far stays where it is; from now on it heads for the new target.
    this.#lag = this.#lagAt(arrivedAt);
    this.#lagWall = arrivedAt;
    this.#lagTarget = Math.min(LIVE_LAG_MS, Math.max(MIN_LIVE_LAG_MS, quantile + LAG_MARGIN_MS));
  }
}

/** Replay: the moment the replay last showed (set as the playhead's state is folded). */
export class ReplayClock implements PlaybackClock {
  shown = $state(0);

  now(): number {
    return this.shown;
  }
}
