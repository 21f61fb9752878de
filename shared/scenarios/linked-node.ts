/**
 * A node added to a graph with one link to a node it already has (issue 11: "add or remove a node ... while
 * messages flow"), as a pure function of the graph: which socket types may be linked to a given node (ZMTP's
 * compatible pairs, COMPATIBLE; a PAIR takes one peer), the role the new node plays unless the caller gives one,
 * and which side binds. The server checks and applies it (server/engine/graph-edits.ts withLinkedNode, and
 * graph-live.ts during a run); the page offers only what this allows (web/components/GraphAddNode.svelte).
 *
 * Who binds: when the node linked to binds an endpoint already, the new node connects there (a publisher, a PUSH,
 * a REP server bind once for all their peers: the new one dials where the first one does). When it only connects
 * (the series' part 3 client, a REQ that dials three REP), the new node binds an endpoint of its own, chosen by the
 * server as at a run's start (a free loopback port, an ipc path or an inproc name of the playground's), and the
 * node linked to connects to it: its next requests are dealt over its peers, the new one included.
 */
import type { GraphLink, GraphNode, GraphSpec, NodeRole, SocketType } from '../protocol/graph.ts';
import { text, type ServerText } from '../protocol/server-text.ts';
import { COMPATIBLE, linkEnds, peerOf, ROLES_BY_SOCKET } from './graph.ts';

/** What a visitor asks for: a node of `socket` named `id`, linked to the existing node `peer`. */
export interface LinkedNodeRequest {
  id: string;
  socket: SocketType;
  peer: string;
  /** A SUB's or XSUB's prefixes ('' is everything; everything when absent). */
  subscribe?: string[];
  /** Runs as its own OS process (graph-process.ts): not over inproc. */
  process?: boolean;
  /** Its role; absent: the one linkedNodeRole chooses for the pair. */
  role?: NodeRole;
}

/** What adding makes: the graph with the node and its link, the node, its link. */
export interface LinkedNodeAdded {
  graph: GraphSpec;
  node: GraphNode;
  link: GraphLink;
}

/** A refusal: the text a person can act on, and whether it is a missing node (404) or a wrong request (400). */
export interface LinkedNodeRefusal {
  code: 'PG_ERR_VALIDATION' | 'PG_ERR_NOT_FOUND';
  text: ServerText;
}

/** A PAIR linked to another PAIR already: it takes no second peer (the series' part 2). */
function pairTaken(graph: GraphSpec, peer: GraphNode): boolean {
  return (
    peer.socket === 'PAIR' &&
    graph.links.some((link) => {
      const other = peerOf(link, peer.id);
      return other !== null && graph.nodes.find((node) => node.id === other)?.socket === 'PAIR';
    })
  );
}

/** Why a node of `socket` cannot be linked to `peerId` in `graph`, or null when it can. */
export function linkedNodeRefusal(graph: GraphSpec, socket: SocketType, peerId: string): LinkedNodeRefusal | null {
  const peer = graph.nodes.find((node) => node.id === peerId);
  if (!peer) return { code: 'PG_ERR_NOT_FOUND', text: text('graph.unknownNode', { node: peerId.slice(0, 64) }) };
  if (!COMPATIBLE[socket].includes(peer.socket))
    return {
      code: 'PG_ERR_VALIDATION',
      text: text('graph.linkedIncompatible', {
        socket,
        node: peer.id,
        peerSocket: peer.socket,
        fits: COMPATIBLE[peer.socket].join(', '),
      }),
    };
  if (pairTaken(graph, peer))
    return { code: 'PG_ERR_VALIDATION', text: text('graph.linkedPairTaken', { node: peer.id }) };
  return null;
}

/** The socket types a new node linked to `peerId` may have (the page offers only these), in the palette's order. */
export function socketsLinkableTo(graph: GraphSpec, peerId: string): SocketType[] {
  const peer = graph.nodes.find((node) => node.id === peerId);
  if (!peer) return [];
  return (Object.keys(COMPATIBLE) as SocketType[]).filter(
    (socket) => linkedNodeRefusal(graph, socket, peerId) === null,
  );
}

/** A template a publisher's subscriber `peer` matches: its first prefix (when it is plain text), then a number. */
function publishedFor(id: string, peer: GraphNode): string {
  const prefix = peer.subscribe?.[0];
  return prefix !== undefined && prefix !== '' && /^[^{}|]{1,32}$/.test(prefix) ? `${prefix} {n}` : `${id} {n}`;
}

/** The transform a sibling of the new node plays (another REP of the same client): a fourth server answers alike. */
function siblingTransform(graph: GraphSpec, socket: SocketType, peer: GraphNode): 'echo' | 'sum' | 'uppercase' {
  for (const link of graph.links) {
    const other = graph.nodes.find((node) => node.id === peerOf(link, peer.id));
    if (other && other.socket === socket && other.role.kind === 'reply') return other.role.transform;
  }
  return 'echo';
}

/**
 * The role a new node of `socket` plays next to `peer` unless the visitor chooses one: what the series' programs
 * of that type do. A server (REP, ROUTER) answers as its siblings do; a client (REQ, DEALER to a server) sends 20
 * requests, a sum's "a:b" to a summing server; a sender (PUB, XPUB, PUSH) sends 20 messages 250 ms apart (a
 * subscriber's prefix first, so it gets them); a receiver (SUB, XSUB, PULL) takes what comes; a PAIR answers a
 * PAIR that sends, and sends to one that only receives.
 */
export function linkedNodeRole(graph: GraphSpec, socket: SocketType, peer: GraphNode, id: string): NodeRole {
  const requests = (): NodeRole => {
    const sums = peer.role.kind === 'reply' && peer.role.transform === 'sum';
    return {
      kind: 'request',
      messages: { kind: 'template', template: sums ? '{int:1-99}:{int:1-99}' : `${id} {n}`, count: 20 },
      intervalMs: 250,
    };
  };
  const sends = (): NodeRole => ({
    kind: 'send',
    messages: { kind: 'template', template: publishedFor(id, peer), count: 20 },
    intervalMs: 250,
  });
  switch (socket) {
    case 'REQ':
      return requests();
    case 'REP':
      return { kind: 'reply', transform: siblingTransform(graph, socket, peer) };
    case 'ROUTER':
      return { kind: 'reply', transform: siblingTransform(graph, socket, peer) };
    case 'DEALER':
      // To a server (REP, ROUTER): a client. To a DEALER (a broker's backend): a worker that answers back.
      return peer.socket === 'DEALER' ? { kind: 'receive', replyBack: true } : requests();
    case 'PUB':
    case 'XPUB':
    case 'PUSH':
      return sends();
    case 'SUB':
    case 'XSUB':
    case 'PULL':
      return { kind: 'receive' };
    case 'PAIR':
      return peer.role.kind === 'send' ? { kind: 'receive', replyBack: true } : sends();
  }
}

/**
 * The link of a new node to `peer`: to the endpoint the peer binds first (one a process cannot reach over inproc is
 * skipped), or, when the peer binds none, from an endpoint the new node binds over the transport of the peer's
 * first link (tcp when it has none, or when that is inproc and the new node is a process).
 */
export function linkedNodeLink(graph: GraphSpec, node: GraphNode, peer: GraphNode): GraphLink | LinkedNodeRefusal {
  const binds = graph.links.filter((link) => linkEnds(link).binder === peer.id);
  if (binds.length > 0) {
    const via = binds.find((link) => !node.process || link.transport !== 'inproc');
    if (!via) return { code: 'PG_ERR_VALIDATION', text: text('graph.linkedInprocOnly', { node: peer.id }) };
    return {
      from: peer.id,
      to: node.id,
      bind: 'from',
      transport: via.transport,
      ...(via.address !== undefined ? { address: via.address } : {}),
      // One socket binds one endpoint once: the links that share it agree on when (checkGraph).
      ...(via.bindAfter !== undefined ? { bindAfter: via.bindAfter } : {}),
    };
  }
  const first = graph.links.find((link) => peerOf(link, peer.id) !== null);
  const transport =
    !first || (first.transport === 'inproc' && (node.process || peer.process)) ? 'tcp' : first.transport;
  return { from: node.id, to: peer.id, bind: 'from', transport };
}

/**
 * The graph with a node of `request.socket` linked to `request.peer` (see the module's comment), or the refusal.
 * The caller checks the result as any graph (checkGraph, limits, process rules).
 */
export function withLinkedNode(graph: GraphSpec, request: LinkedNodeRequest): LinkedNodeAdded | LinkedNodeRefusal {
  if (graph.nodes.some((other) => other.id === request.id))
    return { code: 'PG_ERR_VALIDATION', text: text('graph.nodeExists', { node: request.id }) };
  const refusal = linkedNodeRefusal(graph, request.socket, request.peer);
  if (refusal) return refusal;
  const peer = graph.nodes.find((node) => node.id === request.peer)!;
  const role = request.role ?? linkedNodeRole(graph, request.socket, peer, request.id);
  if (!ROLES_BY_SOCKET[request.socket].includes(role.kind))
    return {
      code: 'PG_ERR_VALIDATION',
      text: text('graph.linkedRole', {
        socket: request.socket,
        role: role.kind,
        roles: ROLES_BY_SOCKET[request.socket].join(', '),
      }),
    };
  // A role tied to another node (forwarding through it, a proxy's backend) would make the new node part of that
  // node's program: added alone, it is a program of its own.
  if (role.kind === 'proxy' || ((role.kind === 'reply' || role.kind === 'receive') && role.forwardTo !== undefined))
    return { code: 'PG_ERR_VALIDATION', text: text('graph.linkedRoleTied', { node: request.id }) };
  const subscribes = request.socket === 'SUB' || request.socket === 'XSUB';
  const node: GraphNode = {
    id: request.id,
    socket: request.socket,
    ...(subscribes ? { subscribe: request.subscribe ?? [''] } : {}),
    role,
    ...(request.process ? { process: true } : {}),
  };
  const link = linkedNodeLink(graph, node, peer);
  if (!('from' in link)) return link;
  return { graph: { ...graph, nodes: [...graph.nodes, node], links: [...graph.links, link] }, node, link };
}

export const isLinkedNodeRefusal = (value: LinkedNodeAdded | LinkedNodeRefusal): value is LinkedNodeRefusal =>
  'code' in value;
