/**
 * The ventilator's socket. It owns one PUSH socket and reports monitor events through a callback; it knows nothing
 * of runs, events or HTTP. (Workers are in ../workers/worker-loop.ts.)
 *
 *   VENTILATOR -PUSH(bound: tcp, ipc, inproc)-> [body] or [task id, body] -> PULL(connected)- WORKER
 */
import * as zmq from 'zeromq';
import { watchSocket, type MonitorEvent } from './monitor.ts';

export type Frames = string | [string, string];

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
