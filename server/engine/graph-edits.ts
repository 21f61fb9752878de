/**
 * The live-topology edits of a graph playground as pure functions of its graph: a node linked to another added (a
 * subscriber, a worker, any pair ZeroMQ accepts), a subscriber's
 * prefixes changed, a node removed, a node's pace set, a node's links moved to another transport. Each answers
 * the graph so changed (or throws the coded refusal a page translates); GraphPlayground (graph-playground.ts)
 * checks the result as any graph, hands the change to the run in progress (graph-live.ts, graph-pace.ts,
 * graph-move.ts) and keeps it. Kept apart from the playground so that its run and its registry stay
 * readable, and so that what an edit makes of a graph can be read without the sockets.
 */
import { text, type ServerText } from '../../shared/protocol/server-text.ts';
import type { GraphLink, GraphNode, GraphSpec, Transport } from '../../shared/protocol/index.ts';
import {
  isLinkedNodeRefusal,
  withLinkedNode as linkNode,
  type LinkedNodeAdded,
  type LinkedNodeRequest,
} from '../../shared/scenarios/linked-node.ts';
import { linkEnds, peerOf } from '../../shared/scenarios/graph.ts';
import { CodedError } from '../errors.ts';
import { withPaceSet } from './graph-pace.ts';

/**
 * A node of any socket type with one link to a node the graph has (shared/scenarios/linked-node.ts: the pair
 * ZeroMQ accepts, a PAIR's one peer, its role, which side binds), or the coded refusal a page translates.
 */
export function withLinkedNode(graph: GraphSpec, request: LinkedNodeRequest): LinkedNodeAdded {
  const added = linkNode(graph, request);
  if (isLinkedNodeRefusal(added)) throw new CodedError(added.code, added.text);
  return added;
}

/** What adding a subscriber makes: the graph with it, the new SUB and the publisher it connects to. */
export interface SubscriberAdded extends LinkedNodeAdded {
  publisher: string;
}

/**
 * A SUB with these prefixes ('' is everything), connected to `publisher` where it binds (a publisher binds once
 * per transport for all its subscribers: the new one dials where the first one does). withLinkedNode with the
 * subscribers route's own refusals: a publisher, one that binds.
 */
export function withSubscriber(
  graph: GraphSpec,
  request: { id: string; publisher: string; subscribe: string[] },
): SubscriberAdded {
  dialling(graph, request.id, request.publisher, (publisher) => {
    if (publisher.socket !== 'PUB' && publisher.socket !== 'XPUB')
      throw new CodedError(
        'PG_ERR_VALIDATION',
        text('graph.notPublisher', { node: publisher.id, socket: publisher.socket }),
      );
    return text('graph.publisherNoBind', { node: publisher.id });
  });
  const added = withLinkedNode(graph, {
    id: request.id,
    socket: 'SUB',
    peer: request.publisher,
    subscribe: request.subscribe,
    role: { kind: 'receive' },
  });
  return { ...added, publisher: request.publisher };
}

/** What adding a worker makes: the graph with it, the new PULL and the PUSH it connects to. */
export interface WorkerAdded extends LinkedNodeAdded {
  pusher: string;
}

/**
 * A PULL worker connected to `pusher` (a PUSH) where it binds, as a subscriber to its publisher (withSubscriber):
 * the PUSH deals its next messages round-robin among its workers, the new one included.
 */
export function withWorker(graph: GraphSpec, request: { id: string; pusher: string }): WorkerAdded {
  dialling(graph, request.id, request.pusher, (pusher) => {
    if (pusher.socket !== 'PUSH')
      throw new CodedError('PG_ERR_VALIDATION', text('graph.notPusher', { node: pusher.id, socket: pusher.socket }));
    return text('graph.pusherNoBind', { node: pusher.id });
  });
  const added = withLinkedNode(graph, {
    id: request.id,
    socket: 'PULL',
    peer: request.pusher,
    role: { kind: 'receive' },
  });
  return { ...added, pusher: request.pusher };
}

/**
 * The old routes' own checks before the general add: a new name, a target of the right socket type (`check`
 * throws otherwise and answers the refusal to give) that binds somewhere, for the new node dials it there.
 */
function dialling(graph: GraphSpec, id: string, targetId: string, check: (target: GraphNode) => ServerText): void {
  if (graph.nodes.some((other) => other.id === id))
    throw new CodedError('PG_ERR_VALIDATION', text('graph.nodeExists', { node: id }));
  const target = graph.nodes.find((candidate) => candidate.id === targetId);
  if (!target) throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: targetId }));
  const noBind = check(target);
  if (!graph.links.some((link) => linkEnds(link).binder === target.id))
    throw new CodedError('PG_ERR_VALIDATION', noBind);
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
