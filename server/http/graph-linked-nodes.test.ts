/**
 * Any node added to a running graph with one link to a node it has (issue 11: "add or remove a node ... while
 * messages flow"; SPEC [G8], docs/api.md POST /api/graphs/:id/linked-nodes), on real sockets through the HTTP API.
 * The series' part 3 (one REQ that connects to three REP): a fourth REP added mid-run binds an endpoint of its own,
 * the REQ connects it between two round trips, and the REQ's next requests spread over the four; as its own process
 * too (its pid in the events). A SUB added to a running PUB dials it, and removed, says node:removed after its
 * node:stopped. What ZeroMQ would not take (a PUSH to a REQ, a second PAIR peer) is refused 400 with a
 * text to act on, and the run goes on unharmed. A REP worker added to the zguide broker's DEALER backend gets its
 * share of the requests still to come, and every client still gets all its replies.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import type { Visitor } from '../../test/helpers.ts';
import { graphApiForEachTest, pollGraphEventsUntil } from '../../test/graph-api-harness.ts';
import { of } from '../../test/graph-run-harness.ts';

const api = graphApiForEachTest({ httpPerSecond: 1000 });
let owner: Visitor;
beforeEach(() => {
  owner = api.owner;
});

const SERVERS = ['server-5000', 'server-6000', 'server-7000', 'server-8000'];

/** Part 3 with its client paced (20 ms between requests), running. */
async function runPart3(): Promise<string> {
  const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-3' } });
  expect(created.statusCode, created.body).toBe(201);
  const { id } = created.json<GraphPlaygroundInfo>();
  const paced = await owner.inject({ method: 'PUT', url: `/api/graphs/${id}/nodes/client/pace`, payload: { ms: 20 } });
  expect(paced.statusCode, paced.body).toBe(200);
  expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
  return id;
}

const addNode = (id: string, payload: Record<string, unknown>) =>
  owner.inject({ method: 'POST', url: `/api/graphs/${id}/linked-nodes`, payload });

/** The run's events until graph:ended (bounded by the harness's poll). */
const untilEnded = (id: string) => pollGraphEventsUntil(owner, id, (all) => of(all, 'graph:ended').length > 0);

/** Every request answered, and the books add up ([G3]). */
function checkAnswered(events: PlaygroundEvent[], summary: GraphSummary) {
  expect(summary.delivered + summary.dropped + summary.unattributed + summary.inFlight).toBe(summary.copies);
  expect(of(events, 'message:received').filter((e) => e.node === 'client')).toHaveLength(100);
  expect(summary.dropped).toBe(0);
}

/** Which REP received each request the client sent after `afterSeq`. */
function spreadAfter(events: PlaygroundEvent[], afterSeq: number): Record<string, number> {
  const requests = new Set(
    of(events, 'message:sent')
      .filter((e) => e.node === 'client' && e.seq > afterSeq)
      .map((e) => e.message),
  );
  const spread: Record<string, number> = {};
  for (const e of of(events, 'message:received'))
    if (e.from === 'client' && e.message !== null && requests.has(e.message))
      spread[e.node] = (spread[e.node] ?? 0) + 1;
  return spread;
}

describe('[G8] a node of any type added to a running graph', () => {
  it("a REP added to part 3's running REQ takes requests at once: the next requests spread over the four REP", async () => {
    const id = await runPart3();
    await pollGraphEventsUntil(
      owner,
      id,
      (all) => of(all, 'message:received').filter((e) => e.node === 'client').length >= 10,
    );
    const added = await addNode(id, { id: 'server-8000', socket: 'REP', peer: 'client' });
    expect(added.statusCode, added.body).toBe(201);
    const info = added.json<GraphPlaygroundInfo>();
    // The client only connects: the new REP binds an endpoint of its own, and the client dials it.
    expect(info.graph.links.at(-1)).toEqual({ from: 'server-8000', to: 'client', bind: 'from', transport: 'tcp' });
    expect(info.graph.nodes.at(-1)).toMatchObject({ id: 'server-8000', socket: 'REP', role: { transform: 'echo' } });
    const events = await untilEnded(id);
    const summary = of(events, 'graph:ended')[0]!.summary;
    checkAnswered(events, summary);
    const addedEvent = of(events, 'node:added')[0]!;
    expect(addedEvent).toMatchObject({ node: 'server-8000', link: { from: 'server-8000', to: 'client' } });
    expect(of(events, 'node:bound').some((e) => e.node === 'server-8000' && e.seq > addedEvent.seq)).toBe(true);
    // The client connects it between two round trips; from then on its requests rotate over all four REP.
    const connecting = of(events, 'node:connecting').find((e) => e.node === 'client' && e.peer === 'server-8000')!;
    expect(connecting.seq).toBeGreaterThan(addedEvent.seq);
    const spread = spreadAfter(events, connecting.seq);
    expect(Object.keys(spread).sort()).toEqual(SERVERS);
    const counts = Object.values(spread);
    expect(Math.max(...counts) - Math.min(...counts), JSON.stringify(spread)).toBeLessThanOrEqual(1);
    expect(summary.nodes['server-8000']!.received).toBeGreaterThanOrEqual(10);
  }, 60_000);

  it('refuses an incompatible pair or a PAIR that has its peer with 400 and a text to act on; the run goes on unharmed', async () => {
    const id = await runPart3();
    const push = await addNode(id, { id: 'pusher', socket: 'PUSH', peer: 'client' });
    expect(push.statusCode, push.body).toBe(400);
    expect(push.json()).toMatchObject({
      code: 'PG_ERR_VALIDATION',
      text: { key: 'graph.linkedIncompatible', params: { socket: 'PUSH', node: 'client', peerSocket: 'REQ' } },
    });
    // A REP may not talk to a REP either; an unknown peer is 404; a name the graph has is refused.
    expect((await addNode(id, { id: 'rep-x', socket: 'REP', peer: 'server-5000' })).statusCode).toBe(400);
    expect((await addNode(id, { id: 'rep-x', socket: 'REP', peer: 'nobody' })).statusCode).toBe(404);
    const taken = await addNode(id, { id: 'server-5000', socket: 'REP', peer: 'client' });
    expect(taken.json()).toMatchObject({ text: { key: 'graph.nodeExists' } });
    // The schema: a socket type the playground does not offer.
    expect((await addNode(id, { id: 'raw', socket: 'STREAM', peer: 'client' })).statusCode).toBe(400);
    const events = await untilEnded(id);
    checkAnswered(events, of(events, 'graph:ended')[0]!.summary);
    expect(of(events, 'node:added')).toHaveLength(0);
    const graph = (await owner.inject(`/api/graphs/${id}`)).json<GraphPlaygroundInfo>().graph;
    expect(graph.nodes.map((node) => node.id)).toEqual(['client', ...SERVERS.slice(0, 3)]);

    // The series' part 2: a PAIR server that has its client takes no second peer.
    const pairs: GraphSpec = {
      title: 'pair',
      nodes: [
        { id: 'server', socket: 'PAIR', role: { kind: 'receive', replyBack: true } },
        {
          id: 'client',
          socket: 'PAIR',
          role: { kind: 'send', messages: { kind: 'list', items: ['a'] }, awaitEcho: true },
        },
      ],
      links: [{ from: 'server', to: 'client', bind: 'from', transport: 'tcp' }],
    };
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: pairs } });
    const pairId = created.json<GraphPlaygroundInfo>().id;
    const second = await addNode(pairId, { id: 'client-2', socket: 'PAIR', peer: 'server' });
    expect(second.statusCode).toBe(400);
    expect(second.json()).toMatchObject({ text: { key: 'graph.linkedPairTaken', params: { node: 'server' } } });
  }, 60_000);

  it('a subscriber added and removed while a PUB publishes: node:added before its connect, node:removed after its node:stopped', async () => {
    const news: GraphSpec = {
      title: 'news',
      nodes: [
        {
          id: 'news',
          socket: 'PUB',
          role: { kind: 'send', messages: { kind: 'template', template: 'a:{i}', count: 2000 }, intervalMs: 5 },
        },
        { id: 'sub-1', socket: 'SUB', subscribe: ['a:'], role: { kind: 'receive' } },
      ],
      links: [{ from: 'news', to: 'sub-1', bind: 'from', transport: 'tcp' }],
    };
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: news } });
    const { id } = created.json<GraphPlaygroundInfo>();
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    await pollGraphEventsUntil(owner, id, (all) => of(all, 'message:received').length > 0);
    // The PUB binds: the new SUB dials it, subscribed to its prefix.
    const added = await addNode(id, { id: 'sub-2', socket: 'SUB', peer: 'news', subscribe: ['a:'] });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json<GraphPlaygroundInfo>().graph.links.at(-1)).toEqual({
      from: 'news',
      to: 'sub-2',
      bind: 'from',
      transport: 'tcp',
    });
    await pollGraphEventsUntil(owner, id, (all) => of(all, 'message:received').some((e) => e.node === 'sub-2'));
    const removed = await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/sub-2` });
    expect(removed.statusCode, removed.body).toBe(200);
    const events = await pollGraphEventsUntil(owner, id, (all) => of(all, 'node:removed').length > 0);
    await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` });
    const addedAt = of(events, 'node:added').find((e) => e.node === 'sub-2')!;
    const connecting = of(events, 'node:connecting').find((e) => e.node === 'sub-2')!;
    const stopped = of(events, 'node:stopped').find((e) => e.node === 'sub-2')!;
    const gone = of(events, 'node:removed').find((e) => e.node === 'sub-2')!;
    expect(addedAt.spec).toEqual({ id: 'sub-2', socket: 'SUB', subscribe: ['a:'], role: { kind: 'receive' } });
    expect(addedAt.seq).toBeLessThan(connecting.seq);
    expect(stopped.reason).toBe('removed');
    expect(stopped.seq).toBeLessThan(gone.seq);
  }, 60_000);

  it("a REP worker added to the zguide broker's DEALER while requests flow: the DEALER deals to it too, every reply comes back", async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'zguide-broker' } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<GraphPlaygroundInfo>();
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    const clients = ['client-1', 'client-2', 'client-3'];
    const replies = (all: PlaygroundEvent[]) =>
      of(all, 'message:received').filter((e) => clients.includes(e.node)).length;
    await pollGraphEventsUntil(owner, id, (all) => replies(all) >= 3);
    // The DEALER binds: the new REP dials it, with the role the pair suggests (a reply).
    const added = await addNode(id, { id: 'worker-4', socket: 'REP', peer: 'backend' });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json<GraphPlaygroundInfo>().graph.links.at(-1)).toEqual({
      from: 'backend',
      to: 'worker-4',
      bind: 'from',
      transport: 'tcp',
    });
    const events = await untilEnded(id);
    const summary = of(events, 'graph:ended')[0]!.summary;
    expect(summary.delivered + summary.dropped + summary.unattributed + summary.inFlight).toBe(summary.copies);
    expect(summary.dropped).toBe(0);
    expect(replies(events)).toBe(30);
    const dealtToNewcomer = of(events, 'message:received').filter((e) => e.node === 'worker-4');
    expect(dealtToNewcomer.length).toBeGreaterThan(0);
    expect(dealtToNewcomer.every((e) => e.from === 'backend')).toBe(true);
  }, 60_000);

  it('a process node added while the run flows: its own OS process (pid in the events), taking requests', async () => {
    const id = await runPart3();
    await pollGraphEventsUntil(
      owner,
      id,
      (all) => of(all, 'message:received').filter((e) => e.node === 'client').length >= 10,
    );
    const added = await addNode(id, { id: 'server-8000', socket: 'REP', peer: 'client', process: true });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json<GraphPlaygroundInfo>().graph.nodes.at(-1)).toMatchObject({ id: 'server-8000', process: true });
    const events = await untilEnded(id);
    checkAnswered(events, of(events, 'graph:ended')[0]!.summary);
    const started = of(events, 'node:process').find((e) => e.node === 'server-8000')!;
    expect(started).toMatchObject({ action: 'started', program: 'server-8000' });
    expect(started.pid).toBeGreaterThan(0);
    expect(started.pid).not.toBe(process.pid);
    expect(started.seq).toBeGreaterThan(of(events, 'node:added')[0]!.seq);
    expect(of(events, 'message:received').filter((e) => e.node === 'server-8000').length).toBeGreaterThan(0);
  }, 60_000);
});
