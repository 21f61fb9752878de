/**
 * A run's books: the ledger that places every task, the running counts the page shows, and the end-of-run
 * settlement that gives each task still unplaced its final place. Knows nothing of sockets or workers' processes:
 * the run tells it what happened and asks it what is owed.
 */
import type { EventInput, RunAccounting } from '../../shared/protocol/index.ts';
import type { Frames } from './sockets.ts';
import {
  TASK_COLLECTED,
  TASK_DONE,
  TASK_EXTERNAL,
  TASK_LOST,
  TASK_RECEIVED,
  TASK_RESULT_LOST,
  TASK_SENT,
  TaskLedger,
} from './task-ledger.ts';

/** Per-task task:lost events sent at the end of a run, at most; the summary counts all of them. */
export const LOST_EVENTS_MAX = 10_000;

export interface RunBooksOptions {
  /** With a sink, a task is finished when its result is collected; without one, when it is done. */
  sinkEnabled: boolean;
  /** Tagged framing carries the task id; plain framing is matched to its task by body. */
  tagged: boolean;
  emit: (event: EventInput) => void;
}

/** Where the tasks sent but never received went, decided by the run at its end. */
export type UnreceivedFate = { toExternalPeers: true } | { toExternalPeers: false; suspect: string | null };

export class RunBooks {
  readonly ledger = new TaskLedger();
  sent = 0;
  receivedTotal = 0;
  doneTotal = 0;
  collected = 0;
  lost = 0;
  readonly lostBy: Record<string, number> = {};
  /** Results done by a worker that never reached the sink, per worker (placed when the run ends). */
  readonly resultsLostBy: Record<string, number> = {};
  readonly #options: RunBooksOptions;
  /** plain framing: task ids sent but not yet received, per body, oldest first. */
  readonly #unreceivedByBody = new Map<string, number[]>();

  constructor(options: RunBooksOptions) {
    this.#options = options;
  }

  /** The frames for a task; with plain framing, registers the body so a worker's receipt finds its task. */
  framesFor(task: number, body: string): Frames {
    if (this.#options.tagged) return [String(task), body];
    const queue = this.#unreceivedByBody.get(body);
    if (queue) queue.push(task);
    else this.#unreceivedByBody.set(body, [task]);
    return body;
  }

  /**
   * A worker's receipt: which task it was (-1 when the ventilator never sent it, or it was already received), and
   * its body. Counts it when it is a real one.
   */
  receive(frames: string[], worker: string): { task: number; body: string } {
    let task: number;
    let body: string;
    if (this.#options.tagged) {
      task = Number(frames[0]);
      body = frames[1] ?? '';
    } else {
      body = frames[0] ?? '';
      const queue = this.#unreceivedByBody.get(body);
      task = queue?.shift() ?? -1;
      if (queue && queue.length === 0) this.#unreceivedByBody.delete(body);
    }
    if (!Number.isInteger(task) || task < 0 || !this.ledger.received(task, worker)) return { task: -1, body };
    this.receivedTotal++;
    return { task, body };
  }

  done(task: number): void {
    this.doneTotal++;
    this.ledger.done(task);
  }

  /** A result reached the sink; false when it is not one of this run's tasks or was already collected. */
  collect(task: number): boolean {
    if (!Number.isInteger(task) || !this.ledger.collected(task)) return false;
    this.collected++;
    return true;
  }

  loseTask(task: number, worker: string | null): void {
    if (!this.ledger.lost(task, worker)) return; // already placed (its result overtook the worker's reports)
    this.lost++;
    const key = worker ?? 'unknown';
    this.lostBy[key] = (this.lostBy[key] ?? 0) + 1;
    if (this.lost <= LOST_EVENTS_MAX) this.#options.emit({ type: 'task:lost', task, worker });
  }

  /** Every task sent is finished (collected with a sink, done without) or known lost. */
  allAccounted(): boolean {
    return (this.#options.sinkEnabled ? this.collected : this.doneTotal) + this.lost >= this.sent;
  }

  /**
   * The end of a run that was not stopped, once every socket is closed: each task gets its final place. Unreceived
   * ones went to external peers or were lost in a pipe (PUSH cannot say which pipe held them, so the run names a
   * worker only when a single one could have held them); one still in a worker's hands was lost with that worker
   * when it closed; with a sink, a result that never arrived was lost on the way from the worker that did it.
   */
  settle(unreceived: UnreceivedFate): void {
    const ledger = this.ledger;
    for (const task of ledger.inState(TASK_SENT)) {
      if (task >= this.sent) continue; // a send abandoned by a stop
      if (unreceived.toExternalPeers) ledger.external(task);
      else this.loseTask(task, unreceived.suspect);
    }
    for (const task of ledger.inState(TASK_RECEIVED)) this.loseTask(task, ledger.workerOf(task));
    if (!this.#options.sinkEnabled) return;
    for (const task of ledger.inState(TASK_DONE)) {
      const worker = ledger.resultLost(task) ?? 'unknown';
      this.resultsLostBy[worker] = (this.resultsLostBy[worker] ?? 0) + 1;
    }
  }

  /**
   * Where every sent task is, each counted once, read from the ledger's states (not derived from `sent`): the
   * parts add up to `sent` only if the books are right, which is what the tests check.
   */
  accounting(): RunAccounting {
    const ledger = this.ledger;
    const count = [0, 0, 0, 0, 0, 0, 0, 0].map((_, state) => ledger.count(state));
    // A send still pending (or abandoned by a stop) is in the ledger but not yet in `sent`.
    for (let task = this.sent; task < ledger.size; task++) count[ledger.stateOf(task)]!--;
    const sinkOn = this.#options.sinkEnabled;
    return {
      collected: count[TASK_COLLECTED]!,
      processed: sinkOn ? 0 : count[TASK_DONE]!,
      resultsLost: count[TASK_RESULT_LOST]!,
      resultsLostBy: { ...this.resultsLostBy },
      lost: count[TASK_LOST]!,
      external: count[TASK_EXTERNAL]!,
      inFlight: count[TASK_SENT]! + count[TASK_RECEIVED]! + (sinkOn ? count[TASK_DONE]! : 0),
    };
  }
}
