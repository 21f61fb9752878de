/**
 * Any node removed while a graph run flows (issue 11: "add or remove a node ... while messages flow";
 * graph-live.ts removeNode, SPEC [G5]), on real sockets, asserted from the run's events: its program dies as a
 * kill does (graph-signals.ts), it leaves the graph with its links, and the peers that dialled it leave its
 * endpoint, so the rest of the graph goes on without it. Then a PULL worker added to a running PUSH (addWorker)
 * gets its share of the tasks dealt from then on. The HTTP routes are tested too. Every wait is for an event of
 * the run, bounded; nothing depends on the machine's speed.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from './graph-playground.ts';
import { part3 } from '../../shared/scenarios/series.ts';
import { PIPELINE_TASKS, pipelineGraph } from '../../shared/scenarios/pipeline-graph.ts';
import { Visitor } from '../../test/helpers.ts';
import { checkBooks, graphRunHarness, of, receivedBy } from '../../test/graph-run-harness.ts';

const runs = graphRunHarness({ ownerPrefix: 'glr', untilTimeoutMs: 20_000, endTimeoutMs: 30_000 });
const start = runs.start;
let app: FastifyInstance | null = null;

afterEach(async () => {
  await runs.stopRuns();
  await app?.close();
  app = null;
  runs.releasePolicy();
});

/** Whether a process lives (a zombie does not): read from /proc, as graph-process.test.ts does. */
function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pipeline sandbox with a paced ventilator, so that a removal lands while tasks are still being dealt. */
const pacedPipeline: GraphSpec = {
  ...pipelineGraph.graph,
  drainMs: 400,
  nodes: pipelineGraph.graph.nodes.map((node) =>
    node.id === 'ventilator' && node.role.kind === 'send' ? { ...node, role: { ...node.role, intervalMs: 5 } } : node,
  ),
};

describe('[G5] any node removed while messages flow', () => {
  it("the series' part 3: a REP removed between its turns; the REQ leaves it and the other two answer every request", async () => {
    const { run, events, until, ended } = await start({ ...part3.graph, drainMs: 400 });
    // Removed right after it answered: the strict REQ's next request goes to another pipe, never to this one.
    await until(
      (all) => receivedBy(all, 'client').filter((e) => e.from === 'server-6000').length >= 2,
      'two replies from server-6000',
    );
    run.removeNode('server-6000');
    const removedAt = events.length;
    const summary = await ended();
    checkBooks(summary);

    expect(of(events, 'node:process')).toMatchObject([
      { node: 'server-6000', action: 'killed', program: 'server-6000' },
    ]);
    expect(of(events, 'node:stopped').find((e) => e.node === 'server-6000')?.reason).toBe('killed');
    // The other servers kept answering: every one of the hundred requests was answered, none after the removal by
    // the removed server, and nothing was lost with it.
    const requests = of(events, 'message:sent').filter((e) => e.node === 'client');
    expect(requests).toHaveLength(100);
    expect(receivedBy(events, 'client')).toHaveLength(100);
    const after = events.slice(removedAt);
    expect(receivedBy(after, 'server-6000')).toEqual([]);
    expect(receivedBy(after, 'server-5000').length).toBeGreaterThan(0);
    expect(receivedBy(after, 'server-7000').length).toBeGreaterThan(0);
    expect(summary.dropped).toBe(0);
    expect(of(events, 'graph:ended')[0]!.reason).toBe('completed');
    expect(of(events, 'node:error')).toEqual([]);
  });

  it('a process REP removed mid-run: its child is SIGKILLed and gone, and the REQ goes on with the other two', async () => {
    const { run, events, until, ended } = await start({
      ...part3.graph,
      drainMs: 400,
      nodes: part3.graph.nodes.map((node) => (node.id === 'server-6000' ? { ...node, process: true } : node)),
    });
    const pid = of(events, 'node:process').find((e) => e.node === 'server-6000' && e.action === 'started')?.pid;
    expect(pid).toBeGreaterThan(0);
    expect(processAlive(pid!)).toBe(true);
    await until(
      (all) => receivedBy(all, 'client').filter((e) => e.from === 'server-6000').length >= 2,
      'two replies from the process server',
    );
    run.removeNode('server-6000');
    const summary = await ended();
    checkBooks(summary);
    // The kernel reaped it by the time the run closed (the run awaits its children).
    expect(processAlive(pid!)).toBe(false);
    expect(of(events, 'node:process').map((e) => `${e.node} ${e.action} ${e.pid}`)).toEqual([
      `server-6000 started ${pid}`,
      `server-6000 killed ${pid}`,
    ]);
    expect(receivedBy(events, 'client')).toHaveLength(100);
    expect(of(events, 'node:error')).toEqual([]);
  }, 60_000);

  it('the pipeline sandbox: a worker removed mid-run; the other workers keep taking tasks, and every task ends in one place', async () => {
    const { run, events, until, ended } = await start(pacedPipeline);
    await until((all) => receivedBy(all, 'worker-2').length >= 3, 'three tasks on worker-2');
    run.removeNode('worker-2');
    const removedAt = events.length;
    // The others keep taking tasks dealt after the removal.
    const sentAtRemoval = of(events, 'message:sent').filter((e) => e.node === 'ventilator').length;
    const takenAfter = (all: PlaygroundEvent[], worker: string) => receivedBy(all.slice(removedAt), worker).length;
    await until(
      (all) => takenAfter(all, 'worker-1') >= 3 && takenAfter(all, 'worker-3') >= 3,
      'three more tasks on worker-1 and on worker-3',
    );
    const summary = await ended();
    checkBooks(summary);

    // Its program (the worker and the PUSH it forwards through) died as a kill does.
    expect(
      of(events, 'node:process')
        .map((e) => `${e.node} ${e.action} ${e.program}`)
        .sort(),
    ).toEqual(['worker-2 killed worker-2', 'worker-2-out killed worker-2']);
    expect(receivedBy(events.slice(removedAt), 'worker-2')).toEqual([]);
    const tasks = new Set(
      of(events, 'message:sent')
        .filter((e) => e.node === 'ventilator')
        .map((e) => e.message),
    );
    expect(tasks.size).toBe(PIPELINE_TASKS);
    expect(sentAtRemoval).toBeLessThan(PIPELINE_TASKS);
    // Every task ends in one place: a worker took it, or it was lost with the removed one (queued there or on the
    // way to it).
    const taken = ['worker-1', 'worker-2', 'worker-3'].flatMap((worker) =>
      receivedBy(events, worker).filter((e) => e.message !== null && tasks.has(e.message)),
    );
    const lost = of(events, 'message:dropped').filter((e) => e.reason === 'killed' && tasks.has(e.message));
    expect(new Set([...taken, ...lost].map((e) => e.message)).size).toBe(PIPELINE_TASKS);
    expect(taken.length + lost.length).toBe(PIPELINE_TASKS);
    expect(lost.every((e) => e.node === 'worker-2')).toBe(true);
    expect(of(events, 'node:error')).toEqual([]);
  });

  it('over HTTP: the owner removes a worker during a run, a watcher is refused, a stranger sees nothing, and a node others need stays', async () => {
    app = await buildApp({ policy: runs.policy(), staticDir: null, store: null, limits: { httpPerSecond: 1000 } });
    await app.ready();
    const owner = new Visitor(app);
    const stranger = new Visitor(app);
    const watcher = new Visitor(app);
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: pacedPipeline } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<GraphPlaygroundInfo>();
    const { watchToken } = (await owner.inject(`/api/graphs/${id}/links`)).json<{ watchToken: string }>();
    expect(
      (await watcher.inject({ method: 'POST', url: `/api/graphs/${id}/join`, payload: { token: watchToken } })).json(),
    ).toMatchObject({ role: 'watcher' });
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);

    const remove = (visitor: Visitor, node: string) =>
      visitor.inject({ method: 'DELETE', url: `/api/graphs/${id}/nodes/${node}` });
    expect((await remove(watcher, 'worker-2')).statusCode).toBe(403);
    expect((await remove(stranger, 'worker-2')).statusCode).toBe(404);
    // worker-1 forwards its results through worker-1-out: the graph needs it.
    const needed = await remove(owner, 'worker-1-out');
    expect(needed.statusCode).toBe(400);
    expect(needed.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.invalid' } });

    const removed = await remove(owner, 'worker-2');
    expect(removed.statusCode, removed.body).toBe(200);
    const info = removed.json<GraphPlaygroundInfo>();
    expect(info.activeRun).not.toBeNull();
    expect(info.graph.nodes.map((node) => node.id)).not.toContain('worker-2');
    expect(info.graph.links.some((link) => link.from === 'worker-2' || link.to === 'worker-2')).toBe(false);
    // Removed once: a second time there is no such node.
    expect((await remove(owner, 'worker-2')).statusCode).toBe(404);

    // The run goes on: the stream says the worker's program was killed and the other workers keep taking tasks.
    const deadline = Date.now() + 20_000;
    let events: PlaygroundEvent[] = [];
    const done = (all: PlaygroundEvent[]) => {
      const killedAt = all.findIndex((e) => e.type === 'node:process' && e.node === 'worker-2');
      if (killedAt < 0) return false;
      const after = all.slice(killedAt);
      return receivedBy(after, 'worker-1').length >= 2 && receivedBy(after, 'worker-3').length >= 2;
    };
    for (;;) {
      const response = await owner.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
      events = [...events, ...response.json<{ events: PlaygroundEvent[] }>().events];
      if (done(events)) break;
      if (Date.now() > deadline) throw new Error(`the other workers took no more tasks; ${events.length} events`);
      // Polled well below the API's rate limit per visitor.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(of(events, 'node:error')).toEqual([]);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });
});

/** A PUSH that binds and deals a task every 5 ms to one PULL worker, for long enough to add another. */
const tasksToOne: GraphSpec = {
  title: 'tasks to one worker',
  drainMs: 400,
  nodes: [
    {
      id: 'tasks',
      socket: 'PUSH',
      role: {
        kind: 'send',
        messages: { kind: 'template', template: 'task {i}', count: 4000 },
        intervalMs: 5,
        waitForPeers: 1,
      },
    },
    { id: 'worker-1', socket: 'PULL', role: { kind: 'receive' } },
  ],
  links: [{ from: 'tasks', to: 'worker-1', bind: 'from', transport: 'tcp' }],
};

describe('[G5] a PULL worker added while tasks flow', () => {
  it('joins the running PUSH where it binds and gets its share of the tasks dealt from then on', async () => {
    const { run, events, until } = await start(tasksToOne);
    await until((all) => receivedBy(all, 'worker-1').length >= 3, 'three tasks on worker-1');
    const link = run.addWorker({ id: 'worker-2', socket: 'PULL', role: { kind: 'receive' } }, 'tasks');
    expect(link).toMatchObject({ from: 'tasks', to: 'worker-2', bind: 'from', transport: 'tcp' });
    const addedAt = events.length;
    await until((all) => receivedBy(all, 'worker-2').length >= 5, 'five tasks on worker-2');
    const summary = await run.stop();
    checkBooks(summary);
    // Round-robin from its handshake on: after it joined, both workers take tasks.
    expect(receivedBy(events.slice(addedAt), 'worker-1').length).toBeGreaterThan(0);
    expect(of(events, 'node:connecting').some((e) => e.node === 'worker-2' && e.peer === 'tasks')).toBe(true);
    // Every task taken once, by one worker.
    const taken = [...receivedBy(events, 'worker-1'), ...receivedBy(events, 'worker-2')].map((e) => e.message);
    expect(new Set(taken).size).toBe(taken.length);
    expect(summary.dropped).toBe(0);
    expect(of(events, 'node:error')).toEqual([]);
  });

  it('over HTTP: the owner adds a worker during a run, a watcher is refused, a stranger sees nothing, a non-PUSH is refused', async () => {
    app = await buildApp({ policy: runs.policy(), staticDir: null, store: null, limits: { httpPerSecond: 1000 } });
    await app.ready();
    const owner = new Visitor(app);
    const stranger = new Visitor(app);
    const watcher = new Visitor(app);
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: tasksToOne } });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<GraphPlaygroundInfo>();
    const { watchToken } = (await owner.inject(`/api/graphs/${id}/links`)).json<{ watchToken: string }>();
    await watcher.inject({ method: 'POST', url: `/api/graphs/${id}/join`, payload: { token: watchToken } });
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);

    const add = (visitor: Visitor, body: object) =>
      visitor.inject({ method: 'POST', url: `/api/graphs/${id}/workers`, payload: body });
    expect((await add(watcher, { id: 'worker-2', pusher: 'tasks' })).statusCode).toBe(403);
    expect((await add(stranger, { id: 'worker-2', pusher: 'tasks' })).statusCode).toBe(404);
    const notPush = await add(owner, { id: 'worker-2', pusher: 'worker-1' });
    expect(notPush.statusCode).toBe(400);
    expect(notPush.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.notPusher' } });
    const added = await add(owner, { id: 'worker-2', pusher: 'tasks' });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json<GraphPlaygroundInfo>().graph.links).toContainEqual(
      expect.objectContaining({ from: 'tasks', to: 'worker-2', bind: 'from' }),
    );

    const deadline = Date.now() + 20_000;
    let events: PlaygroundEvent[] = [];
    for (;;) {
      const response = await owner.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
      events = [...events, ...response.json<{ events: PlaygroundEvent[] }>().events];
      if (receivedBy(events, 'worker-2').length >= 3) break;
      if (Date.now() > deadline) throw new Error(`the new worker got no share; ${events.length} events`);
      // Polled well below the API's rate limit per visitor.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(of(events, 'node:error')).toEqual([]);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  });
});
