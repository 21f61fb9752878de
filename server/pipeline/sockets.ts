/**
 * The two socket roles. They own one ZeroMQ socket each and report through callbacks; they know nothing of
 * runs, events or HTTP.
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

/** What a worker does with a message: keep reading, or stop (the tutorial's clients stop at "x"). */
export type Verdict = 'continue' | 'stop';

/** The PULL side, running in this process. */
export class InProcessWorker {
  readonly socket = new zmq.Pull();
  readonly monitorDone: Promise<void>;
  #loop: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly address: string,
    onMonitor: (event: MonitorEvent) => void,
  ) {
    this.socket.linger = 0;
    this.monitorDone = watchSocket(this.socket, onMonitor);
  }

  /**
   * Connects (ZeroMQ retries in the background until the endpoint is bound) and reads until `onMessage` says
   * stop or the socket is closed. Throws synchronously on a malformed address.
   */
  start(onMessage: (frames: Buffer[]) => Verdict): Promise<void> {
    this.socket.connect(this.address);
    this.#loop = (async () => {
      try {
        for await (const frames of this.socket) {
          if (onMessage(frames) === 'stop') break;
        }
      } catch (error) {
        if (!this.socket.closed) throw error;
      } finally {
        this.close();
      }
    })();
    return this.#loop;
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  /** Idempotent. Messages already queued for this worker are lost with its pipe, as in real ZeroMQ. */
  close(): void {
    if (!this.socket.closed) this.socket.close();
  }
}
