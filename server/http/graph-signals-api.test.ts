/**
 * Kill, hang and resume over the HTTP API (issue 11; SPEC [G6], docs/api.md): the routes take the same role as the
 * other live edits (a driver; the owner is one), a watcher is refused 403 and a stranger 404 as for any graph
 * route, between runs there is nothing to signal (409), and each refusal says why in a translatable text. Real
 * sockets: the series' part 4 narrator (one publication a second) and its two fans.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { Visitor } from '../../test/helpers.ts';
import { type GraphApi, closeGraphApi, openGraphApi, pollGraphEventsUntil } from '../../test/graph-api-harness.ts';

let app: FastifyInstance;
let policy: GraphApi['policy'];
let owner: Visitor;

beforeEach(async () => {
  ({ app, policy, owner } = await openGraphApi({ httpPerSecond: 1000 }));
});
afterEach(() => closeGraphApi({ app, policy }));

const eventsUntil = (id: string, condition: (events: PlaygroundEvent[]) => boolean) =>
  pollGraphEventsUntil(owner, id, condition);

describe('[G6] kill, hang and resume through the API', () => {
  it('a driver signals during a run; watchers, strangers and the time between runs are refused', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-4' } });
    const { id } = created.json<GraphPlaygroundInfo>();
    const signal = (who: Visitor, node: string, what: string) =>
      who.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/${node}/${what}` });

    const idle = await signal(owner, 'fan-1', 'kill');
    expect(idle.statusCode).toBe(409);
    expect(idle.json()).toMatchObject({ code: 'PG_ERR_NO_RUN', text: { key: 'run.none' } });

    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    const stranger = new Visitor(app);
    expect((await signal(stranger, 'fan-1', 'kill')).statusCode).toBe(404);
    const { watchToken } = (await owner.inject(`/api/graphs/${id}/links`)).json<{ watchToken: string }>();
    const watcher = new Visitor(app);
    await watcher.inject({ method: 'POST', url: `/api/graphs/${id}/join`, payload: { token: watchToken } });
    const watched = await signal(watcher, 'fan-1', 'kill');
    expect(watched.statusCode).toBe(403);
    expect(watched.json()).toMatchObject({ code: 'PG_ERR_FORBIDDEN' });
    expect((await signal(owner, 'fan-1', 'explode')).statusCode).toBe(404);

    const hung = await signal(owner, 'fan-2', 'hang');
    expect(hung.statusCode, hung.body).toBe(200);
    expect(hung.json<GraphPlaygroundInfo>().activeRun).not.toBeNull();
    expect((await signal(owner, 'fan-2', 'hang')).json()).toMatchObject({ text: { key: 'graph.nodeHung' } });
    expect((await signal(owner, 'nobody', 'kill')).statusCode).toBe(404);
    expect((await signal(owner, 'fan-1', 'kill')).statusCode).toBe(200);
    expect((await signal(owner, 'fan-1', 'resume')).json()).toMatchObject({ text: { key: 'graph.nodeKilled' } });
    expect((await signal(owner, 'fan-2', 'resume')).statusCode).toBe(200);

    const events = await eventsUntil(id, (all) => all.filter((e) => e.type === 'node:process').length >= 3);
    expect(events.flatMap((e) => (e.type === 'node:process' ? [`${e.node} ${e.action}`] : []))).toEqual([
      'fan-2 hung',
      'fan-1 killed',
      'fan-2 resumed',
    ]);
    const stopped = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` });
    expect(stopped.statusCode).toBe(200);
  });
});
