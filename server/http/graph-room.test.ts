/**
 * One visitor's per-visitor limit of playgrounds, shared by the graph and pipeline kinds (learner report,
 * session 11: going through the series with the picker was refused at part 6 while none of the five open
 * playgrounds was running or watched). At the limit the least recently used idle playground, of either kind, is
 * closed to make room, as the pipeline's registry always did; only when every one is running or watched is the
 * next refused, with a text that says so. Real app, real sockets, through inject().
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { GraphSpec } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { Visitor } from '../../test/helpers.ts';
import { type GraphApi, closeGraphApi, openGraphApi } from '../../test/graph-api-harness.ts';

const LIMIT = 5;
let api: GraphApi;
let visitor: Visitor;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  api = await openGraphApi({ httpPerSecond: 1000, limits: { playgroundsPerVisitor: LIMIT } });
  visitor = api.owner;
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await closeGraphApi(api);
});

async function createGraph(scenario: string): Promise<GraphPlaygroundInfo> {
  const response = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { scenario } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<GraphPlaygroundInfo>();
}

async function status(url: string): Promise<number> {
  return (await visitor.inject(url)).statusCode;
}

it('a visitor going through the series part after part never runs out of playgrounds: the oldest idle ones make room', async () => {
  const opened: string[] = [];
  for (let part = 1; part <= 8; part++) opened.push((await createGraph(`series-${part}`)).id);
  // The five most recent are open, the three oldest were closed to make room for them.
  const open = (await visitor.inject('/api/graphs')).json<GraphPlaygroundInfo[]>().map((info) => info.id);
  expect(open.sort()).toEqual(opened.slice(3).sort());
  for (const id of opened.slice(0, 3)) expect(await status(`/api/graphs/${id}`)).toBe(404);
});

it('the limit is shared with the pipeline page: an idle pipeline playground opened first makes room too', async () => {
  const pipeline = await visitor.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
  expect(pipeline.statusCode, pipeline.body).toBe(201);
  const pipelineId = pipeline.json<{ id: string }>().id;
  const opened: string[] = [];
  for (let part = 1; part <= 5; part++) opened.push((await createGraph(`series-${part}`)).id);
  // The sixth of the visitor's: the pipeline one, the least recently used and idle, made room.
  expect(await status(`/api/playgrounds/${pipelineId}`)).toBe(404);
  for (const id of opened) expect(await status(`/api/graphs/${id}`)).toBe(200);
  // And the pipeline page makes room among the graph playgrounds in turn.
  const again = await visitor.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
  expect(again.statusCode, again.body).toBe(201);
  expect(await status(`/api/graphs/${opened[0]}`)).toBe(404);
});

/** A run that goes on until stopped: a message a second (each is progress, so it never drains). */
const slowPush: GraphSpec = {
  title: 'slow push',
  nodes: [
    {
      id: 'pusher',
      socket: 'PUSH',
      role: { kind: 'send', messages: { kind: 'template', template: 'task {i}', count: 1000 }, intervalMs: 1000 },
    },
    { id: 'worker', socket: 'PULL', role: { kind: 'receive' } },
  ],
  links: [{ from: 'pusher', to: 'worker', bind: 'from', transport: 'tcp' }],
};

it('five playgrounds running or watched are not closed: the sixth is refused, saying they are all in use', async () => {
  const busy: string[] = [];
  for (let i = 0; i < LIMIT; i++) {
    const response = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { graph: slowPush } });
    expect(response.statusCode, response.body).toBe(201);
    const id = response.json<GraphPlaygroundInfo>().id;
    busy.push(id);
    // Three of them running, two open in a page (watched by their stream).
    if (i < 3) {
      const run = await visitor.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
      expect(run.statusCode, run.body).toBe(201);
    } else sockets.push(await visitor.injectWS(`/api/graphs/${id}/stream`));
  }
  const sixth = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-6' } });
  expect(sixth.statusCode, sixth.body).toBe(429);
  expect(sixth.json()).toMatchObject({
    code: 'PG_ERR_LIMIT',
    text: { key: 'limit.playgroundsPerVisitor', params: { max: LIMIT } },
  });
  expect(sixth.json<{ message: string }>().message).toMatch(/each of them is in use \(running, or open in a page\)/);
  // So is a pipeline playground: the limit is one for both kinds.
  const pipeline = await visitor.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
  expect(pipeline.statusCode, pipeline.body).toBe(429);
  for (const id of busy) expect(await status(`/api/graphs/${id}`)).toBe(200);
  // Another visitor has its own allowance.
  const other = await new Visitor(api.app).inject({
    method: 'POST',
    url: '/api/graphs',
    payload: { scenario: 'series-6' },
  });
  expect(other.statusCode, other.body).toBe(201);
  // A run stopped frees its playground to make room again.
  expect((await visitor.inject({ method: 'POST', url: `/api/graphs/${busy[0]}/runs/stop` })).statusCode).toBe(200);
  await createGraph('series-6');
  expect(await status(`/api/graphs/${busy[0]}`)).toBe(404);
});
