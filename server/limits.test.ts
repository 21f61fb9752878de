/**
 * Issue 9.6: the operator's caps hold per visitor and per server. Before, one client could open 50 playgrounds
 * of 32 process workers each (about 1,600 processes of ~80 MiB), ask for 1,000,000 tasks of 64 KiB, and send
 * any number of 256 MiB imports at once. Each cap is set small here and tried past its edge: a clear 429
 * (PG_ERR_LIMIT) with a translatable text, and nothing created.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type WebSocket from 'ws';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import type { ServerLimits } from './limits.ts';
import type { ErrorBody, PlaygroundInfo } from '../shared/protocol/index.ts';
import { Visitor, testPolicy } from '../test/helpers.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
const sockets: WebSocket[] = [];

async function start(limits: Partial<ServerLimits>): Promise<void> {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: ':memory:', limits });
  await app.ready();
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await app?.close();
  policy?.cleanup();
});

async function create(visitor: Visitor, scenario = 'pipeline') {
  return await visitor.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario } });
}

function expectLimit(
  response: { statusCode: number; json: () => unknown; body: string },
  key: string,
  status = 429,
): void {
  expect(response.statusCode, response.body).toBe(status);
  const body = response.json() as ErrorBody;
  expect(body.code).toBe('PG_ERR_LIMIT');
  expect(body.text?.key).toBe(key);
}

it('playgrounds per visitor: the oldest idle one makes room; when all are in use the next is refused; others are not affected', async () => {
  await start({ playgroundsPerVisitor: 2, playgrounds: 3 });
  const teacher = new Visitor(app);
  const first = (await create(teacher)).json<PlaygroundInfo>();
  const second = (await create(teacher)).json<PlaygroundInfo>();
  // Both watched (a tab on each): in use.
  for (const id of [first.id, second.id]) sockets.push(await teacher.injectWS(`/api/playgrounds/${id}/stream`));
  expectLimit(await create(teacher), 'limit.playgroundsPerVisitor');
  expect((await teacher.inject('/api/playgrounds')).json<PlaygroundInfo[]>()).toHaveLength(2);

  // The tab on the first one moves on (as the page does when it switches scenario): that one makes room.
  sockets.shift()!.terminate();
  const closedBy = Date.now() + 5000;
  while (app.playgrounds.list().find((p) => p.id === first.id)?.watcherCount !== 0) {
    if (Date.now() > closedBy) throw new Error('the stream did not close');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const third = await create(teacher);
  expect(third.statusCode, third.body).toBe(201);
  expect((await teacher.inject(`/api/playgrounds/${first.id}`)).statusCode).toBe(404);
  expect((await teacher.inject(`/api/playgrounds/${second.id}`)).statusCode).toBe(200);

  // Another visitor has its own allowance, within the server's (3 in all).
  const student = new Visitor(app);
  expect((await create(student)).statusCode).toBe(201);
  expectLimit(await create(student), 'playground.serverFull');
});

it('process workers per playground', async () => {
  await start({ processWorkersPerPlayground: 2 });
  const visitor = new Visitor(app);
  const { id } = (await create(visitor)).json<PlaygroundInfo>();
  for (let i = 0; i < 2; i++) {
    const added = await visitor.inject({
      method: 'POST',
      url: `/api/playgrounds/${id}/workers`,
      payload: { mode: 'process', transport: 'tcp' },
    });
    expect(added.statusCode, added.body).toBe(201);
  }
  expectLimit(
    await visitor.inject({
      method: 'POST',
      url: `/api/playgrounds/${id}/workers`,
      payload: { mode: 'process', transport: 'tcp' },
    }),
    'limit.processWorkers',
  );
  // In-process workers are still welcome.
  expect(
    (await visitor.inject({ method: 'POST', url: `/api/playgrounds/${id}/workers`, payload: { transport: 'tcp' } }))
      .statusCode,
  ).toBe(201);
});

it('process workers on the whole server: a run that would pass the cap does not start, nor does a worker added live', async () => {
  await start({ processWorkers: 3 });
  const [a, b] = [new Visitor(app), new Visitor(app)];
  const withProcesses = async (visitor: Visitor, count: number) => {
    const { id } = (await create(visitor)).json<PlaygroundInfo>();
    for (let i = 0; i < count; i++) {
      const added = await visitor.inject({
        method: 'POST',
        url: `/api/playgrounds/${id}/workers`,
        payload: { mode: 'process', transport: 'tcp' },
      });
      expect(added.statusCode, added.body).toBe(201);
    }
    return id;
  };
  const long = { params: { tasks: 1_000_000, intervalMs: 10, syncStart: false } };
  const pa = await withProcesses(a, 2);
  const pb = await withProcesses(b, 2);
  expect((await a.inject({ method: 'POST', url: `/api/playgrounds/${pa}/runs`, payload: long })).statusCode).toBe(201);
  // 2 run, 2 more would make 4 > 3.
  const refused = await b.inject({ method: 'POST', url: `/api/playgrounds/${pb}/runs`, payload: long });
  expectLimit(refused, 'limit.serverProcessWorkers');
  expect((refused.json() as ErrorBody).text?.params).toMatchObject({ max: 3, running: 2, wanted: 2 });
  // A third process worker added to the running playground is forked at once: 3, allowed; a fourth is not.
  expect(
    (
      await a.inject({
        method: 'POST',
        url: `/api/playgrounds/${pa}/workers`,
        payload: { mode: 'process', transport: 'tcp' },
      })
    ).statusCode,
  ).toBe(201);
  expectLimit(
    await a.inject({
      method: 'POST',
      url: `/api/playgrounds/${pa}/workers`,
      payload: { mode: 'process', transport: 'tcp' },
    }),
    'limit.serverProcessWorkers',
  );
  // Once a's run has ended, b's may start.
  expect((await a.inject({ method: 'POST', url: `/api/playgrounds/${pa}/runs/stop` })).statusCode).toBe(200);
  const freeBy = Date.now() + 20_000;
  while (app.playgrounds.get(pa).activeRun) {
    if (Date.now() > freeBy) throw new Error("a's run did not end");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect((await b.inject({ method: 'POST', url: `/api/playgrounds/${pb}/runs`, payload: long })).statusCode).toBe(201);
  expect((await b.inject({ method: 'POST', url: `/api/playgrounds/${pb}/runs/stop` })).statusCode).toBe(200);
}, 60_000);

it('tasks x payload bytes of one batch', async () => {
  await start({ runPayloadBytes: 1024 * 1024 });
  const visitor = new Visitor(app);
  const { id } = (await create(visitor)).json<PlaygroundInfo>();
  const heavy = { tasks: 1000, payloadBytes: 2048 }; // 2,048,000 bytes > 1 MiB
  expectLimit(
    await visitor.inject({ method: 'PATCH', url: `/api/playgrounds/${id}/params`, payload: heavy }),
    'limit.runPayload',
  );
  expectLimit(
    await visitor.inject({ method: 'POST', url: `/api/playgrounds/${id}/runs`, payload: { params: heavy } }),
    'limit.runPayload',
  );
  expect(app.playgrounds.get(id).params.tasks).not.toBe(1000);
  // Just under the budget is fine.
  expect(
    (
      await visitor.inject({
        method: 'PATCH',
        url: `/api/playgrounds/${id}/params`,
        payload: { tasks: 512, payloadBytes: 2048 },
      })
    ).statusCode,
  ).toBe(200);
});

it('imports: a file over the size limit, and more imports at once than the server takes', async () => {
  await start({ importBytes: 4096, importsAtOnce: 1 });
  const visitor = new Visitor(app);
  const tooBig = await visitor.inject({
    method: 'POST',
    url: '/api/runs/import',
    headers: { 'content-type': 'application/json' },
    payload: ' '.repeat(5000),
  });
  expectLimit(tooBig, 'request.tooLarge', 413);

  // One import whose body is still arriving holds the only place (over a real socket: its body comes slowly).
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = new URL(address) as unknown as AddressInfo & URL;
  const cookie = (await visitor.session())!;
  const slow = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/api/runs/import',
    headers: { 'content-type': 'application/json', 'content-length': '3000', cookie },
  });
  const slowAnswer = new Promise<number>((resolve, reject) => {
    slow.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    slow.on('error', reject);
  });
  slow.write('{"format":');
  slow.flushHeaders();
  const holdsBy = Date.now() + 5000;
  let second: Response;
  for (;;) {
    // The first request may not have reached the server yet: ask until it is counted (bounded).
    second = await fetch(`${address}/api/runs/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: '{}',
    });
    if (second.status === 429 || Date.now() > holdsBy) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(second.status).toBe(429);
  const body = (await second.json()) as ErrorBody;
  expect([body.code, body.text?.key]).toEqual(['PG_ERR_LIMIT', 'limit.imports']);

  // The slow one finishes (refused as a file: it is no export), and the place is free again.
  slow.end(' '.repeat(3000 - '{"format":'.length));
  expect(await slowAnswer).toBe(400);
  const third = await fetch(`${address}/api/runs/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: '{}',
  });
  expect(third.status).toBe(400);
  expect(((await third.json()) as ErrorBody).code).toBe('PG_ERR_IMPORT');
});
