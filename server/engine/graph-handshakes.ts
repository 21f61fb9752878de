/**
 * What a graph run learns from its sockets' monitors (and, over inproc, which has none, from its own connects):
 * peers joining and leaving, peers we do not control, and what ZeroMQ refuses without a word: a second peer of a
 * bound PAIR (served or refused in the order the handshakes came), and socket types that may not talk (dropped
 * before any handshake). Each becomes a socket:event or socket:refused event, and the books drop what a refused
 * node sends.
 */
import { compatible, linkEnds, peerOf } from '../../shared/scenarios/graph.ts';
import type { GraphLink } from '../../shared/protocol/index.ts';
import type { MonitorEvent } from '../pipeline/monitor.ts';
import type { GraphRunContext } from './graph-context.ts';
import type { NodeRuntime } from './graph-node.ts';

export class Handshakes {
  /** Links between types that may not talk, by the connecting node and the address it dials. */
  readonly #incompatible = new Map<string, GraphLink>();
  /**
   * A bound PAIR's peers of ours, in the order their own handshake was seen (inproc: their connect), and how many
   * handshakes the PAIR itself reported: the n-th arrival is the n-th handshake, served or refused.
   */
  readonly #pairs = new Map<string, { arrivals: string[]; handshakes: number; decided: number }>();

  constructor(private readonly run: GraphRunContext) {}

  /** `node` connects to `peer` at `address` over `link`: remembered to tell a refusal from a peer leaving. */
  dialing(node: NodeRuntime, peer: NodeRuntime, address: string, link: GraphLink): void {
    node.peerAt.set(address, peer.id);
    if (!compatible(node.spec.socket, peer.spec.socket)) this.#incompatible.set(`${node.id}|${address}`, link);
  }

  /** inproc has no monitor events at all (zmq-facts section 5): the join is known from the connect. */
  joinedInproc(node: NodeRuntime, peer: NodeRuntime): void {
    node.peerJoined();
    peer.peerJoined();
    if (peer.spec.socket === 'PAIR' && node.spec.socket === 'PAIR') {
      this.#pairState(peer).arrivals.push(node.id);
      this.#pairState(peer).handshakes++;
      this.#resolvePair(peer);
    }
  }

  onMonitor(node: NodeRuntime, event: MonitorEvent): void {
    const run = this.run;
    if (run.ended) return;
    run.emit({
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
          const binder = run.node(node.peerAt.get(event.address)!);
          if (node.spec.socket === 'PAIR' && binder.spec.socket === 'PAIR') {
            this.#pairState(binder).arrivals.push(node.id);
            this.#resolvePair(binder);
          }
          return;
        }
        if (node.live > this.#internalPeers(node)) run.external.add(node.id);
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
    for (const link of this.run.options.graph.links) {
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
    const hasOwnPeers = this.run.options.graph.links.some((link) => linkEnds(link).binder === server.id);
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
    const run = this.run;
    run.books.countRefusal();
    run.emit({
      type: 'socket:refused',
      node: server.id,
      peer: refused,
      reason: 'pair-exclusive',
      detail: `a second peer shook hands while ${server.pairPeer ?? 'another peer'} was connected: libzmq terminates its pipe and tells nobody`,
    });
    if (refused !== null) {
      run.refused.add(refused);
      run.reportDrops(run.books.refuse(refused));
    }
  }

  #refuseIncompatible(node: NodeRuntime, peer: string | null): void {
    const run = this.run;
    const peerType = peer ? run.nodes.get(peer)?.spec.socket : undefined;
    run.books.countRefusal();
    run.emit({
      type: 'socket:refused',
      node: node.id,
      peer,
      reason: 'incompatible',
      detail: `a ${node.spec.socket} may not talk to a ${peerType ?? 'socket of that type'}: the connection was dropped before any handshake, and is not retried`,
    });
    const hasCompatible = run.options.graph.links.some((link) => {
      const other = peerOf(link, node.id);
      return other !== null && compatible(node.spec.socket, run.node(other).spec.socket);
    });
    if (!hasCompatible) {
      run.refused.add(node.id);
      run.reportDrops(run.books.refuse(node.id));
    }
  }
}
