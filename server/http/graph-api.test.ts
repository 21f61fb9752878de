/**
 * Graph playgrounds through the HTTP API (issue 11): a series scenario and a graph of one's own created, run and
 * read back as events, by visitors with their session cookies; roles and caps as for the pipeline's playgrounds;
 * graphs and endpoints that cannot run refused with a stable code and a translatable text.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let owner: Visitor;
let stranger: Visitor;

beforeEach(async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null, limits: { playgroundsPerVisitor: 3 } });
  await app.ready();
  owner = new Visitor(app);
  stranger = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
});

const cluster: GraphSpec = {
  title: 'one REQ, three REP',
  nodes: [
    {
      id: 'client',
      socket: 'REQ',
      role: { kind: 'request', messages: { kind: 'template', template: 'mensaje {i}', count: 30 } },
    },
    { id: 'a', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    { id: 'b', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    { id: 'c', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
  ],
  links: [
    { from: 'client', to: 'a', bind: 'to', transport: 'tcp' },
    { from: 'client', to: 'b', bind: 'to', transport: 'ipc' },
    { from: 'client', to: 'c', bind: 'to', transport: 'inproc' },
  ],
  drainMs: 1500, // the default: a REQ whose reply is late on a loaded machine must not end the run
};

async function create(visitor: Visitor, body: object): Promise<GraphPlaygroundInfo> {
  const response = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<GraphPlaygroundInfo>();
}

/** Polls the playground's events (bounded) until `condition` holds on them. */
async function eventsUntil(
  visitor: Visitor,
  id: string,
  condition: (events: PlaygroundEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<PlaygroundEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const events: PlaygroundEvent[] = [];
  for (;;) {
    const response = await visitor.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
    expect(response.statusCode, response.body).toBe(200);
    events.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    if (condition(events)) return events;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; ${events.length} events`);
    // Well below the API's rate limit per visitor (50 requests a second).
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('graph playgrounds over HTTP', () => {
  it("lists the series' scenarios, with part 8's honest note, then the zguide's patterns and the pipeline sandbox", async () => {
    const response = await owner.inject('/api/graph-scenarios');
    const scenarios = response.json<{ id: string; notes: string[] }[]>();
    expect(scenarios.map((s) => s.id)).toEqual([
      'series-1',
      'series-2',
      'series-3',
      'series-4',
      'series-5',
      'series-6',
      'series-7',
      'series-8',
      'zguide-broker',
      'zguide-kill',
      'zguide-weather',
      'pipeline',
    ]);
    expect(scenarios.find((s) => s.id === 'series-8')!.notes.join(' ')).toMatch(/no PGM/);
  });

  it("[G1] creates a graph of one's own, runs it to its end and reads every event back: 10/10/10 over three REP", async () => {
    const info = await create(owner, { graph: cluster });
    expect(info).toMatchObject({ kind: 'graph', scenario: 'sandbox', activeRun: null, capabilities: { pgm: false } });
    const started = await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` });
    expect(started.statusCode, started.body).toBe(201);
    const { run } = started.json<{ run: string }>();
    const events = await eventsUntil(owner, info.id, (all) => all.some((e) => e.type === 'graph:ended'));
    expect(events[0]).toMatchObject({ type: 'graph:started', seq: 1, run });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const received = (node: string) => events.filter((e) => e.type === 'message:received' && e.node === node).length;
    expect([received('a'), received('b'), received('c')]).toEqual([10, 10, 10]);
    const ended = events.at(-1) as Extract<PlaygroundEvent, { type: 'graph:ended' }>;
    expect(ended.summary).toMatchObject({ sent: 60, delivered: 60, dropped: 0 });
    const after = (await owner.inject(`/api/graphs/${info.id}`)).json<GraphPlaygroundInfo>();
    expect(after.activeRun).toBeNull();
    expect(after.lastRun).toMatchObject({ id: run, summary: { delivered: 60 } });
  });

  it('runs a series scenario, stops it on request, and says which run is active', async () => {
    const info = await create(owner, { scenario: 'series-4' });
    expect(info.graph.nodes.map((n) => n.id)).toEqual(['narrator', 'fan-1', 'fan-2']);
    await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` });
    // The narrator publishes once a second: stop it after its first message.
    await eventsUntil(owner, info.id, (all) => all.some((e) => e.type === 'message:sent'));
    const again = await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'PG_ERR_RUN_ACTIVE', text: { key: 'run.stillRunning' } });
    const stopped = await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs/stop` });
    expect(stopped.statusCode, stopped.body).toBe(200);
    const summary = stopped.json<{ summary: GraphSummary }>().summary;
    expect(summary.sent).toBeGreaterThanOrEqual(1);
    expect(summary.delivered + summary.dropped + summary.unattributed + summary.inFlight).toBe(summary.copies);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs/stop` })).json()).toMatchObject({
      code: 'PG_ERR_NO_RUN',
    });
  });

  it('refuses graphs that cannot run, and endpoints outside the boundary, with a code and a text', async () => {
    const bad = await owner.inject({
      method: 'POST',
      url: '/api/graphs',
      payload: {
        graph: {
          ...cluster,
          links: [...cluster.links, { from: 'client', to: 'nowhere', bind: 'to', transport: 'tcp' }],
        },
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.invalid' } });
    expect(bad.json<{ message: string }>().message).toMatch(/nowhere, which is not a node/);

    const unknownType = await owner.inject({
      method: 'POST',
      url: '/api/graphs',
      payload: { graph: { ...cluster, nodes: [{ ...cluster.nodes[0], socket: 'STREAM' }] } },
    });
    expect(unknownType.statusCode).toBe(400);
    expect(unknownType.json()).toMatchObject({ code: 'PG_ERR_VALIDATION' });

    const tooMany = await owner.inject({
      method: 'POST',
      url: '/api/graphs',
      payload: {
        graph: {
          title: 'big',
          links: [],
          nodes: Array.from({ length: 33 }, (_, i) => ({ id: `n${i}`, socket: 'PULL', role: { kind: 'receive' } })),
        },
      },
    });
    expect(tooMany.statusCode).toBe(400); // the schema's own limit (32) comes first

    // An ipc path that is not this playground's own, and a tcp bind off loopback: refused when the run starts.
    const info = await create(owner, {
      graph: {
        ...cluster,
        links: [
          {
            from: 'client',
            to: 'a',
            bind: 'to',
            transport: 'ipc',
            address: `ipc://${policy.runtimeDir}/someone-else.ipc`,
          },
        ],
      },
    });
    const ipc = await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` });
    expect(ipc.statusCode).toBe(400);
    expect(ipc.json()).toMatchObject({ code: 'PG_ERR_ENDPOINT', text: { key: 'graph.ipcName' } });
    const put = await owner.inject({
      method: 'PUT',
      url: `/api/graphs/${info.id}/graph`,
      payload: {
        ...cluster,
        links: [{ from: 'client', to: 'a', bind: 'to', transport: 'tcp', address: 'tcp://0.0.0.0:5555' }],
      },
    });
    expect(put.statusCode, put.body).toBe(200);
    const tcp = await owner.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` });
    expect(tcp.json()).toMatchObject({ code: 'PG_ERR_ENDPOINT', text: { key: 'endpoint.tcpHost' } });
    // Neither refusal left a run behind.
    expect((await owner.inject(`/api/graphs/${info.id}`)).json<GraphPlaygroundInfo>().activeRun).toBeNull();
  });

  it('keeps visitors apart: a stranger cannot see, run or delete; a watcher reads; a driver runs; only the owner deletes', async () => {
    const info = await create(owner, { graph: cluster });
    expect((await stranger.inject(`/api/graphs/${info.id}`)).statusCode).toBe(404);
    expect((await stranger.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` })).statusCode).toBe(404);
    expect((await stranger.inject('/api/graphs')).json()).toEqual([]);

    const { watchToken, inviteToken } = (await owner.inject(`/api/graphs/${info.id}/links`)).json<{
      watchToken: string;
      inviteToken: string;
    }>();
    const watcher = new Visitor(app);
    expect(
      (
        await watcher.inject({ method: 'POST', url: `/api/graphs/${info.id}/join`, payload: { token: watchToken } })
      ).json(),
    ).toMatchObject({ role: 'watcher' });
    expect((await watcher.inject(`/api/graphs/${info.id}/events`)).statusCode).toBe(200);
    const refused = await watcher.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'PG_ERR_FORBIDDEN' });

    const driver = new Visitor(app);
    await driver.inject({ method: 'POST', url: `/api/graphs/${info.id}/join`, payload: { token: inviteToken } });
    expect((await driver.inject({ method: 'POST', url: `/api/graphs/${info.id}/runs` })).statusCode).toBe(201);
    await eventsUntil(driver, info.id, (all) => all.some((e) => e.type === 'graph:ended'));
    expect((await driver.inject({ method: 'DELETE', url: `/api/graphs/${info.id}` })).statusCode).toBe(403);
    expect(
      (await stranger.inject({ method: 'POST', url: `/api/graphs/${info.id}/join`, payload: { token: 'guess' } }))
        .statusCode,
    ).toBe(404);
    expect((await owner.inject({ method: 'DELETE', url: `/api/graphs/${info.id}` })).statusCode).toBe(204);
    expect((await owner.inject(`/api/graphs/${info.id}`)).statusCode).toBe(404);
  });

  it("counts graph and pipeline playgrounds together against one visitor's cap", async () => {
    // Each open in a page (watched): in use, so none is closed to make room (graph-room.test.ts: idle ones are).
    const first = await create(owner, { scenario: 'series-1' });
    const pipeline = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
    expect(pipeline.statusCode, pipeline.body).toBe(201);
    const second = await create(owner, { scenario: 'series-2' });
    const streams = [
      await owner.injectWS(`/api/graphs/${first.id}/stream`),
      await owner.injectWS(`/api/playgrounds/${pipeline.json<{ id: string }>().id}/stream`),
      await owner.injectWS(`/api/graphs/${second.id}/stream`),
    ];
    onTestFinished(() => {
      for (const stream of streams) stream.terminate();
    });
    const fourth = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-3' } });
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json()).toMatchObject({
      code: 'PG_ERR_LIMIT',
      text: { key: 'limit.playgroundsPerVisitor', params: { max: 3 } },
    });
    // Another visitor is not affected.
    expect(
      (await stranger.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-3' } })).statusCode,
    ).toBe(201);
  });
});
