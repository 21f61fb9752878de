/**
 * The free sandbox over HTTP (issue 11): a graph of the visitor's own, opened from the sandbox's starter and built
 * by edits (PUT /api/graphs/:id/graph, as the page does), runs on real sockets at addresses the server picks; a
 * REQ connected to three REP (echo) spreads its requests evenly. Hostile graphs are refused with stable codes, and
 * the server keeps answering.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import {
  defaultChoice,
  nodeFromMenu,
  starterSandbox,
  withLinkAdded,
  withNodeAdded,
} from '../../shared/scenarios/sandbox.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

const MAX_NODES = 6;
let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let visitor: Visitor;

beforeEach(async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null, limits: { workersPerPlayground: MAX_NODES } });
  await app.ready();
  visitor = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
});

async function create(graph: GraphSpec): Promise<GraphPlaygroundInfo> {
  const response = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { graph } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<GraphPlaygroundInfo>();
}

async function put(id: string, graph: object) {
  return await visitor.inject({ method: 'PUT', url: `/api/graphs/${id}/graph`, payload: graph });
}

/** Polls the playground's events (bounded) until `condition` holds on them. */
async function eventsUntil(id: string, condition: (events: PlaygroundEvent[]) => boolean): Promise<PlaygroundEvent[]> {
  const deadline = Date.now() + 20_000;
  const events: PlaygroundEvent[] = [];
  for (;;) {
    const response = await visitor.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
    expect(response.statusCode, response.body).toBe(200);
    events.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    if (condition(events)) return events;
    if (Date.now() > deadline) throw new Error(`condition not met; ${events.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the free sandbox over HTTP', () => {
  it('builds REQ to three REP (echo) by edits, runs it on real sockets, and the requests spread 10/10/10', async () => {
    const info = await create(starterSandbox());
    expect(info).toMatchObject({ scenario: 'sandbox', graph: { nodes: [{ id: 'client', socket: 'REQ' }] } });
    const url = `/api/graphs/${info.id}`;
    const edit = async (method: 'POST' | 'PUT' | 'DELETE', path: string, payload?: object) => {
      const response = await visitor.inject({ method, url: `${url}${path}`, ...(payload ? { payload } : {}) });
      expect(response.statusCode, response.body).toBe(method === 'POST' ? 201 : 200);
      return response.json<GraphPlaygroundInfo>();
    };
    // One edit at a time, as the page makes them: three REP (echo) from the palette, a link to each over every
    // transport (no address: the server's), the client's role from the menu (30 requests, 5 ms apart).
    for (const rep of ['rep-1', 'rep-2', 'rep-3'])
      await edit('POST', '/nodes', nodeFromMenu(rep, 'REP', defaultChoice('REP', 'echo')));
    for (const [rep, transport] of [
      ['rep-1', 'tcp'],
      ['rep-2', 'ipc'],
      ['rep-3', 'inproc'],
    ] as const)
      await edit('POST', '/links', { from: 'client', to: rep, bind: 'to', transport });
    const edited = await edit(
      'PUT',
      '/nodes/client',
      nodeFromMenu('client', 'REQ', { ...defaultChoice('REQ'), count: 30, intervalMs: 5 }),
    );
    expect(edited.graph.links).toHaveLength(3);
    expect(edited.graph.nodes[0]).toMatchObject({ role: { kind: 'request', messages: { count: 30 } } });

    expect((await visitor.inject({ method: 'POST', url: `${url}/runs` })).statusCode).toBe(201);
    // During the run the graph is not edited (only subscribers change live): 409, the run goes on.
    const during = await visitor.inject({ method: 'DELETE', url: `${url}/links/client/rep-1` });
    const events = await eventsUntil(info.id, (all) => all.some((e) => e.type === 'graph:ended'));
    // (It cannot have ended yet: 29 waits of 5 ms and a 500 ms drain come before its end, whatever the machine.)
    expect(during.statusCode).toBe(409);
    expect(during.json()).toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });
    // Every address is the server's: loopback tcp, an ipc file of this playground's, an inproc name of its own
    // (after a '.': a name the graph gives goes after a '-', graph-addresses.ts).
    const bound = events.filter((e) => e.type === 'node:bound');
    expect(bound.map((e) => e.address).sort()).toEqual([
      expect.stringMatching(new RegExp(`^inproc://${info.id}\\.n\\d+$`)),
      expect.stringMatching(new RegExp(`^ipc://${policy.runtimeDir}/${info.id}-`)),
      expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/),
    ]);
    const received = (node: string) =>
      events.filter((e) => e.type === 'message:received' && e.node === node && e.from === 'client').length;
    expect([received('rep-1'), received('rep-2'), received('rep-3')]).toEqual([10, 10, 10]);
    const echoes = events.filter((e) => e.type === 'message:received' && e.node === 'client');
    expect(echoes.map((e) => (e.type === 'message:received' ? e.body : ''))).toEqual(
      Array.from({ length: 30 }, (_, i) => `hello ${i + 1}`),
    );
    const ended = events.at(-1)!;
    expect(ended).toMatchObject({ type: 'graph:ended', reason: 'completed', summary: { delivered: 60, dropped: 0 } });

    // Between runs: a link goes (named by its ends, either order), a node is renamed and its link follows, one
    // goes with its link; the whole graph can be replaced too (PUT .../graph).
    expect((await edit('DELETE', '/links/rep-3/client')).graph.links.map((link) => link.to)).toEqual([
      'rep-1',
      'rep-2',
    ]);
    const renamed = await edit('PUT', '/nodes/rep-2', nodeFromMenu('adder', 'REP', defaultChoice('REP', 'sum')));
    expect(renamed.graph.links.map((link) => link.to)).toEqual(['rep-1', 'adder']);
    expect(renamed.graph.nodes.find((node) => node.id === 'adder')!.role).toEqual({ kind: 'reply', transform: 'sum' });
    expect((await edit('DELETE', '/nodes/adder')).graph.links.map((link) => link.to)).toEqual(['rep-1']);
    const whole = await put(
      info.id,
      withLinkAdded(withNodeAdded(renamed.graph, 'PULL'), {
        from: 'client',
        to: 'rep-3',
        bind: 'to',
        transport: 'tcp',
      }),
    );
    expect(whole.statusCode, whole.body).toBe(200);

    // Edits that name what is not there, or repeat what is: stable codes.
    const refused = async (
      method: 'POST' | 'PUT' | 'DELETE',
      path: string,
      payload: object | undefined,
      status: number,
      key: string,
    ) => {
      const response = await visitor.inject({ method, url: `${url}${path}`, ...(payload ? { payload } : {}) });
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json()).toMatchObject({ text: { key } });
    };
    await refused('POST', '/nodes', nodeFromMenu('rep-1', 'REP', defaultChoice('REP')), 400, 'graph.nodeExists');
    await refused('PUT', '/nodes/ghost', nodeFromMenu('ghost', 'REP', defaultChoice('REP')), 404, 'graph.unknownNode');
    await refused('PUT', '/nodes/rep-1', nodeFromMenu('rep-3', 'REP', defaultChoice('REP')), 400, 'graph.nodeExists');
    await refused(
      'POST',
      '/links',
      { from: 'rep-1', to: 'client', bind: 'from', transport: 'ipc' },
      400,
      'graph.linkExists',
    );
    await refused('DELETE', '/links/client/ghost', undefined, 404, 'graph.unknownLink');
    await refused(
      'POST',
      '/links',
      { from: 'client', to: 'pull-1', bind: 'to', transport: 'tcp' },
      400,
      'graph.invalid',
    );
    await refused(
      'PUT',
      '/nodes/pull-1',
      { id: 'pull-1', socket: 'PULL', role: { kind: 'reply', transform: 'echo' } },
      400,
      'graph.invalid',
    );
  });

  it('refuses hostile graphs with stable codes and keeps answering', async () => {
    const base = starterSandbox();
    const refused = async (graph: unknown, status: number, code: string, key?: string) => {
      const response = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { graph } });
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json()).toMatchObject({ code, ...(key ? { text: { key } } : {}) });
      return response.json<{ message: string }>().message;
    };
    // A socket type ZeroMQ's playground does not offer.
    await refused({ ...base, nodes: [{ ...base.nodes[0], socket: 'STREAM' }] }, 400, 'PG_ERR_VALIDATION');
    // A role its socket type cannot play: a PUB replying, a SUB requesting.
    const pubReplies = { id: 'pub', socket: 'PUB', role: { kind: 'reply', transform: 'echo' } };
    expect(await refused({ ...base, nodes: [pubReplies] }, 400, 'PG_ERR_VALIDATION', 'graph.invalid')).toMatch(
      /a PUB cannot play the role "reply"/,
    );
    const subRequests = { ...base.nodes[0], id: 'sub', socket: 'SUB' };
    await refused({ ...base, nodes: [subRequests] }, 400, 'PG_ERR_VALIDATION', 'graph.invalid');
    // More sockets than the operator allows per playground (here 6), and than any graph may have (32).
    let big: GraphSpec = base;
    for (let i = 0; i < MAX_NODES; i++) big = withNodeAdded(big, 'REP');
    await refused(big, 429, 'PG_ERR_LIMIT', 'graph.nodeLimit');
    await refused(
      { ...base, nodes: Array.from({ length: 40 }, (_, i) => ({ ...base.nodes[0], id: `n${i}` })) },
      400,
      'PG_ERR_VALIDATION',
    );
    // A link to a node that does not exist; a link between types that cannot talk.
    expect(
      await refused(
        { ...base, links: [{ from: 'client', to: 'ghost', bind: 'to', transport: 'tcp' }] },
        400,
        'PG_ERR_VALIDATION',
        'graph.invalid',
      ),
    ).toMatch(/ghost, which is not a node/);
    const withPull = withNodeAdded(base, 'PULL');
    await refused(
      { ...withPull, links: [{ from: 'client', to: 'pull-1', bind: 'to', transport: 'inproc' }] },
      400,
      'PG_ERR_VALIDATION',
      'graph.invalid',
    );
    // Huge strings: a name, a template, a title, a prefix, an address; and a huge body altogether.
    const long = 'x'.repeat(5000);
    await refused({ ...base, nodes: [{ ...base.nodes[0], id: long }] }, 400, 'PG_ERR_VALIDATION');
    await refused(
      {
        ...base,
        nodes: [
          { ...base.nodes[0], role: { kind: 'request', messages: { kind: 'template', template: long, count: 1 } } },
        ],
      },
      400,
      'PG_ERR_VALIDATION',
    );
    await refused({ ...base, title: long }, 400, 'PG_ERR_VALIDATION');
    await refused(
      {
        ...withNodeAdded(base, 'SUB'),
        nodes: [{ id: 's', socket: 'SUB', role: { kind: 'receive' }, subscribe: [long] }],
      },
      400,
      'PG_ERR_VALIDATION',
    );
    await refused(
      {
        ...withNodeAdded(base, 'REP'),
        links: [{ from: 'client', to: 'rep-1', bind: 'to', transport: 'tcp', address: long }],
      },
      400,
      'PG_ERR_VALIDATION',
    );
    const huge = await visitor.inject({
      method: 'POST',
      url: '/api/graphs',
      payload: { graph: { ...base, title: 'y'.repeat(4 * 1024 * 1024) } },
    });
    expect(huge.statusCode).toBeGreaterThanOrEqual(400);
    expect(huge.statusCode).toBeLessThan(500);

    // The same checks guard edits: a playground keeps its last good graph.
    const info = await create(base);
    const edit = await put(info.id, { ...base, nodes: [pubReplies] });
    expect(edit.statusCode).toBe(400);
    expect((await put(info.id, big)).json()).toMatchObject({ code: 'PG_ERR_LIMIT', text: { key: 'graph.nodeLimit' } });
    const after = await visitor.inject(`/api/graphs/${info.id}`);
    expect(after.json<GraphPlaygroundInfo>().graph).toEqual(base);
    expect((await visitor.inject('/api/graphs')).statusCode).toBe(200);
  });
});
