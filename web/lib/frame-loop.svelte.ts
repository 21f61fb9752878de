/**
 * The page's only requestAnimationFrame loop. Whatever moves with the frames (the live run's dots and counters,
 * a replay's playhead) adds a callback; the loop runs while any callback says there is something to animate and
 * sleeps otherwise; `wake()` restarts it when new work arrives. The page shares one (`pageFrameLoop()`); tests
 * build their own with a scripted requestFrame and clock.
 */

/** Injectable rAF and clock (tests pass fakes). */
export interface FrameLoopOptions {
  requestFrame?(callback: (now: number) => void): number;
  cancelFrame?(handle: number): void;
  now?(): number;
}

/** How much sooner than minIntervalMs a frame may come and still be drawn (ms). */
const FRAME_SLACK_MS = 4;

/** Called once per frame with the frame's time (performance.now() ms); returns true while it needs more frames. */
export type FrameCallback = (now: number) => boolean;

/** A requestAnimationFrame loop that sleeps when idle. */
export class FrameLoop {
  /** Time of the last frame (performance.now() ms): what the live clock reads, so drawing follows the frames. */
  time = $state(0);
  /**
   * The least time between two drawn frames (ms); 0: every frame the browser offers. A browser frame that comes
   * sooner is passed over (nothing is called, nothing changes, so the browser paints nothing): the live session
   * asks for ~30 frames a second while the stream is sampled (a burst), where drawing at 60 cost the page's share
   * of the cores for motion nobody can follow (issue 12).
   */
  minIntervalMs = 0;

  readonly #options: FrameLoopOptions;

  readonly #callbacks = new Set<FrameCallback>();
  #handle: number | null = null;
  #isClosed = false;
  /** Time of the last frame drawn (callbacks called). */
  #drawnAt = -Infinity;

  constructor(options: FrameLoopOptions = {}) {
    this.#options = options;
    this.time = this.now();
  }

  /** The loop's clock (performance.now() unless a test gave another). */
  now(): number {
    return this.#options.now ? this.#options.now() : performance.now();
  }

  /** Calls `callback` on every frame from the next one on; returns the function that removes it. */
  add(callback: FrameCallback): () => void {
    this.#callbacks.add(callback);
    return () => this.#callbacks.delete(callback);
  }

  /** Ensures a frame is scheduled (idempotent, cheap to call on every batch). */
  wake(): void {
    if (this.#isClosed || this.#handle !== null) return;
    const request = this.#options.requestFrame ?? ((cb: (now: number) => void) => requestAnimationFrame(cb));
    this.#handle = request((now) => {
      this.#handle = null;
      // A frame a few ms early still counts (frames come every ~16.7 ms, not exactly at the interval).
      if (now - this.#drawnAt < this.minIntervalMs - FRAME_SLACK_MS) {
        this.wake();
        return;
      }
      this.#drawnAt = now;
      this.time = now;
      let isBusy = false;
      for (const callback of [...this.#callbacks]) if (callback(now)) isBusy = true;
      if (isBusy) this.wake();
    });
  }

  /** Stops for good (idempotent). */
  close(): void {
    this.#isClosed = true;
    this.#callbacks.clear();
    if (this.#handle !== null) {
      const cancel = this.#options.cancelFrame ?? ((h: number) => cancelAnimationFrame(h));
      cancel(this.#handle);
      this.#handle = null;
    }
  }
}

let pageLoop: FrameLoop | null = null;

/** The page's one loop, created on first use. */
export function pageFrameLoop(): FrameLoop {
  pageLoop ??= new FrameLoop();
  return pageLoop;
}
