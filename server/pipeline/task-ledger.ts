/**
 * Where every task of a run is: sent, received by a worker, done, collected by the sink, lost with a worker, its
 * result lost on the way to the sink, or taken by a peer we do not control. Each task is in exactly one state, and
 * the ledger keeps a count per state, so the run's identity (the parts add up to what was sent) is read in O(1).
 * Typed arrays indexed by task id keep it at a few bytes per task, freed with the run.
 *
 * Reports reach the ledger by two roads that do not keep each other's order: a process worker tells of a receipt
 * over its IPC channel, while its result races ahead over ZeroMQ to the sink. A result is therefore accepted for
 * a task still marked sent, and a receipt that arrives after its task's result keeps the task collected.
 */

/** On its way to a worker: queued in the ventilator, in a pipe, or in a worker's socket. */
export const TASK_SENT = 1;
/** In a worker's hands. */
export const TASK_RECEIVED = 2;
/** Processed; with a sink its result is still on the way. */
export const TASK_DONE = 3;
export const TASK_COLLECTED = 4;
/** Lost with a worker before it finished it (queued for it, or in its hands when it went away). */
export const TASK_LOST = 5;
/** Done, but its result never reached the sink. */
export const TASK_RESULT_LOST = 6;
/** Taken by a peer we do not control. */
export const TASK_EXTERNAL = 7;

const STATES = 8;
const NO_WORKER = -1;

export class TaskLedger {
  #state = new Uint8Array(1024);
  #worker = new Int16Array(1024).fill(NO_WORKER);
  #highest = -1;
  readonly #counts = new Array<number>(STATES).fill(0);
  readonly #workerIndex = new Map<string, number>();
  readonly #workerIds: string[] = [];

  /** Number of task ids seen so far (highest id + 1). */
  get size(): number {
    return this.#highest + 1;
  }

  /** How many tasks are in `state` now. */
  count(state: number): number {
    return this.#counts[state] ?? 0;
  }

  stateOf(task: number): number {
    return task >= 0 && task <= this.#highest ? (this.#state[task] ?? 0) : 0;
  }

  workerOf(task: number): string | null {
    const index = task >= 0 && task <= this.#highest ? (this.#worker[task] ?? NO_WORKER) : NO_WORKER;
    return index === NO_WORKER ? null : (this.#workerIds[index] ?? null);
  }

  sent(task: number): void {
    this.#grow(task);
    this.#set(task, TASK_SENT);
  }

  /** A send that never completed (the run was stopped while it was pending): the task was never sent. */
  unsent(task: number): void {
    if (this.stateOf(task) === TASK_SENT) this.#set(task, 0);
  }

  /**
   * A worker took the task. Returns false for a task id this run never sent (a stray or forged message) or one
   * already received. A task whose result overtook its receipt stays collected.
   */
  received(task: number, worker: string): boolean {
    const state = this.stateOf(task);
    if (state !== TASK_SENT && state !== TASK_COLLECTED) return false;
    if (state === TASK_SENT) this.#set(task, TASK_RECEIVED);
    this.#worker[task] = this.#indexOf(worker);
    return true;
  }

  done(task: number): void {
    if (this.stateOf(task) === TASK_RECEIVED) this.#set(task, TASK_DONE);
  }

  /** The sink got the task's result; false for a task that is not out there (unknown, or already placed). */
  collected(task: number): boolean {
    const state = this.stateOf(task);
    if (state !== TASK_SENT && state !== TASK_RECEIVED && state !== TASK_DONE) return false;
    this.#set(task, TASK_COLLECTED);
    return true;
  }

  /** Lost with `worker` (null: not known which). False when the task was not on its way or in a worker's hands. */
  lost(task: number, worker: string | null): boolean {
    const state = this.stateOf(task);
    if (state !== TASK_SENT && state !== TASK_RECEIVED) return false;
    this.#set(task, TASK_LOST);
    if (worker !== null) this.#worker[task] = this.#indexOf(worker);
    return true;
  }

  /** A done task whose result will never reach the sink; returns the worker it was done by. */
  resultLost(task: number): string | null {
    if (this.stateOf(task) !== TASK_DONE) return null;
    this.#set(task, TASK_RESULT_LOST);
    return this.workerOf(task);
  }

  /** A task that went to a peer we do not control. */
  external(task: number): void {
    if (this.stateOf(task) === TASK_SENT) this.#set(task, TASK_EXTERNAL);
  }

  /** Task ids in the given state, in order (a snapshot: the caller may move them to other states). */
  inState(state: number): number[] {
    const tasks: number[] = [];
    if (this.count(state) === 0) return tasks;
    for (let task = 0; task <= this.#highest; task++) if (this.#state[task] === state) tasks.push(task);
    return tasks;
  }

  #set(task: number, state: number): void {
    const previous = this.#state[task]!;
    this.#counts[previous]!--;
    this.#counts[state]!++;
    this.#state[task] = state;
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
    if (task > this.#highest) {
      // Ids are handed out in order: the ones skipped (none in practice) count as state 0, never sent.
      this.#counts[0]! += task - this.#highest;
      this.#highest = task;
    }
  }
}
