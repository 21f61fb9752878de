/**
 * Where every task of a run is: sent, received by a worker, done, collected by the sink, or lost. Typed arrays
 * indexed by task id keep it at a few bytes per task, freed with the run.
 */

export const TASK_SENT = 1;
export const TASK_RECEIVED = 2;
export const TASK_DONE = 3;
export const TASK_COLLECTED = 4;
export const TASK_LOST = 5;

const NO_WORKER = -1;

export class TaskLedger {
  #state = new Uint8Array(1024);
  #worker = new Int16Array(1024).fill(NO_WORKER);
  #highest = -1;
  readonly #workerIndex = new Map<string, number>();
  readonly #workerIds: string[] = [];

  /** Number of task ids seen so far (highest id + 1). */
  get size(): number {
    return this.#highest + 1;
  }

  stateOf(task: number): number {
    return task <= this.#highest ? (this.#state[task] ?? 0) : 0;
  }

  workerOf(task: number): string | null {
    const index = task <= this.#highest ? (this.#worker[task] ?? NO_WORKER) : NO_WORKER;
    return index === NO_WORKER ? null : (this.#workerIds[index] ?? null);
  }

  sent(task: number): void {
    this.#grow(task);
    this.#state[task] = TASK_SENT;
  }

  /** Returns false for a task id this run never sent (a stray or forged message). */
  received(task: number, worker: string): boolean {
    if (task > this.#highest || this.#state[task] === 0) return false;
    this.#state[task] = TASK_RECEIVED;
    this.#worker[task] = this.#indexOf(worker);
    return true;
  }

  done(task: number): void {
    if (this.stateOf(task) === TASK_RECEIVED) this.#state[task] = TASK_DONE;
  }

  collected(task: number): boolean {
    if (this.stateOf(task) !== TASK_DONE && this.stateOf(task) !== TASK_RECEIVED) return false;
    this.#state[task] = TASK_COLLECTED;
    return true;
  }

  lost(task: number, worker: string | null): void {
    this.#state[task] = TASK_LOST;
    if (worker !== null) this.#worker[task] = this.#indexOf(worker);
  }

  /** Task ids still in the given state, in order. */
  *inState(state: number): Generator<number> {
    for (let task = 0; task <= this.#highest; task++) if (this.#state[task] === state) yield task;
  }

  #indexOf(worker: string): number {
    let index = this.#workerIndex.get(worker);
    if (index === undefined) {
      index = this.#workerIds.push(worker) - 1;
      this.#workerIndex.set(worker, index);
    }
    return index;
  }

  #grow(task: number): void {
    if (task >= this.#state.length) {
      let length = this.#state.length;
      while (length <= task) length *= 2;
      const state = new Uint8Array(length);
      state.set(this.#state);
      const worker = new Int16Array(length).fill(NO_WORKER);
      worker.set(this.#worker);
      this.#state = state;
      this.#worker = worker;
    }
    if (task > this.#highest) this.#highest = task;
  }
}
