/**
 * What the generated programs of a graph node share, whatever the language (shared/codegen/graph-code.ts plans
 * them; graph-python.ts and graph-typescript.ts write them): the plan's types, message templates read piece by
 * piece, the comments' words in both languages.
 */
import type { GraphNode, SocketType } from '../protocol/index.ts';

export type CodeLang = 'en' | 'es';

/** One socket of a program: its type and where it connects (the run's endpoints) and binds (its own). */
export interface SocketPlan {
  node: string;
  socket: SocketType;
  subscribe: readonly string[];
  routingId?: string;
  /** The run's endpoints it connects to, with the node that bound each. */
  connects: { peer: string; address: string }[];
  /** Addresses of its own it binds (standalone: tcp on 127.0.0.1, 5555 on). */
  binds: string[];
  /**
   * Addresses it binds later on the same socket, once it has sent `after` messages (GraphLink.bindAfter: the
   * series' part 7 binds ipc after "1", "2", "3"); standalone, an ipc path of its own in /tmp.
   */
  laterBinds: { after: number; address: string }[];
}

/** Everything a program's text needs, whatever the language. */
export interface NodePlan {
  node: GraphNode;
  main: SocketPlan;
  /** A second socket the role sends through: a `forwardTo` node, a proxy's backend. */
  extra: SocketPlan | null;
  /** Every socket only connects to the run: the program joins the live diagram. */
  joins: boolean;
  lang: CodeLang;
}

/** One piece of a message template: literal text, or a placeholder ({i}, {n}, {int:A-B}, {pick:a|b}). */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'index' }
  | { kind: 'number' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'pick'; choices: string[] };

/** A template split as expandMessages() reads it (shared/scenarios/graph.ts). */
export function templateParts(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const pattern = /\{(i|n|int:(-?\d+)-(-?\d+)|pick:([^}]*))\}/g;
  let last = 0;
  for (const match of template.matchAll(pattern)) {
    if (match.index > last) parts.push({ kind: 'text', text: template.slice(last, match.index) });
    const [, what, low, high, choices] = match;
    if (what === 'i') parts.push({ kind: 'index' });
    else if (what === 'n') parts.push({ kind: 'number' });
    else if (low !== undefined && high !== undefined) parts.push({ kind: 'int', min: Number(low), max: Number(high) });
    else parts.push({ kind: 'pick', choices: (choices ?? '').split('|') });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
  return parts;
}

/** The comments and help texts of the programs, in the page's language (the code itself is the same). */
export const GRAPH_CODE_WORDS = {
  en: {
    run: 'Run',
    joins: 'While the playground runs, it joins this run',
    connectsTo: 'connects to',
    standalone:
      "Standalone: the run's peers connect to the playground's own socket for this node, so this program binds a port of its own",
    countHelp: 'how many messages',
    noLimit: '0: no limit',
    timeoutHelp: 'give up after this many seconds without a message',
    noReply: 'no reply in time; giving up',
    waitPeers: 'Wait for the peers to shake hands first, or the first one to connect takes everything',
    laterBind: 'The same socket binds a second endpoint now: its peers there join the rotation once connected',
    after: 'after',
    messages: 'messages',
    proxy: 'Every message crosses to the other socket (Ctrl-C stops it).',
    // What the node does, in the doc's first line (the page's role words, web/lib/i18n graph.role.*).
    'role.request': 'requests',
    'role.reply': 'replies',
    'role.send': 'sends',
    'role.receive': 'receives',
    'role.echo': 'echoes what it receives',
    'role.proxy': 'proxy',
    'role.passive': 'forwards',
  },
  es: {
    run: 'Ejecútalo',
    joins: 'Mientras el playground corre, se une a esta ejecución',
    connectsTo: 'se conecta a',
    standalone:
      'Independiente: los peers de la ejecución se conectan al socket del propio playground para este nodo, así que este programa enlaza (bind) un puerto propio',
    countHelp: 'cuántos mensajes',
    noLimit: '0: sin límite',
    timeoutHelp: 'rendirse tras estos segundos sin ningún mensaje',
    noReply: 'sin respuesta a tiempo; me rindo',
    waitPeers: 'Espera antes el handshake de los peers; si no, el primero en conectarse se lo lleva todo',
    laterBind:
      'El mismo socket hace bind ahora en un segundo endpoint: sus peers allí entran en el turno al conectarse',
    after: 'tras',
    messages: 'mensajes',
    proxy: 'Cada mensaje cruza al otro socket (Ctrl-C lo para).',
    'role.request': 'pide',
    'role.reply': 'responde',
    'role.send': 'envía',
    'role.receive': 'recibe',
    'role.echo': 'devuelve lo que recibe',
    'role.proxy': 'proxy',
    'role.passive': 'reenvía',
  },
} as const satisfies Record<CodeLang, Record<string, string>>;
export type GraphCodeWords = Record<keyof (typeof GRAPH_CODE_WORDS)['en'], string>;

/** How many messages a role sends by default, or receives before it stops (null: until nothing comes). */
export function defaultCount(node: GraphNode): number | null {
  const role = node.role;
  if (role.kind === 'request' || role.kind === 'send')
    return role.messages.kind === 'list' ? role.messages.items.length : role.messages.count;
  return node.stop?.afterMessages ?? null;
}

/** The first line of a program's doc: the node, its socket, what joining means for it. */
export function docLines(plan: NodePlan, words: GraphCodeWords): string[] {
  // The role in the page's language (it said the role's code, "fan-1: SUB (receive)." in a Spanish program).
  const role = plan.node.role;
  const roleKey: keyof GraphCodeWords =
    role.kind === 'receive' && role.replyBack ? 'role.echo' : (`role.${role.kind}` as const);
  const roleWords = words[roleKey];
  const lines = [`${plan.node.id}: ${plan.node.socket} (${roleWords}).`];
  const sockets = [plan.main, ...(plan.extra ? [plan.extra] : [])];
  if (plan.joins) {
    const peers = sockets.flatMap((s) => s.connects.map((c) => `${c.peer} (${c.address})`));
    lines.push(`${words.joins}: ${words.connectsTo} ${peers.join(', ')}.`);
  } else {
    const later = sockets.flatMap((s) =>
      s.laterBinds.map((l) => `${l.address} (${words.after} ${l.after} ${words.messages})`),
    );
    lines.push(`${words.standalone}: ${[...sockets.flatMap((s) => s.binds), ...later].join(', ')}.`);
  }
  return lines;
}
