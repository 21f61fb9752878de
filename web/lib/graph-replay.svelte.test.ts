/**
 * GraphReplay against a fake history API (issue 11): loads a recorded graph run's first window, shows its first
 * event, folds forward into the session as the live stream would, goes back through the server's state at a moment,
 * lands on the last event at the scrubber's end (a value the range input gave back rounded), never holds more than
 * a window, skips a scrub a newer one overtook, and refuses a pipeline run. graph-replay-windows.test.ts replays a
 * real recorded run of many events.
 */
import { describe, expect, it } from 'vitest';
import type { GraphSpec, PlaygroundEvent, RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import {
  copyGraphRunState,
  emptyGraphRunState,
  foldGraphState,
  graphAtMoment,
} from '../../shared/protocol/graph-run-state.ts';
import { GraphReplay } from './graph-replay.svelte.ts';
import { GraphSession } from './graph-session.svelte.ts';

const graph: GraphSpec = {
  title: 'echo',
  nodes: [
    { id: 'client', socket: 'REQ', role: { kind: 'request', messages: { kind: 'list', items: ['1:2'] } } },
    { id: 'server', socket: 'REP', role: { kind: 'reply', transform: 'sum' } },
  ],
  links: [{ from: 'client', to: 'server', bind: 'to', transport: 'tcp' }],
};

const run = 'gr-1-r1';
const summary = {
  sent: 2,
  copies: 2,
  delivered: 2,
  dropped: 0,
  droppedBy: {},
  unattributed: 0,
  inFlight: 0,
  nodes: { client: { sent: 1, received: 1 }, server: { sent: 1, received: 1 } },
  refusals: 0,
  durationMs: 3.000_000_000_000_17,
};
const events: PlaygroundEvent[] = [
  { type: 'graph:started', seq: 1, run, t: 0, scenario: 'series-1', graph, capabilities: {} },
  { type: 'message:sent', seq: 2, run, t: 1, node: 'client', message: 0, body: '1:2', frames: 1 },
  { type: 'message:received', seq: 3, run, t: 1.5, node: 'server', message: 0, from: 'client', body: '1:2' },
  { type: 'message:sent', seq: 4, run, t: 2, node: 'server', message: 1, body: '3', frames: 1, cause: 0 },
  { type: 'message:received', seq: 5, run, t: 2.5, node: 'client', message: 1, from: 'server', body: '3' },
  { type: 'graph:ended', seq: 6, run, t: 3.000_000_000_000_17, reason: 'completed', summary },
];

const detail = {
  id: run,
  name: 'echo #1',
  playground: 'gr-1',
  scenario: 'series-1',
  startedAt: '2026-11-30T00:00:00.000Z',
  endedAt: '2026-11-30T00:00:01.000Z',
  durationMs: summary.durationMs,
  status: 'ended',
  reason: 'completed',
  summary: null,
  eventCount: events.length,
  firstSeq: 1,
  lastSeq: 6,
  lostEvents: 0,
  workers: [],
  source: 'live',
  kind: 'graph',
  graphSummary: summary,
  graph,
  protocolVersion: 1,
} satisfies RecordedGraphRunDetail;

/** The history API over `recorded` (the echo run unless told). */
function fakeApi(answer: unknown = detail, recorded: PlaygroundEvent[] = events) {
  const asked: string[] = [];
  const request = async (_method: string, path: string): Promise<unknown> => {
    asked.push(path);
    const url = new URL(path, 'http://h');
    if (path === `/api/runs/${run}`) return answer;
    if (path === '/api/graph-scenarios') return [];
    if (url.pathname.endsWith('/graph-state')) {
      // The server's fold, over the same events.
      const t = url.searchParams.get('t');
      const count = url.searchParams.get('count');
      const state = emptyGraphRunState(run);
      for (const event of recorded) {
        if (t !== null && event.t > Number(t)) break;
        if (count !== null && state.count >= Number(count)) break;
        foldGraphState(state, event);
      }
      return state;
    }
    const fromSeq = Number(url.searchParams.get('fromSeq'));
    const limit = Number(url.searchParams.get('limit'));
    const window = recorded.filter((event) => event.seq >= fromSeq).slice(0, limit);
    const next = recorded.find((event) => event.seq > (window.at(-1)?.seq ?? Infinity));
    return { run, events: window, nextSeq: next ? next.seq : null };
  };
  const session = new GraphSession({
    request,
    createSocket: () => {
      throw new Error('a replay opens no stream');
    },
    streamUrl: (id) => id,
    now: () => 0,
  });
  // Windows of two events: every seek below crosses windows.
  return { asked, session, replay: new GraphReplay(session, request, { window: 2 }) };
}

const received = (session: GraphSession) =>
  Object.values(session.counters.nodes).reduce((sum, node) => sum + node.received, 0);

describe('GraphReplay', () => {
  it('folds a recorded run forward and back into the session, a window at a time, to the end of the scrubber', async () => {
    const { asked, session, replay } = fakeApi();
    await replay.open(run);
    expect(asked.filter((path) => path.includes('/events'))).toHaveLength(1);
    expect(replay.total).toBe(events.length);
    expect(session.info?.graph).toEqual(graph);
    expect(session.connection).toBe('closed');
    expect(replay.position).toBe(1);
    expect(session.runState).toBe('running');

    await replay.seekIndex(3);
    expect(received(session)).toBe(1);
    expect(session.lastBodies).toEqual({ server: '1:2' });
    await replay.step(1);
    expect(replay.clock.shown).toBe(2);

    // Back in time: from the server's state at that moment, nothing counted twice.
    await replay.seekIndex(2);
    expect(received(session)).toBe(0);
    expect(session.flights).toEqual([]);
    expect(session.lastBodies).toEqual({});

    // The scrubber's end comes back rounded from the range input: the last event still shows.
    await replay.seekTime(3);
    expect(replay.position).toBe(events.length);
    expect(session.runState).toBe('ended');
    expect(session.summary).toEqual(summary);
    expect(received(session)).toBe(2);
    expect(session.counters.nodes.client?.received).toBe(1);

    await replay.seekTime(0);
    expect(replay.position).toBe(1);
    expect(received(session)).toBe(0);
    // Never more than a window held.
    expect(replay.mostHeld).toBeLessThanOrEqual(2);
    expect(asked.some((path) => path.includes('/graph-state?t='))).toBe(true);
  });

  it('skips a scrub a newer one overtook', async () => {
    const { asked, replay } = fakeApi();
    await replay.open(run);
    const before = asked.length;
    void replay.seekTime(2.5);
    await replay.seekTime(1);
    expect(replay.position).toBe(2);
    // Only the newest moment was fetched.
    expect(asked.slice(before).filter((path) => path.includes('t=2.5'))).toEqual([]);
  });

  it("draws each link on its transport as of the moment shown: a link:moved's, from its move on", async () => {
    // The echo run, its client's link moved to ipc between the two requests (SPEC [G7]).
    const moved: PlaygroundEvent[] = [
      ...events.slice(0, 5),
      {
        type: 'link:moved',
        seq: 6,
        run,
        t: 3,
        node: 'client',
        from: 'client',
        to: 'server',
        transport: 'ipc',
        address: 'ipc:///run/zpg/gr-1-n1.ipc',
        previousTransport: 'tcp',
        previousAddress: 'tcp://127.0.0.1:5000',
        lost: 0,
      },
      { type: 'message:sent', seq: 7, run, t: 4, node: 'client', message: 2, body: '1:2', frames: 1 },
      { type: 'message:received', seq: 8, run, t: 4.5, node: 'server', message: 2, from: 'client', body: '1:2' },
      { type: 'graph:ended', seq: 9, run, t: 5, reason: 'completed', summary },
    ];
    const { session, replay } = fakeApi({ ...detail, eventCount: moved.length, lastSeq: 9, durationMs: 5 }, moved);
    const transport = () => session.graph?.links.map((link) => link.transport);
    await replay.open(run);
    expect(transport()).toEqual(['tcp']);
    await replay.seekIndex(5);
    expect(transport()).toEqual(['tcp']);
    // Folded from the window (a step), then from the server's state at a moment (seeks across windows).
    await replay.step(1);
    expect(replay.position).toBe(6);
    expect(transport()).toEqual(['ipc']);
    expect(session.graph?.links[0]).toEqual({ from: 'client', to: 'server', bind: 'to', transport: 'ipc' });
    await replay.seekIndex(2);
    expect(transport()).toEqual(['tcp']);
    await replay.seekTime(4.5);
    expect(replay.position).toBe(8);
    expect(transport()).toEqual(['ipc']);
    await replay.seekTime(2.9);
    expect(transport()).toEqual(['tcp']);
    await replay.seekIndex(moved.length);
    expect(transport()).toEqual(['ipc']);
    // The nodes are the recorded graph's.
    expect(session.graph?.nodes).toEqual(graph.nodes);
  });

  it('[G8] draws a node added during the run from its node:added on, and not after its node:removed', async () => {
    // The echo run, a second REP added between the two requests (it binds, the client connects it), then the
    // first server removed.
    const added: PlaygroundEvent[] = [
      ...events.slice(0, 5),
      {
        type: 'node:added',
        seq: 6,
        run,
        t: 3,
        node: 'server-2',
        spec: { id: 'server-2', socket: 'REP', role: { kind: 'reply', transform: 'sum' } },
        link: { from: 'server-2', to: 'client', bind: 'from', transport: 'tcp' },
      },
      { type: 'node:bound', seq: 7, run, t: 3.1, node: 'server-2', transport: 'tcp', address: 'tcp://127.0.0.1:5001' },
      { type: 'message:sent', seq: 8, run, t: 4, node: 'client', message: 2, body: '1:2', frames: 1 },
      { type: 'message:received', seq: 9, run, t: 4.5, node: 'server-2', message: 2, from: 'client', body: '1:2' },
      { type: 'node:stopped', seq: 10, run, t: 4.6, node: 'server', reason: 'killed' },
      { type: 'node:removed', seq: 11, run, t: 4.7, node: 'server' },
      { type: 'graph:ended', seq: 12, run, t: 5, reason: 'completed', summary },
    ];
    const { session, replay } = fakeApi({ ...detail, eventCount: added.length, lastSeq: 12, durationMs: 5 }, added);
    const nodes = () => session.graph?.nodes.map((node) => node.id);
    const links = () => session.graph?.links.map((link) => `${link.from}>${link.to}`);
    await replay.open(run);
    expect(nodes()).toEqual(['client', 'server']);
    await replay.seekIndex(5);
    expect(nodes()).toEqual(['client', 'server']);
    // Folded from the window (a step), then from the server's state at a moment (seeks across windows).
    await replay.step(1);
    expect(replay.position).toBe(6);
    expect(nodes()).toEqual(['client', 'server', 'server-2']);
    expect(links()).toEqual(['client>server', 'server-2>client']);
    expect(session.graph?.nodes[2]).toEqual({
      id: 'server-2',
      socket: 'REP',
      role: { kind: 'reply', transform: 'sum' },
    });
    await replay.seekIndex(2);
    expect(nodes()).toEqual(['client', 'server']);
    await replay.seekTime(4.5);
    expect(nodes()).toEqual(['client', 'server', 'server-2']);
    // Removed: gone with its link.
    await replay.seekIndex(11);
    expect(nodes()).toEqual(['client', 'server-2']);
    expect(links()).toEqual(['server-2>client']);
    await replay.seekTime(2.9);
    expect(nodes()).toEqual(['client', 'server']);
    await replay.seekIndex(added.length);
    expect(nodes()).toEqual(['client', 'server-2']);
  });

  it('[G8] folds node:added and node:removed: the graph at a moment, a state of an older fold without them, a removed added node', () => {
    const state = emptyGraphRunState(run);
    for (const event of events.slice(0, 3)) foldGraphState(state, event);
    expect(graphAtMoment(graph, state)).toBe(graph);
    const spec = {
      id: 'server-2',
      socket: 'REP' as const,
      role: { kind: 'reply' as const, transform: 'echo' as const },
    };
    const link = { from: 'server-2', to: 'client', bind: 'from' as const, transport: 'ipc' as const };
    // A state an older server or page folded has neither field: they start empty.
    delete state.addedNodes;
    delete state.removedNodes;
    foldGraphState(state, { type: 'node:added', seq: 4, run, t: 2, node: 'server-2', spec, link });
    expect(graphAtMoment(graph, state).nodes.map((node) => node.id)).toEqual(['client', 'server', 'server-2']);
    expect(graphAtMoment(graph, state).links).toEqual([...graph.links, link]);
    // An added node removed again: as if never there. A recorded node removed: gone with its links.
    const copy = copyGraphRunState(state);
    foldGraphState(copy, { type: 'node:removed', seq: 5, run, t: 3, node: 'server-2' });
    expect(graphAtMoment(graph, copy)).toBe(graph);
    foldGraphState(state, { type: 'node:removed', seq: 5, run, t: 3, node: 'server' });
    expect(graphAtMoment(graph, state)).toEqual({ ...graph, nodes: [graph.nodes[0], spec], links: [link] });
    // An imported file's node:added whose spec or link names another node is left out.
    const crafted = copyGraphRunState(state);
    foldGraphState(crafted, { type: 'node:added', seq: 6, run, t: 3, node: 'ghost', spec, link });
    foldGraphState(crafted, {
      type: 'node:added',
      seq: 7,
      run,
      t: 3,
      node: 'ghost-2',
      spec: { ...spec, id: 'ghost-2' },
      link: { ...link, from: 'client', to: 'server' },
    });
    expect(Object.keys(crafted.addedNodes ?? {})).toEqual(['server-2']);
    // A new graph:started forgets them.
    foldGraphState(state, events[0]!);
    expect(graphAtMoment(graph, state)).toBe(graph);
  });

  it('shows which nodes are processes (their pids) and what a visitor did to them, as of the moment shown', async () => {
    const process = { type: 'node:process', run, node: 'server', program: 'server', pid: 4242 } as const;
    const recorded: PlaygroundEvent[] = [
      events[0]!,
      { ...process, seq: 2, t: 0.5, action: 'started' },
      { type: 'message:sent', seq: 3, run, t: 1, node: 'client', message: 0, body: '1:2', frames: 1 },
      { type: 'message:received', seq: 4, run, t: 1.5, node: 'server', message: 0, from: 'client', body: '1:2' },
      { ...process, seq: 5, t: 2, action: 'killed' },
      { type: 'graph:ended', seq: 6, run, t: 3, reason: 'stopped', summary },
    ];
    const { session, replay } = fakeApi({ ...detail, eventCount: recorded.length, durationMs: 3 }, recorded);
    await replay.open(run);
    expect(session.processPids).toEqual({});
    // From the server's state at a moment (a seek across windows), then folded on from the window.
    await replay.seekIndex(3);
    expect(session.processPids).toEqual({ server: 4242 });
    expect(session.nodeStates).toEqual({});
    await replay.seekTime(3);
    expect(session.processPids).toEqual({ server: 4242 });
    expect(session.nodeStates).toEqual({ server: 'killed' });
    await replay.seekIndex(4);
    expect(session.nodeStates).toEqual({});
    expect(session.processPids).toEqual({ server: 4242 });
    await replay.seekIndex(1);
    expect(session.processPids).toEqual({});
  });

  it('says a pipeline run is not a graph run', async () => {
    const { session, replay } = fakeApi({ ...detail, kind: undefined });
    await replay.open(run);
    expect(session.error?.message).toMatch(/not a graph run/);
    expect(replay.loading).toBe(false);
  });
});
