/**
 * The playback clock: which moment of the run (ms since its start, the events' `t`) the diagram draws now. Live,
 * that is the wall clock minus the delivery delay and a small lag; in a replay, the playhead. The diagram and the
 * run state read it the same way, so one drawing path serves both.
 */

/** How far (ms) live drawing runs behind the newest data, to absorb the server's batching (~33 ms). */
export const LIVE_LAG_MS = 80;

/** The moment of the run being drawn. */
export interface PlaybackClock {
  /** Run time drawn now; null while the clock cannot place the run (live, before any of its events arrived). */
  now(): number | null;
}

/**
 * Live: run time = wall time - offset - LIVE_LAG_MS, where the offset is the smallest delivery delay seen for the
 * current run's events (wall time at arrival minus their `t`), so every event of a batch is known before the
 * moment it is drawn. A new run starts without an offset.
 */
export class LiveClock implements PlaybackClock {
  #offset = $state<number | null>(null);
  #run: string | null = null;
  readonly #wall: () => number;

  /** `wall` is the time of the frame being drawn (the frame loop's `time`). */
  constructor(wall: () => number) {
    this.#wall = wall;
  }

  /** Learns from a frame's events of run `run`, which arrived at wall time `arrivedAt`. */
  follow(run: string | null, events: readonly { run: string; t: number }[], arrivedAt: number): void {
    if (run !== this.#run) this.reset(run);
    let offset = this.#offset;
    for (const event of events) {
      if (event.run !== run) continue;
      const delay = arrivedAt - event.t;
      if (offset === null || delay < offset) offset = delay;
    }
    if (offset !== this.#offset) this.#offset = offset;
  }

  /** Forgets the offset (another playground, another run). */
  reset(run: string | null = null): void {
    this.#run = run;
    this.#offset = null;
  }

  /** Run time drawn at wall time `wall`. */
  at(wall: number): number | null {
    return this.#offset === null ? null : wall - this.#offset - LIVE_LAG_MS;
  }

  now(): number | null {
    return this.at(this.#wall());
  }
}

/** Replay: the moment the replay last showed (set as the playhead's state is folded). */
export class ReplayClock implements PlaybackClock {
  shown = $state(0);

  now(): number {
    return this.shown;
  }
}
