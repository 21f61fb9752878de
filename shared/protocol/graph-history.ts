/**
 * Recorded graph runs (issue 11): what the history API says of a run a graph playground recorded, and its export
 * document with the import's check. A graph run is stored as the pipeline's runs are (the same tables, the same
 * writer, the same access rules); it differs in its events (graph:started ... graph:ended, messages instead of
 * tasks), its parameters (the graph as it ran) and its summary (the message books, GraphSummary). Its export has
 * a format of its own, so a pipeline export keeps its shape and version, and neither kind is read as the other.
 * Pure (no node:*, no DOM), like history.ts.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { GRAPH_LIMITS, GraphSpec, GraphSummary } from './graph.ts';
import {
  RecordedRun,
  checkExportEnvelope,
  decodeExportedEvent,
  eventOrderProblem,
  importFailure,
  seqRangeProblem,
  type ImportFailure,
} from './history.ts';
import type { PlaygroundEvent } from './schema.ts';
import { text } from './server-text.ts';

/**
 * Nodes one graph run can name: its sockets, live subscribers and removed ones included (graph-live.ts's
 * NODES_PER_RUN). An import naming more is refused: a fold of the run (the server's graph-state, the page's
 * replay) keeps counters and a newest body per name and copies them every few thousand events, so a file of
 * a million names would take gigabytes to read back.
 */
export const GRAPH_RUN_NODE_NAMES = 2 * GRAPH_LIMITS.nodes;

/** The `format` of a graph run's export; a pipeline run's is RUN_EXPORT_FORMAT. */
export const GRAPH_RUN_EXPORT_FORMAT = 'zmq-pipeline-playground/graph-run';
/** The newest graph export version this code reads and the one it writes. */
export const GRAPH_RUN_EXPORT_VERSION = 1;

/**
 * Whether an event can belong to a graph run: anything but a pipeline run's own events (run:*, task:*). A graph
 * run logs its graph, node, message and refusal events and the socket monitor's events, all checked by the codec.
 */
export function isGraphRunEvent(type: string): boolean {
  return !type.startsWith('run:') && !type.startsWith('task:');
}

/**
 * One recorded graph run with everything a replay needs before its events: the graph as it ran and its books.
 * `summary` and `workers` are the pipeline's and stay null and empty; `graphSummary` is null while it runs and for
 * a run that never ended (its books cannot be rebuilt from part of its events).
 */
export const RecordedGraphRunDetail = Type.Composite(
  [
    Type.Omit(RecordedRun, ['params', 'kind', 'graphSummary']),
    Type.Object({
      kind: Type.Literal('graph'),
      graphSummary: Type.Union([GraphSummary, Type.Null()]),
      graph: Type.Unsafe<GraphSpec>(GraphSpec),
      /** PROTOCOL_VERSION the stored events were written with. */
      protocolVersion: Type.Integer({ minimum: 1 }),
    }),
  ],
  { additionalProperties: false },
);
export type RecordedGraphRunDetail = Static<typeof RecordedGraphRunDetail>;

/** The `run` part of a graph export. */
export const ExportedGraphRun = Type.Composite(
  [
    Type.Omit(RecordedGraphRunDetail, ['status', 'source', 'public', 'owned', 'defaultName', 'summary', 'workers']),
    Type.Object({ status: Type.Union([Type.Literal('ended'), Type.Literal('incomplete')]) }),
  ],
  { additionalProperties: false },
);
export type ExportedGraphRun = Static<typeof ExportedGraphRun>;

/** The graph export document, version 1. `events` are in strictly increasing seq order. */
export interface GraphRunExport {
  format: typeof GRAPH_RUN_EXPORT_FORMAT;
  version: typeof GRAPH_RUN_EXPORT_VERSION;
  exportedAt: string;
  run: ExportedGraphRun;
  events: PlaygroundEvent[];
}

export type GraphImportCheck = { ok: true; value: GraphRunExport } | ImportFailure;

const exportedGraphRunChecker: TypeCheck<TSchema> = TypeCompiler.Compile(ExportedGraphRun);

/** The same JSON value (key order included: both sides come from one writer). */
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The first count of a complete run's books that its events do not add up to: per node, the messages it sent
 * (message:sent) and received (message:received). Null when they agree.
 */
function booksDisagreement(
  summary: GraphSummary,
  sent: Map<string, number>,
  received: Map<string, number>,
): { field: string; summary: number; events: number } | null {
  const nodes = new Set([...Object.keys(summary.nodes), ...sent.keys(), ...received.keys()]);
  for (const node of nodes) {
    const said = summary.nodes[node] ?? { sent: 0, received: 0 };
    if (said.sent !== (sent.get(node) ?? 0))
      return { field: `nodes.${node.slice(0, 40)}.sent`, summary: said.sent, events: sent.get(node) ?? 0 };
    if (said.received !== (received.get(node) ?? 0))
      return {
        field: `nodes.${node.slice(0, 40)}.received`,
        summary: said.received,
        events: received.get(node) ?? 0,
      };
  }
  return null;
}

/** A node name or a link (its from and to) that `graph` has twice, or null. */
function duplicateInGraph(graph: GraphSpec): { what: 'node' | 'link'; name: string } | null {
  const names = new Set<string>();
  for (const node of graph.nodes) {
    if (names.has(node.id)) return { what: 'node', name: node.id };
    names.add(node.id);
  }
  const links = new Set<string>();
  for (const link of graph.links) {
    const key = `${link.from}>${link.to}`;
    if (links.has(key)) return { what: 'link', name: key };
    links.add(key);
  }
  return null;
}

/** Whether a node:added event adds the node it names, with a link from it to another node (as the server says it). */
const addedNodeJoins = (event: Extract<PlaygroundEvent, { type: 'node:added' }>): boolean =>
  event.spec.id === event.node && (event.link.from === event.node) !== (event.link.to === event.node);

/**
 * Checks a parsed graph export document whole, stopping at the first problem, as checkRunExport does a pipeline
 * one: format, version, run metadata, then every event through the shared codec (graph events only, one run, seq
 * strictly increasing, t never decreasing, graph:started first and once, graph:ended once), the graph the events
 * started with against run.graph, and a complete run's books against its events.
 */
export function checkGraphRunExport(value: unknown): GraphImportCheck {
  const fail = importFailure;
  const envelope = checkExportEnvelope<ExportedGraphRun>(
    value,
    GRAPH_RUN_EXPORT_FORMAT,
    GRAPH_RUN_EXPORT_VERSION,
    exportedGraphRunChecker,
  );
  if (!envelope.ok) return envelope;
  const { doc, run, events } = envelope;
  // A replay keys the diagram's boxes by name and its links by their ends: a name or a link twice throws there.
  const duplicate = duplicateInGraph(run.graph);
  if (duplicate) return fail(text('import.graphDuplicate', duplicate));
  let previousSeq = 0;
  let previousT = 0;
  let endedAt = -1;
  const sent = new Map<string, number>();
  const received = new Map<string, number>();
  /** Every node name a fold would count under (graph-run-state.ts): the graph's, the events' nodes, drops' peers. */
  const names = new Set(run.graph.nodes.map((node) => node.id));
  for (let i = 0; i < events.length; i++) {
    const decoded = decodeExportedEvent(events[i], i);
    if (!decoded.ok) return decoded;
    const { event, where } = decoded;
    if (!isGraphRunEvent(event.type)) return fail(text('import.graphEventType', { where, type: event.type }));
    if (event.run !== run.id) return fail(text('import.otherRun', { where, run: event.run, exported: run.id }));
    if (i === 0 && event.type !== 'graph:started') return fail(text('import.graphFirst', { type: event.type }));
    if (i > 0 && event.type === 'graph:started') return fail(text('import.graphSecondStarted', { where }));
    const disorder = eventOrderProblem(event, i, where, previousSeq, previousT);
    if (disorder) return disorder;
    if (event.type === 'graph:started' && (event.scenario !== run.scenario || !same(event.graph, run.graph)))
      return fail(text('import.graphMismatch'));
    if (event.type === 'node:added' && !addedNodeJoins(event))
      return fail(text('import.graphAddedNode', { where, node: event.node }));
    if (event.type === 'graph:ended') {
      if (endedAt >= 0) return fail(text('import.graphSecondEnded', { where, first: endedAt }));
      endedAt = i;
    }
    if (event.type === 'message:sent') sent.set(event.node, (sent.get(event.node) ?? 0) + 1);
    if (event.type === 'message:received') received.set(event.node, (received.get(event.node) ?? 0) + 1);
    if ('node' in event && typeof event.node === 'string') names.add(event.node);
    if (event.type === 'message:dropped' && event.peer !== null) names.add(event.peer);
    if (names.size > GRAPH_RUN_NODE_NAMES)
      return fail(text('import.graphTooManyNodes', { where, max: GRAPH_RUN_NODE_NAMES }));
    previousSeq = event.seq;
    previousT = event.t;
  }
  const first = events[0] as PlaygroundEvent;
  const last = events[events.length - 1] as PlaygroundEvent;
  const range = seqRangeProblem(run, first, last);
  if (range) return range;
  if (run.status === 'ended' && endedAt < 0)
    return fail(text('import.graphEndedWithoutEnd', { type: last.type, seq: last.seq }));
  if (run.status === 'ended' && run.lostEvents === 0) {
    const ended = (events[endedAt] as Extract<PlaygroundEvent, { type: 'graph:ended' }>).summary;
    const disagreement = booksDisagreement(ended, sent, received);
    if (disagreement) return fail(text('import.summaryMismatch', disagreement));
    if (run.graphSummary !== null && !same(run.graphSummary, ended)) return fail(text('import.graphSummaryDiffers'));
  }
  return { ok: true, value: doc as unknown as GraphRunExport };
}
