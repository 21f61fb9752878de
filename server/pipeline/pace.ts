/**
 * The ventilator's pace: an interval between sends is a rate (interval 1 ms = 1,000 tasks a second), not a sleep
 * after each send. A timer cannot sleep 1 ms: Node wakes 1-2 ms later, more on a busy machine, so a sleep after
 * each send gave 323-600 tasks/s at 1 ms. Here every send has a due time counted from the first one (first + n x
 * interval): the ventilator sleeps only while it is ahead of that, and while it is behind (a timer that woke late)
 * it sends at once, without sleeping, until it has caught up. Over a run the rate is the one asked for, and no send
 * ever goes out before its due time.
 *
 * A stall is not made up by a burst: when a send goes out more than MAX_CATCH_UP_MS after its due time (it was
 * blocked by a full pipe, a bind waited for its peers, the machine paused the process), the schedule starts again
 * from that send, as a sleep after it would have. Lateness up to that (timers, a garbage collection) is caught up.
 */
export const MAX_CATCH_UP_MS = 100;

export class Pace {
  /** When the schedule starts: send n (counted from there) is due at first + n x interval. */
  #first = 0;
  /** Sends since the schedule started; 0 before the first. */
  #sent = 0;

  constructor(
    readonly intervalMs: number,
    readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Called right after each send: the time (on `clock`) the next send is due. If that is now or earlier, the next
   * send goes at once.
   */
  afterSend(): number {
    const now = this.clock();
    if (this.#sent === 0 || now - this.#due(this.#sent) > MAX_CATCH_UP_MS) {
      this.#first = now;
      this.#sent = 0;
    }
    this.#sent++;
    return this.#due(this.#sent);
  }

  #due(send: number): number {
    return this.#first + send * this.intervalMs;
  }
}
