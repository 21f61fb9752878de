/**
 * Live topology of a graph run over the HTTP API, on real sockets (issue 11: "add or remove a node, ... change its
 * subscriptions, while messages flow"): a subscriber added to a running PUB/SUB graph gets only the messages that
 * match its prefix, and only those published after it joined; removed, it gets nothing more and the publisher
 * books no more copies for it. Hostile or impossible requests are refused with a stable code and a translatable
 * text, and the run and the server keep going.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { NODES_PER_RUN } from '../engine/graph-live.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let owner: Visitor;
let stranger: Visitor;

/** Nodes per graph on this server: the news graph has 2, so two more fit. */
const MAX_NODES = 4;

beforeEach(async () => {
  policy = testPolicy();
  app = await buildApp({
    policy,
    staticDir: null,
    store: null,
    limits: { workersPerPlayground: MAX_NODES, httpPerSecond: 1000 },
  });
  await app.ready();
  owner = new Visitor(app);
  stranger = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
});

/** A publisher of "a:<i>" and "b:<i>" (drawn at random, seeded; every body unique) and a subscriber of "a:". */
const news: GraphSpec = {
  title: 'news',
  nodes: [
    {
      id: 'news',
      socket: 'PUB',
      role: {
        kind: 'send',
        messages: { kind: 'template', template: '{pick:a|b}:{i}', count: 5000, seed: 11 },
        intervalMs: 10,
      },
    },
    { id: 'sub-a', socket: 'SUB', subscribe: ['a:'], role: { kind: 'receive' } },
  ],
  links: [{ from: 'news', to: 'sub-a', bind: 'from', transport: 'tcp' }],
};

type Received = Extract<PlaygroundEvent, { type: 'message:received' }>;
type Sent = Extract<PlaygroundEvent, { type: 'message:sent' }>;
type Dropped = Extract<PlaygroundEvent, { type: 'message:dropped' }>;

/** Polls the playground's events (bounded) until `condition` holds on all of them so far. */
async function eventsUntil(
  id: string,
  condition: (events: PlaygroundEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<PlaygroundEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const events: PlaygroundEvent[] = [];
  for (;;) {
    const response = await owner.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
    expect(response.statusCode, response.body).toBe(200);
    events.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    if (condition(events)) return events;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; ${events.length} events`);
    // Well below the API's rate limit per visitor.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const receivedBy = (events: PlaygroundEvent[], node: string) =>
  events.filter((e): e is Received => e.type === 'message:received' && e.node === node);

async function addSubscriber(visitor: Visitor, id: string, body: object) {
  return await visitor.inject({ method: 'POST', url: `/api/graphs/${id}/subscribers`, payload: body });
}

describe('live topology of a graph run', () => {
  it('[G5] a subscriber added while the publisher sends gets only its matches, published after it joined; removed, nothing more', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: news } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<GraphPlaygroundInfo>();
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    await eventsUntil(id, (events) => receivedBy(events, 'sub-a').length >= 3);

    // Everything sent before the request is older than the subscriber.
    const before = await eventsUntil(id, () => true);
    const lastSentBefore = Math.max(
      ...before.filter((e): e is Sent => e.type === 'message:sent').map((e) => e.message),
    );
    const added = await addSubscriber(owner, id, { id: 'sub-b', publisher: 'news', subscribe: ['b:'] });
    expect(added.statusCode, added.body).toBe(201);
    const info = added.json<GraphPlaygroundInfo>();
    expect(info.activeRun).not.toBeNull();
    expect(info.graph.nodes.find((node) => node.id === 'sub-b')).toMatchObject({ socket: 'SUB', subscribe: ['b:'] });
    expect(info.graph.links).toContainEqual({ from: 'news', to: 'sub-b', bind: 'from', transport: 'tcp' });

    let events = await eventsUntil(id, (all) => receivedBy(all, 'sub-b').length >= 5);
    const ofB = receivedBy(events, 'sub-b');
    for (const receipt of ofB) {
      expect(receipt.body, 'only its prefix').toMatch(/^b:/);
      expect(receipt.from).toBe('news');
      expect(receipt.message!, 'published after it joined').toBeGreaterThan(lastSentBefore);
    }
    // It dialled the publisher's endpoint during the run; the publisher filtered the "a:" copies for it.
    expect(events.some((e) => e.type === 'node:connecting' && e.node === 'sub-b' && e.peer === 'news')).toBe(true);
    const filteredForB = events.filter(
      (e): e is Dropped => e.type === 'message:dropped' && e.peer === 'sub-b' && e.reason === 'filtered',
    );
    expect(filteredForB.length).toBeGreaterThan(0);
    // The first subscriber is unchanged: still only "a:".
    for (const receipt of receivedBy(events, 'sub-a')) expect(receipt.body).toMatch(/^a:/);

    // Removed: its socket closes, it receives nothing more, and no copy is booked for it any more.
    const removed = await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/sub-b` });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json<GraphPlaygroundInfo>().graph.nodes.map((node) => node.id)).toEqual(['news', 'sub-a']);
    events = await eventsUntil(id, (all) => {
      const stopped = all.findIndex((e) => e.type === 'node:stopped' && e.node === 'sub-b');
      return stopped >= 0 && receivedBy(all.slice(stopped), 'sub-a').length >= 5;
    });
    const stopped = events.findIndex((e) => e.type === 'node:stopped' && e.node === 'sub-b');
    expect(events[stopped]).toMatchObject({ type: 'node:stopped', reason: 'removed' });
    const after = events.slice(stopped + 1);
    expect(receivedBy(after, 'sub-b')).toEqual([]);
    expect(after.filter((e) => e.type === 'message:dropped' && e.peer === 'sub-b' && e.reason === 'filtered')).toEqual(
      [],
    );

    const stop = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` });
    expect(stop.statusCode, stop.body).toBe(200);
    // [G3] Every copy, the live subscriber's included, is in exactly one place.
    const { summary } = stop.json<{ summary: GraphSummary }>();
    expect(summary.delivered + summary.dropped + summary.unattributed + summary.inFlight).toBe(summary.copies);
    expect(summary.nodes['sub-b']!.received).toBe(receivedBy(events, 'sub-b').length);
  });

  it("[G5] changes a subscriber's prefixes on its live socket: from the change on it gets the new ones and none of the old", async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: news } });
    const { id } = created.json<GraphPlaygroundInfo>();
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    await eventsUntil(id, (events) => receivedBy(events, 'sub-a').length >= 3);

    const url = `/api/graphs/${id}/nodes/sub-a/subscriptions`;
    const changed = await owner.inject({ method: 'PUT', url, payload: { subscribe: ['b:'] } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json<GraphPlaygroundInfo>().graph.nodes[1]).toMatchObject({ id: 'sub-a', subscribe: ['b:'] });
    const events = await eventsUntil(id, (all) => {
      const receipts = receivedBy(all, 'sub-a');
      const firstB = receipts.findIndex((e) => e.body.startsWith('b:'));
      return firstB >= 0 && receipts.length - firstB >= 3;
    });
    const receipts = receivedBy(events, 'sub-a');
    const firstB = receipts.findIndex((e) => e.body.startsWith('b:'));
    expect(receipts.slice(0, firstB).every((e) => e.body.startsWith('a:'))).toBe(true);
    // Within one pipe ZeroMQ keeps order, and a SUB filters what it reads: once a "b:" came, no "a:" comes after.
    for (const receipt of receipts.slice(firstB)) expect(receipt.body).toMatch(/^b:/);
    // The publisher filters the "a:" copies for it from the change on.
    const changedAt = events.findIndex((e) => e === receipts[firstB]);
    expect(
      events
        .slice(changedAt)
        .some((e) => e.type === 'message:dropped' && e.peer === 'sub-a' && e.reason === 'filtered'),
    ).toBe(true);

    // Only a subscriber has prefixes; the body is checked as when adding one.
    const publisher = await owner.inject({
      method: 'PUT',
      url: `/api/graphs/${id}/nodes/news/subscriptions`,
      payload: { subscribe: ['b:'] },
    });
    expect(publisher.statusCode).toBe(400);
    expect(publisher.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.notSubscriber' } });
    for (const payload of [{ subscribe: [] }, { subscribe: ['x'.repeat(65)] }, { subscribe: ['b:'], more: 1 }, {}]) {
      const bad = await owner.inject({ method: 'PUT', url, payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });

  it('refuses hostile and impossible requests with a clear error, and the run and the server keep going', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: news } });
    const { id } = created.json<GraphPlaygroundInfo>();
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);

    const refusals: [object, number, string, string?][] = [
      [{ id: '../../etc', publisher: 'news', subscribe: ['b:'] }, 400, 'PG_ERR_VALIDATION'],
      [{ id: 'x'.repeat(65), publisher: 'news', subscribe: ['b:'] }, 400, 'PG_ERR_VALIDATION'],
      [{ id: 'long', publisher: 'news', subscribe: ['b'.repeat(65)] }, 400, 'PG_ERR_VALIDATION'],
      [
        { id: 'many', publisher: 'news', subscribe: Array.from({ length: 17 }, (_, i) => `p${i}`) },
        400,
        'PG_ERR_VALIDATION',
      ],
      [{ id: 'none', publisher: 'news', subscribe: [] }, 400, 'PG_ERR_VALIDATION'],
      [{ id: 'extra', publisher: 'news', subscribe: ['b:'], socket: 'PUB' }, 400, 'PG_ERR_VALIDATION'],
      [{ id: 'nested', publisher: { $gt: '' }, subscribe: ['b:'] }, 400, 'PG_ERR_VALIDATION'],
      [{ id: 'sub-a', publisher: 'news', subscribe: ['b:'] }, 400, 'PG_ERR_VALIDATION', 'graph.nodeExists'],
      [{ id: 'sub-c', publisher: 'nobody', subscribe: ['b:'] }, 404, 'PG_ERR_NOT_FOUND', 'graph.unknownNode'],
      [{ id: 'sub-c', publisher: 'sub-a', subscribe: ['b:'] }, 400, 'PG_ERR_VALIDATION', 'graph.notPublisher'],
    ];
    for (const [body, status, code, key] of refusals) {
      const response = await addSubscriber(owner, id, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.json(), JSON.stringify(body)).toMatchObject({ code, ...(key ? { text: { key } } : {}) });
    }
    // Not a body at all.
    const notJson = await owner.inject({
      method: 'POST',
      url: `/api/graphs/${id}/subscribers`,
      headers: { 'content-type': 'application/json' },
      payload: '{"id": "x", ',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ code: 'PG_ERR_BAD_JSON' });

    // Someone without a role sees no such playground; nothing changes.
    const foreign = await addSubscriber(stranger, id, { id: 'spy', publisher: 'news', subscribe: [''] });
    expect(foreign.statusCode).toBe(404);

    // The node cap: two more fit (4 in all), a third does not.
    for (const name of ['sub-b', 'sub-c'])
      expect((await addSubscriber(owner, id, { id: name, publisher: 'news', subscribe: ['b:'] })).statusCode).toBe(201);
    const full = await addSubscriber(owner, id, { id: 'sub-d', publisher: 'news', subscribe: ['b:'] });
    expect(full.statusCode).toBe(429);
    expect(full.json()).toMatchObject({ code: 'PG_ERR_LIMIT', text: { key: 'graph.nodeLimit' } });

    // A subscriber removed while the run flows: its name is not used again in this run (any node may go now:
    // graph-live-remove.test.ts).
    expect((await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/sub-c` })).statusCode).toBe(200);
    const again = await addSubscriber(owner, id, { id: 'sub-c', publisher: 'news', subscribe: ['a:'] });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.nodeInRun' } });
    const unknown = await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/nobody` });
    expect(unknown.statusCode).toBe(404);
    const badName = await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/a%00b` });
    expect(badName.statusCode).toBe(400);

    // The run went on through all of it: both subscribers still receive, and the server answers.
    const events = await eventsUntil(
      id,
      (all) => receivedBy(all, 'sub-a').length >= 3 && receivedBy(all, 'sub-b').length >= 3,
    );
    expect(events.some((e) => e.type === 'graph:ended')).toBe(false);
    const info = await owner.inject(`/api/graphs/${id}`);
    expect(info.json<GraphPlaygroundInfo>().graph.nodes.map((node) => node.id)).toEqual(['news', 'sub-a', 'sub-b']);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);

    // Between runs a name is free again, and the next run has the subscriber from its start.
    expect((await addSubscriber(owner, id, { id: 'sub-c', publisher: 'news', subscribe: ['a:'] })).statusCode).toBe(
      201,
    );
  });

  it('opens at most NODES_PER_RUN sockets in one run, however often subscribers come and go', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: news } });
    const { id } = created.json<GraphPlaygroundInfo>();
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    let added = 0;
    for (let i = 0; i < NODES_PER_RUN; i++) {
      const response = await addSubscriber(owner, id, { id: `churn-${i}`, publisher: 'news', subscribe: ['b:'] });
      if (response.statusCode !== 201) {
        expect(response.statusCode).toBe(429);
        expect(response.json()).toMatchObject({ code: 'PG_ERR_LIMIT', text: { key: 'graph.liveNodeLimit' } });
        break;
      }
      added++;
      expect((await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/churn-${i}` })).statusCode).toBe(
        200,
      );
    }
    // The run's two nodes and the churned ones make the cap.
    expect(added).toBe(NODES_PER_RUN - 2);
    await eventsUntil(id, (all) => receivedBy(all, 'sub-a').length >= 2);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });
});
