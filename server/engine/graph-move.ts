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
 * A node that runs as its own process (graph-process.ts) moves the same way, its socket calls made in its child:
 * the server asks it to bind (bindSync there too), connect, disconnect or unbind, and awaits its answer. What an
 * in-process move does in one turn of the event loop takes a few IPC round trips then, so both ends' sends are
 * held meanwhile (NodeRuntime.holdSends: a copy booked then could take either connection) and the books drop what
 * the old connection held once the child said it left it. A process that does not answer (SIGSTOPped: a visitor's
 * hang is refused at once, one stopped from outside found by a ping) fails the move within MOVE_ANSWER_MS, before
 * anything was asked of its sockets. inproc cannot cross a process: a move to inproc between a process node and
 * anything outside its process is refused (use tcp or ipc).
 */
import { linkEnds, peerOf } from '../../shared/scenarios/graph.ts';
import type { GraphLink, Transport } from '../../shared/protocol/index.ts';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';
import { requestedAddress } from './graph-addresses.ts';
import type { GraphRunContext } from './graph-context.ts';
import type { LiveWiring } from './graph-live.ts';
import type { NodeRuntime } from './graph-node.ts';
import { answerWithin, type NodeProcess } from './graph-process.ts';

/**
 * How long a move waits for a process node's child to answer (a ping, a bind, a disconnect, an unbind). A running
 * child answers in milliseconds; a stopped one never does, and the move fails with that said instead of waiting.
 */
export const MOVE_ANSWER_MS = 5000;
/** How long a move across a process lets the sends already under way settle before its sockets move. */
const SENDS_SETTLE_MS = 1000;

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
 * refuses a visitor's hang or resume meanwhile, as a resume would let its loop meet EBUSY and end it), or while a
 * link of it moves across a process (see `crossing`).
 */
export const unbindingNow = (node: NodeRuntime): boolean => unbinding.has(node) || crossing.has(node);

/**
 * The ends of a link moving across a process right now (moveLink): a visitor's hang meanwhile would stop a child
 * the move awaits (it would fail after MOVE_ANSWER_MS), so graph-signals.ts refuses it for that moment as well.
 */
const crossing = new WeakSet<NodeRuntime>();

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
 * Settles once no bind or unbind of a move or a later bind is under way on the node's socket; null when none is
 * (the usual case). A receive loop whose receive timed out asks before it receives again (graph-messages.ts): a
 * receive started meanwhile would throw EBUSY.
 */
export function untilSocketFree(node: NodeRuntime): Promise<void> | null {
  if (!socketBusy(node)) return null;
  return (async () => {
    while (socketBusy(node)) await socketFree(node);
  })();
}

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

/** Whether a link's two ends are not in one process: the server's, or one child's (inproc cannot cross). */
const acrossProcesses = (a: NodeRuntime, b: NodeRuntime) => a.process !== b.process;

/** A move's refusal for a process that did not answer, or that exited meanwhile. */
function unanswered(error: unknown, node: string): CodedError {
  if ((error as { code?: string }).code === 'ETIMEDOUT')
    return new CodedError('PG_ERR_VALIDATION', text('graph.moveNoAnswer', { node, ms: MOVE_ANSWER_MS }));
  return new CodedError('PG_ERR_VALIDATION', text('graph.moveStopped', { node }));
}

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
      // A stopped process (SIGSTOP: a visitor's hang) answers nothing: its sockets cannot move until it runs.
      if (runtime.process && (runtime.hung || runtime.process.stopped))
        throw new CodedError('PG_ERR_VALIDATION', text('graph.moveHung', { node: end }));
      // A bound PAIR takes one peer: the new connection would be refused while the old one is still there (its
      // end is asynchronous), and the run would count the moved peer refused.
      if (runtime.spec.socket === 'PAIR')
        throw new CodedError('PG_ERR_VALIDATION', text('graph.movePair', { node: end }));
    }
    // inproc is per ZeroMQ context, and a process node's socket lives in its child's (graph-process.ts): the graph's
    // own check refuses it before a run; a move would make the same link.
    if (transport === 'inproc' && acrossProcesses(run.node(link.from), run.node(link.to))) {
      const inChild = run.node(link.from).process ? link.from : link.to;
      throw new CodedError('PG_ERR_VALIDATION', text('graph.moveInprocProcess', { node: inChild }));
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
    // Every process a link of the move runs in answers first, or the move fails here with nothing asked of its
    // sockets (a stopped process would carry out what was asked only once it runs again).
    await pingAll(run, toMove);
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
        await moveLink(run, move);
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
        await pingAll(run, [move.link]);
        await moveLink(run, move);
      } catch (error) {
        // An endpoint refused now (its ipc path taken meanwhile): said, and the link stays where it was.
        const code = (error as { code?: string }).code ?? 'ERROR';
        run.emit({ type: 'node:error', node: binder.id, code, message: (error as Error).message ?? String(error) });
        continue;
      }
      // Its old endpoint's unbind ends before the REQ's next request (see moveNode); bounded for a process binder.
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
  while (socketBusy(binder)) {
    if (binder.process) await answerWithin(socketFree(binder), MOVE_ANSWER_MS).catch((e) => fail(e, binder.id));
    else await socketFree(binder);
  }
  if (run.ended || binder.socket.closed)
    throw new CodedError('PG_ERR_VALIDATION', text('graph.moveStopped', { node: binder.id }));
  if (binder.process) {
    // In its child, with bindSync there too (graph-node-process.ts). One that answers too late has bound an
    // endpoint nobody uses: it is unbound then.
    const bound = binder.socket.bind(requested);
    try {
      await answerWithin(bound, MOVE_ANSWER_MS);
    } catch (error) {
      void bound.then(() => binder.socket.unbind(binder.socket.lastEndpoint ?? requested)).catch(() => {});
      fail(error, binder.id);
    }
  } else {
    // Synchronously: while an asynchronous bind() is under way, zeromq.js throws EBUSY at any send or receive
    // the node's role loop makes on that socket (move-experiments.test.ts); bindSync holds the event loop instead.
    binder.socket.bindSync(requested);
  }
  const address = next.transport === 'inproc' ? requested : (binder.socket.lastEndpoint ?? requested);
  if (next.transport === 'ipc') run.options.claims.bound(address.slice('ipc://'.length), run.options.owner);
  run.emit({ type: 'node:bound', node: binder.id, transport: next.transport, address });
  return address;
}

/** A zeromq.js-like failure (a refusal, a timeout) as the move's coded error for `node`. */
function fail(error: unknown, node: string): never {
  if (error instanceof CodedError) throw error;
  throw unanswered(error, node);
}

/** Pings every process an end of `links` runs in, at once; the first that does not answer fails the move. */
async function pingAll(run: GraphRunContext, links: readonly GraphLink[]): Promise<void> {
  const processes = new Map<NodeProcess, string>();
  for (const link of links)
    for (const end of [link.from, link.to]) {
      const child = run.node(end).process;
      if (child && !processes.has(child)) processes.set(child, end);
    }
  await Promise.all(
    [...processes].map(([child, node]) => child.ping(MOVE_ANSWER_MS).catch((error) => fail(error, node))),
  );
}

/**
 * One link moved now: the binder binds, the connecter connects and disconnects, the books count what the old
 * connection held. Across a process, both ends' sends are held from before the bind until the books are done
 * (what an in-process move does in one turn of the event loop, where no send can come between).
 */
async function moveLink(run: GraphRunContext, move: DeferredMove): Promise<void> {
  const binder = run.node(linkEnds(move.link).binder);
  const connecter = run.node(linkEnds(move.link).connecter);
  const across = binder.process !== null || connecter.process !== null;
  const releases: (() => void)[] = [];
  try {
    if (across) {
      crossing.add(binder);
      crossing.add(connecter);
      // What they sent before is on the way over the old connection (a process node's, booked already, is handed
      // to its child's socket first); from here on nothing is sent until the move is done.
      const settled = Promise.all([binder.sendsSettled(), connecter.sendsSettled()]);
      releases.push(binder.holdSends(), connecter.holdSends());
      await answerWithin(settled, SENDS_SETTLE_MS).catch(() => {
        // A send blocked at a high-water mark: it settles later, on whichever connection it finds then.
      });
    }
    const address = await bindFor(run, move.wiring, binder, move.next, move.index);
    if (run.ended) return;
    await rewire(run, move, address);
  } finally {
    crossing.delete(binder);
    crossing.delete(connecter);
    for (const release of releases) release();
  }
}

/**
 * The connecter dials the new endpoint and leaves the old one; the binder unbinds it once nobody uses it. For a
 * socket in the server's process, all in one turn of the event loop (no await on that path).
 */
async function rewire(run: GraphRunContext, move: DeferredMove, address: string): Promise<void> {
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
    if (connecter.process) {
      // In its child, after the connect posted before it (one channel, in order).
      try {
        await answerWithin(connecter.process.socketFor(connecter.id).disconnect(previousAddress), MOVE_ANSWER_MS);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // ENOENT: never connected there; a child killed meanwhile left it with its life. Else it did not answer:
        // it leaves the endpoint when it runs again, said here.
        if (code !== 'ENOENT' && !run.ended && !connecter.killed && !connecter.process.hasExited)
          run.emit({ type: 'node:error', node: connecter.id, code: code ?? 'ERROR', message: String(error) });
      }
      // What the child received before it left the old endpoint was reported before its answer: attributed by
      // the receiving loop's promise chain, which ends before the next turn of the event loop. Then the books.
      await new Promise((resolve) => setImmediate(resolve));
      if (run.ended) return;
    } else {
      try {
        connecter.socket.disconnect(previousAddress);
      } catch {
        // ENOENT: never connected there (a node that had not started yet); nothing to leave.
      }
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
  // A process node's child holds its socket's sends and receives itself while it unbinds (graph-node-process.ts).
  const hold = binder.process === null;
  const wasHung = binder.hung;
  if (hold && !wasHung) binder.hang();
  try {
    for (let address = entry.addresses.shift(); address !== undefined; address = entry.addresses.shift()) {
      try {
        // A later bind under way ends first (graph-later-binds.ts; it waits for this queue when it comes after).
        for (let bind = laterBinding.get(binder); bind; bind = laterBinding.get(binder)) await bind;
        // Bounded in a child: one stopped meanwhile (from outside; a visitor's hang is refused now) unbinds when it
        // runs again, and the next move is not held by it.
        if (binder.process) await answerWithin(binder.socket.unbind(address), MOVE_ANSWER_MS);
        else await binder.socket.unbind(address);
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
    if (hold && !wasHung) binder.release();
  }
}
