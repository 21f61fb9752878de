/**
 * The main thread's side of the in-process workers' thread (worker-thread.ts): starts the thread ahead of the first
 * in-process worker and keeps it for the life of the process (starting it costs a few hundred milliseconds of CPU,
 * which a run should not pay each time), passes each worker's and sink's commands in and hands their reports, in
 * the order they were made, to their owners.
 *
 * If the thread fails or exits, every worker it ran reports an error and ends (its owner sees a worker that
 * stopped); the next worker to start starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import { WORKER_THREAD_ENTRY } from '../layout.ts';
import type { WorkerConfig, WorkerControl, WorkerReport } from './worker-loop.ts';
import type { MonitorEvent } from '../pipeline/monitor.ts';
import {
  REPORT_DONE,
  REPORT_ENDED,
  REPORT_OTHER,
  REPORT_RECEIVED,
  REPORT_RECEIVED_PAIR,
  REPORT_SINK_BOUND,
  REPORT_SINK_ERROR,
  REPORT_SINK_FAILED,
  REPORT_SINK_MONITOR,
  REPORT_SINK_RESULT,
  THREAD_READY,
  type SinkSettings,
  type ReportBatch,
  type ToWorkerThread,
  WORKER_THREAD_MARK,
} from './worker-thread.ts';

interface HostedWorker {
  onReport: (report: WorkerReport) => void;
  ended: () => void;
}

/** What a sink in the thread tells its run. */
export interface SinkListener {
  onMonitor: (event: MonitorEvent) => void;
  onResult: (worker: string, task: number) => void;
  onError: (error: { code: string; message: string }) => void;
}

/** A run's sink in the thread: as ResultSink, its address, its end and close(). */
export interface ThreadSink {
  readonly address: string;
  readonly done: Promise<void>;
  close(): void;
}

interface HostedSink {
  listener: SinkListener;
  bound: (address: string) => void;
  failed: (error: { code: string; message: string }) => void;
  ended: () => void;
}

/** The same object for every task, as the loop itself reports it: owners only read its type. */
const DONE: WorkerReport = Object.freeze({ type: 'done' });

class WorkerThreadHost {
  #thread: Worker | null = null;
  #ready: Promise<void> = Promise.resolve();
  #onReady = () => {};
  readonly #workers = new Map<number, HostedWorker>();
  readonly #sinks = new Map<number, HostedSink>();
  #nextKey = 1;

  /** True while the thread runs (it has started and not failed). */
  get started(): boolean {
    return this.#thread !== null;
  }

  /** Starts the thread if it is not running, ahead of the first worker (idle, it never keeps the process alive). */
  prepare(): void {
    this.#ensureThread();
  }

  /**
   * Resolves once the thread has loaded (at once when it has), or has failed. A run waits for it before its first
   * step, so that its workers connect as soon as they are asked to, as they did on the main thread, rather than
   * after the ventilator has sent a burst to whoever was there first.
   */
  ready(): Promise<void> {
    this.#ensureThread();
    return this.#ready;
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

  /** Opens a sink in the thread; resolves once it is bound, rejects (with its code) when it could not bind. */
  openSink(settings: SinkSettings, listener: SinkListener): Promise<ThreadSink> {
    const thread = this.#ensureThread();
    const key = this.#nextKey++;
    let ended = () => {};
    const done = new Promise<void>((resolve) => (ended = resolve));
    return new Promise<ThreadSink>((resolve, reject) => {
      this.#sinks.set(key, {
        listener,
        bound: (address) =>
          resolve({ address, done, close: () => this.#sinks.has(key) && this.#post({ type: 'closeSink', key }) }),
        failed: (error) => {
          this.#sinks.delete(key);
          this.#idle();
          ended();
          reject(Object.assign(new Error(error.message), { code: error.code }));
        },
        ended,
      });
      thread.ref();
      this.#post({ type: 'openSink', key, settings });
    });
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
    this.#ready = new Promise((resolve) => (this.#onReady = resolve));
    thread.on('message', (batch: ReportBatch | typeof THREAD_READY) => {
      if (batch === THREAD_READY) this.#onReady();
      else this.#onBatch(batch);
    });
    thread.on('error', (error) => this.#lost(thread, `the in-process workers' thread failed: ${error.message}`));
    thread.on('exit', (code) => this.#lost(thread, `the in-process workers' thread exited (code ${code})`));
    thread.unref();
    this.#thread = thread;
    return thread;
  }

  #onBatch(batch: ReportBatch): void {
    for (let index = 0; index < batch.length; index += 3) {
      const key = batch[index] as number;
      const kind = batch[index + 1] as number;
      const payload = batch[index + 2];
      if (kind === REPORT_SINK_RESULT) {
        this.#sinks.get(key)?.listener.onResult(payload as string, batch[index + 3] as number);
        index++; // four slots
        continue;
      }
      if (kind === REPORT_RECEIVED_PAIR) {
        this.#workers.get(key)?.onReport({ type: 'received', frames: [payload as string, batch[index + 3] as string] });
        index++; // four slots
        continue;
      }
      const worker = this.#workers.get(key);
      if (worker) {
        if (kind === REPORT_RECEIVED) worker.onReport({ type: 'received', frames: payload as string[] });
        else if (kind === REPORT_DONE) worker.onReport(DONE);
        else if (kind === REPORT_OTHER) worker.onReport(payload as WorkerReport);
        else if (kind === REPORT_ENDED) this.#end(key, worker);
        continue;
      }
      const sink = this.#sinks.get(key);
      if (!sink) continue;
      if (kind === REPORT_SINK_MONITOR) sink.listener.onMonitor(payload as MonitorEvent);
      else if (kind === REPORT_SINK_BOUND) sink.bound(payload as string);
      else if (kind === REPORT_SINK_FAILED) sink.failed(payload as { code: string; message: string });
      else if (kind === REPORT_SINK_ERROR) sink.listener.onError(payload as { code: string; message: string });
      else if (kind === REPORT_ENDED) {
        this.#sinks.delete(key);
        this.#idle();
        sink.ended();
      }
    }
  }

  #end(key: number, worker: HostedWorker): void {
    this.#workers.delete(key);
    this.#idle();
    worker.ended();
  }

  /** With nothing of a run in it, the thread never keeps the process alive. */
  #idle(): void {
    if (this.#workers.size === 0 && this.#sinks.size === 0) this.#thread?.unref();
  }

  /** The thread is gone: its workers went with it. */
  #lost(thread: Worker, message: string): void {
    if (this.#thread !== thread) return;
    this.#thread = null;
    this.#onReady(); // nobody waits for a thread that will never answer
    for (const [key, worker] of [...this.#workers]) {
      worker.onReport({ type: 'error', code: 'PG_ERR_INTERNAL', message });
      this.#end(key, worker);
    }
    for (const sink of [...this.#sinks.values()]) {
      sink.listener.onError({ code: 'PG_ERR_INTERNAL', message });
      sink.failed({ code: 'PG_ERR_INTERNAL', message }); // a sink still binding fails; a bound one just ends
    }
  }
}

/** The process's one host: every in-process worker of every playground runs in the same thread. */
export const workerThreadHost = new WorkerThreadHost();
