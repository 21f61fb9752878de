/**
 * The run's own sockets: the ventilator's PUSH and the sink's PULL. Each reports monitor events through a callback
 * and knows nothing of runs, events or HTTP. (Workers are in ../workers/worker-loop.ts.)
 *
 *   VENTILATOR -PUSH(bound: tcp, ipc, inproc)-> [body] or [task id, body] -> PULL(connected)- WORKER
 *   WORKER -PUSH(connected)-> [worker id, task id] -> PULL(bound)- SINK
 */
import * as zmq from 'zeromq';
import { watchSocket, type MonitorEvent } from './monitor.ts';
import { sharedLoopTurns } from './loop-turns.ts';

export type Frames = string | [string, string];

/** The libzmq version under zeromq.js, as "4.3.5" (the health check reports it). */
export const ZMQ_VERSION: string = zmq.version;

/**
 * Never hang at exit on undelivered messages (zmq-facts section 4): the process-wide setting, made once at start;
 * every socket also sets its own linger.
 */
export function neverBlockAtExit(): void {
  zmq.context.blocky = false;
}

/** The PUSH side. Exactly one send may be pending at a time (zeromq.js throws EBUSY otherwise): callers await. */
export class Ventilator {
  readonly socket = new zmq.Push();
  readonly monitorDone: Promise<void>;

  constructor(onMonitor: (event: MonitorEvent) => void) {
    // Options are assigned, never passed to the constructor: a constructor that throws on an option makes
    // zeromq.js crash the process at exit (zmq-facts section 6).
    this.socket.linger = 0;
    this.monitorDone = watchSocket(this.socket, onMonitor);
  }

  /** Binds one more endpoint on the same socket and returns what libzmq really bound (resolves `*` ports). */
  async bind(address: string): Promise<string> {
    await this.socket.bind(address);
    return this.socket.lastEndpoint ?? address;
  }

  /** Resolves once ZeroMQ has queued the message on some pipe; stays pending while every pipe is full. */
  send(frames: Frames): Promise<void> {
    return this.socket.send(frames);
  }

  /** Idempotent. `lingerMs` > 0 lets queued messages reach slow external peers after the run. */
  close(lingerMs = 0): void {
    if (this.socket.closed) return;
    this.socket.linger = lingerMs;
    this.socket.close();
  }
}

export interface ResultSinkOptions {
  /** Where to bind first (the last run's tcp port, so workers started by hand keep reaching it). */
  requested: string;
  /** Where to bind when `requested` is taken (a `*` port, or a path of this playground's). */
  fallback: string;
  receiveHighWaterMark: number;
  receiveBufferSize: number;
  onMonitor: (event: MonitorEvent) => void;
  /** One result: the worker that pushed it and the task id it carried. */
  onResult: (worker: string, task: number) => void;
  /** The receive loop failed while the socket was still open. */
  onError: (error: unknown) => void;
}

/** The sink: one PULL socket, bound, fair-queuing the workers' results (zmq-facts: PULL reads its pipes in turn). */
export class ResultSink {
  readonly address: string;
  /** Settles once the receive loop and the monitor have ended (after close()). */
  readonly done: Promise<void>;
  readonly #pull: zmq.Pull;

  private constructor(pull: zmq.Pull, address: string, done: Promise<void>) {
    this.#pull = pull;
    this.address = address;
    this.done = done;
  }

  static async open(options: ResultSinkOptions): Promise<ResultSink> {
    const pull = new zmq.Pull();
    pull.linger = 0;
    // Before the bind: a pipe's HWM and buffers never change afterwards (zmq-facts section 3).
    pull.receiveHighWaterMark = options.receiveHighWaterMark;
    if (options.receiveBufferSize > 0) pull.receiveBufferSize = options.receiveBufferSize;
    const monitor = watchSocket(pull, options.onMonitor);
    try {
      await pull.bind(options.requested);
    } catch (error) {
      if (options.requested === options.fallback || (error as { code?: string }).code !== 'EADDRINUSE') {
        pull.close();
        throw error;
      }
      await pull.bind(options.fallback);
    }
    const loop = (async () => {
      try {
        // A full queue resolves every receive at once: give the event loop a turn now and then (loop-turns.ts).
        for await (const [worker, task] of pull) {
          options.onResult(String(worker), Number(String(task)));
          if (sharedLoopTurns.due) await sharedLoopTurns.turn();
        }
      } catch (error) {
        if (!pull.closed) options.onError(error);
      }
      await monitor.catch(() => {});
    })();
    return new ResultSink(pull, pull.lastEndpoint ?? options.requested, loop);
  }

  /** Idempotent. */
  close(): void {
    if (!this.#pull.closed) this.#pull.close();
  }
}
