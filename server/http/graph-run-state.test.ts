/**
 * GraphRunStates (issue 11): a graph run's state at a moment, folded from the store's event windows, is the same
 * whether it is folded from the run's start or from a state it kept (every CHECKPOINT_EVERY events of a settled
 * run), at every moment asked (by time, by count, at the end), in any order; a run still recorded keeps none; and no
 * window asked for is larger than the fold needs.
 */
import { describe, expect, it } from 'vitest';
import {
  emptyGraphRunState,
  foldGraphState,
  graphWithMovedLinks,
  GRAPH_STATE_TEXT_CHARS,
} from '../../shared/protocol/graph-run-state.ts';
import type { GraphSpec, PlaygroundEvent, RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import type { EventRange, JsonWindow } from '../recorder/store-api.ts';
import { CHECKPOINT_EVERY, GraphRunStates } from './graph-run-state.ts';

const run = 'gr-1-r1';
const graph: GraphSpec = {
  title: 'push to two pulls',
  nodes: [
    { id: 'push', socket: 'PUSH', role: { kind: 'send', messages: { kind: 'list', items: ['x'] } } },
    { id: 'a', socket: 'PULL', role: { kind: 'receive' } },
    { id: 'b', socket: 'PULL', role: { kind: 'receive' } },
  ],
  links: [
    { from: 'push', to: 'a', bind: 'from', transport: 'inproc' },
    { from: 'push', to: 'b', bind: 'from', transport: 'inproc' },
  ],
};

/** A run of `messages` messages (seq from 10, several events per t), with a refusal now and then. */
function recordedRun(messages: number): PlaygroundEvent[] {
  const events: PlaygroundEvent[] = [
    { type: 'graph:started', seq: 10, run, t: 0, scenario: 'sandbox', graph, capabilities: {} },
  ];
  let seq = 11;
  for (let i = 0; i < messages; i++) {
    const t = Math.floor(i / 3) * 0.25;
    const node = i % 2 === 0 ? 'a' : 'b';
    events.push({ type: 'message:sent', seq: seq++, run, t, node: 'push', message: i, body: `m${i}`, frames: 1 });
    events.push({ type: 'message:received', seq: seq++, run, t, node, message: i, from: 'push', body: `m${i}` });
    if (i % 997 === 0)
      events.push({ type: 'socket:refused', seq: seq++, run, t, node, peer: null, reason: 'efsm', detail: 'no' });
  }
  return events;
}

/** The store's eventWindow over an array (its semantics: seq and t bounds inclusive, nextSeq when cut). */
function source(events: PlaygroundEvent[]) {
  const asked: EventRange[] = [];
  return {
    asked,
    eventWindow: async (_id: string, range: EventRange): Promise<JsonWindow> => {
      asked.push(range);
      const within = events.filter(
        (e) => e.seq >= (range.fromSeq ?? 0) && e.seq <= (range.toSeq ?? Infinity) && e.t <= (range.toT ?? Infinity),
      );
      const page = within.slice(0, range.limit);
      return {
        run,
        json: page.map((e) => JSON.stringify(e)),
        nextSeq: within.length > range.limit ? within[range.limit]!.seq : null,
      };
    },
  };
}

function detailOf(events: PlaygroundEvent[], status: 'ended' | 'running'): RecordedGraphRunDetail {
  return {
    id: run,
    name: 'r',
    playground: 'gr-1',
    scenario: 'sandbox',
    startedAt: '2026-11-30T00:00:00.000Z',
    endedAt: null,
    durationMs: events.at(-1)!.t,
    status,
    reason: null,
    summary: null,
    eventCount: events.length,
    firstSeq: events[0]!.seq,
    lastSeq: events.at(-1)!.seq,
    lostEvents: 0,
    workers: [],
    source: 'live',
    kind: 'graph',
    graphSummary: null,
    graph,
    protocolVersion: 1,
  };
}

const reference = (events: PlaygroundEvent[], keep: (e: PlaygroundEvent, index: number) => boolean) => {
  const state = emptyGraphRunState(run);
  events.forEach((e, index) => {
    if (keep(e, index)) foldGraphState(state, e);
  });
  return state;
};

describe('GraphRunStates', () => {
  it('answers every moment exactly, folded from the start or from a kept state', async () => {
    const events = recordedRun(9000); // ~18,000 events: three kept states
    const store = source(events);
    const states = new GraphRunStates(store);
    const detail = detailOf(events, 'ended');
    expect(await states.stateAt(detail, {})).toEqual(reference(events, () => true));
    const moments = [0, 0.25, 100.1, 700, 1, 1499.75, 376.5];
    for (const t of moments) expect(await states.stateAt(detail, { t })).toEqual(reference(events, (e) => e.t <= t));
    for (const count of [0, 1, CHECKPOINT_EVERY, CHECKPOINT_EVERY + 1, 2 * CHECKPOINT_EVERY - 1, events.length, 12_345])
      expect(await states.stateAt(detail, { count })).toEqual(reference(events, (_e, index) => index < count));
    // Now that the run's states are kept, a moment near its end folds at most CHECKPOINT_EVERY events.
    store.asked.length = 0;
    await states.stateAt(detail, { count: events.length - 1 });
    expect(store.asked.reduce((sum, range) => sum + range.limit, 0)).toBeLessThanOrEqual(CHECKPOINT_EVERY);
  });

  it('keeps no state of a run still recorded', async () => {
    const events = recordedRun(3000);
    const store = source(events);
    const states = new GraphRunStates(store);
    const detail = detailOf(events, 'running');
    await states.stateAt(detail, {});
    store.asked.length = 0;
    expect(await states.stateAt(detail, { count: events.length - 1 })).toEqual(
      reference(events, (_e, index) => index < events.length - 1),
    );
    expect(store.asked[0]!.fromSeq).toBe(1);
  });

  it("says each link's transport as of the moment: a link:moved from its t on, back and forth, cut and capped", async () => {
    const events = recordedRun(12_000); // its t runs to 999.75
    type LinkMoved = Extract<PlaygroundEvent, { type: 'link:moved' }>;
    const move = (seq: number, t: number, to: string, transport: LinkMoved['transport']): LinkMoved => ({
      type: 'link:moved',
      seq,
      run,
      t,
      node: to,
      from: 'push',
      to,
      transport,
      address: transport === 'tcp' ? 'tcp://127.0.0.1:5000' : `${transport}://gr-1-${to}`,
      previousTransport: 'inproc',
      previousAddress: `inproc://gr-1-${to}`,
      lost: 0,
    });
    // Moves among the messages, each after the last event of its t; then every seq renumbered in order.
    const moves = [move(0, 300, 'a', 'tcp'), move(0, 700, 'a', 'inproc'), move(0, 700, 'b', 'ipc')];
    const all: PlaygroundEvent[] = [];
    for (const event of events) {
      while (moves.length > 0 && moves[0]!.t < event.t) all.push(moves.shift()!);
      all.push(event);
    }
    all.forEach((event, index) => (event.seq = 10 + index));
    const states = new GraphRunStates(source(all));
    const detail = detailOf(all, 'ended');
    const transports = async (t: number) =>
      graphWithMovedLinks(graph, (await states.stateAt(detail, { t })).movedLinks).links.map((l) => l.transport);
    expect(await transports(299.75)).toEqual(['inproc', 'inproc']);
    expect(await transports(300)).toEqual(['tcp', 'inproc']);
    expect(await transports(699)).toEqual(['tcp', 'inproc']);
    expect(await transports(700)).toEqual(['inproc', 'ipc']);
    expect((await states.stateAt(detail, {})).movedLinks).toEqual({
      'push>a': { transport: 'inproc', address: 'inproc://gr-1-a' },
      'push>b': { transport: 'ipc', address: 'ipc://gr-1-b' },
    });
    for (const t of [0, 300, 500, 700, 999.75])
      expect(await states.stateAt(detail, { t })).toEqual(reference(all, (e) => e.t <= t));
    // Nothing moved: the recorded graph itself (the diagram lays nothing out again).
    expect(graphWithMovedLinks(graph, (await states.stateAt(detail, { t: 299 })).movedLinks)).toBe(graph);

    // An imported file may name any link any number of times: a state keeps at most GRAPH_LIMITS.links of them,
    // each address cut as a body is, and a new run starts with none moved.
    const state = emptyGraphRunState(run);
    for (let i = 0; i < 500; i++)
      foldGraphState(state, { ...move(100 + i, 1, `n${i}`, 'ipc'), address: `ipc://${'x'.repeat(5000)}` });
    expect(Object.keys(state.movedLinks)).toHaveLength(64);
    expect(state.movedLinks['push>n0']!.address).toHaveLength(GRAPH_STATE_TEXT_CHARS);
    foldGraphState(state, move(700, 2, 'n0', 'tcp'));
    expect(state.movedLinks['push>n0']!.transport).toBe('tcp');
    foldGraphState(state, { ...events[0]!, seq: 701, t: 3 });
    expect(state.movedLinks).toEqual({});
  });
});
