/**
 * A run of a graph of real ZeroMQ sockets: every node is one zeromq.js socket of its type, every link a bind on
 * one side and a connect on the other, every role a loop over that socket. What the sockets do becomes events
 * (shared/protocol/graph.ts): each message on the socket that sent it and on the one that received it (the
 * receiving side attributes it, books.ts), copies dropped with where and why, what ZeroMQ refused. Knows zeromq,
 * never Fastify. The ZeroMQ behaviour it relies on is verified in patterns.test.ts (docs/zmq-patterns.md).
 *
 *   bind every binding side (endpoints checked as the pipeline's: endpoints.ts; an ipc link with bindAfter is
 *   bound later by its sending node) -> connect every other side (a node with startDelayMs connects later) ->
 *   every role loop -> ends when the senders are done and nothing moved for drainMs (or every node with a stop
 *   condition stopped), or when stopped -> close, settle the books.
 *
 * This file holds that lifecycle; what the parts share is graph-context.ts, the role loops graph-roles.ts, one
 * message graph-messages.ts, the monitors' news and ZeroMQ's silent refusals graph-handshakes.ts.
 */
import * as zmq from 'zeromq';
import { checkGraph, linkEnds } from '../../shared/scenarios/graph.ts';
import type { GraphLink, GraphNode, GraphSummary, Transport } from '../../shared/protocol/index.ts';
import { GraphRunContext, type FinishReason, type GraphRunOptions } from './graph-context.ts';
import { Handshakes } from './graph-handshakes.ts';
import {
  addLinkedNode,
  addSubscriber,
  addWorker,
  removeNode,
  setSubscriptions,
  type LiveWiring,
} from './graph-live.ts';
import { forward } from './graph-messages.ts';
import type { NodeRuntime } from './graph-node.ts';
import { runRole } from './graph-roles.ts';
import { bindLater } from './graph-later-binds.ts';
import { signalNode, type NodeSignal } from './graph-signals.ts';
import { moveNode } from './graph-move.ts';
import { setPace } from './graph-pace.ts';
import { GraphError, endpointRefusal, requestedAddress } from './graph-addresses.ts';
import { CHILD_BIND_ANSWER_MS, answerWithin } from './graph-process.ts';
import { CodedError } from '../errors.ts';
import { text } from '../../shared/protocol/server-text.ts';

export { GraphError } from './graph-addresses.ts';
export type { GraphRunOptions } from './graph-context.ts';

const DEFAULT_DRAIN_MS = 1500;

export class GraphRun {
  readonly id: string;
  /** Settles with the summary once the run has ended and every socket is closed. */
  readonly done: Promise<GraphSummary>;
  readonly #run: GraphRunContext;
  readonly #handshakes: Handshakes;
  readonly #claimed: string[] = [];
  /** Every endpoint bound (a process node's child has started and bound): signals act from then on. */
  #bound = false;
  #resolveDone!: (summary: GraphSummary) => void;
  #drainTimer: NodeJS.Timeout | null = null;
  /** Every link's address as bound at the start (and the links added live): where a new subscriber dials. */
  readonly #addresses = new Map<GraphLink, string>();

  constructor(options: GraphRunOptions) {
    const problems = checkGraph(options.graph, { allowIncompatible: options.allowIncompatible });
    if (problems.length > 0) throw new GraphError(problems);
    this.#run = new GraphRunContext(options, (node, reason) => this.#nodeFinished(node, reason));
    this.#handshakes = new Handshakes(this.#run);
    this.id = options.runId;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  get ended(): boolean {
    return this.#run.ended;
  }

  /** Binds, connects and starts every role. Rejects (after closing what it opened) when an endpoint is refused. */
  async start(): Promise<void> {
    const run = this.#run;
    const graph = run.options.graph;
    run.emit({
      type: 'graph:started',
      scenario: run.options.scenario,
      graph,
      capabilities: Object.fromEntries(Object.entries(zmq.capability).map(([name, has]) => [name, has === true])),
    });
    run.announceProcesses();
    for (const node of run.nodes.values()) {
      this.#watch(node);
      // subscribe() with no argument would take everything (zeromq.js): a SUB with no prefix subscribes to nothing.
      const prefixes = run.prefixesOf(node.spec);
      if (node.spec.socket === 'SUB' && prefixes.length > 0)
        (node.socket as unknown as zmq.Subscriber).subscribe(...prefixes);
    }
    let addresses: Map<GraphLink, string>;
    try {
      addresses = await this.#bindAll();
    } catch (error) {
      // Stopped while binding (a process node's child takes a moment to start and bind): its binds failed because
      // the stop closed its sockets and ended its children. The stop's doing, not a failed start.
      if (run.ended) return;
      await this.#close('failed', error);
      throw error;
    }
    for (const [link, address] of addresses) this.#addresses.set(link, address);
    this.#bound = true;
    // Idleness counts from here: a process node's child takes a moment to start and bind (graph-process.ts).
    run.progress();
    for (const node of run.nodes.values()) {
      const delay = node.spec.startDelayMs ?? 0;
      run.loops.push(
        (async () => {
          if (node.spec.startAfter !== undefined) {
            node.pausing = true;
            await run.node(node.spec.startAfter).firstReceipt(run.abort.signal);
            node.pausing = false;
          }
          await run.pause(node, delay);
          // Killed before it started (graph-signals.ts): a dead program connects nowhere.
          if (run.ended || node.killed) return;
          this.#connect(node, addresses);
          await runRole(run, node);
        })().catch((error) => run.nodeFailed(node, error)),
      );
    }
    this.#checkEnd();
  }

  /** Ends the run now; what is still on the way counts as in flight. */
  async stop(): Promise<GraphSummary> {
    await this.#close('stopped');
    return await this.done;
  }

  /**
   * Adds a node with one link to a node of the run while messages flow (graph-live.ts addLinkedNode): it connects
   * where its peer binds, or binds an endpoint of its own that its peer connects to. Throws a CodedError at once
   * when the run cannot take it; the promise settles once it is wired (a bind, a process node's child started),
   * rejecting if its endpoint is refused.
   */
  addNode(node: GraphNode, link: GraphLink): Promise<void> {
    // As for a removal: while the run binds, its endpoints are not known yet.
    if (!this.#bound && !this.#run.ended)
      throw new CodedError('PG_ERR_VALIDATION', text('graph.linkedStarting', { node: node.id.slice(0, 64) }));
    const wired = addLinkedNode(this.#run, this.#wiring(), node, link);
    this.#checkEnd();
    return wired;
  }

  /**
   * Adds a subscriber while messages flow (graph-live.ts): a SUB with `node`'s prefixes connected to `publisher`
   * where it is bound in this run. Returns its link. Throws a CodedError when the run cannot take it.
   */
  addSubscriber(node: GraphNode, publisher: string): GraphLink {
    return addSubscriber(this.#run, this.#wiring(), node, publisher);
  }

  /**
   * Adds a PULL worker while messages flow (graph-live.ts): connected to `pusher` (a PUSH) where it is bound in this
   * run. Returns its link. Throws a CodedError when the run cannot take it.
   */
  addWorker(node: GraphNode, pusher: string): GraphLink {
    return addWorker(this.#run, this.#wiring(), node, pusher);
  }

  /**
   * Removes a node while messages flow (graph-live.ts): a subscriber's socket closes; any other node's program dies
   * as a kill does, and the node leaves the graph. Throws a CodedError when the run or the node cannot take it.
   */
  removeNode(id: string): void {
    // As for a kill (signalNode): while a process node's child binds for the run, a SIGKILL would fail the start.
    if (!this.#bound && !this.#run.ended)
      throw new CodedError('PG_ERR_VALIDATION', text('graph.removeStarting', { node: id.slice(0, 64) }));
    removeNode(this.#run, this.#wiring(), id);
    this.#checkEnd();
  }

  /** Changes a subscriber's prefixes while messages flow, on its live socket (graph-live.ts). */
  setSubscriptions(id: string, prefixes: string[]): void {
    setSubscriptions(this.#run, id, prefixes);
  }

  /**
   * Kills, hangs or resumes the program of a node while messages flow (graph-signals.ts). Returns the nodes it
   * acted on. Throws a CodedError when the run or the node cannot take it.
   */
  signalNode(id: string, signal: NodeSignal): string[] {
    // While the binds are under way a process node's child is binding for the run: SIGSTOPped there, the start
    // would wait for it; SIGKILLed, the start would fail. Refused for that moment, with a text to act on.
    if (!this.#bound && !this.#run.ended)
      throw new CodedError('PG_ERR_VALIDATION', text('graph.signalStarting', { node: id.slice(0, 64) }));
    const nodes = signalNode(this.#run, id, signal);
    this.#checkEnd();
    return nodes;
  }

  /** Changes a node's pace while messages flow (graph-pace.ts): its interval, or its work per message. */
  setPace(id: string, ms: number): void {
    setPace(this.#run, id, ms);
  }

  /**
   * Moves a node's links (or its link to `peer`) to another transport while messages flow (graph-move.ts).
   * Resolves with its links as they are now. Throws a CodedError when the run or the node cannot take it.
   */
  async moveNode(id: string, transport: Transport, peer?: string): Promise<GraphLink[]> {
    return await moveNode(this.#run, this.#wiring(), id, transport, peer);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Wiring

  #wiring(): LiveWiring {
    return {
      addresses: this.#addresses,
      watch: (node) => this.#watch(node),
      connect: (node, addresses) => this.#connect(node, addresses),
      claimed: this.#claimed,
    };
  }

  #watch(node: NodeRuntime): void {
    node.monitorDone = node.watch((event) => this.#handshakes.onMonitor(node, event)).catch(() => {});
  }

  async #bindAll(): Promise<Map<GraphLink, string>> {
    const run = this.#run;
    const addresses = new Map<GraphLink, string>();
    /** One endpoint per binding node, transport and requested address: a PUB binds once for all its SUBs. */
    const shared = new Map<string, string>();
    const index = new Map([...run.nodes.keys()].map((id, i) => [id, i]));
    const bindOnce = async (
      binder: string,
      link: Pick<GraphLink, 'transport' | 'address' | 'bindAfter'> & { from: string; to: string },
    ) => {
      const key = `${binder}|${link.transport}|${link.address ?? ''}`;
      let address = shared.get(key);
      if (address === undefined) {
        const node = run.node(binder);
        const requested = await requestedAddress(link, index.get(binder)!, run.options, this.#claimed);
        const bind = async (atStart: boolean): Promise<string> => {
          // A child stopped from outside before it answers would hold the start (the visitor's request) until the
          // run is stopped: bounded (a later bind waits in the node's own send loop, which a hang may hold).
          if (node.process && atStart) await answerWithin(node.socket.bind(requested), CHILD_BIND_ANSWER_MS);
          else await node.socket.bind(requested);
          const bound = link.transport === 'inproc' ? requested : (node.socket.lastEndpoint ?? requested);
          if (link.transport === 'ipc') run.options.claims.bound(bound.slice('ipc://'.length), run.options.owner);
          run.emit({ type: 'node:bound', node: binder, transport: link.transport, address: bound });
          return bound;
        };
        if (link.bindAfter === undefined) {
          // ZeroMQ refusing it (an address the graph gives twice, a tcp port taken: EADDRINUSE) fails the start with
          // a text to act on (400), not an internal error.
          address = await bind(true).catch((error: unknown) => {
            if (node.process && (error as { code?: unknown }).code === 'ETIMEDOUT')
              throw new CodedError(
                'PG_ERR_VALIDATION',
                text('graph.startNoAnswer', { node: binder, ms: CHILD_BIND_ANSWER_MS }),
              );
            throw endpointRefusal(error, link, requested);
          });
        } else {
          // An ipc path is claimed now and known before it exists: its peers dial it from the start (ZeroMQ
          // retries), and the node binds it on the same socket once it has sent that many messages.
          address = requested;
          bindLater(run, node, link.bindAfter, async () => void (await bind(false)));
        }
        shared.set(key, address);
      }
      return address;
    };
    for (const link of run.options.graph.links) addresses.set(link, await bindOnce(linkEnds(link).binder, link));
    for (const node of run.options.graph.nodes) {
      for (const endpoint of node.listen ?? []) await bindOnce(node.id, { ...endpoint, from: node.id, to: 'outside' });
    }
    return addresses;
  }

  #connect(node: NodeRuntime, addresses: Map<GraphLink, string>): void {
    for (const [link, address] of addresses) {
      const { binder, connecter } = linkEnds(link);
      if (connecter !== node.id) continue;
      const peer = this.#run.node(binder);
      this.#handshakes.dialing(node, peer, address, link);
      node.socket.connect(address);
      this.#run.emit({ type: 'node:connecting', node: node.id, peer: binder, address });
      if (link.transport === 'inproc') this.#handshakes.joinedInproc(node, peer);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // End

  /**
   * A node finished: one that stopped by its own condition announces it if it says so (the zguide's sink sends
   * "KILL"), the other sockets of its program (`stop.withNode`) stop with it, and the run may be over.
   */
  #nodeFinished(node: NodeRuntime, reason: FinishReason): void {
    const run = this.#run;
    const announce = node.spec.stop?.announce;
    if (announce && (reason === 'stop-message' || reason === 'count') && !run.ended) {
      const through = run.node(announce.through);
      run.loops.push(forward(run, through, announce.body, null).catch((error) => run.nodeFailed(through, error)));
    }
    for (const other of run.nodes.values()) {
      if (other.spec.stop?.withNode === node.id && !other.finished) run.finish(other, reason, true);
    }
    this.#checkEnd();
  }

  /**
   * Ends the run when it has run its course: every sender done and every node with a stop condition stopped with
   * nothing pending; or, with senders in the graph, nothing sent or received for drainMs while no sender is in a
   * deliberate wait (a REQ waiting for a reply that never comes, a refused PAIR peer, a subscriber that will never
   * get its 90th message are stuck, as the series' programs are). A graph with no sender (servers waiting for
   * peers we do not control) ends when its stop conditions are met, or when stopped.
   */
  #checkEnd(): void {
    const run = this.#run;
    if (run.ended) return;
    const nodes = [...run.nodes.values()];
    const senders = nodes.filter((n) => n.spec.role.kind === 'request' || n.spec.role.kind === 'send');
    // A broker waiting for its workers (proxy with waitForPeers) is a deliberate wait too.
    // So is a node a visitor hung (graph-signals.ts): the run waits for its resume, its kill or a Stop.
    const brokerWaiting = nodes.some((n) => (n.spec.role.kind === 'proxy' && n.pausing) || (n.hung && !n.finished));
    const stoppers = nodes.filter((n) => n.spec.stop !== undefined);
    const allStopped = stoppers.every((n) => n.finished);
    if (senders.length === 0) {
      if (stoppers.length > 0 && allStopped) void this.#close('completed');
      return;
    }
    if (senders.every((n) => n.finished) && allStopped && run.books.pending === 0) {
      void this.#close('completed');
      return;
    }
    const drainMs = run.options.graph.drainMs ?? DEFAULT_DRAIN_MS;
    const idle = performance.now() - run.lastProgress;
    // A sender whose sends a move holds (graph-move.ts: over a child's round trips, which may take longer than the
    // drain) waits for the move, not for nothing: the run goes on once the move lets them go.
    if (idle >= drainMs && !brokerWaiting && senders.every((n) => n.finished || (!n.pausing && !n.sendsHeld))) {
      void this.#close('completed');
      return;
    }
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    this.#drainTimer = setTimeout(
      () => {
        this.#drainTimer = null;
        this.#checkEnd();
      },
      Math.max(drainMs - idle, 50) + 1,
    );
  }

  async #close(reason: 'completed' | 'stopped' | 'failed', error?: unknown): Promise<void> {
    const run = this.#run;
    if (run.ended) return;
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    if (error !== undefined) {
      const code = (error as { code?: string }).code ?? 'ERROR';
      run.emit({ type: 'node:error', node: 'graph', code, message: (error as Error).message ?? String(error) });
    }
    for (const node of run.nodes.values()) {
      if (!node.finished) {
        node.finished = true;
        // A requester whose request was lost with a killed node is not merely stopped by the end: it would wait
        // for that reply for ever (the run ended because nothing else could happen). Said with the node it died in.
        // A stopped run settles nothing (what is pending stays in flight): only a loss already booked is said then.
        const lostWith = run.replyLostWith(node, reason !== 'stopped');
        if (lostWith === undefined) run.emit({ type: 'node:stopped', node: node.id, reason: 'run-ended' });
        else if (lostWith === null) run.emit({ type: 'node:stopped', node: node.id, reason: 'reply-lost' });
        else run.emit({ type: 'node:stopped', node: node.id, reason: 'reply-lost', lostWith });
      }
    }
    const stoppedNodes = new Set([...run.nodes.values()].filter((n) => n.stoppedReading).map((n) => n.id));
    run.ended = true;
    run.abort.abort();
    for (const node of run.nodes.values()) if (!node.socket.closed) node.socket.close();
    // Process nodes' children end too (a hung one is resumed to exit; one that does not is SIGKILLed).
    const processesEnded = run.closeProcesses();
    // A node still hung lets go: its loops end, and what waited for it is lost with it (as a hung pipeline worker).
    for (const node of run.nodes.values()) {
      if (node.hung) stoppedNodes.add(node.id);
      node.release();
    }
    await Promise.allSettled([...run.loops, ...[...run.nodes.values()].map((n) => n.monitorDone), processesEnded]);
    for (const file of this.#claimed) run.options.claims.release(file, run.options.owner);
    const drops = run.books.settle({
      stopped: reason === 'stopped',
      stoppedNodes,
      externalPeers: run.external,
      refusedNodes: run.refused,
    });
    run.reportDrops(drops, true);
    const summary = run.books.summary(run.t());
    run.emit({ type: 'graph:ended', reason, summary }, true);
    this.#resolveDone(summary);
  }
}
