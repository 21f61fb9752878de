/**
 * The thread that runs the server's in-process workers (worker-thread-host.ts starts it). Each worker is the same
 * WorkerLoop as ever; only its ZeroMQ calls (a receive and a result's send per task, about 40 % of the main
 * thread's time in a batch at full speed) now run on the second core instead of the event loop that also
 * ventilates, collects, records and streams. The sockets live in zeromq.js's global context, which every thread of
 * the process shares, so inproc endpoints bound by the main thread are reachable from here.
 *
 * Reports go back in batches, one postMessage per turn of this thread's event loop (a few milliseconds at full
 * speed, since the loops give the event loop a turn every slice: loop-turns.ts), as flat arrays of
 * [worker key, kind, payload] triples: a message per report would cost the main thread more than it saves.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WorkerLoop, type WorkerConfig, type WorkerControl, type WorkerReport } from './worker-loop.ts';

/** What the main thread asks of this one. */
export type ToWorkerThread =
  | { type: 'start'; key: number; config: WorkerConfig }
  | { type: 'control'; key: number; command: WorkerControl };

/** The kinds in a batch of reports; each entry is three slots: key, kind, payload. */
export const REPORT_RECEIVED = 0; // payload: the task's frames as text
export const REPORT_DONE = 1; // payload: null
export const REPORT_OTHER = 2; // payload: the WorkerReport itself (monitor, stopped, error)
export const REPORT_ENDED = 3; // payload: null; the worker's loop has ended and every report of it was sent before
export type ReportBatch = unknown[];

/** A batch is sent at once when it holds this many reports, without waiting for the turn to end. */
const BATCH_MAX_REPORTS = 2048;

function hostWorkers(port: NonNullable<typeof parentPort>): void {
  const loops = new Map<number, WorkerLoop>();
  let batch: ReportBatch = [];
  let flushScheduled = false;

  const flush = () => {
    flushScheduled = false;
    if (batch.length === 0) return;
    port.postMessage(batch);
    batch = [];
  };

  const push = (key: number, kind: number, payload: unknown) => {
    batch.push(key, kind, payload);
    if (batch.length >= BATCH_MAX_REPORTS * 3) flush();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const reporter = (key: number) => (report: WorkerReport) => {
    if (report.type === 'received') push(key, REPORT_RECEIVED, report.frames);
    else if (report.type === 'done') push(key, REPORT_DONE, null);
    else push(key, REPORT_OTHER, report);
  };

  port.on('message', (message: ToWorkerThread) => {
    if (message.type === 'start') {
      const loop = new WorkerLoop(message.config, reporter(message.key));
      loops.set(message.key, loop);
      void loop.done.then(() => {
        loops.delete(message.key);
        push(message.key, REPORT_ENDED, null);
      });
    } else {
      loops.get(message.key)?.control(message.command);
    }
  });
}

/** What the host passes as workerData, so that a module imported in some other thread (a test runner's) stays idle. */
export const WORKER_THREAD_MARK = 'zpg-in-process-workers';

if (parentPort && workerData === WORKER_THREAD_MARK) hostWorkers(parentPort);
