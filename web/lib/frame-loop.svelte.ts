/**
 * The page's only requestAnimationFrame loop. It runs while the frame callback says there is something to
 * animate and sleeps otherwise; `wake()` restarts it when new work arrives.
 */

/** The frame callback plus injectable rAF and clock (tests pass fakes). */
export interface FrameLoopOptions {
  /** Called once per frame with performance.now(); returns true while more frames are needed. */
  onFrame(now: number): boolean;
  requestFrame?(callback: (now: number) => void): number;
  cancelFrame?(handle: number): void;
  now?(): number;
}

/** A requestAnimationFrame loop that sleeps when idle. */
export class FrameLoop {
  /** Time of the last frame (performance.now() ms); components derive positions from it. */
  time = $state(0);

  readonly #options: FrameLoopOptions;
  #handle: number | null = null;
  #isClosed = false;

  constructor(options: FrameLoopOptions) {
    this.#options = options;
    this.time = this.#now();
  }

  #now(): number {
    return this.#options.now ? this.#options.now() : performance.now();
  }

  /** Ensures a frame is scheduled (idempotent, cheap to call on every batch). */
  wake(): void {
    if (this.#isClosed || this.#handle !== null) return;
    const request = this.#options.requestFrame ?? ((cb: (now: number) => void) => requestAnimationFrame(cb));
    this.#handle = request((now) => {
      this.#handle = null;
      this.time = now;
      if (this.#options.onFrame(now)) this.wake();
    });
  }

  /** Stops for good (idempotent). */
  close(): void {
    this.#isClosed = true;
    if (this.#handle !== null) {
      const cancel = this.#options.cancelFrame ?? ((h: number) => cancelAnimationFrame(h));
      cancel(this.#handle);
      this.#handle = null;
    }
  }
}
