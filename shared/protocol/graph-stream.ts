/**
 * A graph playground's live stream (issue 11): what `/api/graphs/:id/stream` sends, and the exact counters every
 * events frame carries. At high rates the stream samples message events (a frame carries at most a few hundred),
 * so a page draws from the events it gets and counts from the counters, which the server keeps from every event.
 *
 *   server                                        browser
 *   hello {protocolVersion, graph} ------------> (shows the graph)
 *                                          <---- subscribe {sinceSeq}
 *   events {events[], dropped, counters} ------> draws the events, shows the counters
 *   graph:updated {graph} ----------------------> (a run started or ended, the graph was replaced)
 *   error {code, message, text?} ---------------> (a refused command)
 *
 * The only command is `subscribe`; running, stopping and replacing the graph go through the HTTP API.
 */
import type { DropReason, GraphSpec, GraphSummary, PlaygroundEvent, RefusalReason } from './index.ts';
import type { WireServerText } from './server-text.ts';

/** What GET /api/graphs/:id answers, and the stream's hello carries. */
export interface GraphPlaygroundInfo {
  id: string;
  kind: 'graph';
  scenario: string;
  title: string;
  graph: GraphSpec;
  notes: string[];
  allowIncompatible: boolean;
  activeRun: string | null;
  lastRun: { id: string; summary: GraphSummary | null } | null;
  lastSeq: number;
  capabilities: Record<string, boolean>;
}

/** One node's counts in the current (or last) run. */
export interface GraphNodeCounts {
  sent: number;
  received: number;
  /** Copies dropped at this node (a PUB filtering, a PUB at a subscriber's HWM), by why. */
  droppedHere: Partial<Record<DropReason, number>>;
  /** Copies meant for this node that it never got, by why (filtered by the publisher, ...). */
  missed: Partial<Record<DropReason, number>>;
  /** What ZeroMQ refused this node, by why. */
  refused: Partial<Record<RefusalReason, number>>;
}

/** Exact totals of the run that events frames belong to (the last one started), whatever was sampled out. */
export interface GraphCounters {
  run: string | null;
  sent: number;
  received: number;
  dropped: number;
  refusals: number;
  nodes: Record<string, GraphNodeCounts>;
}

export function emptyGraphCounters(run: string | null = null): GraphCounters {
  return {
    run,
    sent: 0,
    received: 0,
    dropped: 0,
    refusals: 0,
    nodes: Object.create(null) as Record<string, GraphNodeCounts>,
  };
}

function nodeCounts(counters: GraphCounters, node: string): GraphNodeCounts {
  // Own keys only: a node may be named after an Object.prototype member ("constructor").
  if (!Object.hasOwn(counters.nodes, node))
    counters.nodes[node] = { sent: 0, received: 0, droppedHere: {}, missed: {}, refused: {} };
  return counters.nodes[node]!;
}

/**
 * Counts one event into `counters` (in place: this runs once per ZeroMQ message). A graph:started begins a new
 * run's counts, so the caller keeps one object and hands it out as is. Other events are ignored.
 */
export function addGraphEvent(counters: GraphCounters, event: PlaygroundEvent): GraphCounters {
  switch (event.type) {
    case 'graph:started': {
      const fresh = emptyGraphCounters(event.run);
      Object.assign(counters, fresh);
      for (const node of event.graph.nodes) nodeCounts(counters, node.id);
      break;
    }
    case 'message:sent':
      counters.sent++;
      nodeCounts(counters, event.node).sent++;
      break;
    case 'message:received':
      counters.received++;
      nodeCounts(counters, event.node).received++;
      break;
    case 'message:dropped': {
      counters.dropped++;
      const here = nodeCounts(counters, event.node).droppedHere;
      here[event.reason] = (here[event.reason] ?? 0) + 1;
      if (event.peer !== null) {
        const missed = nodeCounts(counters, event.peer).missed;
        missed[event.reason] = (missed[event.reason] ?? 0) + 1;
      }
      break;
    }
    case 'socket:refused': {
      counters.refusals++;
      const refused = nodeCounts(counters, event.node).refused;
      refused[event.reason] = (refused[event.reason] ?? 0) + 1;
      break;
    }
    default:
      break;
  }
  return counters;
}

/** Message events a frame may leave out at high rates (counted in `dropped`); the rest always go. */
export const GRAPH_SAMPLED_TYPES: ReadonlySet<PlaygroundEvent['type']> = new Set([
  'message:sent',
  'message:received',
  'message:dropped',
]);

export type GraphServerMessage =
  | { type: 'hello'; protocolVersion: number; graph: GraphPlaygroundInfo }
  | { type: 'events'; events: PlaygroundEvent[]; dropped: number; counters: GraphCounters }
  | { type: 'graph:updated'; graph: GraphPlaygroundInfo }
  | { type: 'error'; code: string; message: string; text?: WireServerText; command?: string };

export type GraphClientCommand = { type: 'subscribe'; sinceSeq?: number };
