/**
 * What the patterns page shows of a recorded graph run at one moment (issue 11): the exact counters per node, the
 * newest body each node received, ZeroMQ's refusals so far and whether the run had ended, folded from the run's
 * stored events up to that moment. The server answers it at any moment (`GET /api/runs/:id/graph-state`), so a
 * replay of a long run seeks without loading the events before the moment, and two runs are compared from it
 * (their books at the end, from the recorded events). Pure (no node:*, no DOM): the page folds its windows with it.
 */
import type {
  DropReason,
  GraphLink,
  GraphNode,
  GraphSpec,
  GraphSummary,
  PlaygroundEvent,
  RefusalReason,
} from './index.ts';
import { GRAPH_LIMITS } from './graph.ts';
import { GRAPH_RUN_NODE_NAMES } from './graph-history.ts';
import { addGraphEvent, emptyGraphCounters, type GraphCounters } from './graph-stream.ts';

/** Refusals a state keeps (the newest); the counters count every one. */
export const GRAPH_STATE_REFUSALS = 50;
/**
 * Characters of a body or a refusal's detail a state keeps (the rest is cut): a state is copied every few thousand
 * events of a fold (server/http/graph-run-state.ts), and an imported run's texts have no length of their own, so a
 * file with a few bodies of megabytes would otherwise cost that much per copy. A node of ours sends at most 256.
 */
export const GRAPH_STATE_TEXT_CHARS = 1024;

const kept = (text: string): string =>
  text.length > GRAPH_STATE_TEXT_CHARS ? text.slice(0, GRAPH_STATE_TEXT_CHARS) : text;

/** Where a link moved by a visitor (link:moved) was at the moment folded: its transport and the address dialled. */
export interface GraphMovedLink {
  transport: GraphLink['transport'];
  address: string;
}

/** A link's key in GraphRunStateAt.movedLinks: the diagram's own key for a link (GraphDiagram.svelte). */
export const movedLinkKey = (from: string, to: string): string => `${from}>${to}`;

/** A node that runs as its own OS process, or that a visitor killed, hung or resumed (node:process). */
export interface GraphNodeProcess {
  /** Its OS process's pid (a process node's `started`), if it runs as one. */
  pid?: number;
  /** What a visitor did to it last; absent: nothing. */
  state?: 'killed' | 'hung' | 'resumed';
}

/** A node that joined the run while it flowed (node:added): as it ran, and its one link. */
export interface GraphAddedNode {
  spec: GraphNode;
  link: GraphLink;
}

/**
 * Characters of an added node's spec a state keeps whole (JSON): a node of ours has a template, an imported one
 * may carry a list of a thousand 256-character texts; beyond this its message list keeps its first few texts,
 * which is all a diagram shows of it.
 */
export const GRAPH_STATE_SPEC_CHARS = 4096;

function keptSpec(spec: GraphNode): GraphNode {
  if (JSON.stringify(spec).length <= GRAPH_STATE_SPEC_CHARS) return spec;
  const { listen: _listen, ...rest } = spec;
  const role = rest.role;
  const shortRole =
    (role.kind === 'request' || role.kind === 'send') && role.messages.kind === 'list'
      ? { ...role, messages: { kind: 'list' as const, items: role.messages.items.slice(0, 4).map(kept) } }
      : role;
  return {
    ...rest,
    ...(rest.subscribe ? { subscribe: rest.subscribe.slice(0, 16).map(kept) } : {}),
    role: shortRole,
  };
}

export interface GraphStateRefusal {
  node: string;
  peer: string | null;
  reason: RefusalReason;
  code?: string;
  detail: string;
}

/** A recorded graph run folded up to one moment (see the module's comment). */
export interface GraphRunStateAt {
  run: string;
  /** Events folded: the run's first `count` events (the replay's position). */
  count: number;
  /** seq and t of the last event folded; 0 before the first. */
  lastSeq: number;
  lastT: number;
  counters: GraphCounters;
  /** The newest body each node received (its first GRAPH_STATE_TEXT_CHARS characters). */
  lastBodies: Record<string, string>;
  /** The newest refusals (at most GRAPH_STATE_REFUSALS), oldest first. */
  refusals: GraphStateRefusal[];
  /** 'idle' before graph:started, 'running' after it, 'ended' after graph:ended. */
  runState: 'idle' | 'running' | 'ended';
  endReason: string | null;
  summary: GraphSummary | null;
  /**
   * The links moved so far in this run (link:moved), by movedLinkKey, as each was after its newest move: the graph
   * recorded by graph:started is the graph before any move. At most GRAPH_LIMITS.links keys (a graph has no more
   * links; an imported file naming more is not kept beyond that), so a state never grows with its events.
   */
  movedLinks: Record<string, GraphMovedLink>;
  /** Per node named by node:process so far in this run (at most GRAPH_RUN_NODE_NAMES nodes): its pid, its state. */
  processes: Record<string, GraphNodeProcess>;
  /**
   * The nodes added while the run flowed (node:added) and not removed since, by name, in the order they came: the
   * graph recorded by graph:started is the graph before any of them. At most GRAPH_RUN_NODE_NAMES. Absent in a
   * state folded by an older page or server.
   */
  addedNodes?: Record<string, GraphAddedNode>;
  /** The nodes of the recorded graph removed so far (node:removed), at most GRAPH_RUN_NODE_NAMES. */
  removedNodes?: string[];
}

export function emptyGraphRunState(run: string): GraphRunStateAt {
  return {
    run,
    count: 0,
    lastSeq: 0,
    lastT: 0,
    counters: emptyGraphCounters(),
    lastBodies: {},
    refusals: [],
    runState: 'idle',
    endReason: null,
    summary: null,
    movedLinks: {},
    processes: {},
    addedNodes: {},
    removedNodes: [],
  };
}

/**
 * `record[key] = value` as an own property whatever the key: a node may be named "__proto__" (the schema's names
 * allow it), and a plain object's "__proto__" is its prototype's setter, which would drop the value.
 */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (Object.hasOwn(record, key)) record[key] = value;
  else Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Folds one event into `state`, in place (as GraphSession.applyEvents and addGraphEvent count it live). */
export function foldGraphState(state: GraphRunStateAt, event: PlaygroundEvent): GraphRunStateAt {
  state.count++;
  state.lastSeq = event.seq;
  state.lastT = event.t;
  addGraphEvent(state.counters, event);
  switch (event.type) {
    case 'graph:started':
      state.runState = 'running';
      state.endReason = null;
      state.summary = null;
      state.refusals = [];
      state.lastBodies = {};
      state.movedLinks = {};
      state.processes = {};
      state.addedNodes = {};
      state.removedNodes = [];
      break;
    case 'node:added': {
      // The server's own name the node in its spec and its link; an imported file's that do not are left out.
      if (event.spec.id !== event.node || (event.link.from !== event.node && event.link.to !== event.node)) break;
      // A state folded by an older page or server has none: they start empty here.
      const added = (state.addedNodes ??= {});
      if (!Object.hasOwn(added, event.node) && Object.keys(added).length >= GRAPH_RUN_NODE_NAMES) break;
      // Added again under a name removed before (an imported file may say so): drawn again.
      state.removedNodes = (state.removedNodes ?? []).filter((name) => name !== event.node);
      setOwn(added, event.node, { spec: keptSpec(event.spec), link: { ...event.link } });
      break;
    }
    case 'node:removed': {
      const added = state.addedNodes ?? {};
      if (Object.hasOwn(added, event.node)) {
        delete added[event.node];
        break;
      }
      const removed = (state.removedNodes ??= []);
      if (!removed.includes(event.node) && removed.length < GRAPH_RUN_NODE_NAMES) removed.push(event.node);
      break;
    }
    case 'node:process': {
      state.processes ??= {}; // a state folded by an older page or server has none
      const known = Object.hasOwn(state.processes, event.node);
      if (!known && Object.keys(state.processes).length >= GRAPH_RUN_NODE_NAMES) break;
      const entry: GraphNodeProcess = known ? state.processes[event.node]! : {};
      if (event.pid !== undefined) entry.pid = event.pid;
      // `started` only says it is a process: it runs as any other node.
      if (event.action !== 'started') entry.state = event.action;
      if (!known) setOwn(state.processes, event.node, entry);
      break;
    }
    case 'link:moved': {
      const key = movedLinkKey(event.from, event.to);
      // A state folded by an older page or server has no movedLinks: it starts empty here.
      state.movedLinks ??= {};
      if (Object.hasOwn(state.movedLinks, key) || Object.keys(state.movedLinks).length < GRAPH_LIMITS.links)
        setOwn(state.movedLinks, key, { transport: event.transport, address: kept(event.address) });
      break;
    }
    case 'message:received':
      setOwn(state.lastBodies, event.node, kept(event.body));
      break;
    case 'socket:refused':
      state.refusals.push({
        node: event.node,
        peer: event.peer,
        reason: event.reason,
        ...(event.code !== undefined ? { code: kept(event.code) } : {}),
        detail: kept(event.detail),
      });
      if (state.refusals.length > GRAPH_STATE_REFUSALS) state.refusals.shift();
      break;
    case 'graph:ended':
      state.runState = 'ended';
      state.endReason = event.reason;
      state.summary = event.summary;
      break;
    default:
      break;
  }
  return state;
}

/**
 * `graph` (as graph:started recorded it) with its links where `movedLinks` says they were: a moved link is drawn as
 * the server keeps it after a move (graph-edits.ts withLinksMoved: the new transport, no address of its own). The
 * same graph object when nothing moved, so a diagram does not lay it out again.
 */
export function graphWithMovedLinks(
  graph: GraphSpec,
  movedLinks: Record<string, GraphMovedLink> | undefined,
): GraphSpec {
  if (!movedLinks || Object.keys(movedLinks).length === 0) return graph;
  let changed = false;
  const links = graph.links.map((link) => {
    const moved = Object.hasOwn(movedLinks, movedLinkKey(link.from, link.to))
      ? movedLinks[movedLinkKey(link.from, link.to)]!
      : undefined;
    if (!moved || moved.transport === link.transport) return link;
    changed = true;
    return { from: link.from, to: link.to, bind: link.bind, transport: moved.transport };
  });
  return changed ? { ...graph, links } : graph;
}

/**
 * `graph` (as graph:started recorded it) as it was at the moment `state` was folded: the nodes added so far
 * (node:added) with their links, without the nodes removed so far (node:removed) and their links, each link where
 * it moved (graphWithMovedLinks). The same graph object when nothing changed, so a diagram does not lay it out
 * again.
 */
export function graphAtMoment(
  graph: GraphSpec,
  state: Pick<GraphRunStateAt, 'movedLinks' | 'addedNodes' | 'removedNodes'>,
): GraphSpec {
  const added = Object.values(state.addedNodes ?? {});
  const removed = new Set(state.removedNodes ?? []);
  let changed = graph;
  if (added.length > 0 || removed.size > 0) {
    // Each name and each link once: a diagram keys its boxes by name and its links by from>to, and a duplicate key
    // throws in the page (an imported file may add one spec under two names, or a link the graph has).
    const present = new Set<string>();
    const nodes = [
      ...graph.nodes.filter((node) => !removed.has(node.id)),
      ...added.map((entry) => entry.spec).filter((spec) => !graph.nodes.some((node) => node.id === spec.id)),
    ].filter((node) => !present.has(node.id) && Boolean(present.add(node.id)));
    const drawn = new Set<string>();
    const links = [...graph.links, ...added.map((entry) => entry.link)].filter((link) => {
      const key = movedLinkKey(link.from, link.to);
      if (!present.has(link.from) || !present.has(link.to) || drawn.has(key)) return false;
      drawn.add(key);
      return true;
    });
    changed = { ...graph, nodes, links };
  }
  return graphWithMovedLinks(changed, state.movedLinks);
}

/** A deep copy (states are folded in place). */
export function copyGraphRunState(state: GraphRunStateAt): GraphRunStateAt {
  return structuredClone(state);
}

/** One node's books as a comparison shows them. */
export interface GraphNodeBooks {
  sent: number;
  /** Messages it received (delivered to it). */
  received: number;
  /** Copies dropped at this node (a publisher filtering, a PUB at a subscriber's HWM), any reason. */
  dropped: number;
  /** Copies meant for this node that never reached it (filtered, slow joiner, HWM, lost with a closed node...). */
  missed: number;
}

const total = (counts: Partial<Record<DropReason, number>>): number =>
  Object.values(counts).reduce<number>((sum, n) => sum + (n ?? 0), 0);

/** Per node (the graph's order, then any other node the events named), from a state's counters. */
export function nodeBooks(counters: GraphCounters): Record<string, GraphNodeBooks> {
  const books: Record<string, GraphNodeBooks> = {};
  for (const [node, counts] of Object.entries(counters.nodes))
    setOwn(books, node, {
      sent: counts.sent,
      received: counts.received,
      dropped: total(counts.droppedHere),
      missed: total(counts.missed),
    });
  return books;
}
