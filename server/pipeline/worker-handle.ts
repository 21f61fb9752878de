/**
 * A built-in worker as the run sees it, whether it runs in this process (in the in-process workers' thread, or on
 * the main thread) or as a child process. All run WorkerLoop; only a process can be killed (SIGKILL), hung
 * (SIGSTOP) and resumed (SIGCONT).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { WORKER_PROCESS_ENTRY } from '../layout.ts';
import { WorkerLoop, type WorkerConfig, type WorkerControl, type WorkerReport } from '../workers/worker-loop.ts';
import { workerEnded, workerStarted } from '../workers/leftovers.ts';
import { workerThreadHost } from '../workers/worker-thread-host.ts';

export type ProcessSignal = 'kill' | 'stop' | 'cont';

export interface WorkerHandle {
  readonly id: string;
  readonly pid: number | null;
  control(command: WorkerControl): void;
  /** Resolves once the worker has stopped and released its sockets (or its process has exited). */
  close(): Promise<void>;
}

/**
 * Where in-process workers (and the sink) run. Their thread by default: their ZeroMQ calls leave the event loop
 * that ventilates, records and streams (docs/benchmarks.md: 1.86x the rate in a bare prototype with a core to
 * spare, 1.0-1.2x in the playground on a loaded 2-core machine, 4-12 % less CPU per task). A test or the bench
 * sets `inThread` false for the main thread's way (bench/profile-batch.ts --workers both: side by side).
 */
export const inProcessWorkers = { inThread: true };

/**
 * Whether a run's in-process workers (and its sink) run in the workers' thread. Not for a scenario whose workers
 * stop at an end marker (the tutorial): its dozen messages gain nothing from a thread, and its burst at interval 0
 * shows the slow joiner exactly as its lesson tells it only when each worker's loop runs after the ventilator's
 * sends on one event loop (in a thread, the tcp worker may close at its "x" before the second "x" is queued for
 * it, which then goes to the late ipc worker: real ZeroMQ too, but not the lesson's outcome).
 */
export function workersInThread(scenario: { endMarker: string | null }): boolean {
  return inProcessWorkers.inThread && scenario.endMarker === null;
}

/** An in-process worker: in the workers' thread (ThreadWorker) or on the main thread (MainThreadWorker). */
export function startInProcessWorker(
  id: string,
  config: WorkerConfig,
  onReport: (report: WorkerReport) => void,
  inThread: boolean,
): WorkerHandle {
  return inThread ? new ThreadWorker(id, config, onReport) : new MainThreadWorker(id, config, onReport);
}

/**
 * A worker in the in-process workers' thread (server/workers/worker-thread-host.ts). Its reports come in batches,
 * a few milliseconds after the fact, in the order it made them; so its results can reach the sink before its
 * receipts reach the run, as a process worker's do over IPC (the ledger and the run's end allow for that).
 */
export class ThreadWorker implements WorkerHandle {
  readonly pid = null;
  readonly #key: number;
  readonly #ended: Promise<void>;

  constructor(
    readonly id: string,
    config: WorkerConfig,
    onReport: (report: WorkerReport) => void,
  ) {
    let ended = () => {};
    this.#ended = new Promise<void>((resolve) => (ended = resolve));
    this.#key = workerThreadHost.start(config, onReport, ended);
  }

  control(command: WorkerControl): void {
    workerThreadHost.control(this.#key, command);
  }

  /** Resolves once the loop has ended and every report it made before has been handed to the run. */
  async close(): Promise<void> {
    this.control({ type: 'close' });
    await this.#ended;
  }
}

/** A worker on the main thread's event loop, reporting synchronously. */
export class MainThreadWorker implements WorkerHandle {
  readonly pid = null;
  readonly #loop: WorkerLoop;

  constructor(
    readonly id: string,
    config: WorkerConfig,
    onReport: (report: WorkerReport) => void,
  ) {
    this.#loop = new WorkerLoop(config, onReport);
  }

  control(command: WorkerControl): void {
    this.#loop.control(command);
  }

  async close(): Promise<void> {
    this.#loop.close();
    await this.#loop.done;
  }
}

/** Errors that only say the child is gone (its exit is handled on 'close'). */
const GONE = new Set(['EPIPE', 'ECONNRESET', 'ESRCH', 'ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_DISCONNECTED']);

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ProcessWorker implements WorkerHandle {
  readonly #child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  #hasExited = false;
  #killRequested = false;

  constructor(
    readonly id: string,
    config: WorkerConfig,
    onReport: (report: WorkerReport) => void,
    onExit: (exit: ProcessExit) => void,
  ) {
    // The same node binary as the server: the built worker from the built server, else the sources through tsx.
    this.#child = fork(WORKER_PROCESS_ENTRY.file, [], {
      execArgv: WORKER_PROCESS_ENTRY.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Recorded in the runtime folder until it exits: if this server dies hard, the next one ends it (leftovers.ts).
    workerStarted(this.#child.pid);
    this.#child.on('message', (message: WorkerReport) => onReport(message));
    // Without a listener, an 'error' is thrown as an uncaught exception and ends the server: a signal to a process
    // that has just died, a failed spawn. Those say nothing the exit does not say better ('close' follows even
    // a failed spawn), so they are dropped; anything else is reported as the worker's error.
    this.#child.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#hasExited || GONE.has(error.code ?? '')) return;
      onReport({ type: 'error', code: error.code ?? 'PG_ERR_INTERNAL', message: error.message });
    });
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': it comes once the IPC channel is drained too, so every report the worker sent before
      // it died (a receipt, a done) has been handled before its exit is (Node may emit 'exit' first).
      this.#child.once('close', (code, signal) => {
        this.#hasExited = true;
        workerEnded(this.#child.pid);
        const exit = { code, signal };
        onExit(exit);
        resolve(exit);
      });
    });
    this.#send({ type: 'start', config });
  }

  get pid(): number | null {
    return this.#child.pid ?? null;
  }

  get hasExited(): boolean {
    return this.#hasExited;
  }

  control(command: WorkerControl): void {
    this.#send(command);
  }

  /**
   * Sends on the IPC channel if the child is still there. `connected` stays true for a moment after the child
   * died, so a send can still fail (EPIPE): the callback takes that failure, which would otherwise be emitted as
   * an 'error'. The message was for a process that no longer exists; its exit is handled on 'close'.
   */
  #send(message: { type: 'start'; config: WorkerConfig } | WorkerControl): void {
    if (!this.#isRunning || !this.#child.connected) return;
    this.#child.send(message, () => {});
  }

  /** Neither exited nor known to be dead ('exit' may come before 'close', which sets hasExited). */
  get #isRunning(): boolean {
    return !this.#hasExited && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** True once someone asked for SIGKILL (as opposed to the kill that ends a close taking too long). */
  get killRequested(): boolean {
    return this.#killRequested;
  }

  signal(signal: ProcessSignal): void {
    if (!this.#isRunning) return;
    if (signal === 'kill') this.#killRequested = true;
    this.#child.kill(signal === 'kill' ? 'SIGKILL' : signal === 'stop' ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Asks the worker to stop; a hung or unresponsive one is killed after a grace period. */
  async close(graceMs = 1000): Promise<void> {
    if (this.#hasExited) return;
    if (this.#isRunning) this.#child.kill('SIGCONT'); // a hung worker must run to be able to exit
    this.control({ type: 'close' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
