/**
 * One message through a graph run: a send that resolved (booked with where its copies may go: its addressee, each
 * subscriber filtered or not, or any linked peer), and a receive, attributed by the receiving side (body, the
 * envelope to reply with, the message and node it came from, a ROUTER's identity frame), with a node's stop
 * conditions checked as it arrives.
 */
import type * as zmq from 'zeromq';
import type { EventInput } from '../../shared/protocol/index.ts';
import { matchesSubscription } from '../../shared/scenarios/graph.ts';
import type { Drop } from './books.ts';
import type { GraphRunContext } from './graph-context.ts';
import { untilSocketFree } from './graph-move.ts';
import { preview, printableIdentity, type NodeRuntime } from './graph-node.ts';

/** What the receiving side makes of a message. */
export interface Received {
  body: string;
  /** The frames to put before a reply (a ROUTER's identity, a REQ's delimiter); never modified. */
  envelope: readonly Buffer[];
  from: string | null;
  message: number | null;
}

/** No envelope (most receipts): one shared empty list rather than a new one per message. */
const NO_ENVELOPE: readonly Buffer[] = Object.freeze([]);

/** Sends on a node's socket, then books and reports it (a send that resolved: ZeroMQ queued it). */
export async function sendOn(
  run: GraphRunContext,
  node: NodeRuntime,
  frames: zmq.MessageLike[],
  context: { cause?: number | null; to?: string | null } = {},
): Promise<void> {
  if (node.process) return await sendFromProcess(run, node, frames, context);
  await node.send(frames);
  if (run.ended) return;
  announceSend(run, node, frames, context);
}

/**
 * A process node's send (graph-process.ts) is booked when its program hands it to its socket, before the child
 * says libzmq queued it: the message may reach a peer in the server (and be attributed there) before that answer
 * crosses the IPC channel, and a receipt finds only copies already booked. A send the child's socket refuses (a
 * REQ's EFSM) is dropped as `refused`; one its killed process never queued is lost with it (the run's end decides).
 */
async function sendFromProcess(
  run: GraphRunContext,
  node: NodeRuntime,
  frames: zmq.MessageLike[],
  context: { cause?: number | null; to?: string | null },
): Promise<void> {
  // A hung program hands nothing to its socket until it is resumed; nor while a move holds its sends (graph-move.ts:
  // booked now, it could go over the old connection or the new one).
  while (node.hung || node.sendsHeld) {
    await node.whileHung();
    await node.whileSendsHeld();
  }
  if (run.ended || node.killed) return await node.send(frames);
  const message = announceSend(run, node, frames, context);
  // What it answers or passes on is handled now: its answer exists (lost with the process if it dies before libzmq
  // writes it out, as a killed sender's, books.ts). The holder is this node or one of its program's.
  if (context.cause !== undefined && context.cause !== null) {
    for (const holder of run.nodes.values()) if (holder.holding === context.cause) holder.holding = null;
  }
  try {
    await node.send(frames);
  } catch (error) {
    if (!run.ended && !node.killed) run.reportDrops(run.books.refuseMessage(message, node.id));
    throw error;
  }
}

/** Books a send and reports it: message:sent, then where its copies may go. Returns its message id. */
function announceSend(
  run: GraphRunContext,
  node: NodeRuntime,
  frames: zmq.MessageLike[],
  context: { cause?: number | null; to?: string | null },
): number {
  const last = frames.at(-1)!;
  const body = Buffer.isBuffer(last) ? last.toString() : String(last);
  const message = run.books.nextMessage();
  // A requester's request (not an eager one's, which awaits no reply) is awaited until its reply comes: booked as
  // such before the books can report it lost (a killed node's request dropped at once).
  if (node.spec.role.kind === 'request' && node.spec.role.waitReply !== false) run.awaitingReply.set(node.id, message);
  // undefined: not addressed (round-robin, fan-out); null: addressed to a peer we do not control.
  const to = context.to;
  run.progress();
  // Built in one object, its optional fields added in the order the event always had them (the wire's JSON).
  const event: Extract<EventInput, { type: 'message:sent' }> = {
    type: 'message:sent',
    node: node.id,
    message,
    body: preview(body),
    frames: frames.length,
  };
  if (context.cause !== undefined && context.cause !== null) event.cause = context.cause;
  if (to !== undefined && to !== null) event.to = to;
  run.emit(event);
  book(run, node, message, body, to);
  return message;
}

/** Sends one body through `target` (a worker's PUSH out, a relay's PUB), with a REQ's delimiter if it needs one. */
export async function forward(
  run: GraphRunContext,
  target: NodeRuntime,
  body: string,
  cause: number | null,
): Promise<void> {
  const delimiter = run.needsDelimiter(target);
  await sendOn(run, target, delimiter ? ['', body] : [body], { cause });
}

/** Where a message's copies may go: its addressee, each subscriber (filtered or not), or any linked peer. */
function book(run: GraphRunContext, node: NodeRuntime, message: number, body: string, to: string | null | undefined) {
  if (to !== undefined) {
    const targets = [{ candidates: to === null ? [] : [to], fanOut: false }];
    run.reportDrops(run.books.recordSend(message, node.id, body, targets));
    return;
  }
  const peers = run.linkedPeers(node);
  if (node.spec.socket === 'PUB' || node.spec.socket === 'XPUB') {
    const targets = run.fanOutTargets(node);
    // Per message: when every linked subscriber is alive and takes it, the publisher's list goes as it is.
    let everyone = peers.length > 0;
    for (let i = 0; everyone && i < peers.length; i++) {
      const subscriber = run.node(peers[i]!);
      everyone = !subscriber.killed && matchesSubscription(run.prefixesOf(subscriber.spec), body);
    }
    if (everyone) {
      run.reportDrops(run.books.recordSend(message, node.id, body, targets));
      return;
    }
    const copies: { readonly candidates: readonly string[]; readonly fanOut: boolean }[] = [];
    const drops: Drop[] = [];
    let live = 0;
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[i]!;
      const subscriber = run.node(peer);
      // A killed subscriber has no subscription left at the publisher: no copy is booked for it any more.
      if (subscriber.killed) continue;
      live++;
      if (matchesSubscription(run.prefixesOf(subscriber.spec), body)) copies.push(targets[i]!);
      else drops.push(run.books.recordDrop(message, node.id, body, { node: node.id, peer, reason: 'filtered' }));
    }
    if (live === 0) {
      if (run.external.has(node.id)) copies.push({ candidates: [], fanOut: false });
      else drops.push(run.books.recordDrop(message, node.id, body, { node: node.id, peer: null, reason: 'no-peer' }));
    }
    drops.push(...run.books.recordSend(message, node.id, body, copies));
    run.reportDrops(drops);
    return;
  }
  let candidates: readonly string[] = peers;
  if (node.spec.socket === 'PAIR' && node.pairPeer !== undefined)
    candidates = node.pairPeer === null ? [] : [node.pairPeer];
  run.reportDrops(run.books.recordSend(message, node.id, body, [{ candidates, fanOut: false }]));
  if (run.refused.has(node.id)) run.reportDrops(run.books.refuse(node.id));
}

/** Receives one message on a node and reports it; null when the socket closed. */
export async function receiveOne(run: GraphRunContext, node: NodeRuntime): Promise<Received | null> {
  const frames = await receiveFrames(run, node);
  if (!frames) return null;
  const received = attribute(run, node, frames);
  const stop = node.spec.stop;
  if (stop?.onMessage !== undefined && received.body === stop.onMessage) run.finish(node, 'stop-message', true);
  // In its hands from its receipt on, in the same turn (a kill right after the receipt finds it held), until its
  // role has handled it (graph-roles.ts clears it): lost with the node if it is killed meanwhile (graph-signals.ts).
  else if (holdsUntilHandled(node)) node.holding = received.message;
  return received;
}

/**
 * A node that does something with what it receives: a REP answers, a receiver that works on it, answers or passes
 * it on. A subscriber or a sink that only takes it has handled it by receiving it; a REQ's reply ends its round
 * trip.
 */
function holdsUntilHandled(node: NodeRuntime): boolean {
  const role = node.spec.role;
  if (role.kind === 'reply') return true;
  return role.kind === 'receive' && Boolean(role.workMs || role.replyBack || role.forwardTo);
}

/** The next message's frames as they came; null once the run ended or the socket closed. */
export async function receiveFrames(run: GraphRunContext, node: NodeRuntime): Promise<Buffer[] | null> {
  for (let again = false; ; again = true) {
    // A hung node reads nothing until it is resumed (graph-signals.ts). Not hung (per message): no await at all.
    while (node.hung) await node.whileHung();
    if (run.ended || node.socket.closed) return null;
    // Again after a receive timeout: a later bind or a move's unbind may have begun on the socket since the last
    // receive did (zeromq.js would throw EBUSY at this one).
    if (again) {
      const busy = untilSocketFree(node);
      if (busy) {
        await busy;
        continue;
      }
    }
    let frames: Buffer[];
    try {
      frames = await node.socket.receive();
    } catch (error) {
      if (run.ended || node.socket.closed) return null;
      // Its receive timeout (graph-node.ts RECEIVE_RECHECK_MS) found nothing: receive again. A lost wake-up (a move's
      // socket call took it) ends here, not at the next message. A process node's child re-checks on its own.
      if ((error as { code?: string }).code === 'EAGAIN' && !node.process) continue;
      throw error;
    }
    // Read while the node was hung: it stays in the node's hands, untouched, until the node is resumed (or dies
    // with it, or the run ends meanwhile: then it is lost as the rest of its queue).
    const held = node.hung;
    if (held) await node.whileHung();
    // Read by the socket just before its node was taken out of the run (graph-live.ts) or killed closed it, in
    // the same turn: the program is gone, so nothing is attributed to it after its node:stopped (the copy is lost
    // with it).
    if (node.removed || node.killed || (held && run.ended)) return null;
    return frames;
  }
}

/** The receiving side's attribution: body, envelope to reply with, the message and node it came from. */
export function attribute(run: GraphRunContext, node: NodeRuntime, frames: Buffer[]): Received {
  let envelope: readonly Buffer[] = NO_ENVELOPE;
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
  const receipt = run.books.recordReceive(node.id, body);
  if (identity && receipt.from !== null) node.identities.set(identity.toString('hex'), receipt.from);
  run.progress();
  const event: Extract<EventInput, { type: 'message:received' }> = {
    type: 'message:received',
    node: node.id,
    message: receipt.message,
    from: receipt.from,
    body: preview(body),
  };
  if (identity) event.identity = printableIdentity(identity);
  run.emit(event);
  if (receipt.drops.length > 0) run.reportDrops(receipt.drops);
  node.countReceipt();
  const count = node.spec.stop?.afterMessages;
  if (count !== undefined && node.received >= count) node.stoppedReading = true;
  return { body, envelope, from: receipt.from, message: receipt.message };
}

/** True when the node is done: it reached its count now (finished here) or had finished already. */
export function countReached(run: GraphRunContext, node: NodeRuntime): boolean {
  if (!node.stoppedReading || node.finished) return node.finished;
  run.finish(node, 'count', true);
  return true;
}
