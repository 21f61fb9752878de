/**
 * The free sandbox's limits held by the server (issue 11: "Limits as today"): the page's menu keeps a sandbox
 * node's parameters within SANDBOX_LIMITS, and so does the HTTP API for a playground opened as the sandbox
 * (`sandbox: true`), whoever sends the edits; any graph is held to the schema's limits. Out-of-range values
 * are refused with 400 and a message that names the node, the parameter, the cap and the value sent ([H1], [H2]),
 * not the noise of every role variant Ajv tried.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphNode, GraphSpec } from '../../shared/protocol/index.ts';
import { SANDBOX_LIMITS, defaultChoice, nodeFromMenu, starterSandbox } from '../../shared/scenarios/sandbox.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let visitor: Visitor;

beforeEach(async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null, limits: { workersPerPlayground: 8 } });
  await app.ready();
  visitor = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
});

interface Refusal {
  code: string;
  message: string;
  text: { key: string; params?: Record<string, unknown> };
}

const client = starterSandbox().nodes[0]! as GraphNode & { role: { kind: 'request' } };
const withClient = (patch: Partial<GraphNode>): GraphSpec => ({
  ...starterSandbox(),
  nodes: [{ ...client, ...patch } as GraphNode],
});
const clientRole = (patch: object) => ({ role: { ...client.role, ...patch } }) as Partial<GraphNode>;

async function sandbox(): Promise<GraphPlaygroundInfo> {
  const response = await visitor.inject({
    method: 'POST',
    url: '/api/graphs',
    payload: { graph: starterSandbox(), sandbox: true },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<GraphPlaygroundInfo>();
}

async function refused(method: 'POST' | 'PUT', url: string, payload: object): Promise<Refusal> {
  const response = await visitor.inject({ method, url, payload });
  expect(response.statusCode, response.body).toBe(400);
  const body = response.json<Refusal>();
  expect(body.code).toBe('PG_ERR_VALIDATION');
  return body;
}

describe('[H1] a sandbox node out of range is refused with what to change', () => {
  it("numbers within the schema but beyond the sandbox's caps: node, parameter, cap and value, in every edit route", async () => {
    const { id } = await sandbox();
    const count = await refused(
      'PUT',
      `/api/graphs/${id}/graph`,
      withClient(clientRole({ messages: { kind: 'template', template: 'hello {n}', count: 5000 } })),
    );
    expect(count.message).toBe(
      `Node "client": role.messages.count is 5000, more than the free sandbox allows (at most ${SANDBOX_LIMITS.count}). Lower it and send the graph again.`,
    );
    expect(count.text).toEqual({
      key: 'graph.sandboxValue',
      params: { node: 'client', param: 'role.messages.count', max: SANDBOX_LIMITS.count, got: 5000 },
    });

    const hwm = await refused('PUT', `/api/graphs/${id}/nodes/client`, { ...client, receiveHighWaterMark: 50_000 });
    expect(hwm.text.params).toMatchObject({ param: 'receiveHighWaterMark', max: SANDBOX_LIMITS.highWaterMark });

    const worker: GraphNode = { id: 'slow', socket: 'PULL', role: { kind: 'receive', workMs: 30_000 } };
    const work = await refused('POST', `/api/graphs/${id}/nodes`, worker);
    expect(work.message).toMatch(/^Node "slow": role\.workMs is 30000, .*at most 10000/);

    const text = await refused('POST', '/api/graphs', {
      sandbox: true,
      graph: withClient(clientRole({ messages: { kind: 'template', template: 'x'.repeat(200), count: 3 } })),
    });
    expect(text.text.key).toBe('graph.sandboxChars');

    const drain = await refused('PUT', `/api/graphs/${id}/graph`, { ...starterSandbox(), drainMs: 50_000 });
    expect(drain.text).toMatchObject({ key: 'graph.sandboxGraphValue', params: { param: 'drainMs', got: 50_000 } });

    // Nothing was changed by any of them.
    const info = (await visitor.inject(`/api/graphs/${id}`)).json<GraphPlaygroundInfo>();
    expect(info.graph).toEqual(starterSandbox());
  });

  it("numbers beyond the schema: the value's own rule, not every role variant's complaint", async () => {
    const { id } = await sandbox();
    const interval = await refused('PUT', `/api/graphs/${id}/graph`, withClient(clientRole({ intervalMs: 99_999 })));
    expect(interval.message).toBe('Invalid request: body/nodes/0/role/intervalMs must be <= 10000.');
    expect(interval.text.params?.problem).toMatchObject({ key: 'validation.max' });

    const huge = await refused(
      'PUT',
      `/api/graphs/${id}/graph`,
      withClient(clientRole({ messages: { kind: 'template', template: 'hello {n}', count: 200_000 } })),
    );
    // Before: "messages must have required property 'items'" (the list variant's), first and translated.
    expect(huge.message).toBe('Invalid request: body/nodes/0/role/messages/count must be <= 100000.');
    expect(huge.text.params?.problem).toMatchObject({
      key: 'validation.max',
      params: { field: 'body/nodes/0/role/messages/count', limit: 100_000 },
    });
  });

  it('a subscriber added or changed in a sandbox keeps to its prefix caps; a series scenario keeps the schema', async () => {
    const { id } = await sandbox();
    const pub = nodeFromMenu('pub-1', 'PUB', defaultChoice('PUB'));
    const sub = nodeFromMenu('sub-1', 'SUB', defaultChoice('SUB'));
    const graph: GraphSpec = {
      ...starterSandbox(),
      nodes: [pub, sub],
      links: [{ from: 'pub-1', to: 'sub-1', bind: 'from', transport: 'tcp' }],
    };
    expect((await visitor.inject({ method: 'PUT', url: `/api/graphs/${id}/graph`, payload: graph })).statusCode).toBe(
      200,
    );
    const many = Array.from({ length: SANDBOX_LIMITS.prefixes + 1 }, (_, i) => `p${i}`);
    const added = await refused('POST', `/api/graphs/${id}/subscribers`, {
      id: 'sub-2',
      publisher: 'pub-1',
      subscribe: many,
    });
    expect(added.text).toMatchObject({ key: 'graph.sandboxItems', params: { node: 'sub-2', param: 'subscribe' } });
    const changed = await refused('PUT', `/api/graphs/${id}/nodes/sub-1/subscriptions`, {
      subscribe: ['x'.repeat(SANDBOX_LIMITS.prefixChars + 1)],
    });
    expect(changed.text).toMatchObject({ key: 'graph.sandboxChars', params: { node: 'sub-1', param: 'subscribe[]' } });

    // A graph of one's own not opened as the sandbox (a script's) is held to the schema's limits only, and so is
    // a series playground.
    const scripted = await visitor.inject({
      method: 'POST',
      url: '/api/graphs',
      payload: {
        graph: withClient(clientRole({ messages: { kind: 'template', template: 'hello {n}', count: 5000 } })),
      },
    });
    expect(scripted.statusCode, scripted.body).toBe(201);
    const series = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-4' } });
    expect(series.statusCode).toBe(201);
    const part4 = series.json<GraphPlaygroundInfo>();
    const many16 = Array.from({ length: SANDBOX_LIMITS.prefixes + 1 }, (_, i) => `p${i}`);
    const fan = await visitor.inject({
      method: 'POST',
      url: `/api/graphs/${part4.id}/subscribers`,
      payload: { id: 'fan-9', publisher: part4.graph.nodes.find((n) => n.socket === 'PUB')!.id, subscribe: many16 },
    });
    expect(fan.statusCode, fan.body).toBe(201);
  });
});
