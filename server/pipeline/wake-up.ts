/**
 * How a run waits: for a condition that is checked again whenever something changes (the run calls wake()), for a
 * time, or until it is asked to stop. One waiter at a time, as a run has one ventilator loop.
 */
export class WakeUp {
  readonly #stopped: () => boolean;
  #wake: () => void = () => {};

  constructor(stopped: () => boolean) {
    this.#stopped = stopped;
  }

  /** Something changed: the pending wait checks its condition again. */
  wake(): void {
    this.#wake();
  }

  /** Resolves when `condition` holds (checked whenever something changes), the time is up, or stop is asked. */
  async until(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.#stopped() && !condition()) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = () => {};
    }
  }

  sleep(ms: number): Promise<void> {
    return this.until(() => false, ms);
  }
}
