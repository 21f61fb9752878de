/**
 * A node's pace and its transport over the HTTP API (issue 11; SPEC [G7], docs/api.md): PUT .../pace and
 * POST .../move take the same role as kill/hang/resume (a driver; the owner is one): a watcher is refused 403, a
 * stranger 404; out-of-range paces, unknown transports and nodes, and a move between runs are refused with a
 * status and a translatable text that says what to do; the server goes on serving. Real sockets: the series'
 * part 4 narrator and its two fans.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
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

describe('[G7] pace and move through the API', () => {
  it('a driver sets a pace between runs and during one; bad values, unknown nodes, watchers and strangers are refused', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-4' } });
    const { id } = created.json<GraphPlaygroundInfo>();
    const pace = (who: Visitor, node: string, payload: Record<string, unknown>) =>
      who.inject({ method: 'PUT', url: `/api/graphs/${id}/nodes/${node}/pace`, payload });

    // Between runs: kept for the next run.
    const idle = await pace(owner, 'narrator', { ms: 50 });
    expect(idle.statusCode, idle.body).toBe(200);
    expect(idle.json<GraphPlaygroundInfo>().graph.nodes[0]!.role).toMatchObject({ kind: 'send', intervalMs: 50 });

    const tooSlow = await pace(owner, 'narrator', { ms: 10_001 });
    expect(tooSlow.statusCode).toBe(400);
    expect(tooSlow.json()).toMatchObject({
      code: 'PG_ERR_VALIDATION',
      text: { key: 'graph.paceIntervalRange', params: { node: 'narrator', max: 10_000, got: 10_001 } },
    });
    expect((await pace(owner, 'fan-1', { ms: 60_001 })).statusCode).toBe(400);
    expect((await pace(owner, 'fan-1', { ms: -1 })).statusCode).toBe(400);
    expect((await pace(owner, 'fan-1', { ms: 'slow' })).statusCode).toBe(400);
    expect((await pace(owner, 'fan-1', { ms: 1.5 })).statusCode).toBe(400);
    expect((await pace(owner, 'fan-1', {})).statusCode).toBe(400);
    const nobody = await pace(owner, 'nobody', { ms: 10 });
    expect(nobody.statusCode).toBe(404);
    expect(nobody.json()).toMatchObject({ code: 'PG_ERR_NOT_FOUND', text: { key: 'graph.unknownNode' } });

    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    const stranger = new Visitor(app);
    expect((await pace(stranger, 'fan-1', { ms: 10 })).statusCode).toBe(404);
    const { watchToken } = (await owner.inject(`/api/graphs/${id}/links`)).json<{ watchToken: string }>();
    const watcher = new Visitor(app);
    await watcher.inject({ method: 'POST', url: `/api/graphs/${id}/join`, payload: { token: watchToken } });
    expect((await pace(watcher, 'fan-1', { ms: 10 })).json()).toMatchObject({ code: 'PG_ERR_FORBIDDEN' });

    const live = await pace(owner, 'fan-1', { ms: 300 });
    expect(live.statusCode, live.body).toBe(200);
    const events = await eventsUntil(id, (all) => all.some((e) => e.type === 'node:paced'));
    expect(events.filter((e) => e.type === 'node:paced')).toMatchObject([{ node: 'fan-1', pace: 'work', ms: 300 }]);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });

  it('a driver moves a node during a run; between runs, to an unknown transport, an unknown node, by a watcher: refused', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-4' } });
    const { id } = created.json<GraphPlaygroundInfo>();
    const move = (who: Visitor, node: string, payload: Record<string, unknown>) =>
      who.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/${node}/move`, payload });

    const idle = await move(owner, 'fan-1', { transport: 'ipc' });
    expect(idle.statusCode).toBe(409);
    expect(idle.json()).toMatchObject({ code: 'PG_ERR_NO_RUN', text: { key: 'graph.moveNoRun' } });

    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    await eventsUntil(id, (all) => all.filter((e) => e.type === 'node:connecting').length >= 2);
    expect((await move(owner, 'fan-1', { transport: 'epgm' })).statusCode).toBe(400);
    expect((await move(owner, 'fan-1', { transport: 'ipc', address: 'ipc:///etc/evil' })).statusCode).toBe(400);
    expect((await move(owner, 'fan-1', {})).statusCode).toBe(400);
    const same = await move(owner, 'fan-1', { transport: 'tcp' });
    expect(same.statusCode).toBe(400);
    expect(same.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.moveSame' } });
    expect((await move(owner, 'nobody', { transport: 'ipc' })).statusCode).toBe(404);
    expect((await move(owner, 'fan-1', { transport: 'ipc', peer: 'fan-2' })).statusCode).toBe(404);
    const { watchToken } = (await owner.inject(`/api/graphs/${id}/links`)).json<{ watchToken: string }>();
    const watcher = new Visitor(app);
    await watcher.inject({ method: 'POST', url: `/api/graphs/${id}/join`, payload: { token: watchToken } });
    expect((await move(watcher, 'fan-1', { transport: 'ipc' })).statusCode).toBe(403);

    const moved = await move(owner, 'fan-1', { transport: 'ipc' });
    expect(moved.statusCode, moved.body).toBe(200);
    const links = moved.json<GraphPlaygroundInfo>().graph.links;
    expect(links).toMatchObject([
      { from: 'narrator', to: 'fan-1', transport: 'ipc' },
      { from: 'narrator', to: 'fan-2', transport: 'tcp' },
    ]);
    // The server chose the ipc path, inside its runtime folder and this playground's names.
    const events = await eventsUntil(id, (all) => all.some((e) => e.type === 'link:moved'));
    const event = events.find((e) => e.type === 'link:moved');
    expect(event).toMatchObject({ node: 'fan-1', transport: 'ipc', previousTransport: 'tcp' });
    expect(event && event.type === 'link:moved' ? event.address : '').toContain(`${policy.runtimeDir}/${id}-`);
    expect((await owner.inject(`/api/graphs/${id}`)).json<GraphPlaygroundInfo>().graph.links[0]!.transport).toBe('ipc');
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });
  it('a process node moves to ipc during a run; to inproc (it, or its peer towards it) is refused 400, saying to use tcp or ipc', async () => {
    const graph: GraphSpec = {
      title: 'a publisher and a process subscriber',
      nodes: [
        {
          id: 'news',
          socket: 'PUB',
          role: { kind: 'send', messages: { kind: 'template', template: 'n{i}', count: 100_000 }, intervalMs: 20 },
        },
        { id: 'fan', socket: 'SUB', subscribe: [''], process: true, role: { kind: 'receive' } },
      ],
      links: [{ from: 'news', to: 'fan', bind: 'from', transport: 'tcp' }],
    };
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<GraphPlaygroundInfo>();
    const move = (node: string, payload: Record<string, unknown>) =>
      owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/${node}/move`, payload });
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    await eventsUntil(id, (all) => all.some((e) => e.type === 'message:received' && e.node === 'fan'));

    for (const [node, payload] of [
      ['fan', { transport: 'inproc' }],
      ['news', { transport: 'inproc', peer: 'fan' }],
    ] as const) {
      const refused = await move(node, payload);
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'PG_ERR_VALIDATION' });
      expect(refused.body).toContain('inproc cannot cross a process');
      expect(refused.body).toContain('use tcp or ipc');
    }
    const moved = await move('fan', { transport: 'ipc' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json<GraphPlaygroundInfo>().graph.links).toMatchObject([
      { from: 'news', to: 'fan', transport: 'ipc' },
    ]);
    const events = await eventsUntil(id, (all) => {
      const at = all.find((e) => e.type === 'link:moved')?.seq;
      return at !== undefined && all.some((e) => e.type === 'message:received' && e.node === 'fan' && e.seq > at);
    });
    expect(events.filter((e) => e.type === 'link:moved')).toMatchObject([
      { node: 'fan', transport: 'ipc', previousTransport: 'tcp' },
    ]);
    expect(events.filter((e) => e.type === 'node:error')).toEqual([]);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });
});
