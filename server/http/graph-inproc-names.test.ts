/**
 * inproc names over the HTTP API: the names the server chooses never equal a name the visitor's graph gives (an
 * inproc name is per ZeroMQ context, and the server has one context for every playground), at a run's start (a node
 * added while the run flows: hostile-s11.test.ts); a name given twice refuses the start with a text to act on; a
 * visitor's name stays inside its own playground, whatever it spells. And the ipc paths the server chooses are never
 * one the graph gives either.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { GraphSpec } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { Visitor } from '../../test/helpers.ts';
import { graphApiForEachTest, pollGraphEventsUntil } from '../../test/graph-api-harness.ts';
import { of } from '../../test/graph-run-harness.ts';

const api = graphApiForEachTest({ httpPerSecond: 1000 });
let owner: Visitor;
beforeEach(() => {
  owner = api.owner;
});

async function create(visitor: Visitor, graph: GraphSpec): Promise<string> {
  const created = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { graph } });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<GraphPlaygroundInfo>().id;
}

/** A REQ (index 0) that sends `count` requests to every REP it links to; `links` as given. */
function requester(count: number, reps: string[], links: GraphSpec['links']): GraphSpec {
  return {
    title: 'inproc names',
    nodes: [
      {
        id: 'client',
        socket: 'REQ',
        role: { kind: 'request', messages: { kind: 'template', template: 'r{i}', count } },
      },
      ...reps.map((id) => ({
        id,
        socket: 'REP' as const,
        role: { kind: 'reply' as const, transform: 'echo' as const },
      })),
    ],
    links,
  };
}

describe("the server's own inproc names", () => {
  it("at a run's start, never equal a name a link of the graph gives: both REP bind and answer", async () => {
    // srv (index 1) binds the visitor's "n2"; other (index 2) binds over inproc with no name: the server's choice.
    const id = await create(
      owner,
      requester(
        20,
        ['srv', 'other'],
        [
          { from: 'client', to: 'srv', bind: 'to', transport: 'inproc', address: 'inproc://n2' },
          { from: 'client', to: 'other', bind: 'to', transport: 'inproc' },
        ],
      ),
    );
    const started = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    expect(started.statusCode, started.body).toBe(201);
    const events = await pollGraphEventsUntil(owner, id, (all) => of(all, 'graph:ended').length > 0);
    expect(of(events, 'node:error'), JSON.stringify(of(events, 'node:error'))).toEqual([]);
    const bound = of(events, 'node:bound').map((e) => [e.node, e.address]);
    expect(bound).toHaveLength(2);
    expect(new Set(bound.map(([, address]) => address)).size).toBe(2);
    expect(Object.fromEntries(bound).srv).toBe(`inproc://${id}-n2`);
    const received = (node: string) => of(events, 'message:received').filter((e) => e.node === node).length;
    expect([received('srv'), received('other'), received('client')]).toEqual([10, 10, 20]);
    expect(of(events, 'graph:ended')[0]).toMatchObject({ reason: 'completed' });
  }, 60_000);

  it('a name the graph gives twice fails the start with a text to act on (400 EADDRINUSE), and the playground runs again', async () => {
    const twice: GraphSpec['links'] = [
      { from: 'client', to: 'srv', bind: 'to', transport: 'inproc', address: 'inproc://same' },
      { from: 'client', to: 'other', bind: 'to', transport: 'inproc', address: 'inproc://same' },
    ];
    const id = await create(owner, requester(4, ['srv', 'other'], twice));
    const started = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    // Before: 500 PG_ERR_INTERNAL (zeromq.js's "Address already in use" thrown through).
    expect(started.statusCode, started.body).toBe(400);
    expect(started.json()).toMatchObject({ code: 'PG_ERR_VALIDATION' });
    expect(started.body).toContain('EADDRINUSE');
    expect(started.body).toContain(`inproc://${id}-same`);
    // Nothing of that run stays bound: the graph mended, the next run binds both and completes.
    const mended = await owner.inject({
      method: 'PUT',
      url: `/api/graphs/${id}/graph`,
      payload: requester(4, ['srv', 'other'], [twice[0]!, { ...twice[1]!, address: 'inproc://other' }]),
    });
    expect(mended.statusCode, mended.body).toBe(200);
    const again = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    expect(again.statusCode, again.body).toBe(201);
    const events = await pollGraphEventsUntil(owner, id, (all) => of(all, 'graph:ended').length > 1);
    expect(of(events, 'graph:ended').at(-1)).toMatchObject({ reason: 'completed', summary: { delivered: 8 } });
  }, 60_000);
});

describe("a visitor's inproc names stay in its own playground", () => {
  it("a name spelled as another playground's endpoint is bound in the visitor's own namespace: neither run meets the other", async () => {
    const first = await create(
      owner,
      requester(10, ['srv'], [{ from: 'client', to: 'srv', bind: 'to', transport: 'inproc' }]),
    );
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${first}/runs` })).statusCode).toBe(201);
    const firstEvents = await pollGraphEventsUntil(owner, first, (all) => of(all, 'node:bound').length > 0);
    const taken = of(firstEvents, 'node:bound')[0]!.address;
    expect(taken).toBe(`inproc://${first}.n1`);
    // Another visitor names that very endpoint for its own REP (and the first one's whole name after its prefix).
    const other = new Visitor(api.app);
    const second = await create(
      other,
      requester(
        10,
        ['srv', 'twin'],
        [
          { from: 'client', to: 'srv', bind: 'to', transport: 'inproc', address: taken },
          { from: 'client', to: 'twin', bind: 'to', transport: 'inproc', address: `inproc://${first}-n1` },
        ],
      ),
    );
    expect((await other.inject({ method: 'POST', url: `/api/graphs/${second}/runs` })).statusCode).toBe(201);
    const secondEvents = await pollGraphEventsUntil(other, second, (all) => of(all, 'graph:ended').length > 0);
    expect(of(secondEvents, 'node:bound').map((e) => e.address)).toEqual([
      `inproc://${second}-${first}.n1`,
      `inproc://${second}-${first}-n1`,
    ]);
    expect(of(secondEvents, 'graph:ended')[0]).toMatchObject({ reason: 'completed', summary: { delivered: 20 } });
    const firstAll = await pollGraphEventsUntil(owner, first, (all) => of(all, 'graph:ended').length > 0);
    // Each REP got its own visitor's requests only.
    expect(of(firstAll, 'message:received').filter((e) => e.node === 'srv')).toHaveLength(10);
    expect(of(firstAll, 'graph:ended')[0]).toMatchObject({ reason: 'completed', summary: { delivered: 20 } });
  }, 60_000);
});

describe("the server's own ipc paths", () => {
  it("at a run's start, never the path a link of the graph gives: both REP bind and answer", async () => {
    const id = await create(owner, requester(20, ['srv', 'other'], []));
    // other (index 2) binds over ipc with no path, first: the server's choice for it was <id>-n2.ipc, which the
    // next link gives srv (a name in the playground's namespace, as a visitor may give).
    const given = `ipc://${api.policy.runtimeDir}/${id}-n2.ipc`;
    const graph = requester(
      20,
      ['srv', 'other'],
      [
        { from: 'client', to: 'other', bind: 'to', transport: 'ipc' },
        { from: 'client', to: 'srv', bind: 'to', transport: 'ipc', address: given },
      ],
    );
    const put = await owner.inject({ method: 'PUT', url: `/api/graphs/${id}/graph`, payload: graph });
    expect(put.statusCode, put.body).toBe(200);
    const started = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    // Before: 400 "held by another playground" (the server's choice had claimed the visitor's path first).
    expect(started.statusCode, started.body).toBe(201);
    const events = await pollGraphEventsUntil(owner, id, (all) => of(all, 'graph:ended').length > 0);
    const bound = Object.fromEntries(of(events, 'node:bound').map((e) => [e.node, e.address]));
    expect(bound.srv).toBe(given);
    expect(bound.other).not.toBe(given);
    const received = (node: string) => of(events, 'message:received').filter((e) => e.node === node).length;
    expect([received('srv'), received('other'), received('client')]).toEqual([10, 10, 20]);
  }, 60_000);
});
