/**
 * The graph diagram's layout (issue 11): no two nodes in one place, flows left to right, and no needless
 * crossings, for the series' graphs and for random graphs of up to 32 nodes.
 */
import { describe, expect, it } from 'vitest';
import { countCrossings, flows, layoutGraph } from './graph-layout.ts';
import { SERIES_SCENARIOS } from '../../shared/scenarios/series.ts';
import { ZGUIDE_SCENARIOS } from '../../shared/scenarios/zguide.ts';
import { pipelineGraph } from '../../shared/scenarios/pipeline-graph.ts';
import { seededRandom } from '../../shared/scenarios/graph.ts';
import type { GraphSpec } from '../../shared/protocol/graph.ts';

const receiver = (id: string) => ({ id, socket: 'PULL' as const, role: { kind: 'receive' as const } });

function distinctPlaces(graph: GraphSpec): boolean {
  const layout = layoutGraph(graph);
  const places = Object.values(layout.positions).map((p) => `${p.x},${p.y}`);
  return places.length === graph.nodes.length && new Set(places).size === places.length;
}

describe('layoutGraph', () => {
  it("lays out every part of the series, the zguide's patterns and the pipeline sandbox left to right with no crossing and no shared place", () => {
    for (const { id, graph } of [...SERIES_SCENARIOS, ...ZGUIDE_SCENARIOS, pipelineGraph]) {
      const layout = layoutGraph(graph);
      expect(distinctPlaces(graph), id).toBe(true);
      expect(layout.crossings, id).toBe(0);
      for (const [from, to] of flows(graph))
        expect(layout.positions[from]!.x, `${id}: ${from} -> ${to}`).toBeLessThan(layout.positions[to]!.x);
    }
  });

  it('reorders a column to undo a crossing the input order had', () => {
    const graph: GraphSpec = {
      title: 'crossed',
      nodes: ['a', 'b', 'c', 'd'].map(receiver),
      links: [
        { from: 'a', to: 'd', bind: 'to', transport: 'tcp' },
        { from: 'b', to: 'c', bind: 'to', transport: 'tcp' },
      ],
    };
    const asGiven = countCrossings(
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
      flows(graph),
      new Map([
        ['a', 0],
        ['b', 0],
        ['c', 1],
        ['d', 1],
      ]),
    );
    expect(asGiven).toBe(1);
    expect(layoutGraph(graph).crossings).toBe(0);
  });

  it("survives a cycle (a REP forwarding back to its client's side) and nodes with no link at all", () => {
    const graph: GraphSpec = {
      title: 'cycle',
      nodes: ['a', 'b', 'c', 'alone'].map(receiver),
      links: [
        { from: 'a', to: 'b', bind: 'to', transport: 'tcp' },
        { from: 'b', to: 'c', bind: 'to', transport: 'tcp' },
        { from: 'c', to: 'a', bind: 'to', transport: 'tcp' },
      ],
    };
    expect(distinctPlaces(graph)).toBe(true);
  });

  it('gives 32-node random graphs distinct places and never more crossings than their input order', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seededRandom(seed);
      const nodes = Array.from({ length: 32 }, (_, i) => receiver(`n${i}`));
      const links = Array.from({ length: 40 }, () => {
        const a = Math.floor(random() * 32);
        const b = Math.floor(random() * 32);
        return { from: `n${Math.min(a, b)}`, to: `n${Math.max(a, b)}`, bind: 'to' as const, transport: 'tcp' as const };
      }).filter((link) => link.from !== link.to);
      const graph: GraphSpec = { title: `random ${seed}`, nodes, links };
      const layout = layoutGraph(graph);
      expect(distinctPlaces(graph), `seed ${seed}`).toBe(true);
      const columnOf = new Map(Object.entries(layout.positions).map(([id, p]) => [id, p.column]));
      const inputOrder: string[][] = [];
      for (const node of nodes) (inputOrder[columnOf.get(node.id)!] ??= []).push(node.id);
      expect(layout.crossings, `seed ${seed}`).toBeLessThanOrEqual(
        countCrossings(
          inputOrder.map((c) => c ?? []),
          flows(graph),
          columnOf,
        ),
      );
      for (const p of Object.values(layout.positions)) {
        expect(p.x).toBeLessThanOrEqual(layout.width);
        expect(p.y).toBeLessThanOrEqual(layout.height);
      }
    }
  });
});
