/**
 * The thread that runs the server's in-process workers and, when they run here, the run's sink (worker-thread-host.ts
 * starts it). Each worker is the same WorkerLoop as ever and the sink the same ResultSink; only their ZeroMQ calls (a
 * receive and a result's send per task for the workers, a receive per result for the sink: about half of the main
 * thread's time in a batch at full speed) now run on the second core instead of the event loop that ventilates,
 * records and streams. With the sink here, a worker's task:done and the sink's receipt of its result travel to the
 * main thread in the order they happened. The sockets live in zeromq.js's global context, which every thread of
 * the process shares, so inproc endpoints bound by the main thread are reachable from here.
 *
 * Reports go back in batches, one postMessage per turn of this thread's event loop (a few milliseconds at full
 * speed, since the loops give the event loop a turn every slice: loop-turns.ts), as flat arrays of
 * [worker key, kind, payload] triples: a message per report would cost the main thread more than it saves.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WorkerLoop, type WorkerConfig, type WorkerControl, type WorkerReport } from './worker-loop.ts';
import { ResultSink, type ResultSinkOptions } from '../pipeline/sockets.ts';

/** A sink's options as the thread gets them: where to bind and its socket options (its callbacks are reports). */
export type SinkSettings = Pick<
  ResultSinkOptions,
  'requested' | 'fallback' | 'receiveHighWaterMark' | 'receiveBufferSize'
>;

/** What the main thread asks of this one. */
export type ToWorkerThread =
  | { type: 'start'; key: number; config: WorkerConfig }
  | { type: 'control'; key: number; command: WorkerControl }
  | { type: 'openSink'; key: number; settings: SinkSettings }
  | { type: 'closeSink'; key: number };

/** The kinds in a batch of reports; each entry is three slots: key, kind, payload (a sink's result, a pair: four). */
export const REPORT_RECEIVED = 0; // payload: the task's frames as text
export const REPORT_DONE = 1; // payload: null
export const REPORT_OTHER = 2; // payload: the WorkerReport itself (monitor, stopped, error)
export const REPORT_ENDED = 3; // payload: null; the worker's loop (or the sink) has ended, every report of it sent before
export const REPORT_SINK_BOUND = 4; // payload: the address the sink bound
export const REPORT_SINK_FAILED = 5; // payload: { code, message }: it could not bind (nothing more comes of it)
export const REPORT_SINK_RESULT = 6; // four slots: key, kind, the worker that pushed it, the task id
export const REPORT_SINK_MONITOR = 7; // payload: a MonitorEvent of the sink's socket
export const REPORT_SINK_ERROR = 8; // payload: { code, message }: its receive loop failed
/**
 * Four slots: key, kind, a two-frame task's frames as two texts (every task of the ventilator's tagged framing). Flat
 * rather than an array per task: the clone tracks every object it carries, and an array per report cost about
 * twice the serialising and reading of two strings.
 */
export const REPORT_RECEIVED_PAIR = 9;
export type ReportBatch = unknown[];

/** The thread's first message: its modules are loaded, it takes commands at once from now on. */
export const THREAD_READY = 'ready';

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

  /** After slots were added: the batch goes now when full, else at the end of this turn. */
  const added = () => {
    if (batch.length >= BATCH_MAX_REPORTS * 3) flush();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const push = (key: number, kind: number, payload: unknown) => {
    batch.push(key, kind, payload);
    added();
  };

  const reporter = (key: number) => (report: WorkerReport) => {
    if (report.type === 'received') {
      const { frames } = report;
      if (frames.length === 2) {
        batch.push(key, REPORT_RECEIVED_PAIR, frames[0], frames[1]);
        added();
      } else push(key, REPORT_RECEIVED, frames);
    } else if (report.type === 'done') push(key, REPORT_DONE, null);
    else push(key, REPORT_OTHER, report);
  };

  const sinks = new Map<number, ResultSink>();
  const failure = (error: unknown) => ({
    code: (error as { code?: string }).code ?? 'PG_ERR_INTERNAL',
    message: (error as Error).message ?? String(error),
  });
  const openSink = async (key: number, settings: SinkSettings) => {
    try {
      const sink = await ResultSink.open({
        ...settings,
        onMonitor: (event) => push(key, REPORT_SINK_MONITOR, event),
        onResult: (worker, task) => {
          // Four slots: no object per result.
          batch.push(key, REPORT_SINK_RESULT, worker, task);
          added();
        },
        onError: (error) => push(key, REPORT_SINK_ERROR, failure(error)),
      });
      sinks.set(key, sink);
      push(key, REPORT_SINK_BOUND, sink.address);
      void sink.done.then(() => {
        sinks.delete(key);
        push(key, REPORT_ENDED, null);
      });
    } catch (error) {
      push(key, REPORT_SINK_FAILED, failure(error));
    }
  };

  port.postMessage(THREAD_READY);
  port.on('message', (message: ToWorkerThread) => {
    if (message.type === 'openSink') {
      void openSink(message.key, message.settings);
    } else if (message.type === 'closeSink') {
      sinks.get(message.key)?.close();
    } else if (message.type === 'start') {
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
