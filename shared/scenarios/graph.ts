/**
 * Graph scenarios as data, and the rules a graph must follow before any socket exists: which socket types may
 * talk (ZMTP's compatible pairs), which role fits which socket, that links join existing nodes. Pure functions,
 * used by the engine (server/engine), the HTTP API and the page alike. The wire shapes are in
 * shared/protocol/graph.ts.
 */
import type { GraphLink, GraphNode, GraphSpec, Messages, RoleKind, SocketType, Transform } from '../protocol/graph.ts';

export type { GraphLink, GraphNode, GraphSpec, Messages, NodeRole, SocketType, Transform } from '../protocol/graph.ts';

/** A graph scenario the server offers: the graph plus a few words on what to look at. */
export interface GraphScenario {
  id: string;
  title: string;
  /** What the reader should observe (English; the series' facts in our words). */
  description: string;
  graph: GraphSpec;
  /** Honest notes: what this run cannot do as the original did, and why (part 8: no PGM). */
  notes?: string[];
}

/**
 * The peer types each socket type may be connected to (zmq_socket(3), RFC 28/REQREP, 29/PUBSUB, 30/PIPELINE,
 * 31/EXPAIR). Over tcp and ipc libzmq drops any other pair before the handshake; over inproc it does not check at
 * all (docs/zmq-patterns.md), so the engine refuses such links itself.
 */
export const COMPATIBLE: Readonly<Record<SocketType, readonly SocketType[]>> = {
  REQ: ['REP', 'ROUTER'],
  REP: ['REQ', 'DEALER'],
  DEALER: ['REP', 'DEALER', 'ROUTER'],
  ROUTER: ['REQ', 'DEALER', 'ROUTER'],
  PUB: ['SUB', 'XSUB'],
  SUB: ['PUB', 'XPUB'],
  XPUB: ['SUB', 'XSUB'],
  XSUB: ['PUB', 'XPUB'],
  PUSH: ['PULL'],
  PULL: ['PUSH'],
  PAIR: ['PAIR'],
};

export function compatible(a: SocketType, b: SocketType): boolean {
  return COMPATIBLE[a].includes(b);
}

/** Which roles each socket type can play. */
export const ROLES_BY_SOCKET: Readonly<Record<SocketType, readonly RoleKind[]>> = {
  REQ: ['request'],
  REP: ['reply'],
  DEALER: ['request', 'send', 'receive', 'passive'],
  ROUTER: ['reply', 'receive', 'proxy', 'passive'],
  PUB: ['send', 'passive'],
  SUB: ['receive'],
  XPUB: ['send', 'passive'],
  XSUB: ['receive', 'proxy'],
  PUSH: ['send', 'passive'],
  PULL: ['receive'],
  PAIR: ['send', 'receive'],
};

/** Socket types that can send, i.e. may be a `forwardTo` target. */
const SENDERS: ReadonlySet<SocketType> = new Set(['DEALER', 'ROUTER', 'PUB', 'XPUB', 'PUSH', 'PAIR']);

/** One problem with a graph: where (a node, a link index) and what, in English. */
export interface GraphProblem {
  where: string;
  problem: string;
}

/**
 * Everything wrong with a graph that can be told before any socket exists. `allowIncompatible`: keep links
 * between socket types that may not talk (over tcp and ipc), to show ZeroMQ refusing them.
 */
export function checkGraph(graph: GraphSpec, options: { allowIncompatible?: boolean } = {}): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const byId = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    if (byId.has(node.id)) problems.push({ where: node.id, problem: 'two nodes have this id' });
    byId.set(node.id, node);
  }
  for (const node of graph.nodes) {
    const role = node.role;
    if (!ROLES_BY_SOCKET[node.socket].includes(role.kind)) {
      problems.push({
        where: node.id,
        problem: `a ${node.socket} cannot play the role "${role.kind}" (it can: ${ROLES_BY_SOCKET[node.socket].join(', ')})`,
      });
    }
    if (role.kind === 'request' && role.waitReply === false && node.socket !== 'REQ') {
      problems.push({ where: node.id, problem: 'only a REQ has a state machine to break with waitReply: false' });
    }
    if (role.kind === 'send' && role.awaitEcho && node.socket !== 'PAIR' && node.socket !== 'DEALER') {
      problems.push({ where: node.id, problem: 'awaitEcho needs a socket that can also receive (PAIR, DEALER)' });
    }
    if (role.kind === 'receive' && role.replyBack && !['PAIR', 'DEALER', 'ROUTER'].includes(node.socket)) {
      problems.push({ where: node.id, problem: `a ${node.socket} cannot send back on the socket it receives on` });
    }
    const forwardTo = role.kind === 'reply' || role.kind === 'receive' ? role.forwardTo : undefined;
    if (forwardTo !== undefined) {
      const target = byId.get(forwardTo);
      if (!target) problems.push({ where: node.id, problem: `forwards to "${forwardTo}", which is not a node` });
      else if (target.role.kind !== 'passive' || !SENDERS.has(target.socket)) {
        problems.push({
          where: node.id,
          problem: `forwards to "${forwardTo}", which must be a passive sending socket`,
        });
      }
    }
    const announceThrough = node.stop?.announce?.through;
    if (announceThrough !== undefined) {
      const target = byId.get(announceThrough);
      if (!target || target.role.kind !== 'passive' || !SENDERS.has(target.socket) || target.id === node.id) {
        problems.push({
          where: node.id,
          problem: `announces its stop through "${announceThrough}", which must be another node: a passive sending socket`,
        });
      }
    }
    const withNode = node.stop?.withNode;
    if (withNode !== undefined && (!byId.has(withNode) || withNode === node.id)) {
      problems.push({ where: node.id, problem: `stops with "${withNode}", which is not another node` });
    }
    if (role.kind === 'proxy') {
      const backend = byId.get(role.backend);
      const pairOk =
        backend !== undefined &&
        ((node.socket === 'ROUTER' && backend.socket === 'DEALER') ||
          (node.socket === 'XSUB' && backend.socket === 'XPUB'));
      if (!pairOk)
        problems.push({
          where: node.id,
          problem: 'a proxy is a ROUTER with a DEALER backend, or an XSUB with an XPUB backend',
        });
      else if (backend.role.kind !== 'passive')
        problems.push({ where: node.id, problem: `its backend "${role.backend}" must be passive` });
    }
    if (node.startAfter !== undefined && (!byId.has(node.startAfter) || node.startAfter === node.id)) {
      problems.push({ where: node.id, problem: `starts after "${node.startAfter}", which is not another node` });
    }
    if (node.subscribe && node.socket !== 'SUB' && node.socket !== 'XSUB') {
      problems.push({ where: node.id, problem: 'only a SUB or an XSUB subscribes' });
    }
    if (node.routingId && !['REQ', 'REP', 'DEALER', 'ROUTER'].includes(node.socket)) {
      problems.push({ where: node.id, problem: 'only REQ, REP, DEALER and ROUTER sockets have a routing id' });
    }
    for (const endpoint of node.listen ?? []) {
      if (endpoint.bindAfter !== undefined && (endpoint.transport !== 'ipc' || role.kind !== 'send'))
        problems.push({ where: node.id, problem: 'only a sending node binds later, and only over ipc' });
    }
  }
  /** The bind each binding node makes per transport and address: when (bindAfter), as its first link says. */
  const bindTimes = new Map<string, number | undefined>();
  graph.links.forEach((link, index) => {
    const where = `link ${index + 1} (${link.from} - ${link.to})`;
    const from = byId.get(link.from);
    const to = byId.get(link.to);
    if (!from || !to) {
      problems.push({ where, problem: `joins ${!from ? link.from : link.to}, which is not a node` });
      return;
    }
    const binder = byId.get(linkEnds(link).binder)!;
    if (link.bindAfter !== undefined) {
      if (link.transport !== 'ipc')
        problems.push({ where, problem: 'only an ipc bind can come later (its address is known before it exists)' });
      if (binder.role.kind !== 'send')
        problems.push({ where, problem: `${binder.id} binds after its first messages, so it must send them` });
    }
    // One socket binds one endpoint once: every link it shares must agree on when.
    const bindKey = `${binder.id}|${link.transport}|${link.address ?? ''}`;
    if (!bindTimes.has(bindKey)) bindTimes.set(bindKey, link.bindAfter);
    else if (bindTimes.get(bindKey) !== link.bindAfter)
      problems.push({
        where,
        problem: `${binder.id} binds this endpoint for several links: they must agree on bindAfter`,
      });
    if (link.from === link.to) problems.push({ where, problem: 'a node cannot be linked to itself' });
    if (!compatible(from.socket, to.socket)) {
      if (link.transport === 'inproc') {
        problems.push({
          where,
          problem: `a ${from.socket} may not talk to a ${to.socket}; over inproc libzmq would not even check, so it is refused here`,
        });
      } else if (!options.allowIncompatible) {
        problems.push({
          where,
          problem: `a ${from.socket} may not talk to a ${to.socket} (ZeroMQ would drop the connection before its handshake)`,
        });
      }
    }
  });
  problems.push(...sendersWithNowhereToSend(graph));
  return problems;
}

/**
 * A PUSH, DEALER or PAIR that binds every endpoint later (bindAfter) and connects nowhere has no peer for its first
 * messages: it blocks on the first one for ever, so its later binds never come. (A PUB would drop them, which is
 * ZeroMQ's own lesson, so it is left alone.)
 */
function sendersWithNowhereToSend(graph: GraphSpec): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const node of graph.nodes) {
    if (node.role.kind !== 'send' || node.socket === 'PUB' || node.socket === 'XPUB') continue;
    const links = graph.links.filter((link) => link.from === node.id || link.to === node.id);
    const boundNow = links.some((link) => linkEnds(link).binder !== node.id || !link.bindAfter);
    const listensNow = (node.listen ?? []).some((endpoint) => !endpoint.bindAfter);
    if (links.some((link) => link.bindAfter) && !boundNow && !listensNow)
      problems.push({
        where: node.id,
        problem: `every endpoint of ${node.id} binds after its first messages, so they have nowhere to go and it waits for ever: bind one now`,
      });
  }
  return problems;
}

/** The node a link's binding side is, and the other. */
export function linkEnds(link: GraphLink): { binder: string; connecter: string } {
  return link.bind === 'from' ? { binder: link.from, connecter: link.to } : { binder: link.to, connecter: link.from };
}

/** The other end of `link` seen from `node`. */
export function peerOf(link: GraphLink, node: string): string | null {
  if (link.from === node) return link.to;
  if (link.to === node) return link.from;
  return null;
}

/** Applies a transform, as the series' servers do; 'sum' of "a:b" is a + b as decimal text, else the text kept. */
export function transform(kind: Transform, body: string): string {
  switch (kind) {
    case 'echo':
      return body;
    case 'uppercase':
      return body.toUpperCase();
    case 'sum': {
      const match = /^\s*(-?\d+)\s*:\s*(-?\d+)\s*$/.exec(body);
      return match ? String(Number(match[1]) + Number(match[2])) : body;
    }
  }
}

/** A small, seeded generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many messages a source gives. */
export function messageCount(messages: Messages): number {
  return messages.kind === 'list' ? messages.items.length : messages.count;
}

/** The texts of a source, one at a time (a template of 100,000 never exists as an array). */
export function* expandMessages(messages: Messages): Generator<string> {
  if (messages.kind === 'list') {
    yield* messages.items;
    return;
  }
  const random = seededRandom(messages.seed ?? 2012);
  for (let i = 0; i < messages.count; i++) {
    yield messages.template.replace(
      /\{(i|n|int:(-?\d+)-(-?\d+)|pick:([^}]*))\}/g,
      (_, what: string, low?: string, high?: string, choices?: string) => {
        if (what === 'i') return String(i);
        if (what === 'n') return String(i + 1);
        if (low !== undefined && high !== undefined) {
          const min = Number(low);
          const max = Number(high);
          return String(min + Math.floor(random() * (max - min + 1)));
        }
        const options = (choices ?? '').split('|');
        return options[Math.floor(random() * options.length)] ?? '';
      },
    );
  }
}

/** Does a SUB with these prefixes take this body? ('' takes everything; no prefix takes nothing.) */
export function matchesSubscription(prefixes: readonly string[], body: string): boolean {
  return prefixes.some((prefix) => body.startsWith(prefix));
}
