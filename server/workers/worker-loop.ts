/**
 * One worker: a PULL socket that takes tasks one at a time, "works" for a while, and optionally PUSHes a result
 * to the sink. The same code runs inside the server and as its own OS process (worker-process.ts), so a killed
 * or hung worker behaves exactly like the in-process one, only for real.
 *
 *   VENTILATOR -PUSH-> [task id, body] -> PULL- WORKER -PUSH-> [worker id, task id] -> PULL- SINK
 *
 * Tasks stay queued in ZeroMQ's pipe (and kernel buffers) until this loop reads them: the worker never
 * prefetches on its own, so high-water marks and lost-on-kill behave as ZeroMQ makes them.
 */
import * as zmq from 'zeromq';
import { watchSocket, type MonitorEvent } from '../pipeline/monitor.ts';
import { sharedLoopTurns } from '../pipeline/loop-turns.ts';

export interface WorkerSocketOptions {
  receiveHighWaterMark?: number;
  /** Kernel receive buffer in bytes; 0 keeps the OS default. */
  receiveBufferSize?: number;
  /** For the PUSH to the sink: queue only on completed connections (zmq-facts section 1.4). */
  sinkImmediate?: boolean;
}

export interface WorkerConfig {
  id: string;
  /** One address per connection: the same address twice gives this worker two pipes, so double share. */
  addresses: string[];
  /** Milliseconds of simulated work per task, drawn uniformly from [min, max]. */
  workMs: { min: number; max: number };
  /** A body after which the worker stops, as the tutorial's clients do with "x"; null: never. */
  endMarker: string | null;
  /** Where results go, or null for no sink. */
  sinkAddress: string | null;
  options: WorkerSocketOptions;
}

/** What a worker tells its owner, in order. `frames` are the task's frames as text. */
export type WorkerReport =
  | { type: 'monitor'; event: MonitorEvent; socket: 'tasks' | 'results' }
  | { type: 'received'; frames: string[] }
  | { type: 'done' }
  | { type: 'stopped'; reason: 'end-marker' | 'closed' }
  | { type: 'error'; code: string; message: string };

/** Commands a running worker accepts (over IPC for a process worker). */
export type WorkerControl =
  | { type: 'reconnect'; addresses: string[]; options?: WorkerSocketOptions }
  | { type: 'configure'; workMs: { min: number; max: number } }
  | { type: 'close' };

/** The same object for every task: an in-process owner only reads its type, a process's is copied over IPC. */
const DONE: WorkerReport = Object.freeze({ type: 'done' });

export class WorkerLoop {
  #config: WorkerConfig;
  readonly #report: (report: WorkerReport) => void;
  #pull: zmq.Pull | null = null;
  #results: zmq.Push | null = null;
  #closed = false;
  #workTimer: NodeJS.Timeout | null = null;
  #wakeFromWork: () => void = () => {};
  readonly #monitors: Promise<void>[] = [];
  /** Settles once the loop has ended and its sockets' monitors have reported their last events. */
  readonly done: Promise<void>;

  constructor(config: WorkerConfig, report: (report: WorkerReport) => void) {
    this.#config = config;
    this.#report = report;
    this.done = this.#run();
  }

  control(command: WorkerControl): void {
    switch (command.type) {
      case 'reconnect':
        this.#config = {
          ...this.#config,
          addresses: command.addresses,
          options: command.options ?? this.#config.options,
        };
        // Closing the PULL ends the current read loop; #run opens a new one on the new addresses. Tasks queued
        // for the old socket are lost with it, as in real ZeroMQ.
        this.#closePull();
        return;
      case 'configure':
        this.#config = { ...this.#config, workMs: command.workMs };
        return;
      case 'close':
        this.close();
        return;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closePull();
    if (this.#workTimer) clearTimeout(this.#workTimer);
    this.#wakeFromWork();
    if (this.#results && !this.#results.closed) this.#results.close();
  }

  async #run(): Promise<void> {
    try {
      if (this.#config.sinkAddress) this.#results = this.#openResults(this.#config.sinkAddress);
      while (!this.#closed) {
        const pull = this.#openPull();
        const verdict = await this.#readUntilClosed(pull);
        if (verdict === 'end-marker') {
          this.#report({ type: 'stopped', reason: 'end-marker' });
          this.close();
          return;
        }
      }
      this.#report({ type: 'stopped', reason: 'closed' });
    } catch (error) {
      const failure = error as { code?: string; message?: string };
      this.#report({
        type: 'error',
        code: failure.code ?? 'PG_ERR_INTERNAL',
        message: failure.message ?? String(error),
      });
      this.close();
    } finally {
      // Bounded: a monitor that never ends must not hold the worker open.
      await Promise.race([Promise.allSettled(this.#monitors), new Promise((resolve) => setTimeout(resolve, 500))]);
    }
  }

  #openPull(): zmq.Pull {
    const pull = new zmq.Pull();
    pull.linger = 0;
    const { receiveHighWaterMark, receiveBufferSize } = this.#config.options;
    // Assigned before connect: options set later do not change an existing pipe (zmq-facts section 3).
    if (receiveHighWaterMark !== undefined) pull.receiveHighWaterMark = receiveHighWaterMark;
    if (receiveBufferSize) pull.receiveBufferSize = receiveBufferSize;
    this.#monitors.push(watchSocket(pull, (event) => this.#report({ type: 'monitor', event, socket: 'tasks' })));
    for (const address of this.#config.addresses) pull.connect(address);
    this.#pull = pull;
    return pull;
  }

  #openResults(address: string): zmq.Push {
    const push = new zmq.Push();
    push.linger = 1000;
    if (this.#config.options.sinkImmediate) push.immediate = true;
    this.#monitors.push(watchSocket(push, (event) => this.#report({ type: 'monitor', event, socket: 'results' })));
    push.connect(address);
    return push;
  }

  async #readUntilClosed(pull: zmq.Pull): Promise<'closed' | 'end-marker'> {
    try {
      for await (const frames of pull) {
        const text = frames.map((frame) => frame.toString());
        this.#report({ type: 'received', frames: text });
        const body = text.at(-1);
        if (this.#config.endMarker !== null && body === this.#config.endMarker) return 'end-marker';
        // No work time (a batch at full speed): no timer and no extra await on the per-task path.
        if (this.#config.workMs.max > 0) await this.#work();
        if (this.#closed) break;
        this.#report(DONE);
        // The task id frame as it came (the same bytes as its text): not encoded again.
        if (this.#results) await this.#results.send([this.#config.id, frames[0] ?? '']);
        // A full queue resolves every receive at once: the event loop gets a turn now and then (loop-turns.ts).
        if (sharedLoopTurns.due) await sharedLoopTurns.turn();
      }
    } catch (error) {
      if (!pull.closed && !this.#closed) throw error;
    }
    return 'closed';
  }

  #work(): Promise<void> {
    const { min, max } = this.#config.workMs;
    const ms = min + Math.random() * (max - min);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wakeFromWork = resolve;
      this.#workTimer = setTimeout(resolve, ms);
    });
  }

  #closePull(): void {
    if (this.#pull && !this.#pull.closed) this.#pull.close();
  }
}
