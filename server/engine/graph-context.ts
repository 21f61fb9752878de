/**
 * What every part of a graph run shares: its options, its nodes, its books, the events it emits (stamped with run
 * and t), the deliberate waits that do not count as idle, how a node finishes, and the facts read off the graph
 * (which peers a node may talk to, whether it needs an empty delimiter, a subscriber's prefixes). The run's
 * lifecycle is graph-run.ts; the role loops graph-roles.ts; one message graph-messages.ts; what the sockets'
 * monitors say graph-handshakes.ts.
 */
import { compatible, peerOf } from '../../shared/scenarios/graph.ts';
import type { EventInput, GraphNode, GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { EndpointPolicy, IpcClaims } from '../pipeline/endpoints.ts';
import { MessageBook, type Drop } from './books.ts';
import { NodeRuntime, pause } from './graph-node.ts';
import { NodeProcess, processPrograms, type ProcessExit } from './graph-process.ts';

export interface GraphRunOptions {
  /** The run's id, stamped on every event. */
  runId: string;
  scenario: string;
  graph: GraphSpec;
  policy: EndpointPolicy;
  /** Server-wide ipc claims: no two playgrounds bind one path. */
  claims: IpcClaims;
  /** The playground the run belongs to: its namespace for ipc paths and inproc names. */
  owner: string;
  /** Every event, stamped with run and t (seq 0: the log stamps it). */
  emit: (event: PlaygroundEvent) => void;
  /** Keep links between socket types that may not talk (tcp, ipc), to show ZeroMQ refusing them. */
  allowIncompatible?: boolean;
}

/** One copy per subscriber, booked with its subscriber as its only candidate (books.ts). */
export interface FanOutTarget {
  readonly candidates: readonly string[];
  readonly fanOut: true;
}

/** Why a node's role ended, as node:stopped says it (the run's own end is 'run-ended'). */
export type FinishReason = 'stop-message' | 'count' | 'done' | 'error' | 'removed' | 'killed';

export class GraphRunContext {
  readonly id: string;
  readonly nodes = new Map<string, NodeRuntime>();
  readonly books = new MessageBook();
  readonly abort = new AbortController();
  readonly startedAt = performance.now();
  /** Nodes ZeroMQ refused (a second PAIR peer, a socket with no compatible peer): what they send is dropped. */
  readonly refused = new Set<string>();
  /** Nodes that peers we do not control shook hands with. */
  readonly external = new Set<string>();
  /** Every loop the run awaits before it settles its books. */
  readonly loops: Promise<void>[] = [];
  /** The children of its process nodes, one per program that runs as a process (graph-process.ts). */
  readonly processes: NodeProcess[] = [];
  ended = false;
  lastProgress = performance.now();
  /**
   * Requesters waiting for a reply now: the message of the request each sent last (set when it is booked, cleared
   * when its reply came: graph-roles.ts). Read at the run's end: a request lost with a killed node is a reply that
   * can never come (node:stopped `reply-lost`).
   */
  readonly awaitingReply = new Map<string, number>();
  /** Awaited requests lost with a killed node (unhandled in its hands, or queued only for it): message -> that node. */
  readonly #requestsLost = new Map<number, string | null>();
  /**
   * Facts read off the graph per message (linked peers, a subscriber's fan-out target), kept for the graph they
   * were read from: a live edit replaces options.graph (graph-live.ts), which drops them.
   */
  #factsOf: GraphSpec | null = null;
  readonly #peersOf = new Map<string, readonly string[]>();
  readonly #fanOutTargets = new Map<string, readonly FanOutTarget[]>();

  constructor(
    readonly options: GraphRunOptions,
    /** Called whenever a node finished: what its stop sets off, and the run may be over. */
    private readonly onFinished: (node: NodeRuntime, reason: FinishReason) => void,
  ) {
    this.id = options.runId;
    // A program with a process node runs in a child of its own, all its sockets there (graph-process.ts).
    const processOf = new Map<string, NodeProcess>();
    for (const program of processPrograms(options.graph)) {
      const child = this.startProcess(options.graph.nodes.filter((node) => program.includes(node.id)));
      for (const id of program) processOf.set(id, child);
    }
    for (const node of options.graph.nodes)
      this.nodes.set(node.id, new NodeRuntime(node, processOf.get(node.id) ?? null));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Process nodes

  /**
   * Forks the child process of one program (its sockets made there), ended with the run: at the run's start, or
   * for a process node added while the run flows (graph-live.ts).
   */
  startProcess(specs: GraphNode[]): NodeProcess {
    const child = new NodeProcess(
      specs,
      (exited, exit) => this.#processExited(exited, exit),
      (node, code, message) => {
        const runtime = this.nodes.get(node);
        if (runtime) this.nodeFailed(runtime, Object.assign(new Error(message), { code }));
      },
    );
    this.processes.push(child);
    return child;
  }

  /** Says which nodes run as processes, and their pids (right after graph:started). */
  announceProcesses(): void {
    for (const child of this.processes) this.announceProcess(child);
  }

  /** node:process `started` for each socket of one child, with its pid. */
  announceProcess(child: NodeProcess): void {
    const program = child.nodes[0]!.id;
    for (const spec of child.nodes) {
      const event: Extract<EventInput, { type: 'node:process' }> = {
        type: 'node:process',
        node: spec.id,
        action: 'started',
        program,
      };
      if (child.pid !== null) event.pid = child.pid;
      this.emit(event);
    }
  }

  /** Ends every node process (resumed first if hung); resolves once each has exited. */
  async closeProcesses(): Promise<void> {
    await Promise.all(this.processes.map((child) => child.close()));
  }

  /**
   * A node process ended without the server asking (a crash, the OOM killer, a kill from outside): its program
   * died as a killed one does (graph-signals.ts), and says so with a node:error per socket. What it held unhandled
   * and what only it could take are lost with it, the same way.
   */
  #processExited(child: NodeProcess, exit: ProcessExit): void {
    if (this.ended || child.killRequested) return;
    const program = child.nodes
      .map((spec) => this.nodes.get(spec.id))
      .filter((node): node is NodeRuntime => node !== undefined && !node.killed && !node.removed && !node.finished);
    if (program.length === 0) return;
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    for (const node of program) {
      // Gone as a killed program is: nothing more is attributed to it, its pending operations end quietly.
      node.killed = true;
      this.emit({
        type: 'node:error',
        node: node.id,
        code: 'PROCESS_EXITED',
        message: `its process (pid ${child.pid}) exited by itself (${how}): what it held is lost with it`,
      });
    }
    for (const node of program) {
      if (node.holding === null) continue;
      this.reportDrops([this.books.unhandled(node.holding, node.id)]);
      node.holding = null;
    }
    this.reportDrops(this.books.kill(program.map((node) => node.id)));
    for (const node of program) {
      node.release();
      this.finish(node, 'error');
    }
    this.progress();
  }

  node(id: string): NodeRuntime {
    return this.nodes.get(id)!;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Events

  t(): number {
    return Math.max(0, performance.now() - this.startedAt);
  }

  /**
   * Stamps run and t; after the end only the settling drops and graph:ended go out. `input` becomes the event
   * (stamped in place, one object per event on the per-message path): pass a fresh object. Its fields keep their
   * order, seq, run and t last, as the copy this once made had them.
   */
  emit(input: EventInput, afterEnd = false): void {
    if (this.ended && !afterEnd) return;
    const event = input as PlaygroundEvent;
    event.seq = 0;
    event.run = this.id;
    event.t = this.t();
    this.options.emit(event);
  }

  reportDrops(drops: Drop[], afterEnd = false): void {
    for (const drop of drops) {
      if (this.awaitingReply.size > 0 && (drop.reason === 'unhandled' || drop.reason === 'killed'))
        this.#noteRequestLost(drop);
      this.emit({ type: 'message:dropped', ...drop }, afterEnd);
    }
  }

  /** A drop with a killed node: if it is a request a requester awaits the reply to, that reply will never come. */
  #noteRequestLost(drop: Drop): void {
    for (const message of this.awaitingReply.values()) {
      // `peer` is the killed node (null: one of several killed candidates).
      if (message === drop.message) this.#requestsLost.set(message, drop.peer);
    }
  }

  /**
   * Whether `node` waits for a reply that will never come: its request was lost with a killed node, already (in
   * its hands, or queued only for it) or, at a natural end (`settling`), by the books' settling (parked on the
   * pipe to a killed peer while live ones took the others). Undefined if not; the killed node (or null when not
   * one) if so.
   */
  replyLostWith(node: NodeRuntime, settling: boolean): string | null | undefined {
    const message = this.awaitingReply.get(node.id);
    if (message === undefined) return undefined;
    if (this.#requestsLost.has(message)) return this.#requestsLost.get(message)!;
    return settling ? this.books.killedCandidateOf(message) : undefined;
  }

  progress(): void {
    this.lastProgress = performance.now();
  }

  /** A deliberate wait: the run does not count it as idle. */
  async pause(node: NodeRuntime, ms: number): Promise<void> {
    if (ms <= 0) return;
    node.pausing = true;
    try {
      await pause(ms, this.abort.signal);
    } finally {
      node.pausing = false;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // A node's end

  finish(node: NodeRuntime, reason: FinishReason, stoppedReading = false): void {
    if (node.finished) return;
    node.finished = true;
    if (stoppedReading) node.stoppedReading = true;
    this.emit({ type: 'node:stopped', node: node.id, reason });
    // A node that stops reading closes its socket, as the series' programs exit: what waits for it is lost.
    if (stoppedReading && node.spec.role.kind !== 'request') node.socket.close();
    this.onFinished(node, reason);
  }

  nodeFailed(node: NodeRuntime, error: unknown): void {
    // A killed node's pending send or receive fails with its closed socket: that is its death, not an error.
    if (this.ended || node.killed) return;
    const code = (error as { code?: string }).code ?? 'ERROR';
    this.emit({ type: 'node:error', node: node.id, code, message: (error as Error).message ?? String(error) });
    this.finish(node, 'error');
  }

  // -------------------------------------------------------------------------------------------------------------
  // Graph facts

  /** The graph facts kept so far, unless the graph changed since (then none). */
  #facts(): void {
    if (this.#factsOf === this.options.graph) return;
    this.#factsOf = this.options.graph;
    this.#peersOf.clear();
    this.#fanOutTargets.clear();
  }

  /** Nodes linked to `node` whose type may talk to it (read once per graph: this is asked per message). */
  linkedPeers(node: NodeRuntime): readonly string[] {
    this.#facts();
    let peers = this.#peersOf.get(node.id);
    if (peers) return peers;
    const found: string[] = [];
    for (const link of this.options.graph.links) {
      const other = peerOf(link, node.id);
      if (other === null || found.includes(other)) continue;
      if (compatible(node.spec.socket, this.node(other).spec.socket)) found.push(other);
    }
    peers = Object.freeze(found);
    this.#peersOf.set(node.id, peers);
    return peers;
  }

  /**
   * A publisher's copies, one per linked peer in linkedPeers' order, as the books take them (the same objects for
   * every message: a message for every subscriber passes this list as it is).
   */
  fanOutTargets(publisher: NodeRuntime): readonly FanOutTarget[] {
    const peers = this.linkedPeers(publisher);
    let targets = this.#fanOutTargets.get(publisher.id);
    if (!targets) {
      targets = Object.freeze(
        peers.map((peer): FanOutTarget => Object.freeze({ candidates: Object.freeze([peer]), fanOut: true })),
      );
      this.#fanOutTargets.set(publisher.id, targets);
    }
    return targets;
  }

  /** A DEALER talking to a REP must add the empty delimiter a REQ would (zmq_socket(3)). */
  needsDelimiter(node: NodeRuntime): boolean {
    return (
      node.spec.socket === 'DEALER' && this.linkedPeers(node).some((peer) => this.node(peer).spec.socket === 'REP')
    );
  }

  /** A subscriber's prefixes; an XSUB proxy takes what its XPUB's subscribers ask for. */
  prefixesOf(node: GraphNode): string[] {
    if (node.subscribe) return node.subscribe;
    if (node.socket === 'XSUB' && node.role.kind === 'proxy') {
      const backend = this.nodes.get(node.role.backend);
      return backend ? this.linkedPeers(backend).flatMap((peer) => this.prefixesOf(this.node(peer).spec)) : [];
    }
    return [];
  }
}
