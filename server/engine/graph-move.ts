/**
 * A node moved to another transport while messages flow (issue 11: "move it to another transport"): each of its
 * links (or the one to a given peer) goes over tcp, ipc or inproc instead, on the same sockets:
 *
 *   the binder binds an endpoint of the new transport (the one it already has, or a new one chosen exactly as at
 *   the run's start: graph-addresses.ts, the same policy and claims) -> the connecter connect()s it -> the
 *   connecter disconnect()s the old endpoint -> the binder unbind()s the old one once no link of the run uses it.
 *
 * What ZeroMQ does meanwhile (move-experiments.test.ts, docs/zmq-patterns.md "Moving a node"): the disconnect
 * discards what was queued on the old connection; a subscriber's subscription travels again over the new one, so
 * a publisher's copies sent before it arrives are lost (the slow joiner, again). The books count both as `moved`
 * (books.ts moved()). A REQ whose request or reply went with the old connection would wait for ever (a REQ never
 * resends): a REQ's link moves at the end of a round trip (the one under way, or the next), before the REQ's next
 * request (settleDeferredMoves, called and awaited by its role loop), so no request is lost to a move.
 *
 * inproc stays within the server's process: a node that runs as its own process (graph-process.ts) is refused
 * over inproc by the graph's own check, and its links are not moved live (its socket is in its child).
 */
import { linkEnds, peerOf } from '../../shared/scenarios/graph.ts';
import type { GraphLink, Transport } from '../../shared/protocol/index.ts';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';
import { requestedAddress } from './graph-addresses.ts';
import type { GraphRunContext } from './graph-context.ts';
import type { LiveWiring } from './graph-live.ts';
import type { NodeRuntime } from './graph-node.ts';

/** A link's move, carried out at once or (a REQ's link) at the end of the REQ's round trip. */
interface DeferredMove {
  moved: string;
  link: GraphLink;
  next: GraphLink;
  wiring: LiveWiring;
  /** The binder's index in the run (its default endpoint names, as at the start: graph-addresses.ts). */
  index: number;
}

const deferred = new WeakMap<GraphRunContext, DeferredMove[]>();
/** Runs with a move under way (its binds are awaited): one at a time. */
const moving = new WeakSet<GraphRunContext>();
/**
 * A binder's unbinds still under way (they outlive the move that started them): zeromq.js refuses a bind or
 * another unbind on that socket meanwhile (EBUSY, "Socket is blocked by a bind or unbind operation"), so the next
 * move's bind, or unbind, waits for them.
 */
interface Unbinding {
  /** Endpoints still to unbind, in order. */
  addresses: string[];
  /** Settles once the queue is empty. */
  done: Promise<void>;
}
const unbinding = new WeakMap<NodeRuntime, Unbinding>();

/**
 * Whether a move holds the node while its socket unbinds an endpoint (held as a hung node: graph-signals.ts
 * refuses a visitor's hang or resume meanwhile, as a resume would let its loop meet EBUSY and end it).
 */
export const unbindingNow = (node: NodeRuntime): boolean => unbinding.has(node);

/**
 * A later bind under way on a node's socket (GraphLink.bindAfter, graph-later-binds.ts): asynchronous, so zeromq.js
 * refuses a move's bind or unbind on that socket meanwhile (EBUSY), as it refuses the later bind during an unbind.
 */
const laterBinding = new WeakMap<NodeRuntime, Promise<void>>();

/**
 * Settles once neither a move's unbind nor a later bind is under way on the node's socket. Its caller checks
 * socketBusy() again right before its own socket call: another may have started between this settling and then.
 */
async function socketFree(node: NodeRuntime): Promise<void> {
  for (;;) {
    const pending = unbinding.get(node)?.done ?? laterBinding.get(node);
    if (!pending) return;
    await pending;
  }
}

const socketBusy = (node: NodeRuntime): boolean => unbinding.has(node) || laterBinding.has(node);

/**
 * Makes a later bind of `node` (graph-later-binds.ts) once no move's unbind is under way on its socket; a move
 * waits for it meanwhile. Rejects as the bind does.
 */
export async function bindWhenFree(node: NodeRuntime, bind: () => Promise<void>): Promise<void> {
  while (socketBusy(node)) await socketFree(node);
  // bind() calls the socket's bind() before its first await: registered in the same turn, nothing between.
  const done = bind();
  const settled = done.then(
    () => {},
    () => {},
  );
  laterBinding.set(node, settled);
  try {
    await done;
  } finally {
    if (laterBinding.get(node) === settled) laterBinding.delete(node);
  }
}

const isLockstep = (node: NodeRuntime) => node.spec.socket === 'REQ';

/** A socket the server's process holds (not a process node's handle), which can disconnect and unbind. */
const movable = (node: NodeRuntime) =>
  typeof (node.socket as { disconnect?: unknown }).disconnect === 'function' &&
  typeof (node.socket as { unbind?: unknown }).unbind === 'function';

/**
 * Moves node `id`'s links (or its link to `peer`) to `transport` in the running graph. Resolves with the links as
 * they are now. Throws a coded refusal a page translates (no run, no such node or link, a node that stopped, a
 * link on that transport already, a process node, a move under way).
 */
export async function moveNode(
  run: GraphRunContext,
  wiring: LiveWiring,
  id: string,
  transport: Transport,
  peer?: string,
): Promise<GraphLink[]> {
  if (run.ended) throw new CodedError('PG_ERR_NO_RUN', text('graph.moveNoRun'));
  const node = run.nodes.get(id);
  if (!node || node.removed || !run.options.graph.nodes.some((spec) => spec.id === id))
    throw new CodedError('PG_ERR_NOT_FOUND', text('graph.unknownNode', { node: id.slice(0, 64) }));
  const links = run.options.graph.links.filter((link) => {
    const other = peerOf(link, id);
    return other !== null && (peer === undefined || other === peer);
  });
  if (links.length === 0)
    throw new CodedError(
      peer === undefined ? 'PG_ERR_VALIDATION' : 'PG_ERR_NOT_FOUND',
      peer === undefined ? text('graph.moveNoLinks', { node: id }) : text('graph.unknownLink', { from: id, to: peer }),
    );
  const toMove = links.filter((link) => link.transport !== transport);
  if (toMove.length === 0) throw new CodedError('PG_ERR_VALIDATION', text('graph.moveSame', { node: id, transport }));
  for (const link of toMove) {
    for (const end of [link.from, link.to]) {
      const runtime = run.node(end);
      if (runtime.killed || runtime.removed || runtime.finished || runtime.socket.closed)
        throw new CodedError('PG_ERR_VALIDATION', text('graph.moveStopped', { node: end }));
      if (!movable(runtime)) throw new CodedError('PG_ERR_VALIDATION', text('graph.moveProcess', { node: end }));
      // A bound PAIR takes one peer: the new connection would be refused while the old one is still there (its
      // end is asynchronous), and the run would count the moved peer refused.
      if (runtime.spec.socket === 'PAIR')
        throw new CodedError('PG_ERR_VALIDATION', text('graph.movePair', { node: end }));
    }
    // A REQ's link still waiting to move at the end of its round trip: one move of it at a time.
    if (deferred.get(run)?.some((move) => move.next === link))
      throw new CodedError('PG_ERR_VALIDATION', text('graph.moveBusy'));
    // A connecter that has not dialled yet (a start delay, startAfter) would dial the old endpoint when it starts.
    const { binder, connecter } = linkEnds(link);
    const address = wiring.addresses.get(link);
    if (address === undefined || !run.node(connecter).peerAt.has(address))
      throw new CodedError('PG_ERR_VALIDATION', text('graph.moveNotStarted', { node: connecter, peer: binder }));
  }
  if (moving.has(run)) throw new CodedError('PG_ERR_VALIDATION', text('graph.moveBusy'));
  moving.add(run);
  try {
    const index = new Map([...run.nodes.keys()].map((nodeId, i) => [nodeId, i]));
    for (const link of toMove) {
      if (run.ended) break;
      const { binder: binderId, connecter: connecterId } = linkEnds(link);
      const next: GraphLink = { from: link.from, to: link.to, bind: link.bind, transport };
      const move: DeferredMove = { moved: id, link, next, wiring, index: index.get(binderId)! };
      // A REQ's link moves at the end of its round trip, every step of it (settleDeferredMoves): the REQ waits
      // for it before its next request, so nothing is on the way while its sockets bind, connect, disconnect and
      // unbind. Then no request or reply can go with the old connection, and none can arrive while a socket call
      // takes the wake-up a pending receive waits for (zeromq.js re-checks a pending receive only when the
      // socket's file descriptor signals or it sends: docs/zmq-patterns.md).
      if (isLockstep(run.node(binderId)) || isLockstep(run.node(connecterId))) {
        let list = deferred.get(run);
        if (!list) deferred.set(run, (list = []));
        list.push(move);
      } else {
        const address = await bindFor(run, wiring, run.node(binderId), next, move.index);
        if (run.ended) break;
        rewire(run, move, address);
      }
      // The run's graph shows the new transport at once; the sockets follow now, or when a round trip ends.
      run.options.graph = {
        ...run.options.graph,
        links: run.options.graph.links.map((candidate) => (candidate === link ? next : candidate)),
      };
    }
  } finally {
    moving.delete(run);
  }
  run.progress();
  return run.options.graph.links.filter((link) => peerOf(link, id) !== null);
}

/**
 * Carries out the moves waiting for `node`'s round trip, now that its reply came (called by a REQ's role loop,
 * before its next request). Per round trip, not per message; nothing to do in the usual case.
 */
export function settleDeferredMoves(run: GraphRunContext, node: NodeRuntime): Promise<void> | null {
  const list = deferred.get(run);
  if (!list || list.length === 0) return null;
  const due = list.filter((move) => {
    const { binder, connecter } = linkEnds(move.link);
    return (binder === node.id || connecter === node.id) && run.books.pendingBetween(binder, connecter) === 0;
  });
  if (due.length === 0) return null;
  for (const move of due) list.splice(list.indexOf(move), 1);
  return (async () => {
    for (const move of due) {
      if (run.ended) return;
      const binder = run.node(linkEnds(move.link).binder);
      try {
        rewire(run, move, await bindFor(run, move.wiring, binder, move.next, move.index));
      } catch (error) {
        // An endpoint refused now (its ipc path taken meanwhile): said, and the link stays where it was.
        const code = (error as { code?: string }).code ?? 'ERROR';
        run.emit({ type: 'node:error', node: binder.id, code, message: (error as Error).message ?? String(error) });
        continue;
      }
      // Its old endpoint's unbind ends before the REQ's next request (see moveNode).
      for (let pending = unbinding.get(binder); pending; pending = unbinding.get(binder)) await pending.done;
    }
  })();
}

/** The endpoint of `transport` the binder has in this run, or a new one bound now (as at the run's start). */
async function bindFor(
  run: GraphRunContext,
  wiring: LiveWiring,
  binder: NodeRuntime,
  next: GraphLink,
  index: number,
): Promise<string> {
  for (const [link, address] of wiring.addresses)
    if (linkEnds(link).binder === binder.id && link.transport === next.transport) return address;
  const requested = await requestedAddress(next, index, run.options, wiring.claimed);
  // A previous move's unbind (or a later bind) on this socket ends first (a move would meet EBUSY otherwise).
  while (socketBusy(binder)) await socketFree(binder);
  if (run.ended || binder.socket.closed)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.moveStopped', { node: binder.id }));
  // Synchronously: while an asynchronous bind() is under way, zeromq.js throws EBUSY at any send or receive
  // the node's role loop makes on that socket (move-experiments.test.ts); bindSync holds the event loop instead.
  binder.socket.bindSync(requested);
  const address = next.transport === 'inproc' ? requested : (binder.socket.lastEndpoint ?? requested);
  if (next.transport === 'ipc') run.options.claims.bound(address.slice('ipc://'.length), run.options.owner);
  run.emit({ type: 'node:bound', node: binder.id, transport: next.transport, address });
  return address;
}

/** The connecter dials the new endpoint and leaves the old one; the binder unbinds it once nobody uses it. */
function rewire(run: GraphRunContext, move: DeferredMove, address: string): void {
  const { link, next, wiring } = move;
  const previousAddress = wiring.addresses.get(link);
  const binder = run.node(linkEnds(link).binder);
  const connecter = run.node(linkEnds(link).connecter);
  wiring.addresses.delete(link);
  wiring.addresses.set(next, address);
  if (run.ended || connecter.socket.closed || binder.socket.closed) return;
  wiring.connect(connecter, new Map([[next, address]]));
  let lost = 0;
  if (previousAddress !== undefined) {
    try {
      connecter.socket.disconnect(previousAddress);
    } catch {
      // ENOENT: never connected there (a node that had not started yet); nothing to leave.
    }
    // The disconnecting side's monitor says nothing of it (move-experiments.test.ts): count the peer gone here.
    // inproc has no monitor at all: both sides lose the peer here.
    if (link.transport === 'inproc') {
      connecter.peerLeft();
      binder.peerLeft();
    } else if (connecter.connections.get(previousAddress) === 'handshaken') connecter.peerLeft();
    connecter.connections.delete(previousAddress);
    const drops = run.books.moved(binder.id, connecter.id);
    lost = drops.length;
    run.reportDrops(drops);
    const stillUsed = [...wiring.addresses.values()].includes(previousAddress);
    const listened = (binder.spec.listen ?? []).some((endpoint) => endpoint.transport === link.transport);
    if (!stillUsed && !listened) unbind(run, wiring, binder, previousAddress);
  }
  run.emit({
    type: 'link:moved',
    node: move.moved,
    from: link.from,
    to: link.to,
    transport: next.transport,
    address,
    previousTransport: link.transport,
    previousAddress: previousAddress ?? '',
    lost,
  });
  run.progress();
}

/**
 * Unbinds an endpoint nobody uses any more. zeromq.js has no working synchronous unbind (6.8.0's unbindSync is
 * wired to bindSync: move-experiments.test.ts), and while its unbind() is under way any send or receive the node
 * starts throws EBUSY: the node is held as a hung one is (its loops wait, nothing is lost) for that moment. What
 * was queued on the endpoint went with the disconnect already; an endpoint never bound (a later bind not made
 * yet) is refused with ENOENT, which changes nothing.
 */
function unbind(run: GraphRunContext, wiring: LiveWiring, binder: NodeRuntime, address: string): void {
  // One at a time per socket: a second unbind while one is under way is refused (EBUSY) and would leave the
  // endpoint bound for the rest of the run. One queue per socket, its node held once for all of it.
  const queued = unbinding.get(binder);
  if (queued) {
    queued.addresses.push(address);
    return;
  }
  const entry: Unbinding = { addresses: [address], done: Promise.resolve() };
  unbinding.set(binder, entry);
  entry.done = unbindQueued(run, wiring, binder, entry);
}

async function unbindQueued(run: GraphRunContext, wiring: LiveWiring, binder: NodeRuntime, entry: Unbinding) {
  const wasHung = binder.hung;
  if (!wasHung) binder.hang();
  try {
    for (let address = entry.addresses.shift(); address !== undefined; address = entry.addresses.shift()) {
      try {
        // A later bind under way ends first (graph-later-binds.ts; it waits for this queue when it comes after).
        for (let bind = laterBinding.get(binder); bind; bind = laterBinding.get(binder)) await bind;
        await binder.socket.unbind(address);
      } catch {
        // ENOENT (never bound), EBADF (closed meanwhile): nothing left to unbind.
        continue;
      }
      // An ipc path left is given back (its socket file removed): moving back and forth would otherwise leave a
      // new file and claim per move until the run ends. The next move to ipc may take the path again.
      if (address.startsWith('ipc://')) {
        const file = address.slice('ipc://'.length);
        const at = wiring.claimed.indexOf(file);
        if (at >= 0) {
          wiring.claimed.splice(at, 1);
          run.options.claims.release(file, run.options.owner);
        }
      }
    }
  } finally {
    // In the same turn as the queue's last check: an unbind asked for later starts a queue of its own.
    unbinding.delete(binder);
    if (!wasHung) binder.release();
  }
}
