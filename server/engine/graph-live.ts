/**
 * Live topology of a graph run (issue 11: "add or remove a node, ... change its subscriptions, while messages
 * flow"): a subscriber joins a running PUB/SUB graph, and a subscriber leaves it; a PULL worker joins a running
 * PUSH (addWorker), and any node leaves (removeNode). The new SUB is a real socket,
 * created, subscribed and connected to the publisher's endpoint as it is bound in this run, its role loop started
 * as every node's; from then on every message the publisher sends books a copy for it (filtered by the publisher
 * when no prefix matches, lost before its subscription arrived: the slow joiner, again), and what it receives is
 * attributed to it as any receipt. A subscriber removed has its socket closed: what was on the way to it is lost
 * with it, and the publisher books no more copies for it. A subscriber's prefixes change on its live socket
 * (unsubscribe, subscribe): what it no longer matches is filtered from then on, what it now matches reaches it
 * once the new subscription reached the publisher.
 *
 * Checks that depend on the run are here (the run still on, a name not used in this run, a publisher that binds);
 * the playground (graph-playground.ts) checks the request against its graph and limits first.
 */
import type * as zmq from 'zeromq';
import { linkEnds, matchesSubscription, peerOf } from '../../shared/scenarios/graph.ts';
import { GRAPH_LIMITS, type GraphLink, type GraphNode } from '../../shared/protocol/index.ts';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';
import { endpointRefusal, requestedAddress } from './graph-addresses.ts';
import { connectBeforeNextRequest } from './graph-connects.ts';
import type { GraphRunContext } from './graph-context.ts';
import { NodeRuntime } from './graph-node.ts';
import { CHILD_BIND_ANSWER_MS, answerWithin } from './graph-process.ts';
import { runRole } from './graph-roles.ts';
import { programOf, signalNode } from './graph-signals.ts';

/**
 * Sockets one run may have had, removed ones included: adding and removing subscribers in a loop never opens
 * more than this (a removed one's socket is closed, but the run keeps its books).
 */
export const NODES_PER_RUN = 2 * GRAPH_LIMITS.nodes;

/** What the run lends to wire a node the way start() wires every node. */
export interface LiveWiring {
  /** Every link's address as bound in this run; a new link is added to it. */
  addresses: Map<GraphLink, string>;
  /** Starts the node's socket monitor (handshakes, peers leaving), as for every node. */
  watch(node: NodeRuntime): void;
  /** Connects the node where it dials, as for every node. */
  connect(node: NodeRuntime, addresses: Map<GraphLink, string>): void;
  /** ipc paths this run claimed (released when it ends): a node moved to ipc claims its new path here. */
  claimed: string[];
}

const isPublisher = (node: GraphNode) => node.socket === 'PUB' || node.socket === 'XPUB';

/**
 * Adds a SUB with `spec`'s prefixes to the running graph, connected to `publisher` where it is bound: addLinkedNode
 * with the subscribers route's own refusals (a SUB, a publisher, one still publishing, one that binds). Returns the
 * link it was given (the publisher binds, over the transport and address it bound first).
 */
export function addSubscriber(run: GraphRunContext, wiring: LiveWiring, spec: GraphNode, publisher: string): GraphLink {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  if (spec.socket !== 'SUB') throw new CodedError('PG_ERR_VALIDATION', text('graph.liveSubscriberOnly'));
  const pub = dialled(run, spec, publisher);
  if (!isPublisher(pub.spec))
    throw new CodedError('PG_ERR_VALIDATION', text('graph.notPublisher', { node: publisher, socket: pub.spec.socket }));
  if (pub.finished || pub.socket.closed)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.publisherStopped', { node: publisher }));
  const link = dialLink(wiring, spec, publisher, 'graph.publisherNoBind');
  void addLinkedNode(run, wiring, spec, link);
  return link;
}

/**
 * Adds a PULL worker to the running graph, connected to `pusher` (a PUSH) where it is bound in this run, as a
 * subscriber joins its publisher (addSubscriber). From its handshake on, the PUSH deals its share of the tasks to
 * it round-robin (the books count it among the candidates of every task sent from then on). Returns its link.
 */
export function addWorker(run: GraphRunContext, wiring: LiveWiring, spec: GraphNode, pusher: string): GraphLink {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  if (spec.socket !== 'PULL') throw new CodedError('PG_ERR_VALIDATION', text('graph.liveWorkerOnly'));
  const push = dialled(run, spec, pusher);
  if (push.spec.socket !== 'PUSH')
    throw new CodedError('PG_ERR_VALIDATION', text('graph.notPusher', { node: pusher, socket: push.spec.socket }));
  if (push.finished || push.socket.closed)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.pusherStopped', { node: pusher }));
  const link = dialLink(wiring, spec, pusher, 'graph.pusherNoBind');
  void addLinkedNode(run, wiring, spec, link);
  return link;
}

/** The old routes' first checks: a new name in this run, room for it, a target node of this run's graph. */
function dialled(run: GraphRunContext, spec: GraphNode, target: string): NodeRuntime {
  if (run.nodes.has(spec.id)) throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeInRun', { node: spec.id }));
  if (run.nodes.size >= NODES_PER_RUN)
    throw new CodedError('PG_ERR_LIMIT', text('graph.liveNodeLimit', { max: NODES_PER_RUN }));
  const node = run.nodes.get(target);
  if (!node || !run.options.graph.nodes.some((other) => other.id === target))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: target.slice(0, 64) }));
  return node;
}

/** The link to `binder` over the transport and address it bound first in this run (refused with `noBind` else). */
function dialLink(
  wiring: LiveWiring,
  spec: GraphNode,
  binder: string,
  noBind: 'graph.publisherNoBind' | 'graph.pusherNoBind',
): GraphLink {
  const bound = [...wiring.addresses.keys()].find((link) => linkEnds(link).binder === binder);
  if (!bound) throw new CodedError('PG_ERR_VALIDATION', text(noBind, { node: binder }));
  return {
    from: binder,
    to: spec.id,
    bind: 'from',
    transport: bound.transport,
    ...(bound.address !== undefined ? { address: bound.address } : {}),
    ...(bound.bindAfter !== undefined ? { bindAfter: bound.bindAfter } : {}),
  };
}

/**
 * Adds `spec` to the running graph with its one `link` to a node of the run (graph-edits.ts withLinkedNode made
 * both and the playground checked them as any graph): a real socket of its type, in the server or (`process`) in a
 * child process of its own, wired as at the run's start:
 *
 *   its peer binds: the new node connects to the endpoint the peer bound in this run for that link (the same
 *   transport and address) -> its role loop starts;
 *   the new node binds: an endpoint chosen as at the start (graph-addresses.ts: the same policy, ipc claims and
 *   namespace), bound -> its role loop starts -> the peer connects to it (a requesting peer right before its next
 *   request: connectsDue).
 *
 * `node:added` says so first (the node and its link: a replay draws it from then on). The checks a caller needs at
 * once are made before the first await (throws a CodedError then); what is left (a bind, a child process's start)
 * is the promise, which rejects with the refusal if an endpoint is refused, the node left out of the run.
 */
export function addLinkedNode(
  run: GraphRunContext,
  wiring: LiveWiring,
  spec: GraphNode,
  link: GraphLink,
): Promise<void> {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  if (run.nodes.has(spec.id)) throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeInRun', { node: spec.id }));
  if (run.nodes.size >= NODES_PER_RUN)
    throw new CodedError('PG_ERR_LIMIT', text('graph.liveNodeLimit', { max: NODES_PER_RUN }));
  const peerId = peerOf(link, spec.id)!;
  const peer = run.nodes.get(peerId);
  if (!peer || peer.removed || !run.options.graph.nodes.some((other) => other.id === peerId))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: peerId.slice(0, 64) }));
  if (peer.killed || peer.finished || peer.socket.closed)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.linkedPeerStopped', { node: peerId }));
  const newBinds = linkEnds(link).binder === spec.id;
  // The peer's endpoint for this link, as it bound it in this run (one bind per transport and address).
  const dialled = newBinds
    ? undefined
    : [...wiring.addresses].find(
        ([other]) =>
          linkEnds(other).binder === peerId &&
          other.transport === link.transport &&
          (other.address ?? '') === (link.address ?? ''),
      )?.[1];
  if (!newBinds && dialled === undefined)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.linkedStarting', { node: spec.id }));
  const child = spec.process ? run.startProcess([spec]) : null;
  const node = new NodeRuntime(spec, child);
  // Its name is taken in this run from now on (a second add of it is refused while this one binds).
  run.nodes.set(spec.id, node);
  const index = run.nodes.size - 1;
  wiring.watch(node);
  const join = (address: string): void => {
    // A sender books its copies among its linked peers (graph-messages.ts): from its next send on, this one too.
    run.options.graph = {
      ...run.options.graph,
      nodes: [...run.options.graph.nodes, spec],
      links: [...run.options.graph.links, link],
    };
    wiring.addresses.set(link, address);
    run.emit({ type: 'node:added', node: spec.id, spec, link });
    if (child) run.announceProcess(child);
  };
  const subscribe = () => {
    // subscribe() with no argument would take everything (zeromq.js): a SUB with no prefix subscribes to nothing.
    const prefixes = run.prefixesOf(spec);
    if (spec.socket === 'SUB' && prefixes.length > 0) (node.socket as unknown as zmq.Subscriber).subscribe(...prefixes);
  };
  if (!newBinds) {
    join(dialled!);
    subscribe();
    startLive(run, wiring, node, link, dialled!);
    run.progress();
    return Promise.resolve();
  }
  return (async () => {
    let address: string;
    let requested: string | null = null;
    try {
      requested = await requestedAddress(link, index, run.options, wiring.claimed);
      if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
      // A child answers its bind once it has started; one stopped from outside (SIGSTOP) before it answers never
      // does, and the visitor's request would wait for it until the run ends: bounded, it fails the add instead.
      if (child) await answerWithin(node.socket.bind(requested), CHILD_BIND_ANSWER_MS);
      else await node.socket.bind(requested);
      address = link.transport === 'inproc' ? requested : (node.socket.lastEndpoint ?? requested);
      if (link.transport === 'ipc') run.options.claims.bound(address.slice('ipc://'.length), run.options.owner);
    } catch (error) {
      // The run ended meanwhile and may have given its ipc paths back already: this one too, here.
      const file = run.ended && requested?.startsWith('ipc://') ? requested.slice('ipc://'.length) : null;
      const at = file === null ? -1 : wiring.claimed.indexOf(file);
      if (at >= 0) {
        wiring.claimed.splice(at, 1);
        run.options.claims.release(file!, run.options.owner);
      }
      // Left out of the run: its socket (its child) goes, its name stays taken for this run.
      node.removed = true;
      node.finished = true;
      node.socket.close();
      if (child) child.signal('SIGKILL');
      // The run's end closed its socket (its child's) under the bind: said as the run's end, not as that error.
      if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
      if (child && (error as { code?: unknown }).code === 'ETIMEDOUT')
        throw new CodedError(
          'PG_ERR_VALIDATION',
          text('graph.addNoAnswer', { node: spec.id, ms: CHILD_BIND_ANSWER_MS }),
        );
      // ZeroMQ refused the endpoint (EADDRINUSE...): the graph's problem, said as one, not an internal error.
      throw endpointRefusal(error, link, requested);
    }
    join(address);
    run.emit({ type: 'node:bound', node: spec.id, transport: link.transport, address });
    subscribe();
    startLive(run, wiring, node, link, address);
    // The peer dials it: a requesting peer right before its next request (connectsDue), any other now.
    const connect = () => {
      if (run.ended || peer.removed || peer.killed || peer.socket.closed || node.removed) return;
      wiring.connect(peer, new Map([[link, address]]));
    };
    if (peer.spec.role.kind === 'request') connectBeforeNextRequest(peer, connect);
    else connect();
    run.progress();
  })();
}

/** A node that joined the run dials its link and starts its role loop, as every node's. */
function startLive(run: GraphRunContext, wiring: LiveWiring, node: NodeRuntime, link: GraphLink, address: string) {
  run.loops.push(
    (async () => {
      wiring.connect(node, new Map([[link, address]]));
      await runRole(run, node);
    })().catch((error) => run.nodeFailed(node, error)),
  );
}

/**
 * Removes any node from the running graph. A subscriber alone in its program leaves as below (removeSubscriber).
 * Any other node's program dies as a kill does (graph-signals.ts: every socket of it closed with linger 0, a
 * process node's child SIGKILLed, what it held lost as `unhandled`, what only it could take lost as `killed`);
 * then the node leaves the graph with its links, and the live peers that dialled it leave its endpoints
 * (disconnect), so that a connecting REQ or PUSH stops dealing to its dead pipe and goes on with the others. The
 * other sockets of its program stay in the graph, killed for this run. The playground refused before (graph-edits.ts
 * withoutNode, checkGraph) what the rest of the graph needs: a forwardTo target, a proxy's backend, the last node.
 */
export function removeNode(run: GraphRunContext, wiring: LiveWiring, id: string): void {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  const node = run.nodes.get(id);
  if (!node || node.removed || !run.options.graph.nodes.some((spec) => spec.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id.slice(0, 64) }));
  if (node.spec.socket === 'SUB' && programOf(run.options.graph, id).length === 1) {
    removeSubscriber(run, id);
    return;
  }
  if (!node.killed && !node.finished) signalNode(run, id, 'kill');
  else if (!node.socket.closed) {
    // Done already (its own stop condition): its socket still goes, and what waits for it is lost with it.
    node.stoppedReading = true;
    node.socket.close();
    run.reportDrops(run.books.kill([id]));
  }
  const links = run.options.graph.links.filter((link) => link.from === id || link.to === id);
  run.options.graph = {
    ...run.options.graph,
    nodes: run.options.graph.nodes.filter((spec) => spec.id !== id),
    links: run.options.graph.links.filter((link) => link.from !== id && link.to !== id),
  };
  node.removed = true;
  // After its node:stopped (the kill's): a replay draws it no more from here on. Said even if that stop ended the
  // run in this same turn (graph:ended comes after an await: this still precedes it).
  run.emit({ type: 'node:removed', node: id }, true);
  for (const link of links) {
    const address = wiring.addresses.get(link);
    wiring.addresses.delete(link);
    const { connecter } = linkEnds(link);
    const peer = run.nodes.get(connecter);
    if (connecter === id || address === undefined || !peer || peer.socket.closed) continue;
    // Another link of the peer may dial the same endpoint (a node bound once for several): it stays connected.
    if ([...wiring.addresses].some(([other, at]) => at === address && linkEnds(other).connecter === connecter))
      continue;
    try {
      peer.socket.disconnect(address);
    } catch {
      // ENOENT: it had not dialled yet (it starts later in this run); nothing to leave.
    }
    peer.connections.delete(address);
  }
  run.progress();
}

/**
 * Removes a subscriber from the running graph: its socket closes (what was on the way to it is lost with it, as
 * with a subscriber that exits) and the publisher stops booking copies for it.
 */
export function removeSubscriber(run: GraphRunContext, id: string): void {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  const node = run.nodes.get(id);
  if (!node || !run.options.graph.nodes.some((spec) => spec.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id.slice(0, 64) }));
  if (node.spec.socket !== 'SUB')
    throw new CodedError(
      'PG_ERR_VALIDATION',
      text('graph.liveRemoveSubscriberOnly', { node: id, socket: node.spec.socket }),
    );
  run.options.graph = {
    ...run.options.graph,
    nodes: run.options.graph.nodes.filter((spec) => spec.id !== id),
    links: run.options.graph.links.filter((link) => link.from !== id && link.to !== id),
  };
  node.removed = true;
  if (!node.finished) run.finish(node, 'removed', true);
  else {
    // Already done (its own stop condition): still, its socket goes and what waits for it is lost with it.
    node.stoppedReading = true;
    if (!node.socket.closed) node.socket.close();
  }
  // After its node:stopped: a replay draws it no more from here on (before graph:ended, as in removeNode).
  run.emit({ type: 'node:removed', node: id }, true);
}

/**
 * Changes a running subscriber's prefixes on its live socket: unsubscribes what it drops, subscribes what it adds.
 * Its copies still on the way that no longer match are dropped as filtered (a SUB filters what it reads too), and
 * the publisher books from its next message on by the new prefixes.
 */
export function setSubscriptions(run: GraphRunContext, id: string, prefixes: string[]): void {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
  const node = run.nodes.get(id);
  if (!node || !run.options.graph.nodes.some((spec) => spec.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id.slice(0, 64) }));
  if (node.spec.socket !== 'SUB')
    throw new CodedError('PG_ERR_VALIDATION', text('graph.notSubscriber', { node: id, socket: node.spec.socket }));
  const before = run.prefixesOf(node.spec);
  const spec: GraphNode = { ...node.spec, subscribe: [...prefixes] };
  node.spec = spec;
  run.options.graph = {
    ...run.options.graph,
    nodes: run.options.graph.nodes.map((other) => (other.id === id ? spec : other)),
  };
  if (node.socket.closed) return;
  const socket = node.socket as unknown as zmq.Subscriber;
  const dropped = before.filter((prefix) => !prefixes.includes(prefix));
  const added = prefixes.filter((prefix) => !before.includes(prefix));
  if (dropped.length > 0) socket.unsubscribe(...dropped);
  if (added.length > 0) socket.subscribe(...added);
  run.reportDrops(run.books.resubscribed(id, (body) => matchesSubscription(prefixes, body)));
}
