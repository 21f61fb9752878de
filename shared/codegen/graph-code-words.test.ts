/**
 * A generated program's doc says what the node does in the page's language (learner report: a Spanish page's
 * program began "fan-1: SUB (receive).", the role's code), and part 2's PAIR server, which answers on the socket it
 * receives on, echoes rather than only receives.
 */
import { describe, expect, it } from 'vitest';
import { graphProgram } from './graph-code.ts';
import { part2, part4 } from '../scenarios/series.ts';

/** Every binding end of the graph bound on a made-up loopback address, as after a run. */
function bound(graph: typeof part4.graph) {
  const result: Record<string, { transport: string; address: string }[]> = {};
  let port = 42000;
  for (const link of graph.links) {
    const binder = link.bind === 'from' ? link.from : link.to;
    (result[binder] ??= []).push({ transport: link.transport, address: `tcp://127.0.0.1:${port++}` });
  }
  return result;
}

describe("the program's doc line", () => {
  it("names the role in the page's language", () => {
    const fan = part4.graph.nodes.find((node) => node.socket === 'SUB')!;
    expect(graphProgram(part4.graph, fan.id, bound(part4.graph), 'python', 'es').code).toContain(
      `${fan.id}: SUB (recibe).`,
    );
    expect(graphProgram(part4.graph, fan.id, bound(part4.graph), 'typescript', 'en').code).toContain(
      `// ${fan.id}: SUB (receives).`,
    );
  });
  it("says an echoing receiver echoes (part 2's server)", () => {
    expect(graphProgram(part2.graph, 'server', bound(part2.graph), 'python', 'en').code).toContain(
      'server: PAIR (echoes what it receives).',
    );
  });
});
