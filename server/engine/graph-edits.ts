/**
 * The live-topology edits of a graph playground as pure functions of its graph: a subscriber added, a subscriber's
 * prefixes changed, a node removed, a node's pace set, a node's links moved to another transport. Each answers
 * the graph so changed (or throws the coded refusal a page translates); GraphPlayground (graph-playground.ts)
 * checks the result as any graph, hands the change to the run in progress (graph-live.ts, graph-pace.ts,
 * graph-move.ts) and keeps it. Kept apart from the playground so that its run and its registry stay
 * readable, and so that what an edit makes of a graph can be read without the sockets.
 */
import { text, type ServerText } from '../../shared/protocol/server-text.ts';
import type { GraphLink, GraphNode, GraphSpec, Transport } from '../../shared/protocol/index.ts';
import { linkEnds, peerOf } from '../../shared/scenarios/graph.ts';
import { CodedError } from '../errors.ts';
import { withPaceSet } from './graph-pace.ts';

/** What adding a subscriber makes: the graph with it, the new SUB and the publisher it connects to. */
export interface SubscriberAdded {
  graph: GraphSpec;
  node: GraphNode;
  publisher: string;
}

/**
 * A SUB with these prefixes ('' is everything), connected to `publisher` where it binds (a publisher binds once
 * per transport for all its subscribers: the new one dials where the first one does).
 */
export function withSubscriber(
  graph: GraphSpec,
  request: { id: string; publisher: string; subscribe: string[] },
): SubscriberAdded {
  const node: GraphNode = { id: request.id, socket: 'SUB', subscribe: request.subscribe, role: { kind: 'receive' } };
  const added = withNodeDialling(graph, node, request.publisher, (publisher) => {
    if (publisher.socket !== 'PUB' && publisher.socket !== 'XPUB')
      throw new CodedError(
        'PG_ERR_VALIDATION',
        text('graph.notPublisher', { node: publisher.id, socket: publisher.socket }),
      );
    return text('graph.publisherNoBind', { node: publisher.id });
  });
  return { graph: added, node, publisher: request.publisher };
}

/** What adding a worker makes: the graph with it, the new PULL and the PUSH it connects to. */
export interface WorkerAdded {
  graph: GraphSpec;
  node: GraphNode;
  pusher: string;
}

/**
 * A PULL worker connected to `pusher` (a PUSH) where it binds, as a subscriber to its publisher (withSubscriber):
 * the PUSH deals its next messages round-robin among its workers, the new one included.
 */
export function withWorker(graph: GraphSpec, request: { id: string; pusher: string }): WorkerAdded {
  const node: GraphNode = { id: request.id, socket: 'PULL', role: { kind: 'receive' } };
  const added = withNodeDialling(graph, node, request.pusher, (pusher) => {
    if (pusher.socket !== 'PUSH')
      throw new CodedError('PG_ERR_VALIDATION', text('graph.notPusher', { node: pusher.id, socket: pusher.socket }));
    return text('graph.pusherNoBind', { node: pusher.id });
  });
  return { graph: added, node, pusher: request.pusher };
}

/**
 * The graph with `node` added, dialling `targetId` where the target already binds. `check` refuses a target of the
 * wrong socket type (throws) and answers the refusal to give when the target binds nowhere.
 */
function withNodeDialling(
  graph: GraphSpec,
  node: GraphNode,
  targetId: string,
  check: (target: GraphNode) => ServerText,
): GraphSpec {
  if (graph.nodes.some((other) => other.id === node.id))
    throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeExists', { node: node.id }));
  const target = graph.nodes.find((candidate) => candidate.id === targetId);
  if (!target) throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: targetId }));
  const noBind = check(target);
  const via = graph.links.find((link) => linkEnds(link).binder === target.id);
  if (!via) throw new CodedError('PG_ERR_VALIDATION', noBind);
  const link: GraphLink = {
    from: target.id,
    to: node.id,
    bind: 'from',
    transport: via.transport,
    ...(via.address !== undefined ? { address: via.address } : {}),
  };
  return { ...graph, nodes: [...graph.nodes, node], links: [...graph.links, link] };
}

/** The graph with a subscriber's prefixes replaced ('' is everything). */
export function withSubscriptions(graph: GraphSpec, id: string, subscribe: string[]): GraphSpec {
  const node = graph.nodes.find((candidate) => candidate.id === id);
  if (!node) throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id }));
  if (node.socket !== 'SUB')
    throw new CodedError('PG_ERR_VALIDATION', text('graph.notSubscriber', { node: id, socket: node.socket }));
  return {
    ...graph,
    nodes: graph.nodes.map((other) => (other.id === id ? { ...other, subscribe: [...subscribe] } : other)),
  };
}

/** The graph without a node and its links (never without its last node). */
export function withoutNode(graph: GraphSpec, id: string): GraphSpec {
  if (!graph.nodes.some((node) => node.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id }));
  if (graph.nodes.length === 1) throw new CodedError('PG_ERR_VALIDATION', text('graph.lastNode', { node: id }));
  const removedLinks = graph.links.filter((link) => link.from === id || link.to === id);
  return {
    ...graph,
    nodes: graph.nodes
      .filter((node) => node.id !== id)
      .map((node) => withFewerPeersAwaited(node, (socketNode) => linksOf(removedLinks, socketNode))),
    links: graph.links.filter((link) => link.from !== id && link.to !== id),
  };
}

const linksOf = (links: GraphLink[], node: string) => links.filter((link) => peerOf(link, node) !== null).length;

/**
 * A sender that waits for N peers (series part 6, the pipeline's ventilator) or a proxy that waits for N peers on
 * its backend would wait for ever once one of them is removed: it waits for one fewer per link it lost (on its
 * own socket, or on its backend's), never below 0.
 */
function withFewerPeersAwaited(node: GraphNode, linksLost: (socketNode: string) => number): GraphNode {
  const role = node.role;
  if ((role.kind !== 'send' && role.kind !== 'proxy') || !role.waitForPeers) return node;
  const lost = linksLost(role.kind === 'proxy' ? role.backend : node.id);
  if (lost === 0) return node;
  return { ...node, role: { ...role, waitForPeers: Math.max(0, role.waitForPeers - lost) } };
}

/** The graph with a node's pace set (graph-pace.ts): its interval or its work per message, checked. */
export function withPace(graph: GraphSpec, id: string, ms: number): GraphSpec {
  const node = graph.nodes.find((candidate) => candidate.id === id);
  if (!node) throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id }));
  const paced = withPaceSet(node, ms);
  return { ...graph, nodes: graph.nodes.map((other) => (other.id === id ? paced : other)) };
}

/**
 * The graph with a node's links (or its link to `peer`) over `transport`: the server chooses their addresses, as
 * for any link without one (graph-addresses.ts); a later bind (bindAfter) is made at once on the new transport.
 */
export function withLinksMoved(graph: GraphSpec, id: string, transport: Transport, peer?: string): GraphSpec {
  if (!graph.nodes.some((node) => node.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id }));
  if (peer !== undefined && !graph.nodes.some((node) => node.id === peer))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: peer }));
  const moves = (link: GraphLink) => {
    const other = peerOf(link, id);
    return other !== null && (peer === undefined || other === peer) && link.transport !== transport;
  };
  return {
    ...graph,
    links: graph.links.map((link) =>
      moves(link) ? { from: link.from, to: link.to, bind: link.bind, transport } : link,
    ),
  };
}
