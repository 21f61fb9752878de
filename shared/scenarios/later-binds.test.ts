/**
 * A bind made later in the run (GraphLink.bindAfter: the series' part 7 binds ipc after its third message): which
 * graphs may ask for one, before any socket exists. The run itself is checked on real sockets in
 * server/engine/pipeline-equivalence.test.ts and series.test.ts.
 */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { GraphSpec } from '../protocol/graph.ts';
import { checkGraph, type GraphLink } from './graph.ts';
import { part7, withOutsidePeers } from './series.ts';

const withLinks = (links: GraphLink[]) => ({ ...part7.graph, links });

describe('later binds', () => {
  it("part 7's graph asks for one: ipc, bound by its sending server, after 3 messages", () => {
    expect(checkGraph(part7.graph)).toEqual([]);
    expect(Value.Check(GraphSpec, part7.graph)).toBe(true);
  });

  it('only over ipc, whose address is known before the bind', () => {
    const problems = checkGraph(
      withLinks([
        { from: 'server', to: 'client-tcp', bind: 'from', transport: 'tcp', bindAfter: 3 },
        { from: 'server', to: 'client-ipc', bind: 'from', transport: 'ipc' },
      ]),
    );
    expect(problems.map((p) => p.problem)).toEqual([
      'only an ipc bind can come later (its address is known before it exists)',
    ]);
  });

  it('only by a node that sends: it counts its own messages', () => {
    const problems = checkGraph(
      withLinks([
        { from: 'server', to: 'client-tcp', bind: 'from', transport: 'tcp' },
        { from: 'server', to: 'client-ipc', bind: 'to', transport: 'ipc', bindAfter: 3 },
      ]),
    );
    expect(problems.map((p) => p.problem)).toEqual(['client-ipc binds after its first messages, so it must send them']);
  });

  it('a PUSH with every endpoint bound later is refused: its first message would wait for ever (a PUB may: it drops)', () => {
    const onlyLater = {
      ...part7.graph,
      nodes: part7.graph.nodes.filter((node) => node.id !== 'client-tcp'),
      links: part7.graph.links.filter((link) => link.to !== 'client-tcp'),
    };
    expect(checkGraph(onlyLater).map((p) => [p.where, p.problem])).toEqual([
      [
        'server',
        'every endpoint of server binds after its first messages, so they have nowhere to go and it waits for ever: bind one now',
      ],
    ]);
    const publisher = {
      ...onlyLater,
      nodes: onlyLater.nodes.map((node) =>
        node.id === 'server'
          ? { ...node, socket: 'PUB' as const }
          : { ...node, socket: 'SUB' as const, subscribe: [''] },
      ),
    };
    expect(checkGraph(publisher)).toEqual([]);
  });

  it('one endpoint is bound once: the links that share it must agree on when', () => {
    const graph = {
      ...part7.graph,
      nodes: [...part7.graph.nodes, { id: 'client-3', socket: 'PULL' as const, role: { kind: 'receive' as const } }],
      links: [
        ...part7.graph.links,
        { from: 'server', to: 'client-3', bind: 'from' as const, transport: 'ipc' as const, bindAfter: 5 },
      ],
    };
    expect(checkGraph(graph).map((p) => p.where)).toEqual(['link 3 (server - client-3)']);
    const agreeing = { ...graph, links: graph.links.map((l) => (l.to === 'client-3' ? { ...l, bindAfter: 3 } : l)) };
    expect(checkGraph(agreeing)).toEqual([]);
  });

  it('the schema takes a count from 1; an endpoint kept for outside peers keeps it', () => {
    const zero = withLinks(part7.graph.links.map((l) => (l.bindAfter ? { ...l, bindAfter: 0 } : l)));
    expect(Value.Check(GraphSpec, zero)).toBe(false);
    const outside = withOutsidePeers(part7.graph, ['client-tcp', 'client-ipc']);
    expect(outside.nodes.map((n) => [n.id, n.listen])).toEqual([
      ['server', [{ transport: 'tcp' }, { transport: 'ipc', bindAfter: 3 }]],
    ]);
    expect(checkGraph(outside)).toEqual([]);
  });
});
