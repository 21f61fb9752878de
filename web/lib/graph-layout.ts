/**
 * Where each node of a graph scenario goes on the diagram (issue 11): a layered layout, pure and deterministic,
 * for up to 32 nodes. Messages flow left to right: a link goes from its `from` node to its `to` node (the
 * scenarios name the sender first), and a node that forwards through another (a worker's PUSH to the sink, a
 * proxy's backend, the socket a stop is announced through) is followed by it. Columns come from the longest path
 * (a cycle is cut where a depth-first walk finds it), and the order within each column from a few barycenter
 * sweeps, kept only while they remove crossings. No two nodes share a place, whatever the graph.
 */
import type { GraphSpec } from '../../shared/protocol/graph.ts';

export interface GraphLayout {
  /** Centre of each node, in the diagram's units. */
  positions: Record<string, { x: number; y: number; column: number; row: number }>;
  width: number;
  height: number;
  /** Links that cross another link between the same two columns (what the ordering minimises). */
  crossings: number;
}

export const COLUMN_GAP = 220;
export const ROW_GAP = 90;
const MARGIN = 80;
const SWEEPS = 8;

/** The flows of a graph: links, then forwards, proxy backends and stop announcements, each once, never a loop. */
export function flows(graph: GraphSpec): [string, string][] {
  const seen = new Set<string>();
  const edges: [string, string][] = [];
  const add = (from: string, to: string) => {
    const key = `${from}\u0000${to}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    edges.push([from, to]);
  };
  for (const link of graph.links) add(link.from, link.to);
  for (const node of graph.nodes) {
    const role = node.role;
    if ((role.kind === 'reply' || role.kind === 'receive') && role.forwardTo) add(node.id, role.forwardTo);
    if (role.kind === 'proxy') add(node.id, role.backend);
    // A node that announces its stop through another (the zguide's sink sending "KILL" on its PUB) feeds it.
    if (node.stop?.announce) add(node.id, node.stop.announce.through);
  }
  return edges;
}

export function layoutGraph(graph: GraphSpec): GraphLayout {
  const ids = graph.nodes.map((node) => node.id);
  const known = new Set(ids);
  const edges = flows(graph).filter(([a, b]) => known.has(a) && known.has(b));
  const forward = acyclic(ids, edges);
  const column = longestPath(ids, forward);
  const columns: string[][] = [];
  for (const id of ids) (columns[column.get(id)!] ??= []).push(id);
  for (let c = 0; c < columns.length; c++) columns[c] ??= [];

  let best = columns.map((list) => [...list]);
  let bestCrossings = countCrossings(best, forward, column);
  const current = columns.map((list) => [...list]);
  for (let sweep = 0; sweep < SWEEPS && bestCrossings > 0; sweep++) {
    const down = sweep % 2 === 0;
    const range = down ? [...current.keys()].slice(1) : [...current.keys()].reverse().slice(1);
    for (const c of range) {
      const neighbour = current[down ? c - 1 : c + 1]!;
      const place = new Map(neighbour.map((id, i) => [id, i]));
      const barycenter = (id: string) => {
        const linked = forward
          .filter(([a, b]) => (a === id && place.has(b)) || (b === id && place.has(a)))
          .map(([a, b]) => place.get(a === id ? b : a)!);
        return linked.length === 0 ? null : linked.reduce((s, v) => s + v, 0) / linked.length;
      };
      const keyed = current[c]!.map((id, i) => ({ id, i, key: barycenter(id) ?? i }));
      keyed.sort((p, q) => p.key - q.key || p.i - q.i);
      current[c] = keyed.map((k) => k.id);
    }
    const crossings = countCrossings(current, forward, column);
    if (crossings < bestCrossings) {
      best = current.map((list) => [...list]);
      bestCrossings = crossings;
    }
  }

  const tallest = Math.max(1, ...best.map((list) => list.length));
  const positions: GraphLayout['positions'] = {};
  best.forEach((list, c) => {
    // Each column centred on the tallest one.
    const offset = ((tallest - list.length) * ROW_GAP) / 2;
    list.forEach(
      (id, row) => (positions[id] = { x: MARGIN + c * COLUMN_GAP, y: MARGIN + offset + row * ROW_GAP, column: c, row }),
    );
  });
  return {
    positions,
    width: 2 * MARGIN + Math.max(0, best.length - 1) * COLUMN_GAP,
    height: 2 * MARGIN + (tallest - 1) * ROW_GAP,
    crossings: bestCrossings,
  };
}

/** The edges with every cycle cut: an edge back to a node still on the depth-first path is turned around. */
function acyclic(ids: string[], edges: [string, string][]): [string, string][] {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [a, b] of edges) out.get(a)!.push(b);
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<string>();
  const visit = (id: string) => {
    state.set(id, 'open');
    for (const next of out.get(id)!) {
      if (state.get(next) === 'open') back.add(`${id}\u0000${next}`);
      else if (!state.has(next)) visit(next);
    }
    state.set(id, 'done');
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  return edges.map(([a, b]) => (back.has(`${a}\u0000${b}`) ? [b, a] : [a, b]));
}

/** Each node's column: the longest chain of flows leading to it (nodes with none start at column 0). */
function longestPath(ids: string[], edges: [string, string][]): Map<string, number> {
  const column = new Map(ids.map((id) => [id, 0]));
  // At most n - 1 rounds in an acyclic graph.
  for (let round = 0; round < ids.length; round++) {
    let changed = false;
    for (const [a, b] of edges) {
      if (column.get(b)! < column.get(a)! + 1) {
        column.set(b, column.get(a)! + 1);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return column;
}

/** Crossings between links of adjacent columns (a link that skips columns is counted on its first span). */
export function countCrossings(columns: string[][], edges: [string, string][], column: Map<string, number>): number {
  const row = new Map<string, number>();
  columns.forEach((list) => list.forEach((id, i) => row.set(id, i)));
  const spans = edges
    .map(([a, b]): [string, string] => (column.get(a)! <= column.get(b)! ? [a, b] : [b, a]))
    .filter(([a, b]) => column.get(a) !== column.get(b))
    .map(([a, b]) => ({ c: column.get(a)!, top: row.get(a)!, bottom: row.get(b)! }));
  let crossings = 0;
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const p = spans[i]!;
      const q = spans[j]!;
      if (p.c !== q.c) continue;
      if ((p.top - q.top) * (p.bottom - q.bottom) < 0) crossings++;
    }
  }
  return crossings;
}
