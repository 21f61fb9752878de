/**
 * A graph run with a node added while it flowed, in the history (issue 11; SPEC [G8], docs/recording.md): the
 * series' part 3 on real sockets, a fourth REP added mid-run, recorded through the writer thread of a file database.
 * Its stored events hold node:added; the server's state at a moment (GET /api/runs/:id/graph-state) says the node
 * was added from that event on and not before; the run exports and imports back (the file validates with the new
 * event), and the imported copy's states say the same.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlaygroundEvent, RecordedGraphRunDetail, RunPage } from '../../shared/protocol/index.ts';
import { graphAtMoment, type GraphRunStateAt } from '../../shared/protocol/graph-run-state.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import {
  type RecordedGraphApi,
  closeRecordedGraphApi,
  importRunFile,
  openRecordedGraphApi,
  pollUntil,
} from '../../test/graph-api-harness.ts';

let api: RecordedGraphApi;
let owner: RecordedGraphApi['owner'];

beforeEach(async () => {
  api = await openRecordedGraphApi({ httpPerSecond: 1000, folderPrefix: 'zpg-linked-history-' });
  owner = api.owner;
});
afterEach(() => closeRecordedGraphApi(api));

/** Bounded polling of a condition over HTTP. */
const until = <T>(read: () => Promise<T | null>, what: string, timeoutMs = 20_000) => pollUntil(read, what, timeoutMs);

const stateAt = async (run: string, query: string) => {
  const response = await owner.inject(`/api/runs/${run}/graph-state${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<GraphRunStateAt>();
};

describe('[G8] a run with a node added while it flowed, recorded', () => {
  it('its states draw the node from its node:added on; it exports and imports back, the copy drawn the same', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-3' } });
    const { id } = created.json<GraphPlaygroundInfo>();
    await owner.inject({ method: 'PUT', url: `/api/graphs/${id}/nodes/client/pace`, payload: { ms: 20 } });
    const started = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    const { run } = started.json<{ run: string }>();
    const live: PlaygroundEvent[] = [];
    const readLive = async () => {
      const response = await owner.inject(`/api/graphs/${id}/events?since=${live.at(-1)?.seq ?? 0}`);
      live.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    };
    await until(async () => {
      await readLive();
      return live.filter((e) => e.type === 'message:received' && e.node === 'client').length >= 5 ? true : null;
    }, 'five replies');
    const added = await owner.inject({
      method: 'POST',
      url: `/api/graphs/${id}/linked-nodes`,
      payload: { id: 'server-8000', socket: 'REP', peer: 'client' },
    });
    expect(added.statusCode, added.body).toBe(201);
    await until(async () => {
      const runs = (await owner.inject('/api/runs')).json<RunPage>().runs;
      return runs.find((candidate) => candidate.id === run)?.status === 'ended' ? true : null;
    }, 'the run stored as ended');

    const detail = (await owner.inject(`/api/runs/${run}`)).json<RecordedGraphRunDetail>();
    // The graph recorded is the one the run started with; the event says what came.
    expect(detail.graph.nodes.map((node) => node.id)).not.toContain('server-8000');
    const exported = await owner.inject(`/api/runs/${run}/export.json`);
    expect(exported.statusCode, exported.body).toBe(200);
    const events = exported.json<{ events: PlaygroundEvent[] }>().events;
    const index = events.findIndex((event) => event.type === 'node:added');
    expect(events[index]).toMatchObject({ node: 'server-8000', link: { from: 'server-8000', to: 'client' } });

    const imported = await importRunFile(owner, exported.body);
    expect(imported.statusCode, imported.body).toBe(201);
    const copy = imported.json<RecordedGraphRunDetail>();

    for (const recorded of [run, copy.id]) {
      const before = await stateAt(recorded, `?count=${index}`);
      expect(graphAtMoment(detail.graph, before).nodes.map((node) => node.id)).toEqual([
        'client',
        'server-5000',
        'server-6000',
        'server-7000',
      ]);
      const after = await stateAt(recorded, `?count=${index + 1}`);
      const drawn = graphAtMoment(detail.graph, after);
      expect(drawn.nodes.map((node) => node.id)).toContain('server-8000');
      expect(drawn.links.at(-1)).toEqual({ from: 'server-8000', to: 'client', bind: 'from', transport: 'tcp' });
      const end = await stateAt(recorded, '');
      expect(Object.keys(end.addedNodes ?? {})).toEqual(['server-8000']);
      expect(end.counters.nodes['server-8000']?.received).toBeGreaterThan(0);
    }
  }, 60_000);
});
