/**
 * Graph nodes as real OS processes (issue 11: "kill, hang or resume a process node"). A node with `process: true`
 * runs its program (the node and the sockets tied to it, graph-signals.ts programOf) in a child process forked
 * from graph-node-process.ts: its sockets are made there, in that process's own ZeroMQ context, so killing it is
 * SIGKILL (the kernel closes its connections, exactly as for a crashed program; what its libzmq queues held is
 * gone with it), hanging it is SIGSTOP (its I/O thread stops too: its kernel buffers fill, then its peers' HWMs)
 * and resuming it SIGCONT. As the pipeline's process workers (server/pipeline/worker-handle.ts ProcessWorker): the
 * same node binary, recorded in the runtime folder while it lives (workers/leftovers.ts: a server killed hard has
 * them killed by its next start), gone when its IPC channel closes, counted in the operator's process limits.
 *
 * The server keeps each node's role loop and its books; a RemoteSocket stands for the child's socket, one
 * operation at a time over the IPC channel (structured clone: frames cross as bytes). Messages are few in a graph
 * run (at most 100,000 a sender), and attribution stays where the books are, as it happens: a receipt is the
 * child's receive() returning, reported before anything else the child says afterwards.
 *
 * inproc cannot cross a process (it is per ZeroMQ context, zmq-facts section 5): a link over inproc to or from a
 * process node is refused before the run (processProblems), with a reason the page shows, and so is a move to
 * inproc during one. A move to tcp or ipc asks the child to bind, disconnect or unbind (graph-move.ts), after a
 * ping (NodeProcess.ping) that a stopped child never answers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type * as zmq from 'zeromq';
import { linkEnds } from '../../shared/scenarios/graph.ts';
import type { GraphNode, GraphSpec } from '../../shared/protocol/index.ts';
import type { MonitorEvent } from '../pipeline/monitor.ts';
import { GRAPH_PROCESS_ENTRY } from '../layout.ts';
import { workerEnded, workerStarted } from '../workers/leftovers.ts';
import { programOf } from './graph-signals.ts';

/** What the server tells a node process. `id` numbers an operation whose outcome the server awaits. */
export type ChildCommand =
  | { op: 'open'; nodes: GraphNode[] }
  | { op: 'ping'; id: number; node: string }
  | { op: 'bind'; id: number; node: string; address: string }
  | { op: 'disconnect' | 'unbind'; id: number; node: string; address: string }
  | { op: 'send'; id: number; node: string; frames: (string | Uint8Array)[] }
  | { op: 'receive'; id: number; node: string }
  | { op: 'connect'; node: string; address: string }
  | { op: 'subscribe' | 'unsubscribe'; node: string; prefixes: string[] }
  | { op: 'option'; node: string; name: 'sendTimeout' | 'receiveTimeout'; value: number }
  | { op: 'close'; node: string }
  | { op: 'exit' };

/** What a node process tells the server, in the order it happened there. */
export type ChildReport =
  | { type: 'ready' }
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; code: string; message: string }
  | { type: 'monitor'; node: string; event: MonitorEvent }
  | { type: 'monitor-end'; node: string }
  | { type: 'error'; node: string; code: string; message: string };

/**
 * The graph's process programs: one list of node ids per child process. A program is a process when any of its
 * sockets says `process: true` (the zguide's worker is one process of three sockets, as the real program is).
 */
export function processPrograms(graph: Pick<GraphSpec, 'nodes'>): string[][] {
  const programs: string[][] = [];
  const placed = new Set<string>();
  for (const node of graph.nodes) {
    if (!node.process || placed.has(node.id)) continue;
    const program = programOf(graph, node.id).filter((id) => graph.nodes.some((n) => n.id === id));
    for (const id of program) placed.add(id);
    programs.push(program);
  }
  return programs;
}

/**
 * What keeps a graph's process nodes from running: an inproc link (or an inproc endpoint it listens on) between
 * a process program and anything outside it. inproc passes messages through memory inside one ZeroMQ context; a
 * child process has its own, where the name is not even known (zmq-facts section 5: silently nothing).
 */
export function processProblems(graph: Pick<GraphSpec, 'nodes' | 'links'>): { where: string; problem: string }[] {
  const processOf = new Map<string, number>();
  processPrograms(graph).forEach((program, i) => program.forEach((id) => processOf.set(id, i)));
  const problems: { where: string; problem: string }[] = [];
  for (const link of graph.links) {
    if (link.transport !== 'inproc') continue;
    const from = processOf.get(link.from);
    const to = processOf.get(link.to);
    if (from === undefined && to === undefined) continue;
    if (from === to) continue; // both ends in the same process: one context, inproc works there
    const { binder, connecter } = linkEnds(link);
    problems.push({
      where: `link ${link.from} -> ${link.to}`,
      problem: `inproc cannot cross a process: ${processOf.has(binder) ? binder : connecter} runs as its own process (its own ZeroMQ context), so the peer would silently get nothing; use tcp or ipc`,
    });
  }
  for (const node of graph.nodes) {
    if (!processOf.has(node.id)) continue;
    if ((node.listen ?? []).some((endpoint) => endpoint.transport === 'inproc')) {
      problems.push({
        where: `node ${node.id}`,
        problem: 'a process node cannot listen over inproc: no one outside its own process could reach it',
      });
    }
  }
  return problems;
}

/** Errors that only say the child is gone (its exit is handled on 'close'). */
const GONE = new Set(['EPIPE', 'ECONNRESET', 'ESRCH', 'ERR_IPC_CHANNEL_CLOSED', 'ERR_IPC_DISCONNECTED']);

/** A failure as zeromq.js gives one: `code` and message. */
function coded(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * How long a child may take to answer its first bind, its own start included (forked, tsx loaded from the sources
 * under test, on a busy 2-core machine: seconds). One that has not answered by then (stopped from outside, wedged)
 * fails what awaits it: a run's start (graph.startNoAnswer) or a node's live add (graph.addNoAnswer), instead of
 * holding the visitor's request until the run is stopped.
 */
export const CHILD_BIND_ANSWER_MS = 15_000;

/** `answer`, or an ETIMEDOUT failure once `timeoutMs` passed without it (the answer, if it comes, is ignored). */
export function answerWithin<T>(answer: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(coded('ETIMEDOUT', `the process did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child process holding one program's sockets. */
export class NodeProcess {
  readonly #child: ChildProcess;
  readonly #sockets = new Map<string, RemoteSocket>();
  readonly #pending = new Map<
    number,
    { node: string; resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  #nextId = 0;
  #exited: ProcessExit | null = null;
  #stopped = false;
  /** Settles once the child has exited (its IPC channel drained: every report it sent was handled before). */
  readonly exited: Promise<ProcessExit>;
  /** True once the server asked for SIGKILL (a visitor's kill, or a close that took too long). */
  killRequested = false;

  constructor(
    readonly nodes: readonly GraphNode[],
    onExit: (process: NodeProcess, exit: ProcessExit) => void,
    onError: (node: string, code: string, message: string) => void,
  ) {
    for (const spec of nodes) this.#sockets.set(spec.id, new RemoteSocket(this, spec.id));
    // The same node binary as the server: the built entry from the built server, else the sources through tsx.
    // 'advanced' serialization: frames cross as bytes (a Buffer arrives as a Uint8Array), not as JSON.
    this.#child = fork(GRAPH_PROCESS_ENTRY.file, [], {
      execArgv: GRAPH_PROCESS_ENTRY.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    // Recorded in the runtime folder until it exits: if this server dies hard, the next one ends it (leftovers.ts).
    workerStarted(this.#child.pid);
    this.#child.on('message', (report: ChildReport) => this.#onReport(report, onError));
    this.#child.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#exited || GONE.has(error.code ?? '')) return;
      onError(nodes[0]!.id, error.code ?? 'ERROR', error.message);
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('close', (code, signal) => {
        this.#exited = { code, signal };
        workerEnded(this.#child.pid);
        // Its sockets died with it: every operation still awaited fails as on a closed socket.
        for (const socket of this.#sockets.values()) socket.gone();
        for (const [id, pending] of this.#pending) {
          this.#pending.delete(id);
          pending.reject(coded('EAGAIN', 'the process holding this socket has exited'));
        }
        onExit(this, this.#exited);
        resolve(this.#exited);
      });
    });
    this.post({ op: 'open', nodes: [...nodes] });
  }

  get pid(): number | null {
    return this.#child.pid ?? null;
  }

  get hasExited(): boolean {
    return this.#exited !== null;
  }

  socketFor(node: string): RemoteSocket {
    return this.#sockets.get(node)!;
  }

  /** SIGKILL, SIGSTOP or SIGCONT, if the child still runs. */
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.#isRunning) return;
    if (signal === 'SIGKILL') this.killRequested = true;
    if (signal === 'SIGSTOP') this.#stopped = true;
    if (signal === 'SIGCONT') this.#stopped = false;
    this.#child.kill(signal);
  }

  /** Ends the child: resumed if stopped (it must run to exit), asked to close, SIGKILLed after a grace period. */
  async close(graceMs = 1000): Promise<ProcessExit> {
    if (this.#exited) return this.#exited;
    if (this.#isRunning && this.#stopped) this.signal('SIGCONT');
    this.post({ op: 'exit' });
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** One command to the child; dropped when it is gone (its exit is handled on 'close'). */
  post(command: ChildCommand): void {
    if (!this.#isRunning || !this.#child.connected) return;
    this.#child.send(command, undefined, undefined, () => {});
  }

  /** One operation whose outcome is awaited: settles when the child answers, rejects when it dies first. */
  request(command: Extract<ChildCommand, { id: number }>): Promise<unknown> {
    if (!this.#isRunning) return Promise.reject(coded('EAGAIN', 'the process holding this socket has exited'));
    return new Promise((resolve, reject) => {
      this.#pending.set(command.id, { node: command.node, resolve, reject });
      this.post(command);
    });
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** True while the server holds it SIGSTOPped (a visitor's hang): it answers nothing until resumed. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Resolves once the child answers, which a stopped process (SIGSTOP, from the playground or from outside) never
   * does: rejects with ETIMEDOUT after `timeoutMs`, or as request() when it dies first. A move asks this before
   * it asks anything of the child's sockets (graph-move.ts), so nothing is left queued for a process that will
   * carry it out only when it runs again.
   */
  ping(timeoutMs: number): Promise<void> {
    return answerWithin(this.request({ op: 'ping', id: this.nextId(), node: this.nodes[0]!.id }), timeoutMs).then(
      () => undefined,
    );
  }

  /** A socket closed on the server's side: what it still awaits fails now, as on a closed zeromq.js socket. */
  abandon(node: string): void {
    for (const [id, pending] of this.#pending) {
      if (pending.node !== node) continue;
      this.#pending.delete(id);
      pending.reject(coded('EAGAIN', 'Socket is closed'));
    }
  }

  get #isRunning(): boolean {
    return !this.#exited && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  #onReport(report: ChildReport, onError: (node: string, code: string, message: string) => void): void {
    switch (report.type) {
      case 'ready':
        return;
      case 'done': {
        const pending = this.#pending.get(report.id);
        this.#pending.delete(report.id);
        pending?.resolve(report.value);
        return;
      }
      case 'failed': {
        const pending = this.#pending.get(report.id);
        this.#pending.delete(report.id);
        pending?.reject(coded(report.code, report.message));
        return;
      }
      case 'monitor':
        this.#sockets.get(report.node)?.monitored(report.event);
        return;
      case 'monitor-end':
        this.#sockets.get(report.node)?.gone();
        return;
      case 'error':
        onError(report.node, report.code, report.message);
        return;
    }
  }
}

/**
 * The server's handle on a socket that lives in a node process: what the graph engine calls on a zeromq.js socket
 * (graph-node.ts AnySocket), each call one operation in the child. close() acts at once here (what the socket
 * still awaits fails, as zeromq.js's does) and tells the child.
 */
export class RemoteSocket {
  closed = false;
  lastEndpoint: string | null = null;
  linger = 0;
  #listener: ((event: MonitorEvent) => void) | null = null;
  #monitorEnded!: () => void;
  readonly #monitorDone = new Promise<void>((resolve) => (this.#monitorEnded = resolve));

  constructor(
    readonly host: NodeProcess,
    readonly node: string,
  ) {}

  async bind(address: string): Promise<void> {
    if (this.closed) throw coded('EBADF', 'Socket is closed');
    const bound = await this.host.request({ op: 'bind', id: this.host.nextId(), node: this.node, address });
    this.lastEndpoint = typeof bound === 'string' ? bound : null;
  }

  connect(address: string): void {
    if (this.closed) throw coded('EBADF', 'Socket is closed');
    this.host.post({ op: 'connect', node: this.node, address });
  }

  /**
   * Leaves an endpoint (a move: graph-move.ts). Settles once the child did it, so after every connect posted
   * before it too (one channel, in order); rejects as zeromq.js's disconnect() throws (ENOENT: never connected).
   */
  async disconnect(address: string): Promise<void> {
    if (this.closed) throw coded('EBADF', 'Socket is closed');
    await this.host.request({ op: 'disconnect', id: this.host.nextId(), node: this.node, address });
  }

  /** Unbinds an endpoint (a move's old one); the child holds the socket's sends and receives meanwhile (EBUSY). */
  async unbind(address: string): Promise<void> {
    if (this.closed) throw coded('EBADF', 'Socket is closed');
    await this.host.request({ op: 'unbind', id: this.host.nextId(), node: this.node, address });
  }

  send(message: zmq.MessageLike | zmq.MessageLike[]): Promise<void> {
    if (this.closed) return Promise.reject(coded('EAGAIN', 'Socket is closed'));
    const frames = (Array.isArray(message) ? message : [message]).map((frame) =>
      typeof frame === 'string' ? frame : Buffer.isBuffer(frame) ? frame : String(frame),
    );
    return this.host.request({ op: 'send', id: this.host.nextId(), node: this.node, frames }).then(() => undefined);
  }

  async receive(): Promise<Buffer[]> {
    if (this.closed) throw coded('EAGAIN', 'Socket is closed');
    const frames = (await this.host.request({
      op: 'receive',
      id: this.host.nextId(),
      node: this.node,
    })) as Uint8Array[];
    return frames.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }

  subscribe(...prefixes: string[]): void {
    this.host.post({ op: 'subscribe', node: this.node, prefixes });
  }

  unsubscribe(...prefixes: string[]): void {
    this.host.post({ op: 'unsubscribe', node: this.node, prefixes });
  }

  set sendTimeout(value: number) {
    this.host.post({ op: 'option', node: this.node, name: 'sendTimeout', value });
  }

  set receiveTimeout(value: number) {
    this.host.post({ op: 'option', node: this.node, name: 'receiveTimeout', value });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.post({ op: 'close', node: this.node });
    this.host.abandon(this.node);
  }

  /** Reports the child's monitor events for this socket until it closes or its process exits. */
  watch(listener: (event: MonitorEvent) => void): Promise<void> {
    this.#listener = listener;
    return this.#monitorDone;
  }

  monitored(event: MonitorEvent): void {
    this.#listener?.(event);
  }

  /** Its monitor ended in the child, or the child is gone: closed for good. */
  gone(): void {
    this.closed = true;
    this.#listener = null;
    this.#monitorEnded();
  }
}
