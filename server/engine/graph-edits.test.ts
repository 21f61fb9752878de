/**
 * What removing a node makes of a graph (graph-edits.ts withoutNode): a sender or proxy that waits for peers waits
 * for one fewer per link it lost. Without that, the series' part 6 with a worker removed waited for ever for a
 * second worker (found in a learner's path: the run stayed "running" until Stop). The run is on real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withoutNode } from './graph-edits.ts';
import { checkGraph } from '../../shared/scenarios/graph.ts';
import { PART6_TEXTS, part6 } from '../../shared/scenarios/series.ts';
import { ZGUIDE_SCENARIOS } from '../../shared/scenarios/zguide.ts';
import type { GraphNode, GraphSpec } from '../../shared/protocol/index.ts';
import { graphRunHarness } from '../../test/graph-run-harness.ts';

// The one run here ends by itself, in 30 s at the most (`ended`); `until` is not used.
const runs = graphRunHarness({ ownerPrefix: 'edits', untilTimeoutMs: 30_000, endTimeoutMs: 30_000 });

afterEach(() => runs.cleanup());

const awaited = (graph: GraphSpec, id: string) => {
  const role = graph.nodes.find((node) => node.id === id)!.role;
  return role.kind === 'send' || role.kind === 'proxy' ? role.waitForPeers : undefined;
};

describe('a node removed from a graph', () => {
  it('lowers the peers a sender or a proxy waits for by the links it lost, and nothing else', () => {
    expect(awaited(part6.graph, 'source')).toBe(2);
    const oneWorker = withoutNode(part6.graph, 'worker-2');
    expect(awaited(oneWorker, 'source')).toBe(1);
    expect(awaited(withoutNode(oneWorker, 'worker-1'), 'source')).toBe(0);
    // The collector is not the source's peer: the source still waits for both workers.
    expect(awaited(withoutNode(part6.graph, 'collector'), 'source')).toBe(2);

    // The broker's frontend waits for the workers on its backend (a DEALER): a worker removed is one fewer.
    const broker = ZGUIDE_SCENARIOS.find((scenario) => scenario.id === 'zguide-broker')!.graph;
    const frontend = broker.nodes.find((node) => node.role.kind === 'proxy')!;
    const before = awaited(broker, frontend.id)!;
    const backend = frontend.role.kind === 'proxy' ? frontend.role.backend : '';
    const worker = broker.links.find((link) => link.from === backend || link.to === backend)!;
    const workerId = worker.from === backend ? worker.to : worker.from;
    expect(awaited(withoutNode(broker, workerId), frontend.id)).toBe(before - 1);
  });

  it('part 6 with a worker removed runs to its end: the source stops waiting once the one worker left joined', async () => {
    // Fast work, so the run takes milliseconds instead of the post's second a greeting.
    const quick: GraphSpec = {
      ...part6.graph,
      nodes: part6.graph.nodes.map((node): GraphNode =>
        node.role.kind === 'receive' && node.role.workMs ? { ...node, role: { ...node.role, workMs: 5 } } : node,
      ),
    };
    const graph = withoutNode(withoutNode(quick, 'worker-2'), 'worker-2-out');
    expect(checkGraph(graph)).toEqual([]);
    const { events, ended } = await runs.start(graph, { scenario: 'series-6' });
    const summary = await ended();
    const received = (node: string) => events.filter((e) => e.type === 'message:received' && e.node === node).length;
    expect(received('worker-1')).toBe(PART6_TEXTS.length);
    expect(received('collector')).toBe(PART6_TEXTS.length);
    expect(summary.dropped).toBe(0);
  });
});
