/**
 * "The code behind the picture" for a graph scenario (the series' parts, the zguide's patterns, a sandbox): for one
 * node, a runnable program in Python (pyzmq) or TypeScript (zeromq.js v6) that creates the node's socket type,
 * connects to the endpoints this run's nodes really bound (the `node:bound` events: `*` ports resolved), and plays
 * the node's role. Run while the playground runs, it joins the live diagram as a peer the playground does not
 * control: what it sends arrives attributed to no node of the graph, what it receives was booked as unattributed.
 *
 * A node that binds cannot join: the run's peers connect to the playground's own socket for it. Its program binds
 * a port of its own (5555 on), as the series' programs do, and says so. A program is only shown when it can run as
 * shown: before the run has bound what it connects to, or when the only way in is inproc (no other process can
 * reach it), `graphProgram()` says what is missing instead of writing an address that cannot work.
 * Pure functions; the page and server/engine/graph-codegen.test.ts (which runs the programs) use them.
 */
import type { GraphNode, GraphSpec, PlaygroundEvent } from '../protocol/index.ts';
import { linkEnds } from '../scenarios/graph.ts';
import { type CodeLang, type NodePlan, type SocketPlan } from './graph-code-parts.ts';
import { pythonProgram } from './graph-python.ts';
import { typescriptProgram } from './graph-typescript.ts';

export type GraphLanguage = 'python' | 'typescript';
export type { CodeLang, NodePlan, SocketPlan } from './graph-code-parts.ts';

/** What each node of a run bound, by node id: real addresses, in the order bound. */
export type BoundAddresses = Readonly<Record<string, readonly { transport: string; address: string }[]>>;

/** The addresses bound in the newest run of these events (a new run binds new `*` ports). */
export function boundAddresses(
  events: readonly PlaygroundEvent[],
): Record<string, { transport: string; address: string }[]> {
  let start = 0;
  events.forEach((event, index) => {
    if (event.type === 'graph:started') start = index;
  });
  const bound: Record<string, { transport: string; address: string }[]> = {};
  for (const event of events.slice(start)) {
    if (event.type !== 'node:bound') continue;
    (bound[event.node] ??= []).push({ transport: event.transport, address: event.address });
  }
  return bound;
}

/**
 * Why no program is shown: 'run' (what it connects to is bound when the run starts: run the playground),
 * 'inproc' (its only way in is inproc), 'passive' (it only sends what `owner` hands it: see that node's program),
 * 'unlinked' (it has no link yet: a program would create a socket that connects nowhere and binds nothing).
 */
export type Missing =
  { reason: 'run' | 'inproc'; peer: string } | { reason: 'passive'; owner: string | null } | { reason: 'unlinked' };

export type GraphProgram =
  { code: string; joins: boolean; missing: null } | { code: null; joins: false; missing: Missing };

/** The first port a standalone program binds. */
export const OWN_PORT = 5555;

function socketPlan(
  graph: GraphSpec,
  node: GraphNode,
  bound: BoundAddresses,
  ports: { next: number },
  /** The second socket of a node (a forwardTo target) may have no link yet: the main one may not. */
  mayBeUnlinked = false,
): SocketPlan | Missing {
  const plan: SocketPlan = {
    node: node.id,
    socket: node.socket,
    subscribe: node.subscribe ?? [],
    ...(node.routingId !== undefined ? { routingId: node.routingId } : {}),
    connects: [],
    binds: [],
    laterBinds: [],
  };
  let unreachable: Missing | null = null;
  // A node that listens for programs outside the playground (withOutsidePeers) is reached there.
  let linked = (node.listen?.length ?? 0) > 0;
  for (const link of graph.links) {
    if (link.from !== node.id && link.to !== node.id) continue;
    linked = true;
    const { binder } = linkEnds(link);
    if (binder === node.id) {
      if (link.bindAfter !== undefined) {
        // Bound later on the same socket, as the original does (only ipc binds later: graph.ts checks it).
        const address = `ipc:///tmp/${node.id.replace(/[^A-Za-z0-9_-]/g, '_')}-${plan.laterBinds.length + 1}.ipc`;
        if (!plan.laterBinds.some((later) => later.after === link.bindAfter))
          plan.laterBinds.push({ after: link.bindAfter, address });
        continue;
      }
      if (plan.binds.length === 0 || link.transport !== 'inproc') plan.binds.push(`tcp://127.0.0.1:${ports.next++}`);
      continue;
    }
    if (link.transport === 'inproc') {
      unreachable ??= { reason: 'inproc', peer: binder };
      continue;
    }
    const address = bound[binder]?.find((endpoint) => endpoint.transport === link.transport)?.address;
    if (address === undefined) return { reason: 'run', peer: binder };
    if (!plan.connects.some((c) => c.address === address)) plan.connects.push({ peer: binder, address });
  }
  // A socket with no link (the sandbox's lone first node): its program would say "connects to" nothing.
  if (!linked && !mayBeUnlinked) return { reason: 'unlinked' };
  // Binding twice on one socket is pointless for a standalone program: one port is enough.
  plan.binds = plan.binds.slice(0, 1);
  if (plan.connects.length === 0 && plan.binds.length === 0 && plan.laterBinds.length === 0 && unreachable)
    return unreachable;
  return plan;
}

/** The node whose role sends through `id` (a forwardTo target, a proxy's backend), if any. */
function ownerOf(graph: GraphSpec, id: string): string | null {
  const owner = graph.nodes.find((node) => {
    const role = node.role;
    if (role.kind === 'proxy') return role.backend === id;
    if (role.kind === 'reply' || role.kind === 'receive') return role.forwardTo === id;
    return false;
  });
  return owner?.id ?? null;
}

/** The program's plan for `nodeId`, or what is missing. */
export function planNode(
  graph: GraphSpec,
  nodeId: string,
  bound: BoundAddresses,
  lang: CodeLang = 'en',
): NodePlan | Missing {
  const node = graph.nodes.find((candidate) => candidate.id === nodeId);
  if (!node) throw new Error(`no node "${nodeId}" in this graph`);
  if (node.role.kind === 'passive') return { reason: 'passive', owner: ownerOf(graph, node.id) };
  const ports = { next: OWN_PORT };
  const main = socketPlan(graph, node, bound, ports);
  if ('reason' in main) return main;
  const role = node.role;
  const extraId =
    role.kind === 'proxy'
      ? role.backend
      : role.kind === 'reply' || role.kind === 'receive'
        ? (role.forwardTo ?? null)
        : null;
  let extra: SocketPlan | null = null;
  if (extraId !== null) {
    const extraNode = graph.nodes.find((candidate) => candidate.id === extraId);
    if (extraNode) {
      const planned = socketPlan(graph, extraNode, bound, ports, true);
      if ('reason' in planned) return planned;
      extra = planned;
    }
  }
  const binds = (plan: SocketPlan) => plan.binds.length + plan.laterBinds.length;
  const joins = binds(main) === 0 && (extra === null || binds(extra) === 0);
  return { node, main, extra, joins, lang };
}

/** The program for one node, or (before the run has bound what it needs) why there is none; never a placeholder. */
export function graphProgram(
  graph: GraphSpec,
  nodeId: string,
  bound: BoundAddresses,
  language: GraphLanguage,
  lang: CodeLang = 'en',
): GraphProgram {
  const plan = planNode(graph, nodeId, bound, lang);
  if ('reason' in plan) return { code: null, joins: false, missing: plan };
  const code = language === 'python' ? pythonProgram(plan) : typescriptProgram(plan);
  return { code, joins: plan.joins, missing: null };
}

/** A file name for a node's program. */
export function programFile(nodeId: string, language: GraphLanguage): string {
  return `${nodeId.replace(/[^A-Za-z0-9_]/g, '_')}.${language === 'python' ? 'py' : 'ts'}`;
}
