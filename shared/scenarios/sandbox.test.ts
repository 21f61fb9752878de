/**
 * The free sandbox's menu (issue 11): every choice of every socket type is a role the engine runs and the graph
 * checks take, with its parameters held within bounds; edits keep links following renamed nodes; a link the
 * engine would refuse is told before asking the server.
 */
import { describe, expect, it } from 'vitest';
import { SOCKET_TYPES, type GraphSpec } from '../protocol/graph.ts';
import { checkGraph } from './graph.ts';
import {
  MENU_BY_SOCKET,
  SANDBOX_LIMITS,
  defaultChoice,
  linkProblem,
  menuFits,
  menuFromNode,
  nodeFromMenu,
  starterSandbox,
  withLinkAdded,
  withNodeAdded,
  withNodeChanged,
  withNodeRemoved,
} from './sandbox.ts';

describe('the free sandbox', () => {
  it('maps every menu choice of every socket type onto a role the graph checks take, and reads it back', () => {
    for (const socket of SOCKET_TYPES) {
      expect(MENU_BY_SOCKET[socket].length, socket).toBeGreaterThan(0);
      for (const kind of MENU_BY_SOCKET[socket]) {
        expect(menuFits(socket, kind), `${socket} ${kind}`).toBe(true);
        const node = nodeFromMenu('n', socket, defaultChoice(socket, kind));
        expect(checkGraph({ title: 't', nodes: [node], links: [] }), `${socket} ${kind}`).toEqual([]);
        expect(menuFromNode(node).kind, `${socket} ${kind}`).toBe(kind);
      }
    }
  });

  it('holds parameters within bounds: counts, intervals, texts, prefixes', () => {
    const node = nodeFromMenu('pub', 'PUB', {
      kind: 'publish',
      text: 'x'.repeat(10_000),
      count: 1e9,
      intervalMs: -5,
      prefixes: [],
    });
    expect(node.role).toMatchObject({ kind: 'send', intervalMs: 0, messages: { count: SANDBOX_LIMITS.count } });
    if (node.role.kind !== 'send' || node.role.messages.kind !== 'template') throw new Error('a template sender');
    expect(node.role.messages.template).toHaveLength(SANDBOX_LIMITS.textChars);
    const sub = nodeFromMenu('sub', 'SUB', { ...defaultChoice('SUB'), prefixes: Array(50).fill('y'.repeat(100)) });
    expect(sub.subscribe).toHaveLength(SANDBOX_LIMITS.prefixes);
    expect(sub.subscribe![0]).toHaveLength(SANDBOX_LIMITS.prefixChars);
    expect(nodeFromMenu('sum', 'PAIR', defaultChoice('PAIR', 'sum')).role).toEqual({
      kind: 'receive',
      transform: 'sum',
      replyBack: true,
    });
  });

  it('builds REQ to three REP by edits, renames carry their links, removal takes them away', () => {
    let graph: GraphSpec = starterSandbox();
    for (let i = 0; i < 3; i++) graph = withNodeAdded(graph, 'REP');
    expect(graph.nodes.map((node) => node.id)).toEqual(['client', 'rep-1', 'rep-2', 'rep-3']);
    for (const rep of ['rep-1', 'rep-2', 'rep-3'])
      graph = withLinkAdded(graph, { from: 'client', to: rep, bind: 'to', transport: 'tcp' });
    expect(checkGraph(graph)).toEqual([]);
    expect(graph.links.every((link) => link.address === undefined)).toBe(true);
    graph = withNodeChanged(graph, 'rep-2', nodeFromMenu('adder', 'REP', defaultChoice('REP', 'sum')));
    expect(graph.links.map((link) => link.to)).toEqual(['rep-1', 'adder', 'rep-3']);
    graph = withNodeRemoved(graph, 'adder');
    expect(graph.links.map((link) => link.to)).toEqual(['rep-1', 'rep-3']);
    expect(linkProblem(graph, { from: 'client', to: 'rep-1' })).toBe('duplicate');
    expect(linkProblem(graph, { from: 'rep-1', to: 'rep-1' })).toBe('same-node');
    expect(linkProblem(graph, { from: 'rep-1', to: 'rep-3' })).toBe('incompatible');
    expect(linkProblem(graph, { from: 'client', to: 'nobody' })).toBe('unknown-node');
    expect(linkProblem(withNodeAdded(graph, 'REP'), { from: 'client', to: 'rep-2' })).toBeNull();
  });
});
