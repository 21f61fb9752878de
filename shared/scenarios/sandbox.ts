/**
 * The free sandbox (issue 11): a visitor's own graph, built from a palette of socket types, each node given a role
 * from a small menu. The menu is a friendlier face of the engine's roles (shared/protocol/graph.ts): every choice
 * maps onto a role the engine already runs, with bounded parameters, so a sandbox graph is an ordinary graph and
 * the server checks it as any other (shared/scenarios/graph.ts, the node cap, the endpoint boundary). A sandbox
 * never sets an address: the server picks a free loopback port, an ipc path or an inproc name of the playground's.
 * Pure functions: the page and the tests use them alike.
 */
import { GRAPH_LIMITS, type GraphLink, type GraphNode, type GraphSpec, type SocketType } from '../protocol/graph.ts';
import { ROLES_BY_SOCKET, compatible } from './graph.ts';

/** The menu's choices. publish, push and send are the engine's 'send' role under the name each socket type uses. */
export const MENU_ROLES = [
  'request',
  'echo',
  'sum',
  'uppercase',
  'publish',
  'push',
  'send',
  'collect',
  'subscribe',
] as const;
export type MenuRole = (typeof MENU_ROLES)[number];

/** What each socket type may do from the menu, the usual first. */
export const MENU_BY_SOCKET: Readonly<Record<SocketType, readonly MenuRole[]>> = {
  REQ: ['request'],
  REP: ['echo', 'sum', 'uppercase'],
  DEALER: ['request', 'collect'],
  ROUTER: ['echo', 'sum', 'uppercase', 'collect'],
  PUB: ['publish'],
  SUB: ['subscribe'],
  XPUB: ['publish'],
  XSUB: ['subscribe'],
  PUSH: ['push'],
  PULL: ['collect'],
  PAIR: ['echo', 'sum', 'uppercase', 'send'],
};

/** Bounds of the menu's parameters: a sandbox run stays small enough to watch. */
export const SANDBOX_LIMITS = {
  /** Messages a sender sends (requests, publications, tasks). */
  count: 1000,
  /** Between two of them (the engine's own cap). */
  intervalMs: GRAPH_LIMITS.intervalMs,
  /** A message's text (template). */
  textChars: 64,
  prefixes: 8,
  prefixChars: 32,
  /** A node's name. */
  nameChars: 24,
  /** What the menu never sets, held to a sandbox's scale when a graph of one's own sets it through the API. */
  workMs: 10_000,
  startDelayMs: 10_000,
  highWaterMark: 10_000,
  drainMs: 10_000,
  waitForPeers: GRAPH_LIMITS.nodes,
  afterMessages: 1000,
} as const;

/** A parameter of a sandbox graph beyond SANDBOX_LIMITS: which node, which parameter, its cap and the value. */
export interface SandboxExcess {
  /** The node's name, or null for the graph's own (drainMs). */
  node: string | null;
  /** As the graph's schema names it ("role.messages.count", "sendHighWaterMark", ...). */
  param: string;
  max: number;
  got: number;
  /** What `got` counts: the value itself, a text's characters, a list's items. */
  unit: 'value' | 'chars' | 'items';
}

/**
 * Every parameter of a sandbox graph beyond the sandbox's limits: what the page's menu holds within
 * SANDBOX_LIMITS, the server holds too, whoever sends the graph (the schema alone allows a graph of any
 * scenario's size: 100,000 messages). Numbers are held to their caps, texts to their lengths.
 */
export function sandboxExcesses(graph: GraphSpec): SandboxExcess[] {
  const found: SandboxExcess[] = [];
  const over = (
    node: string | null,
    param: string,
    max: number,
    got: number | undefined,
    unit: 'value' | 'items' = 'value',
  ) => {
    if (got !== undefined && got > max) found.push({ node, param, max, got, unit });
  };
  const tooLong = (node: string, param: string, max: number, value: string | undefined) => {
    if (value !== undefined && value.length > max) found.push({ node, param, max, got: value.length, unit: 'chars' });
  };
  over(null, 'drainMs', SANDBOX_LIMITS.drainMs, graph.drainMs);
  for (const node of graph.nodes) {
    const id = node.id;
    const role = node.role;
    if (role.kind === 'request' || role.kind === 'send') {
      const messages = role.messages;
      if (messages.kind === 'template') {
        over(id, 'role.messages.count', SANDBOX_LIMITS.count, messages.count);
        tooLong(id, 'role.messages.template', SANDBOX_LIMITS.textChars, messages.template);
      } else {
        over(id, 'role.messages.items', SANDBOX_LIMITS.count, messages.items.length, 'items');
        const longest = messages.items.reduce((a, b) => (b.length > a.length ? b : a), '');
        tooLong(id, 'role.messages.items[]', SANDBOX_LIMITS.textChars, longest);
      }
      over(id, 'role.intervalMs', SANDBOX_LIMITS.intervalMs, role.intervalMs);
      if (role.kind === 'request') tooLong(id, 'role.last', SANDBOX_LIMITS.textChars, role.last);
      if (role.kind === 'send') over(id, 'role.waitForPeers', SANDBOX_LIMITS.waitForPeers, role.waitForPeers);
    }
    if (role.kind === 'receive') over(id, 'role.workMs', SANDBOX_LIMITS.workMs, role.workMs);
    if (role.kind === 'proxy') over(id, 'role.waitForPeers', SANDBOX_LIMITS.waitForPeers, role.waitForPeers);
    over(id, 'startDelayMs', SANDBOX_LIMITS.startDelayMs, node.startDelayMs);
    over(id, 'sendHighWaterMark', SANDBOX_LIMITS.highWaterMark, node.sendHighWaterMark);
    over(id, 'receiveHighWaterMark', SANDBOX_LIMITS.highWaterMark, node.receiveHighWaterMark);
    over(id, 'stop.afterMessages', SANDBOX_LIMITS.afterMessages, node.stop?.afterMessages);
    tooLong(id, 'stop.onMessage', SANDBOX_LIMITS.textChars, node.stop?.onMessage);
    tooLong(id, 'stop.announce.body', SANDBOX_LIMITS.textChars, node.stop?.announce?.body);
    over(id, 'subscribe', SANDBOX_LIMITS.prefixes, node.subscribe?.length, 'items');
    const longestPrefix = (node.subscribe ?? []).reduce((a, b) => (b.length > a.length ? b : a), '');
    tooLong(id, 'subscribe[]', SANDBOX_LIMITS.prefixChars, longestPrefix);
  }
  return found;
}

/** A menu choice with its parameters (the ones its kind uses; the others are kept for switching back). */
export interface MenuChoice {
  kind: MenuRole;
  /** request, publish, push, send: the text sent, a template ({n} the message's number, {int:1-9}, {pick:a|b}). */
  text: string;
  count: number;
  intervalMs: number;
  /** subscribe: prefixes ('' is everything). */
  prefixes: string[];
}

const SENDS: ReadonlySet<MenuRole> = new Set(['request', 'publish', 'push', 'send']);

/** Does the menu choice send messages of its own (then it has text, count and interval)? */
export function menuSends(kind: MenuRole): boolean {
  return SENDS.has(kind);
}

/** The default choice for a socket type, with the text that fits it. */
export function defaultChoice(socket: SocketType, kind: MenuRole = MENU_BY_SOCKET[socket][0]!): MenuChoice {
  const text = kind === 'publish' ? '{pick:es|uk|fr} goal {n}' : kind === 'push' ? 'task {n}' : 'hello {n}';
  return {
    kind,
    text,
    count: kind === 'publish' ? 20 : 30,
    intervalMs: kind === 'publish' ? 200 : kind === 'request' ? 50 : 20,
    prefixes: [''],
  };
}

function clamp(value: number, low: number, high: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(Math.round(value), low), high) : low;
}

/** The engine's node for a menu choice (role, and a SUB's prefixes), parameters held within SANDBOX_LIMITS. */
export function nodeFromMenu(id: string, socket: SocketType, choice: MenuChoice): GraphNode {
  const count = clamp(choice.count, 1, SANDBOX_LIMITS.count);
  const intervalMs = clamp(choice.intervalMs, 0, SANDBOX_LIMITS.intervalMs);
  const template = choice.text.slice(0, SANDBOX_LIMITS.textChars) || 'hello {n}';
  const messages = { kind: 'template' as const, template, count };
  switch (choice.kind) {
    case 'request':
      return { id, socket, role: { kind: 'request', messages, intervalMs } };
    case 'publish':
    case 'push':
    case 'send':
      return { id, socket, role: { kind: 'send', messages, intervalMs } };
    case 'echo':
    case 'sum':
    case 'uppercase':
      // A REP or ROUTER replies; a PAIR (or a DEALER) answers on the socket it received on.
      return socket === 'REP' || socket === 'ROUTER'
        ? { id, socket, role: { kind: 'reply', transform: choice.kind } }
        : { id, socket, role: { kind: 'receive', transform: choice.kind, replyBack: true } };
    case 'collect':
      return { id, socket, role: { kind: 'receive' } };
    case 'subscribe': {
      const prefixes = choice.prefixes
        .slice(0, SANDBOX_LIMITS.prefixes)
        .map((prefix) => prefix.slice(0, SANDBOX_LIMITS.prefixChars));
      return { id, socket, role: { kind: 'receive' }, subscribe: prefixes.length > 0 ? prefixes : [''] };
    }
  }
}

/** The menu choice a node's role reads as (a graph the page gets back from the server). */
export function menuFromNode(node: GraphNode): MenuChoice {
  const role = node.role;
  const base = defaultChoice(node.socket);
  const sent =
    role.kind === 'request' || role.kind === 'send'
      ? {
          text: role.messages.kind === 'template' ? role.messages.template : (role.messages.items[0] ?? base.text),
          count: role.messages.kind === 'template' ? role.messages.count : role.messages.items.length,
          intervalMs: role.intervalMs ?? 0,
        }
      : {};
  let kind: MenuRole;
  if (role.kind === 'request') kind = 'request';
  else if (role.kind === 'send')
    kind = node.socket === 'PUB' || node.socket === 'XPUB' ? 'publish' : node.socket === 'PUSH' ? 'push' : 'send';
  else if (role.kind === 'reply' || (role.kind === 'receive' && role.replyBack)) kind = role.transform ?? 'echo';
  else if (role.kind === 'receive' && (node.socket === 'SUB' || node.socket === 'XSUB')) kind = 'subscribe';
  else kind = 'collect';
  if (!MENU_BY_SOCKET[node.socket].includes(kind)) kind = base.kind;
  return { ...base, ...sent, kind, prefixes: node.subscribe ? [...node.subscribe] : base.prefixes };
}

/** The first free name "<type>-<n>" (lower case), for a node added from the palette. */
export function nextNodeName(graph: Pick<GraphSpec, 'nodes'>, socket: SocketType): string {
  const taken = new Set(graph.nodes.map((node) => node.id));
  for (let n = 1; ; n++) {
    const name = `${socket.toLowerCase()}-${n}`;
    if (!taken.has(name)) return name;
  }
}

/** A node name the schema takes (letters, digits, . _ : -), within the sandbox's length. */
export function validNodeName(name: string): boolean {
  return name.length >= 1 && name.length <= SANDBOX_LIMITS.nameChars && /^[A-Za-z0-9_.:-]+$/.test(name);
}

/** The graph a new sandbox opens with: one REQ client, to which the visitor adds servers. */
export function starterSandbox(): GraphSpec {
  return {
    title: 'Free sandbox',
    nodes: [nodeFromMenu('client', 'REQ', defaultChoice('REQ'))],
    links: [],
    drainMs: 500,
  };
}

/** The graph with a node of this type added under a free name, with its default role. */
export function withNodeAdded(graph: GraphSpec, socket: SocketType): GraphSpec {
  const node = nodeFromMenu(nextNodeName(graph, socket), socket, defaultChoice(socket));
  return { ...graph, nodes: [...graph.nodes, node] };
}

/** The graph with one node replaced (renamed too: its links follow the new name). */
export function withNodeChanged(graph: GraphSpec, id: string, next: GraphNode): GraphSpec {
  const rename = (end: string) => (end === id ? next.id : end);
  return {
    ...graph,
    nodes: graph.nodes.map((node) => (node.id === id ? next : node)),
    links: graph.links.map((link) => ({ ...link, from: rename(link.from), to: rename(link.to) })),
  };
}

/** The graph without this node and its links. */
export function withNodeRemoved(graph: GraphSpec, id: string): GraphSpec {
  return {
    ...graph,
    nodes: graph.nodes.filter((node) => node.id !== id),
    links: graph.links.filter((link) => link.from !== id && link.to !== id),
  };
}

/** The graph with a link added (no address: the server picks one). */
export function withLinkAdded(graph: GraphSpec, link: Omit<GraphLink, 'address'>): GraphSpec {
  return {
    ...graph,
    links: [...graph.links, { from: link.from, to: link.to, bind: link.bind, transport: link.transport }],
  };
}

export function withLinkRemoved(graph: GraphSpec, index: number): GraphSpec {
  return { ...graph, links: graph.links.filter((_, i) => i !== index) };
}

/** Why a link cannot be added, before asking the server (null: it can). */
export function linkProblem(
  graph: GraphSpec,
  link: Pick<GraphLink, 'from' | 'to'>,
): 'same-node' | 'unknown-node' | 'incompatible' | 'duplicate' | null {
  if (link.from === link.to) return 'same-node';
  const from = graph.nodes.find((node) => node.id === link.from);
  const to = graph.nodes.find((node) => node.id === link.to);
  if (!from || !to) return 'unknown-node';
  if (!compatible(from.socket, to.socket)) return 'incompatible';
  const same = (a: string, b: string) => (a === link.from && b === link.to) || (a === link.to && b === link.from);
  if (graph.links.some((other) => same(other.from, other.to))) return 'duplicate';
  return null;
}

/** Every menu choice maps onto a role its socket type can play (checked by the tests against ROLES_BY_SOCKET). */
export function menuFits(socket: SocketType, kind: MenuRole): boolean {
  return (
    MENU_BY_SOCKET[socket].includes(kind) &&
    ROLES_BY_SOCKET[socket].includes(nodeFromMenu('x', socket, defaultChoice(socket, kind)).role.kind)
  );
}
