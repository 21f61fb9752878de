/**
 * Long loops of awaited sends and receives give the event loop a turn every few milliseconds.
 *
 * Why: zeromq.js resolves `send()` at once while the socket has room, and `receive()` at once while messages wait,
 * so a batch at interval 0 (the ventilator's loop, each in-process worker's, the sink's) runs on microtasks alone.
 * Timers and sockets of every other playground on the server then wait until a queue fills or empties: a
 * 10,000-task batch held the loop for 90-370 ms at a time (bench --case capacity; docs/benchmarks.md), long enough
 * for another visitor's tutorial to miss its pace and for the health check to time out.
 *
 * The slice is one clock for the whole process (`sharedLoopTurns`): with a clock per loop, the microtask queue only
 * drains once every loop has used up its own slice, so four loops made a 16 ms slice out of four 4 ms ones. With one
 * clock, every loop that checks after the slice ended yields in the same turn, and the first to resume starts the
 * next slice. One `setImmediate` turn (after the poll phase, so due timers and I/O run next) per slice costs next to
 * nothing per message.
 */
export const LOOP_SLICE_MS = 4;

export class LoopTurns {
  /** How long a slice lasts; the bench (--case loop-delay) sets Infinity to measure the loop without turns. */
  sliceMs: number;
  readonly #now: () => number;
  #sliceStartedAt: number;

  constructor(sliceMs = LOOP_SLICE_MS, now: () => number = () => performance.now()) {
    this.sliceMs = sliceMs;
    this.#now = now;
    this.#sliceStartedAt = now();
  }

  /** True once the slice has lasted its time: the caller should `await turn()` before going on. */
  get due(): boolean {
    return this.#now() - this.#sliceStartedAt >= this.sliceMs;
  }

  /** One turn of the event loop (setImmediate); whoever resumes first starts a new slice. */
  async turn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#sliceStartedAt = this.#now();
  }
}

/** The process's one slice clock, shared by every send and receive loop (see above for why one). */
export const sharedLoopTurns = new LoopTurns();
