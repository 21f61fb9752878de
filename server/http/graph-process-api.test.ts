/**
 * Process nodes through the HTTP API (issue 11; server/engine/graph-process.ts, docs/api.md): a graph asking for
 * a process node over inproc is refused with a clear 400, process programs are held to the operator's process
 * limits (per graph, and on the whole server), and no child outlives its run: not when the playground is closed
 * (even with the child hung by SIGSTOP), not when the server stops. Real children, checked in /proc.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import type { ServerLimits } from '../limits.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance | null = null;
let policy: ReturnType<typeof testPolicy> | null = null;
let owner: Visitor;

async function start(limits: Partial<ServerLimits> = {}): Promise<void> {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, store: null, limits: { httpPerSecond: 1000, ...limits } });
  await app.ready();
  owner = new Visitor(app);
}
afterEach(async () => {
  await app?.close();
  app = null;
  policy?.cleanup();
  policy = null;
});

/** Whether a live process has this pid (a zombie, reaped or not, is none). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

/** A PUB in the server and `subscribers` SUBs that each run as their own process, over `transport`. */
function fanOut(subscribers: number, transport: 'tcp' | 'ipc' | 'inproc'): GraphSpec {
  const ids = Array.from({ length: subscribers }, (_, i) => `fan-${i + 1}`);
  return {
    title: 'process subscribers',
    nodes: [
      {
        id: 'news',
        socket: 'PUB',
        role: { kind: 'send', messages: { kind: 'template', template: 'n{i}', count: 100_000 }, intervalMs: 20 },
      },
      ...ids.map((id) => ({
        id,
        socket: 'SUB' as const,
        subscribe: [''],
        process: true,
        role: { kind: 'receive' as const },
      })),
    ],
    links: ids.map((id) => ({ from: 'news', to: id, bind: 'from' as const, transport })),
  };
}

async function create(graph: GraphSpec) {
  return await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph } });
}

/** Polls the events (bounded) until every process node of the run has said its pid; returns them by node. */
async function pidsOf(id: string, count: number): Promise<Map<string, number>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { events } = (await owner.inject(`/api/graphs/${id}/events?since=0`)).json<{ events: PlaygroundEvent[] }>();
    const pids = new Map<string, number>();
    for (const event of events) {
      if (event.type === 'node:process' && event.action === 'started' && event.pid !== undefined)
        pids.set(event.node, event.pid);
    }
    if (pids.size >= count) return pids;
    if (Date.now() > deadline) throw new Error(`${pids.size} of ${count} process nodes started`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startRun(id: string): Promise<void> {
  const started = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
  expect(started.statusCode, started.body).toBe(201);
}

describe('process nodes through the API', () => {
  it('a process node over inproc is refused with a 400 that says why; over tcp or ipc it is welcome', async () => {
    await start();
    const refused = await create(fanOut(1, 'inproc'));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.invalid' } });
    expect(refused.json<{ message: string }>().message).toContain('inproc cannot cross a process');
    expect((await create(fanOut(1, 'ipc'))).statusCode).toBe(201);
    expect((await create(fanOut(1, 'tcp'))).statusCode).toBe(201);
  });

  it('process programs count in the operator limits: per graph, and on the whole server', async () => {
    await start({ processWorkersPerPlayground: 2, processWorkers: 3 });
    const tooMany = await create(fanOut(3, 'tcp'));
    expect(tooMany.statusCode).toBe(429);
    expect(tooMany.json()).toMatchObject({ code: 'PG_ERR_LIMIT', text: { key: 'limit.graphProcesses' } });
    const first = (await create(fanOut(2, 'tcp'))).json<GraphPlaygroundInfo>();
    const second = (await create(fanOut(2, 'tcp'))).json<GraphPlaygroundInfo>();
    await startRun(first.id);
    // Two running here, two more wanted: past the server's three.
    const full = await owner.inject({ method: 'POST', url: `/api/graphs/${second.id}/runs` });
    expect(full.statusCode).toBe(429);
    expect(full.json()).toMatchObject({
      code: 'PG_ERR_LIMIT',
      text: { key: 'limit.serverGraphProcesses', params: { max: 3, running: 2, wanted: 2 } },
    });
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${first.id}/runs/stop` })).statusCode).toBe(200);
    await startRun(second.id);
  });

  it("a graph run's processes count against the pipeline's process workers on the server, and back", async () => {
    await start({ processWorkers: 2 });
    const { id: graph } = (await create(fanOut(2, 'tcp'))).json<GraphPlaygroundInfo>();
    const pipeline = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
    const playground = pipeline.json<{ id: string }>().id;
    const worker = await owner.inject({
      method: 'POST',
      url: `/api/playgrounds/${playground}/workers`,
      payload: { mode: 'process', transport: 'tcp' },
    });
    expect(worker.statusCode, worker.body).toBe(201);
    await startRun(graph);
    // The graph's two children fill the server's two: the pipeline's process worker does not fit.
    const refused = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground}/runs`, payload: {} });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ text: { key: 'limit.serverProcessWorkers' } });
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${graph}/runs/stop` })).statusCode).toBe(200);
    // And the other way round: the pipeline's worker running, the graph's two do not fit.
    const started = await owner.inject({
      method: 'POST',
      url: `/api/playgrounds/${playground}/runs`,
      payload: { params: { tasks: 1_000_000, intervalMs: 10 } },
    });
    expect(started.statusCode, started.body).toBe(201);
    const full = await owner.inject({ method: 'POST', url: `/api/graphs/${graph}/runs` });
    expect(full.statusCode).toBe(429);
    expect(full.json()).toMatchObject({
      text: { key: 'limit.serverGraphProcesses', params: { max: 2, running: 1, wanted: 2 } },
    });
  });

  it('no child outlives its playground, even one hung by SIGSTOP', async () => {
    await start();
    const { id } = (await create(fanOut(2, 'ipc'))).json<GraphPlaygroundInfo>();
    await startRun(id);
    const pids = await pidsOf(id, 2);
    for (const pid of pids.values()) {
      expect(pid).not.toBe(process.pid);
      expect(alive(pid)).toBe(true);
    }
    const hung = await owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/fan-1/hang` });
    expect(hung.statusCode, hung.body).toBe(200);
    const closed = await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}` });
    expect(closed.statusCode).toBe(204);
    // The playground's close awaited its run's end, and the run's end every child's exit.
    for (const pid of pids.values()) expect(alive(pid)).toBe(false);
  });

  it('no child outlives the server', async () => {
    await start();
    const { id } = (await create(fanOut(2, 'tcp'))).json<GraphPlaygroundInfo>();
    await startRun(id);
    const pids = await pidsOf(id, 2);
    for (const pid of pids.values()) expect(alive(pid)).toBe(true);
    await app!.close();
    app = null;
    for (const pid of pids.values()) expect(alive(pid)).toBe(false);
  });
});
