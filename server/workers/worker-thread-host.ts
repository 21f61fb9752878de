/**
 * The main thread's side of the in-process workers' thread (worker-thread.ts): starts the thread when the first
 * in-process worker starts and keeps it for the life of the process (starting it costs a few hundred
 * milliseconds of CPU, which a run should not pay each time), passes each worker's commands in and hands each
 * worker's reports, in the order the worker made them, to its owner.
 *
 * If the thread fails or exits, every worker it ran reports an error and ends (its owner sees a worker that
 * stopped); the next worker to start starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import { WORKER_THREAD_ENTRY } from '../layout.ts';
import type { WorkerConfig, WorkerControl, WorkerReport } from './worker-loop.ts';
import {
  REPORT_DONE,
  REPORT_ENDED,
  REPORT_OTHER,
  REPORT_RECEIVED,
  type ReportBatch,
  type ToWorkerThread,
  WORKER_THREAD_MARK,
} from './worker-thread.ts';

interface HostedWorker {
  onReport: (report: WorkerReport) => void;
  ended: () => void;
}

/** The same object for every task, as the loop itself reports it: owners only read its type. */
const DONE: WorkerReport = Object.freeze({ type: 'done' });

class WorkerThreadHost {
  #thread: Worker | null = null;
  readonly #workers = new Map<number, HostedWorker>();
  #nextKey = 1;

  /** True while the thread runs (it has started and not failed). */
  get started(): boolean {
    return this.#thread !== null;
  }

  /** Starts the thread if it is not running, ahead of the first worker (idle, it never keeps the process alive). */
  prepare(): void {
    this.#ensureThread();
  }

  /** Starts a worker in the thread; `ended` is called once its loop has ended and all its reports were handed on. */
  start(config: WorkerConfig, onReport: (report: WorkerReport) => void, ended: () => void): number {
    const thread = this.#ensureThread();
    const key = this.#nextKey++;
    this.#workers.set(key, { onReport, ended });
    thread.ref(); // a worker is running: the thread is part of what the process is doing
    this.#post({ type: 'start', key, config });
    return key;
  }

  control(key: number, command: WorkerControl): void {
    if (this.#workers.has(key)) this.#post({ type: 'control', key, command });
  }

  #post(message: ToWorkerThread): void {
    this.#thread?.postMessage(message);
  }

  #ensureThread(): Worker {
    if (this.#thread) return this.#thread;
    const thread = new Worker(WORKER_THREAD_ENTRY, { workerData: WORKER_THREAD_MARK });
    thread.on('message', (batch: ReportBatch) => this.#onBatch(batch));
    thread.on('error', (error) => this.#lost(thread, `the in-process workers' thread failed: ${error.message}`));
    thread.on('exit', (code) => this.#lost(thread, `the in-process workers' thread exited (code ${code})`));
    thread.unref();
    this.#thread = thread;
    return thread;
  }

  #onBatch(batch: ReportBatch): void {
    for (let index = 0; index < batch.length; index += 3) {
      const key = batch[index] as number;
      const worker = this.#workers.get(key);
      if (!worker) continue;
      const kind = batch[index + 1] as number;
      if (kind === REPORT_RECEIVED) worker.onReport({ type: 'received', frames: batch[index + 2] as string[] });
      else if (kind === REPORT_DONE) worker.onReport(DONE);
      else if (kind === REPORT_OTHER) worker.onReport(batch[index + 2] as WorkerReport);
      else if (kind === REPORT_ENDED) this.#end(key, worker);
    }
  }

  #end(key: number, worker: HostedWorker): void {
    this.#workers.delete(key);
    if (this.#workers.size === 0) this.#thread?.unref(); // idle, it never keeps the process alive
    worker.ended();
  }

  /** The thread is gone: its workers went with it. */
  #lost(thread: Worker, message: string): void {
    if (this.#thread !== thread) return;
    this.#thread = null;
    for (const [key, worker] of [...this.#workers]) {
      worker.onReport({ type: 'error', code: 'PG_ERR_INTERNAL', message });
      this.#end(key, worker);
    }
  }
}

/** The process's one host: every in-process worker of every playground runs in the same thread. */
export const workerThreadHost = new WorkerThreadHost();
