/**
 * One node of a graph run: its zeromq.js socket of the node's type, and what the run keeps of it (peers, receipts,
 * a ROUTER's identities, a bound PAIR's peer), with the small helpers the run's events use.
 */
import * as zmq from 'zeromq';
import type { GraphNode } from '../../shared/protocol/index.ts';
import { watchSocket, type MonitorEvent } from '../pipeline/monitor.ts';
import type { NodeProcess, RemoteSocket } from './graph-process.ts';

/** Body previews in events are at most this long (SPEC [E6]); the wire carries whole bodies. */
const PREVIEW_CHARS = 64;

/** The methods every socket type we use has at runtime; TypeScript's per-type interfaces are narrower. */
export type AnySocket = zmq.Socket & {
  send(message: zmq.MessageLike | zmq.MessageLike[]): Promise<void>;
  receive(): Promise<Buffer[]>;
  sendTimeout: number;
  receiveTimeout: number;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
};

/**
 * How long a pending receive sleeps before it looks at its socket again, message or not. zeromq.js re-checks a
 * pending receive() only when the socket's file descriptor signals (or the same socket sends); a socket call that
 * processes libzmq's commands (a move's bind, connect, disconnect or unbind) can take the one signal a message
 * arriving at that moment gave, and a pipe that already holds a message signals nothing more for the next ones:
 * the receive slept for good, a stream going past it (move-experiments.test.ts, docs/zmq-patterns.md "Moving a
 * node"). With a receive timeout, zeromq.js tries the socket when it expires and returns what is there; nothing
 * there, the loop receives again (graph-messages.ts receiveFrames, graph-node-process.ts). A receive that finds a
 * message at once (a stream) never starts the timer.
 */
export const RECEIVE_RECHECK_MS = 250;

export function createSocket(node: GraphNode): AnySocket {
  const make = (): zmq.Socket => {
    switch (node.socket) {
      case 'REQ':
        return new zmq.Request();
      case 'REP':
        return new zmq.Reply();
      case 'DEALER':
        return new zmq.Dealer();
      case 'ROUTER':
        return new zmq.Router();
      case 'PUB':
        return new zmq.Publisher();
      case 'SUB':
        return new zmq.Subscriber();
      case 'XPUB':
        return new zmq.XPublisher();
      case 'XSUB':
        return new zmq.XSubscriber();
      case 'PUSH':
        return new zmq.Push();
      case 'PULL':
        return new zmq.Pull();
      case 'PAIR':
        return new zmq.Pair();
    }
  };
  // Options are assigned after construction, never passed to it: a constructor that throws on an option crashes
  // the process at exit (zmq-facts section 6). Values were validated by the schema already.
  const socket = make() as AnySocket;
  socket.linger = 0;
  if (node.sendHighWaterMark !== undefined && 'sendHighWaterMark' in socket)
    socket.sendHighWaterMark = node.sendHighWaterMark;
  if (node.receiveHighWaterMark !== undefined && 'receiveHighWaterMark' in socket)
    socket.receiveHighWaterMark = node.receiveHighWaterMark;
  if (node.routingId !== undefined) (socket as unknown as { routingId: string }).routingId = node.routingId;
  // Every socket that receives (a PUB's or a PUSH's has no receive).
  if ('receiveTimeout' in socket) socket.receiveTimeout = RECEIVE_RECHECK_MS;
  return socket;
}

/** Why a requested ipc path cannot be bound, in the words the pipeline's endpoints use. */

export const preview = (body: string): string => (body.length > PREVIEW_CHARS ? body.slice(0, PREVIEW_CHARS) : body);

/** A ROUTER's identity frame as text: itself when printable, else 0x-hex (libzmq's own are 5 bytes from 0x00). */
export function printableIdentity(frame: Buffer): string {
  return frame.length > 0 && frame.every((byte) => byte >= 0x20 && byte < 0x7f)
    ? frame.toString()
    : `0x${frame.toString('hex')}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class NodeRuntime {
  /** Its zeromq.js socket; for a process node, the server's handle on the socket in its child (graph-process.ts). */
  readonly socket: AnySocket;
  /** The child process holding its socket, when it runs as a process node (graph-process.ts); else null. */
  readonly process: NodeProcess | null;
  readonly #remote: RemoteSocket | null;
  monitorDone: Promise<void> = Promise.resolve();
  /** Peers that shook hands with this socket and have not left (inproc: counted at connect, it has no monitor). */
  live = 0;
  /** True once its role loop ended (stop message, count, done, error) or the run closed it. */
  finished = false;
  /** Its role is over because of its own stop condition (what still waits for it is lost there). */
  stoppedReading = false;
  /** A ROUTER's peers by identity, learnt from what they sent. */
  readonly identities = new Map<string, string>();
  /** Connecting side: per address, 'connected' until its handshake. A disconnect before it is a refusal. */
  readonly connections = new Map<string, 'connected' | 'handshaken'>();
  /** Connecting side: the peer node behind each address it connects to. */
  readonly peerAt = new Map<string, string>();
  /** A bound PAIR: the peer it serves, once decided (null: one we do not control); undefined while it has none. */
  pairPeer: string | null | undefined;
  /** Taken out of the running graph (graph-live.ts): its socket closed, nothing more is attributed to it. */
  removed = false;
  /** Killed by a visitor during the run (graph-signals.ts): its socket closed at once, linger 0. */
  killed = false;
  /** While a visitor holds it hung (graph-signals.ts): released by a resume, a kill or the run's end. */
  #hold: { released: Promise<void>; release: () => void } | null = null;
  /**
   * While a move across a process holds its sends (graph-move.ts): its link's sockets move over several IPC round
   * trips, and a copy sent meanwhile could take either connection. Its receives go on.
   */
  #sendGate: { opened: Promise<void>; open: () => void } | null = null;
  /** Messages its receive() returned. */
  received = 0;
  /**
   * The message it received and has not handled yet (a REP before its reply is queued, a worker during its work
   * and until its result is queued, a proxy until it has passed it on): lost with it if it is killed meanwhile
   * (graph-signals.ts). null when it holds none (or the message came from a peer we do not control).
   */
  holding: number | null = null;
  /** In a deliberate wait (start delay, interval, waiting for peers, work): not idle for the run's drain. */
  pausing = false;
  #sendChain: Promise<unknown> = Promise.resolve();
  /** Sends queued on #sendChain or in flight: with none and the node not hung, a send goes straight out. */
  #sendsPending = 0;
  readonly #sendSettled = (): void => {
    this.#sendsPending--;
  };
  readonly #peerWaiters: (() => void)[] = [];
  readonly #receiptWaiters: (() => void)[] = [];

  /** The node as the graph describes it; a subscriber's is replaced when its prefixes change during a run. */
  spec: GraphNode;

  constructor(spec: GraphNode, process: NodeProcess | null = null) {
    this.spec = spec;
    this.process = process;
    this.#remote = process ? process.socketFor(spec.id) : null;
    this.socket = this.#remote ? (this.#remote as unknown as AnySocket) : createSocket(spec);
  }

  /** Reads its socket's monitor (in its child, for a process node) until the socket closes. */
  watch(onEvent: (event: MonitorEvent) => void): Promise<void> {
    return this.#remote ? this.#remote.watch(onEvent) : watchSocket(this.socket, onEvent);
  }

  get id(): string {
    return this.spec.id;
  }

  get hung(): boolean {
    return this.#hold !== null;
  }

  /**
   * Hung: the node neither reads nor sends until released, as a program stopped with SIGSTOP. Its socket stays
   * open (libzmq's I/O thread still fills its receive queue up to the HWM, where a stopped process's kernel
   * buffers would fill instead): its peers see back-pressure, a PUB drops for it.
   */
  hang(): void {
    if (this.#hold) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#hold = { released, release };
  }

  /** Goes on reading and sending (a resume; a kill or the run's end release it too, to let its loops end). */
  release(): void {
    const hold = this.#hold;
    this.#hold = null;
    hold?.release();
  }

  /** Resolves at once unless the node is hung; then when it is released. */
  whileHung(): Promise<void> {
    return this.#hold?.released ?? Promise.resolve();
  }

  /** True while a move holds its sends (holdSends). */
  get sendsHeld(): boolean {
    return this.#sendGate !== null;
  }

  /**
   * Holds its sends until the returned function is called: a send asked for meanwhile waits (a process node's is
   * not booked yet either: graph-messages.ts). Receives go on. One holder at a time (a move: one per run).
   */
  holdSends(): () => void {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const gate = { opened, open };
    this.#sendGate = gate;
    return () => {
      if (this.#sendGate === gate) this.#sendGate = null;
      gate.open();
    };
  }

  /** Resolves at once unless a move holds its sends; then when it lets them go. */
  whileSendsHeld(): Promise<void> {
    return this.#sendGate?.opened ?? Promise.resolve();
  }

  /**
   * Sends once neither hung nor held by a move, checked in the same turn as the send itself: a move's unbind holds
   * the node in the turn it starts (graph-move.ts), and a send a microtask later would meet EBUSY. Checked again
   * after each wait, as one hold may follow another.
   */
  #sendWhenFree(frames: zmq.MessageLike[]): Promise<void> {
    if (this.#hold === null && this.#sendGate === null) return this.socket.send(frames);
    return this.whileHung()
      .then(() => this.whileSendsHeld())
      .then(() => this.#sendWhenFree(frames));
  }

  /** Settles once every send asked for so far has settled (sent, or failed). */
  sendsSettled(): Promise<void> {
    return this.#sendChain.then(
      () => {},
      () => {},
    );
  }

  /** One send at a time per socket (zeromq.js throws EBUSY on a second): forwards from several nodes queue here. */
  send(frames: zmq.MessageLike[]): Promise<void> {
    let sent: Promise<void>;
    if (this.#sendsPending === 0 && this.#hold === null && this.#sendGate === null) {
      // Nothing ahead of it (the usual case: a role loop awaits each send): no chain to wait on, this is the
      // per-message path.
      try {
        sent = this.socket.send(frames);
      } catch (error) {
        sent = Promise.reject(error);
      }
    } else {
      // A hung node sends nothing until it is resumed (every send of its program waits here), nor while a move
      // holds its sends.
      sent = this.#sendChain.then(() => this.#sendWhenFree(frames));
    }
    this.#sendsPending++;
    this.#sendChain = sent.then(this.#sendSettled, this.#sendSettled);
    return sent;
  }

  /** Resolves once this node has received a message (another node's startAfter), or when `signal` aborts. */
  firstReceipt(signal: AbortSignal): Promise<void> {
    if (this.received > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const abort = () => resolve();
      signal.addEventListener('abort', abort, { once: true });
      this.#receiptWaiters.push(() => {
        signal.removeEventListener('abort', abort);
        resolve();
      });
    });
  }

  countReceipt(): void {
    this.received++;
    // Per message: no copy of an empty list of waiters.
    if (this.#receiptWaiters.length > 0) for (const wake of this.#receiptWaiters.splice(0)) wake();
  }

  peerJoined(): void {
    this.live++;
    for (const wake of this.#peerWaiters.splice(0)) wake();
  }

  peerLeft(): void {
    this.live = Math.max(0, this.live - 1);
  }

  /** Resolves once `count` peers are connected, or when `signal` aborts. */
  async waitForPeers(count: number, signal: AbortSignal): Promise<void> {
    while (this.live < count && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const abort = () => resolve();
        signal.addEventListener('abort', abort, { once: true });
        this.#peerWaiters.push(() => {
          signal.removeEventListener('abort', abort);
          resolve();
        });
      });
    }
  }
}
