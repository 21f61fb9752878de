/**
 * A run of a graph of real ZeroMQ sockets: every node is one zeromq.js socket of its type, every link a bind on
 * one side and a connect on the other, every role a loop over that socket. What the sockets do becomes events
 * (shared/protocol/graph.ts): each message on the socket that sent it and on the one that received it (the
 * receiving side attributes it, books.ts), copies dropped with where and why, what ZeroMQ refused. Knows zeromq,
 * never Fastify. The ZeroMQ behaviour it relies on is verified in patterns.test.ts (docs/zmq-patterns.md).
 *
 *   bind every binding side (endpoints checked as the pipeline's: endpoints.ts) -> connect every other side (a
 *   node with startDelayMs connects later) -> every role loop -> ends when the senders are done and nothing moved
 *   for drainMs (or every node with a stop condition stopped), or when stopped -> close, settle the books.
 */
import * as zmq from 'zeromq';
import {
  checkGraph,
  compatible,
  expandMessages,
  linkEnds,
  matchesSubscription,
  peerOf,
  transform,
} from '../../shared/scenarios/graph.ts';
import type {
  EventInput,
  GraphLink,
  GraphNode,
  GraphSpec,
  GraphSummary,
  PlaygroundEvent,
} from '../../shared/protocol/index.ts';
import type { EndpointPolicy, IpcClaims } from '../pipeline/endpoints.ts';
import { watchSocket, type MonitorEvent } from '../pipeline/monitor.ts';
import { MessageBook, type Drop } from './books.ts';
import { NodeRuntime, pause, preview, printableIdentity } from './graph-node.ts';
import { GraphError, requestedAddress } from './graph-addresses.ts';

export { GraphError } from './graph-addresses.ts';

const DEFAULT_DRAIN_MS = 1500;

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

export class GraphRun {
  readonly id: string;
  /** Settles with the summary once the run has ended and every socket is closed. */
  readonly done: Promise<GraphSummary>;
  readonly #options: GraphRunOptions;
  readonly #nodes = new Map<string, NodeRuntime>();
  readonly #books = new MessageBook();
  readonly #abort = new AbortController();
  readonly #start = performance.now();
  readonly #claimed: string[] = [];
  readonly #refused = new Set<string>();
  readonly #external = new Set<string>();
  /** Links between types that may not talk, by the connecting node and the address it dials. */
  readonly #incompatible = new Map<string, GraphLink>();
  /**
   * A bound PAIR's peers of ours, in the order their own handshake was seen (inproc: their connect), and how many
   * handshakes the PAIR itself reported: the n-th arrival is the n-th handshake, served or refused.
   */
  readonly #pairs = new Map<string, { arrivals: string[]; handshakes: number; decided: number }>();
  readonly #loops: Promise<void>[] = [];
  #resolveDone!: (summary: GraphSummary) => void;
  #ended = false;
  #lastProgress = performance.now();
  #drainTimer: NodeJS.Timeout | null = null;

  constructor(options: GraphRunOptions) {
    const problems = checkGraph(options.graph, { allowIncompatible: options.allowIncompatible });
    if (problems.length > 0) throw new GraphError(problems);
    this.#options = options;
    this.id = options.runId;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    for (const node of options.graph.nodes) this.#nodes.set(node.id, new NodeRuntime(node));
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Binds, connects and starts every role. Rejects (after closing what it opened) when an endpoint is refused. */
  async start(): Promise<void> {
    const graph = this.#options.graph;
    this.#emit({
      type: 'graph:started',
      scenario: this.#options.scenario,
      graph,
      capabilities: Object.fromEntries(Object.entries(zmq.capability).map(([name, has]) => [name, has === true])),
    });
    for (const node of this.#nodes.values()) {
      node.monitorDone = watchSocket(node.socket, (event) => this.#onMonitor(node, event)).catch(() => {});
      // subscribe() with no argument would take everything (zeromq.js): a SUB with no prefix subscribes to nothing.
      const prefixes = this.#prefixesOf(node.spec);
      if (node.spec.socket === 'SUB' && prefixes.length > 0)
        (node.socket as unknown as zmq.Subscriber).subscribe(...prefixes);
    }
    let addresses: Map<GraphLink, string>;
    try {
      addresses = await this.#bindAll();
    } catch (error) {
      await this.#close('failed', error);
      throw error;
    }
    for (const node of this.#nodes.values()) {
      const delay = node.spec.startDelayMs ?? 0;
      this.#loops.push(
        (async () => {
          if (node.spec.startAfter !== undefined) {
            node.pausing = true;
            await this.#nodes.get(node.spec.startAfter)!.firstReceipt(this.#abort.signal);
            node.pausing = false;
          }
          await this.#pause(node, delay);
          if (this.#ended) return;
          this.#connect(node, addresses);
          await this.#runRole(node);
        })().catch((error) => this.#nodeFailed(node, error)),
      );
    }
    this.#checkEnd();
  }

  /** Ends the run now; what is still on the way counts as in flight. */
  async stop(): Promise<GraphSummary> {
    await this.#close('stopped');
    return await this.done;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Wiring

  async #bindAll(): Promise<Map<GraphLink, string>> {
    const addresses = new Map<GraphLink, string>();
    /** One endpoint per binding node, transport and requested address: a PUB binds once for all its SUBs. */
    const shared = new Map<string, string>();
    const index = new Map([...this.#nodes.keys()].map((id, i) => [id, i]));
    const bindOnce = async (
      binder: string,
      link: Pick<GraphLink, 'transport' | 'address'> & { from: string; to: string },
    ) => {
      const key = `${binder}|${link.transport}|${link.address ?? ''}`;
      let address = shared.get(key);
      if (address === undefined) {
        const node = this.#nodes.get(binder)!;
        const requested = await requestedAddress(link, index.get(binder)!, this.#options, this.#claimed);
        await node.socket.bind(requested);
        address = link.transport === 'inproc' ? requested : (node.socket.lastEndpoint ?? requested);
        if (link.transport === 'ipc') this.#options.claims.bound(address.slice('ipc://'.length), this.#options.owner);
        shared.set(key, address);
        this.#emit({ type: 'node:bound', node: binder, transport: link.transport, address });
      }
      return address;
    };
    for (const link of this.#options.graph.links) addresses.set(link, await bindOnce(linkEnds(link).binder, link));
    for (const node of this.#options.graph.nodes) {
      for (const endpoint of node.listen ?? []) await bindOnce(node.id, { ...endpoint, from: node.id, to: 'outside' });
    }
    return addresses;
  }

  /** What a link's binder binds, checked against the endpoint policy; ipc paths claimed server-wide. */

  #connect(node: NodeRuntime, addresses: Map<GraphLink, string>): void {
    for (const [link, address] of addresses) {
      const { binder, connecter } = linkEnds(link);
      if (connecter !== node.id) continue;
      const peer = this.#nodes.get(binder)!;
      node.peerAt.set(address, binder);
      if (!compatible(node.spec.socket, peer.spec.socket)) this.#incompatible.set(`${node.id}|${address}`, link);
      node.socket.connect(address);
      this.#emit({ type: 'node:connecting', node: node.id, peer: binder, address });
      if (link.transport === 'inproc') {
        // inproc has no monitor events at all (zmq-facts section 5): the join is known from here.
        node.peerJoined();
        peer.peerJoined();
        if (peer.spec.socket === 'PAIR' && node.spec.socket === 'PAIR') {
          this.#pairState(peer).arrivals.push(node.id);
          this.#pairState(peer).handshakes++;
          this.#resolvePair(peer);
        }
      }
    }
  }

  #onMonitor(node: NodeRuntime, event: MonitorEvent): void {
    if (this.#ended) return;
    this.#emit({
      type: 'socket:event',
      node: node.id,
      kind: event.kind,
      address: event.address,
      ...(event.interval !== undefined ? { interval: event.interval } : {}),
      ...(event.error !== undefined ? { error: event.error } : {}),
    });
    const isConnecter = node.peerAt.has(event.address);
    switch (event.kind) {
      case 'connect':
        if (isConnecter) node.connections.set(event.address, 'connected');
        return;
      case 'handshake': {
        node.peerJoined();
        if (isConnecter) {
          node.connections.set(event.address, 'handshaken');
          const binder = this.#nodes.get(node.peerAt.get(event.address)!)!;
          if (node.spec.socket === 'PAIR' && binder.spec.socket === 'PAIR') {
            this.#pairState(binder).arrivals.push(node.id);
            this.#resolvePair(binder);
          }
          return;
        }
        if (node.live > this.#internalPeers(node)) this.#external.add(node.id);
        if (node.spec.socket === 'PAIR') {
          this.#pairState(node).handshakes++;
          this.#resolvePair(node);
        }
        return;
      }
      case 'disconnect': {
        if (isConnecter && node.connections.get(event.address) === 'connected') {
          // Connected and dropped before any handshake: the two socket types may not talk.
          node.connections.delete(event.address);
          const link = this.#incompatible.get(`${node.id}|${event.address}`);
          const peer = node.peerAt.get(event.address) ?? null;
          if (link) this.#refuseIncompatible(node, peer);
          return;
        }
        node.connections.delete(event.address);
        node.peerLeft();
        // A bound PAIR whose peer left serves the next one (a refused peer stays connected but is never served:
        // a disconnect here is taken to be the served peer's).
        if (!isConnecter && node.spec.socket === 'PAIR') node.pairPeer = undefined;
        return;
      }
      default:
        return;
    }
  }

  /** Peers of ours that connect to this bound node over tcp or ipc (inproc joins are counted apart). */
  #internalPeers(node: NodeRuntime): number {
    let count = 0;
    for (const link of this.#options.graph.links) {
      if (linkEnds(link).binder === node.id && link.transport !== 'inproc') count++;
    }
    return count;
  }

  #pairState(server: NodeRuntime) {
    let state = this.#pairs.get(server.id);
    if (!state) this.#pairs.set(server.id, (state = { arrivals: [], handshakes: 0, decided: 0 }));
    return state;
  }

  /**
   * A bound PAIR serves the first peer to shake hands and refuses every other while that one is there (a refused
   * peer stays connected, never served). Its own monitor counts the handshakes; the peers' monitors say who they
   * were, in order. A PAIR no node of ours connects to has only peers we do not control: those are told apart
   * by count alone.
   */
  #resolvePair(server: NodeRuntime): void {
    const state = this.#pairState(server);
    const hasOwnPeers = this.#options.graph.links.some((link) => linkEnds(link).binder === server.id);
    if (!hasOwnPeers) {
      while (state.decided < state.handshakes) {
        state.decided++;
        if (server.pairPeer === undefined) server.pairPeer = null;
        else this.#refusePairPeer(server, null);
      }
      return;
    }
    while (state.decided < state.arrivals.length && state.decided < state.handshakes) {
      const peer = state.arrivals[state.decided++]!;
      if (server.pairPeer === undefined) server.pairPeer = peer;
      else this.#refusePairPeer(server, peer);
    }
  }

  #refusePairPeer(server: NodeRuntime, refused: string | null): void {
    this.#books.countRefusal();
    this.#emit({
      type: 'socket:refused',
      node: server.id,
      peer: refused,
      reason: 'pair-exclusive',
      detail: `a second peer shook hands while ${server.pairPeer ?? 'another peer'} was connected: libzmq terminates its pipe and tells nobody`,
    });
    if (refused !== null) {
      this.#refused.add(refused);
      this.#reportDrops(this.#books.refuse(refused));
    }
  }

  #refuseIncompatible(node: NodeRuntime, peer: string | null): void {
    const peerType = peer ? this.#nodes.get(peer)?.spec.socket : undefined;
    this.#books.countRefusal();
    this.#emit({
      type: 'socket:refused',
      node: node.id,
      peer,
      reason: 'incompatible',
      detail: `a ${node.spec.socket} may not talk to a ${peerType ?? 'socket of that type'}: the connection was dropped before any handshake, and is not retried`,
    });
    const hasCompatible = this.#options.graph.links.some((link) => {
      const other = peerOf(link, node.id);
      return other !== null && compatible(node.spec.socket, this.#nodes.get(other)!.spec.socket);
    });
    if (!hasCompatible) {
      this.#refused.add(node.id);
      this.#reportDrops(this.#books.refuse(node.id));
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Roles

  async #runRole(node: NodeRuntime): Promise<void> {
    const role = node.spec.role;
    switch (role.kind) {
      case 'request':
        return await this.#request(node, role);
      case 'reply':
        return await this.#reply(node, role.transform, role.forwardTo);
      case 'send':
        return await this.#sendAll(node, role);
      case 'receive':
        return await this.#receiveAll(node, role);
      case 'proxy':
        return await this.#proxy(node, this.#nodes.get(role.backend)!);
      case 'passive':
        // XPUB backends and PUB outputs still receive subscriptions as messages: read them so none piles up.
        if (node.spec.socket === 'XPUB') await this.#drain(node);
        return;
    }
  }

  async #request(node: NodeRuntime, role: Extract<GraphNode['role'], { kind: 'request' }>): Promise<void> {
    const delimiter = this.#needsDelimiter(node);
    const eager = role.waitReply === false;
    // zeromq.js would make an eager second send wait for the reply; with no wait allowed, libzmq answers EFSM.
    if (eager) node.socket.sendTimeout = 0;
    let first = true;
    for (const body of expandMessages(role.messages)) {
      if (this.#ended) return;
      if (!first) await this.#pause(node, role.intervalMs ?? 0);
      first = false;
      try {
        await this.#send(node, delimiter ? ['', body] : [body]);
      } catch (error) {
        if ((error as { code?: string }).code === 'EFSM' && !this.#ended) {
          this.#books.countRefusal();
          this.#emit({
            type: 'socket:refused',
            node: node.id,
            peer: null,
            reason: 'efsm',
            code: 'EFSM',
            detail:
              'a REQ must receive its reply before it sends again: the send was refused (the program would stop here)',
          });
          this.#finish(node, 'error');
          return;
        }
        throw error;
      }
      if (eager) continue;
      await this.#receiveOne(node);
      if (node.finished) return;
    }
    if (role.last !== undefined && !this.#ended) await this.#send(node, delimiter ? ['', role.last] : [role.last]);
    this.#finish(node, 'done');
  }

  async #reply(node: NodeRuntime, kind: Parameters<typeof transform>[0], forwardTo?: string): Promise<void> {
    for (;;) {
      const received = await this.#receiveOne(node);
      if (!received) return;
      const { body, envelope, from } = received;
      if (node.finished) return; // its stop message: the series' server exits without a reply
      const result = transform(kind, body);
      await this.#send(node, [...envelope, result], { cause: received.message, to: from });
      if (forwardTo) await this.#forward(this.#nodes.get(forwardTo)!, result, received.message);
      if (this.#countReached(node)) return;
    }
  }

  async #sendAll(node: NodeRuntime, role: Extract<GraphNode['role'], { kind: 'send' }>): Promise<void> {
    if (node.spec.socket === 'XPUB') this.#loops.push(this.#drain(node).catch(() => {}));
    if (role.waitForPeers) {
      node.pausing = true;
      await node.waitForPeers(role.waitForPeers, this.#abort.signal);
      node.pausing = false;
    }
    const delimiter = this.#needsDelimiter(node);
    let first = true;
    for (const body of expandMessages(role.messages)) {
      if (this.#ended) return;
      if (!first) await this.#pause(node, role.intervalMs ?? 0);
      first = false;
      if (this.#ended) return;
      await this.#send(node, delimiter ? ['', body] : [body]);
      if (role.awaitEcho) {
        await this.#receiveOne(node);
        if (node.finished) return;
      }
    }
    this.#finish(node, 'done');
  }

  async #receiveAll(node: NodeRuntime, role: Extract<GraphNode['role'], { kind: 'receive' }>): Promise<void> {
    if (node.spec.socket === 'XSUB') {
      for (const prefix of this.#prefixesOf(node.spec))
        await node.send([Buffer.concat([Buffer.from([1]), Buffer.from(prefix)])]);
    }
    for (;;) {
      const received = await this.#receiveOne(node);
      if (!received || node.finished) return;
      await this.#pause(node, role.workMs ?? 0);
      const result = role.transform ? transform(role.transform, received.body) : received.body;
      if (role.replyBack && !this.#ended)
        await this.#send(node, [...received.envelope, result], { cause: received.message, to: received.from });
      if (role.forwardTo && !this.#ended)
        await this.#forward(this.#nodes.get(role.forwardTo)!, result, received.message);
      if (this.#countReached(node)) return;
    }
  }

  /** A ROUTER frontend and a DEALER backend (or XSUB and XPUB): a hand loop, so that every hop is seen. */
  async #proxy(frontend: NodeRuntime, backend: NodeRuntime): Promise<void> {
    const across = async (from: NodeRuntime, to: NodeRuntime) => {
      for (;;) {
        const frames = await this.#receiveFrames(from);
        if (!frames) return;
        if (from.spec.socket === 'XPUB') {
          // A subscription from downstream travels upstream as it is (1 or 0, then the prefix).
          await to.send(frames);
          continue;
        }
        const received = this.#attribute(from, frames);
        const identity = from.spec.socket === 'ROUTER' ? frames[0]! : to.spec.socket === 'ROUTER' ? frames[0]! : null;
        const addressee =
          to.spec.socket === 'ROUTER' && identity ? (to.identities.get(identity.toString('hex')) ?? null) : undefined;
        await this.#send(to, frames, { cause: received.message, to: addressee });
      }
    };
    await Promise.all([across(frontend, backend), across(backend, frontend)]);
  }

  async #drain(node: NodeRuntime): Promise<void> {
    while (await this.#receiveFrames(node));
  }

  async #forward(target: NodeRuntime, body: string, cause: number | null): Promise<void> {
    const delimiter = this.#needsDelimiter(target);
    await this.#send(target, delimiter ? ['', body] : [body], { cause });
  }

  // -------------------------------------------------------------------------------------------------------------
  // One message

  /** Sends on a node's socket, then books and reports it (a send that resolved: ZeroMQ queued it). */
  async #send(
    node: NodeRuntime,
    frames: zmq.MessageLike[],
    context: { cause?: number | null; to?: string | null } = {},
  ): Promise<void> {
    await node.send(frames);
    if (this.#ended) return;
    const last = frames.at(-1)!;
    const body = Buffer.isBuffer(last) ? last.toString() : String(last);
    const message = this.#books.nextMessage();
    // undefined: not addressed (round-robin, fan-out); null: addressed to a peer we do not control.
    const to = context.to;
    this.#progress();
    this.#emit({
      type: 'message:sent',
      node: node.id,
      message,
      body: preview(body),
      frames: frames.length,
      ...(context.cause !== undefined && context.cause !== null ? { cause: context.cause } : {}),
      ...(to !== undefined && to !== null ? { to } : {}),
    });
    this.#book(node, message, body, to);
  }

  /** Where a message's copies may go: its addressee, each subscriber (filtered or not), or any linked peer. */
  #book(node: NodeRuntime, message: number, body: string, to: string | null | undefined): void {
    if (to !== undefined) {
      this.#books.recordSend(message, node.id, body, [{ candidates: to === null ? [] : [to], fanOut: false }]);
      return;
    }
    const peers = this.#linkedPeers(node);
    if (node.spec.socket === 'PUB' || node.spec.socket === 'XPUB') {
      const copies: { candidates: string[]; fanOut: boolean }[] = [];
      const drops: Drop[] = [];
      for (const peer of peers) {
        if (matchesSubscription(this.#prefixesOf(this.#nodes.get(peer)!.spec), body))
          copies.push({ candidates: [peer], fanOut: true });
        else drops.push(this.#books.recordDrop(message, node.id, body, { node: node.id, peer, reason: 'filtered' }));
      }
      if (peers.length === 0) {
        if (this.#external.has(node.id)) copies.push({ candidates: [], fanOut: false });
        else
          drops.push(this.#books.recordDrop(message, node.id, body, { node: node.id, peer: null, reason: 'no-peer' }));
      }
      this.#books.recordSend(message, node.id, body, copies);
      this.#reportDrops(drops);
      return;
    }
    let candidates = peers;
    if (node.spec.socket === 'PAIR' && node.pairPeer !== undefined)
      candidates = node.pairPeer === null ? [] : [node.pairPeer];
    this.#books.recordSend(message, node.id, body, [{ candidates, fanOut: false }]);
    if (this.#refused.has(node.id)) this.#reportDrops(this.#books.refuse(node.id));
  }

  /** Receives one message on a node and reports it; null when the socket closed. */
  async #receiveOne(
    node: NodeRuntime,
  ): Promise<{ body: string; envelope: Buffer[]; from: string | null; message: number | null } | null> {
    const frames = await this.#receiveFrames(node);
    if (!frames) return null;
    const received = this.#attribute(node, frames);
    const stop = node.spec.stop;
    if (stop?.onMessage !== undefined && received.body === stop.onMessage) this.#finish(node, 'stop-message', true);
    return received;
  }

  async #receiveFrames(node: NodeRuntime): Promise<Buffer[] | null> {
    if (this.#ended || node.socket.closed) return null;
    try {
      return await node.socket.receive();
    } catch (error) {
      if (this.#ended || node.socket.closed) return null;
      throw error;
    }
  }

  /** The receiving side's attribution: body, envelope to reply with, the message and node it came from. */
  #attribute(
    node: NodeRuntime,
    frames: Buffer[],
  ): { body: string; envelope: Buffer[]; from: string | null; message: number | null } {
    let envelope: Buffer[] = [];
    let identity: Buffer | null = null;
    let rest = frames;
    if (node.spec.socket === 'ROUTER') {
      identity = frames[0]!;
      const delimiter = frames.findIndex((frame, i) => i > 0 && frame.length === 0);
      envelope = delimiter > 0 ? frames.slice(0, delimiter + 1) : [identity];
      rest = frames.slice(envelope.length);
    } else if (node.spec.socket === 'DEALER' && frames.length > 1) {
      const delimiter = frames.findIndex((frame) => frame.length === 0);
      if (delimiter >= 0) {
        envelope = frames.slice(0, delimiter + 1);
        rest = frames.slice(delimiter + 1);
      }
    }
    const body = (rest.at(-1) ?? Buffer.alloc(0)).toString();
    const receipt = this.#books.recordReceive(node.id, body);
    if (identity && receipt.from !== null) node.identities.set(identity.toString('hex'), receipt.from);
    this.#progress();
    this.#emit({
      type: 'message:received',
      node: node.id,
      message: receipt.message,
      from: receipt.from,
      body: preview(body),
      ...(identity ? { identity: printableIdentity(identity) } : {}),
    });
    this.#reportDrops(receipt.drops);
    node.countReceipt();
    const count = node.spec.stop?.afterMessages;
    if (count !== undefined && node.received >= count) node.stoppedReading = true;
    return { body, envelope, from: receipt.from, message: receipt.message };
  }

  #countReached(node: NodeRuntime): boolean {
    if (!node.stoppedReading || node.finished) return node.finished;
    this.#finish(node, 'count', true);
    return true;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Graph facts

  /** Nodes linked to `node` whose type may talk to it. */
  #linkedPeers(node: NodeRuntime): string[] {
    const peers: string[] = [];
    for (const link of this.#options.graph.links) {
      const other = peerOf(link, node.id);
      if (other === null || peers.includes(other)) continue;
      if (compatible(node.spec.socket, this.#nodes.get(other)!.spec.socket)) peers.push(other);
    }
    return peers;
  }

  /** A DEALER talking to a REP must add the empty delimiter a REQ would (zmq_socket(3)). */
  #needsDelimiter(node: NodeRuntime): boolean {
    return (
      node.spec.socket === 'DEALER' &&
      this.#linkedPeers(node).some((peer) => this.#nodes.get(peer)!.spec.socket === 'REP')
    );
  }

  /** A subscriber's prefixes; an XSUB proxy takes what its XPUB's subscribers ask for. */
  #prefixesOf(node: GraphNode): string[] {
    if (node.subscribe) return node.subscribe;
    if (node.socket === 'XSUB' && node.role.kind === 'proxy') {
      const backend = this.#nodes.get(node.role.backend);
      return backend ? this.#linkedPeers(backend).flatMap((peer) => this.#prefixesOf(this.#nodes.get(peer)!.spec)) : [];
    }
    return [];
  }

  // -------------------------------------------------------------------------------------------------------------
  // End

  #finish(node: NodeRuntime, reason: 'stop-message' | 'count' | 'done' | 'error', stoppedReading = false): void {
    if (node.finished) return;
    node.finished = true;
    if (stoppedReading) node.stoppedReading = true;
    this.#emit({ type: 'node:stopped', node: node.id, reason });
    // A node that stops reading closes its socket, as the series' programs exit: what waits for it is lost.
    if (stoppedReading && node.spec.role.kind !== 'request') node.socket.close();
    this.#checkEnd();
  }

  #nodeFailed(node: NodeRuntime, error: unknown): void {
    if (this.#ended) return;
    const code = (error as { code?: string }).code ?? 'ERROR';
    this.#emit({ type: 'node:error', node: node.id, code, message: (error as Error).message ?? String(error) });
    this.#finish(node, 'error');
  }

  /** A deliberate wait: the run does not count it as idle. */
  async #pause(node: NodeRuntime, ms: number): Promise<void> {
    if (ms <= 0) return;
    node.pausing = true;
    try {
      await pause(ms, this.#abort.signal);
    } finally {
      node.pausing = false;
    }
  }

  #progress(): void {
    this.#lastProgress = performance.now();
  }

  /**
   * Ends the run when it has run its course: every sender done and every node with a stop condition stopped with
   * nothing pending; or, with senders in the graph, nothing sent or received for drainMs while no sender is in a
   * deliberate wait (a REQ waiting for a reply that never comes, a refused PAIR peer, a subscriber that will never
   * get its 90th message are stuck, as the series' programs are). A graph with no sender (servers waiting for
   * peers we do not control) ends when its stop conditions are met, or when stopped.
   */
  #checkEnd(): void {
    if (this.#ended) return;
    const nodes = [...this.#nodes.values()];
    const senders = nodes.filter((n) => n.spec.role.kind === 'request' || n.spec.role.kind === 'send');
    const stoppers = nodes.filter((n) => n.spec.stop !== undefined);
    const allStopped = stoppers.every((n) => n.finished);
    if (senders.length === 0) {
      if (stoppers.length > 0 && allStopped) void this.#close('completed');
      return;
    }
    if (senders.every((n) => n.finished) && allStopped && this.#books.pending === 0) {
      void this.#close('completed');
      return;
    }
    const drainMs = this.#options.graph.drainMs ?? DEFAULT_DRAIN_MS;
    const idle = performance.now() - this.#lastProgress;
    if (idle >= drainMs && senders.every((n) => n.finished || !n.pausing)) {
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
    if (this.#ended) return;
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    if (error !== undefined) {
      const code = (error as { code?: string }).code ?? 'ERROR';
      this.#emit({ type: 'node:error', node: 'graph', code, message: (error as Error).message ?? String(error) });
    }
    for (const node of this.#nodes.values()) {
      if (!node.finished) {
        node.finished = true;
        this.#emit({ type: 'node:stopped', node: node.id, reason: 'run-ended' });
      }
    }
    const stoppedNodes = new Set([...this.#nodes.values()].filter((n) => n.stoppedReading).map((n) => n.id));
    this.#ended = true;
    this.#abort.abort();
    for (const node of this.#nodes.values()) if (!node.socket.closed) node.socket.close();
    await Promise.allSettled([...this.#loops, ...[...this.#nodes.values()].map((n) => n.monitorDone)]);
    for (const file of this.#claimed) this.#options.claims.release(file, this.#options.owner);
    const drops = this.#books.settle({
      stopped: reason === 'stopped',
      stoppedNodes,
      externalPeers: this.#external,
      refusedNodes: this.#refused,
    });
    this.#reportDrops(drops, true);
    const summary = this.#books.summary(this.#t());
    this.#emit({ type: 'graph:ended', reason, summary }, true);
    this.#resolveDone(summary);
  }

  #reportDrops(drops: Drop[], afterEnd = false): void {
    for (const drop of drops) this.#emit({ type: 'message:dropped', ...drop }, afterEnd);
  }

  #t(): number {
    return Math.max(0, performance.now() - this.#start);
  }

  /** Stamps run and t; after the end only the settling drops and graph:ended go out. */
  #emit(input: EventInput, afterEnd = false): void {
    if (this.#ended && !afterEnd) return;
    this.#options.emit({ ...input, seq: 0, run: this.id, t: this.#t() } as PlaygroundEvent);
  }
}
