/**
 * GraphCompare (issue 11) against a fake history API: two graph runs' books at their end (the server's graph-state
 * with no moment), per node and measure, zero drops left out, a node only one run had shown against a dash; the
 * comparison's permalink and its parsing; a pipeline run refused.
 */
import { describe, expect, it } from 'vitest';
import { emptyGraphRunState } from '../../shared/protocol/graph-run-state.ts';
import type { GraphSpec, RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import { GraphCompare, compareIdsOf, comparePermalink } from './graph-compare.svelte.ts';

const graph = (servers: string[]): GraphSpec => ({
  title: 'spread',
  nodes: [
    { id: 'client', socket: 'REQ', role: { kind: 'request', messages: { kind: 'list', items: ['1:2'] } } },
    ...servers.map((id) => ({
      id,
      socket: 'REP' as const,
      role: { kind: 'reply' as const, transform: 'sum' as const },
    })),
  ],
  links: servers.map((id) => ({ from: 'client', to: id, bind: 'to' as const, transport: 'tcp' as const })),
});

function detail(id: string, servers: string[]): RecordedGraphRunDetail {
  return {
    id,
    name: `run ${id}`,
    playground: 'gr-1',
    scenario: 'series-3',
    startedAt: '2026-11-30T00:00:00.000Z',
    endedAt: '2026-11-30T00:00:01.000Z',
    durationMs: 10,
    status: 'ended',
    reason: 'completed',
    summary: null,
    eventCount: 9,
    firstSeq: 1,
    lastSeq: 9,
    lostEvents: 0,
    workers: [],
    source: 'live',
    kind: 'graph',
    graphSummary: null,
    graph: graph(servers),
    protocolVersion: 1,
  };
}

function state(id: string, received: Record<string, number>, missed: Record<string, number> = {}) {
  const at = emptyGraphRunState(id);
  for (const [node, n] of Object.entries(received))
    at.counters.nodes[node] = {
      sent: node === 'client' ? 6 : n,
      received: n,
      droppedHere: {},
      missed: missed[node] ? { closed: missed[node] } : {},
      refused: {},
    };
  at.counters.sent = 12;
  at.count = 9;
  return at;
}

const runs: Record<string, { detail: RecordedGraphRunDetail; state: ReturnType<typeof state> }> = {
  a: { detail: detail('a', ['s1', 's2', 's3']), state: state('a', { client: 6, s1: 2, s2: 2, s3: 2 }) },
  b: { detail: detail('b', ['s1', 's2', 's4']), state: state('b', { client: 6, s1: 3, s2: 3, s4: 0 }, { s4: 1 }) },
};

const send = async (_method: string, path: string): Promise<unknown> => {
  const [, id, tail] = /^\/api\/runs\/([^/]+)(\/graph-state)?$/.exec(path) ?? [];
  const run = runs[id ?? ''];
  if (!run) throw new Error(`unexpected ${path}`);
  return tail ? run.state : run.detail;
};

describe('GraphCompare', () => {
  it("lays two runs' books side by side, node by node", async () => {
    const compare = new GraphCompare(send);
    await compare.open('a', 'b');
    expect(compare.error).toBeNull();
    const cells = compare.rows.map((row) => `${row.node}.${row.measure}: ${row.a ?? '—'} ${row.b ?? '—'}`);
    expect(cells).toEqual([
      'client.sent: 6 6',
      'client.received: 6 6',
      's1.sent: 2 3',
      's1.received: 2 3',
      's2.sent: 2 3',
      's2.received: 2 3',
      's3.sent: 2 —',
      's3.received: 2 —',
      's4.sent: — 0',
      's4.received: — 0',
      's4.missed: — 1',
    ]);
    expect(compare.b?.totals).toEqual({ sent: 12, received: 0, dropped: 0, refusals: 0, events: 9 });
  });

  it('refuses a pipeline run', async () => {
    const compare = new GraphCompare(async (method, path) =>
      path.endsWith('/a') ? { ...runs.a!.detail, kind: undefined } : send(method, path),
    );
    await compare.open('a', 'b');
    expect(compare.error?.message).toMatch(/not a graph run/);
  });

  it('has a permalink of its own', () => {
    const href = comparePermalink('series-3', 'gr-1-r1', 'gr-1-r2');
    expect(href).toBe('?graph=series-3&compare=gr-1-r1,gr-1-r2');
    expect(compareIdsOf(href)).toEqual(['gr-1-r1', 'gr-1-r2']);
    expect(compareIdsOf('?graph=series-3&compare=gr-1-r1')).toBeNull();
  });
});
