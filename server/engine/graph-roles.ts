/**
 * The role loops of a graph run, one per node, each over its node's one socket: request (REQ, DEALER: send, wait
 * for the reply; EFSM shown), reply (REP, ROUTER: answer with a transform, maybe forward), send (PUSH, PUB, XPUB,
 * PAIR, DEALER: each message at its pace, maybe after its peers joined, maybe awaiting an echo), receive (PULL,
 * SUB, XSUB, PAIR, DEALER, ROUTER: take, work, reply back or forward), proxy (ROUTER with a DEALER backend, XSUB
 * with an XPUB one: every message crosses, each hop seen; it may wait for its backend's peers first) and passive
 * (sends what others forward through it).
 */
import type { GraphNode } from '../../shared/protocol/index.ts';
import { expandMessages, transform } from '../../shared/scenarios/graph.ts';
import type { GraphRunContext } from './graph-context.ts';
import { attribute, countReached, forward, receiveFrames, receiveOne, sendOn } from './graph-messages.ts';
import type { NodeRuntime } from './graph-node.ts';
import { bindsDue } from './graph-later-binds.ts';
import { connectsDue } from './graph-connects.ts';
import { settleDeferredMoves } from './graph-move.ts';
import { pacedPause, paceOf } from './graph-pace.ts';

type RoleOf<K extends GraphNode['role']['kind']> = Extract<GraphNode['role'], { kind: K }>;

/** Runs a node's role until it is done, stopped, or the run ends. */
export async function runRole(run: GraphRunContext, node: NodeRuntime): Promise<void> {
  const role = node.spec.role;
  switch (role.kind) {
    case 'request':
      return await request(run, node, role);
    case 'reply':
      return await reply(run, node, role);
    case 'send':
      return await sendAll(run, node, role);
    case 'receive':
      return await receiveAll(run, node, role);
    case 'proxy':
      return await proxy(run, node, run.node(role.backend), role.waitForPeers ?? 0);
    case 'passive':
      // XPUB backends and PUB outputs still receive subscriptions as messages: read them so none piles up.
      if (node.spec.socket === 'XPUB') await drain(run, node);
      return;
  }
}

async function request(run: GraphRunContext, node: NodeRuntime, role: RoleOf<'request'>): Promise<void> {
  const delimiter = run.needsDelimiter(node);
  const eager = role.waitReply === false;
  // zeromq.js would make an eager second send wait for the reply; with no wait allowed, libzmq answers EFSM.
  if (eager) node.socket.sendTimeout = 0;
  let first = true;
  for (const body of expandMessages(role.messages)) {
    if (run.ended) return;
    // No interval (as fast as it goes): no pause to await, per message.
    // Its pace is read at every wait: a visitor may change it while the run flows (graph-pace.ts).
    if (!first && paceOf(node)) await pacedPause(run, node);
    first = false;
    // A peer added while the run flows that this requester dials (graph-connects.ts): between two round trips.
    connectsDue(node);
    try {
      await sendOn(run, node, delimiter ? ['', body] : [body]);
    } catch (error) {
      if ((error as { code?: string }).code === 'EFSM' && !run.ended) {
        run.books.countRefusal();
        run.emit({
          type: 'socket:refused',
          node: node.id,
          peer: null,
          reason: 'efsm',
          code: 'EFSM',
          detail:
            'a REQ must receive its reply before it sends again: the send was refused (the program would stop here)',
        });
        run.finish(node, 'error');
        return;
      }
      throw error;
    }
    if (eager) continue;
    await receiveOne(run, node);
    if (node.finished) return;
    // Its reply came (a run that ends while it waits keeps it: graph-run.ts says the request's fate).
    run.awaitingReply.delete(node.id);
    // A move of its link waits for the round trip to end (graph-move.ts): it is done now, before the next send.
    const moving = settleDeferredMoves(run, node);
    if (moving) await moving;
  }
  if (role.last !== undefined && !run.ended) await sendOn(run, node, delimiter ? ['', role.last] : [role.last]);
  run.finish(node, 'done');
}

async function reply(run: GraphRunContext, node: NodeRuntime, role: RoleOf<'reply'>): Promise<void> {
  for (;;) {
    const received = await receiveOne(run, node);
    if (!received) return;
    const { body, envelope, from } = received;
    if (node.finished) return; // its stop message: the series' server exits without a reply
    // Held since its receipt (receiveOne) until its reply (and what it forwards) is queued: a kill meanwhile loses
    // it (graph-signals.ts).
    // A slow server (its pace, changeable while the run flows: graph-pace.ts): its clients wait meanwhile.
    if (paceOf(node)) await pacedPause(run, node);
    const result = transform(role.transform, body);
    await sendOn(run, node, [...envelope, result], { cause: received.message, to: from });
    if (role.forwardTo) await forward(run, run.node(role.forwardTo), result, received.message);
    node.holding = null;
    if (countReached(run, node)) return;
  }
}

async function sendAll(run: GraphRunContext, node: NodeRuntime, role: RoleOf<'send'>): Promise<void> {
  if (node.spec.socket === 'XPUB') run.loops.push(drain(run, node).catch(() => {}));
  if (role.waitForPeers) {
    node.pausing = true;
    await node.waitForPeers(role.waitForPeers, run.abort.signal);
    node.pausing = false;
  }
  const delimiter = run.needsDelimiter(node);
  let sent = 0;
  for (const body of expandMessages(role.messages)) {
    if (run.ended) return;
    // No interval (as fast as it goes): no pause to await, per message.
    // Its pace is read at every wait: a visitor may change it while the run flows (graph-pace.ts).
    if (sent > 0 && paceOf(node)) await pacedPause(run, node);
    // An endpoint bound later on this same socket (the tutorial binds ipc after its third message and pause).
    const binding = bindsDue(run, node, sent);
    if (binding) await binding;
    if (run.ended) return;
    await sendOn(run, node, delimiter ? ['', body] : [body]);
    sent++;
    if (role.awaitEcho) {
      await receiveOne(run, node);
      if (node.finished) return;
    }
  }
  run.finish(node, 'done');
}

async function receiveAll(run: GraphRunContext, node: NodeRuntime, role: RoleOf<'receive'>): Promise<void> {
  if (node.spec.socket === 'XSUB') {
    for (const prefix of run.prefixesOf(node.spec))
      await node.send([Buffer.concat([Buffer.from([1]), Buffer.from(prefix)])]);
  }
  for (;;) {
    const received = await receiveOne(run, node);
    if (!received || node.finished) return;
    // A receiver that works on it, answers or passes it on holds it since its receipt (receiveOne) until that is
    // done: a kill meanwhile loses it (graph-signals.ts). One that only takes it has handled it by receiving it.
    const work = paceOf(node);
    // Its work time is read per message: a visitor may slow it while the run flows (graph-pace.ts).
    if (work) await pacedPause(run, node);
    const result = role.transform ? transform(role.transform, received.body) : received.body;
    if (role.replyBack && !run.ended)
      await sendOn(run, node, [...received.envelope, result], { cause: received.message, to: received.from });
    if (role.forwardTo && !run.ended) await forward(run, run.node(role.forwardTo), result, received.message);
    node.holding = null;
    if (countReached(run, node)) return;
  }
}

/**
 * A ROUTER frontend and a DEALER backend (or XSUB and XPUB): a hand loop, so that every hop is seen (zeromq.js's
 * own Proxy runs libzmq's zmq_proxy on a thread of its own, where no message passes through our code: see
 * docs/zmq-patterns.md). With `backendPeers`, nothing goes towards the backend until it has that many peers.
 */
async function proxy(
  run: GraphRunContext,
  frontend: NodeRuntime,
  backend: NodeRuntime,
  backendPeers: number,
): Promise<void> {
  const across = async (from: NodeRuntime, to: NodeRuntime) => {
    if (to === backend && backendPeers > 0) {
      // A deliberate wait: the run is not idle while its broker waits for its workers.
      frontend.pausing = true;
      await backend.waitForPeers(backendPeers, run.abort.signal);
      frontend.pausing = false;
    }
    for (;;) {
      const frames = await receiveFrames(run, from);
      if (!frames) return;
      if (from.spec.socket === 'XPUB') {
        // A subscription from downstream travels upstream as it is (1 or 0, then the prefix).
        await to.send(frames);
        continue;
      }
      const received = attribute(run, from, frames);
      const identity = from.spec.socket === 'ROUTER' ? frames[0]! : to.spec.socket === 'ROUTER' ? frames[0]! : null;
      const addressee =
        to.spec.socket === 'ROUTER' && identity ? (to.identities.get(identity.toString('hex')) ?? null) : undefined;
      // In the proxy's hands until it is queued on the other side: a kill meanwhile loses it (graph-signals.ts).
      from.holding = received.message;
      await sendOn(run, to, frames, { cause: received.message, to: addressee });
      from.holding = null;
    }
  };
  await Promise.all([across(frontend, backend), across(backend, frontend)]);
}

async function drain(run: GraphRunContext, node: NodeRuntime): Promise<void> {
  while (await receiveFrames(run, node));
}
