/**
 * Hostile input against session 10's new code (issues 9, 11, 12): live moves and paces of graph nodes, process
 * nodes, binary task frames, later binds. Each test is a defect found by trying it, and fails on the code before its
 * fix. Real sockets, the real app through inject(), loopback only.
 */
import type { FastifyInstance } from 'fastify';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GraphApi, closeGraphApi, openGraphApi, pollGraphEventsUntil } from '../test/graph-api-harness.ts';
import { graphRunHarness } from '../test/graph-run-harness.ts';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from './engine/graph-playground.ts';
import type { Visitor } from '../test/helpers.ts';
import type { GraphSpec } from '../shared/protocol/index.ts';
import { decodeTaskFrame, encodeTaskFrame } from '../shared/protocol/task-frame.ts';
import { GraphPlayground } from './engine/graph-playground.ts';
import { IpcClaims } from './pipeline/endpoints.ts';
import { SERIES_SCENARIOS } from '../shared/scenarios/series.ts';

let app: FastifyInstance;
let policy: GraphApi['policy'];
let owner: Visitor;
/** Errors the app answered with a 500 (their stacks), to say what went wrong when a test sees one. */
let internalErrors: string[];

beforeEach(async () => {
  internalErrors = [];
  ({ app, policy, owner } = await openGraphApi({
    httpPerSecond: 100_000,
    beforeReady: (built) =>
      built.addHook('onError', async (_request, reply, error) => {
        if (reply.statusCode >= 500 || !(error as { code?: string }).code?.startsWith('PG_ERR'))
          internalErrors.push(String((error as Error).stack ?? error));
      }),
  }));
});
// A run started here on its own (not through the app) uses the app's runtime folder; stopped before it goes.
const runs = graphRunHarness({ ownerPrefix: 'h7-', untilTimeoutMs: 30_000, endTimeoutMs: 30_000 });
afterEach(async () => {
  await runs.stopRuns();
  await closeGraphApi({ app, policy });
});

const eventsUntil = (id: string, condition: (events: PlaygroundEvent[]) => boolean) =>
  pollGraphEventsUntil(owner, id, condition);

const ipcFiles = () => fs.readdirSync(policy.runtimeDir).filter((name) => name.endsWith('.ipc'));

describe('moving a node over and over while a run flows', () => {
  it('a move right after another is never a 500, and the old ipc paths are given back (not one file per move)', async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-4' } });
    const { id } = created.json<GraphPlaygroundInfo>();
    const move = (transport: string) =>
      owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/fan-1/move`, payload: { transport } });
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    await eventsUntil(id, (all) => all.filter((e) => e.type === 'node:connecting').length >= 2);

    // Each move starts the binder's unbind of the old endpoint; the next one binds at once on the same socket.
    const refusals: string[] = [];
    let maxFiles = 0;
    for (let i = 0; i < 120; i++) {
      const response = await move(['ipc', 'tcp', 'inproc'][i % 3]!);
      if (response.statusCode !== 200) refusals.push(`${response.statusCode} ${response.body.slice(0, 300)}`);
      maxFiles = Math.max(maxFiles, ipcFiles().length);
    }
    expect(internalErrors, internalErrors.join('\n')).toEqual([]);
    expect(refusals).toEqual([]);
    // 40 moves to ipc: the binder holds at most its current path and one being given back.
    expect(maxFiles).toBeLessThanOrEqual(3);
    const moved = await eventsUntil(id, (all) => all.filter((e) => e.type === 'link:moved').length >= 120);
    expect(moved.filter((e) => e.type === 'link:moved').length).toBe(120);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
    expect(ipcFiles()).toEqual([]);
  }, 60_000);
});

describe('moving a node while its peer binds later (GraphLink.bindAfter, the series part 7)', () => {
  it('moves right as the server binds ipc on the same socket are never a 500, and no node ends with EBUSY', async () => {
    const outcomes = new Map<string, number>();
    const nodeErrors: PlaygroundEvent[] = [];
    for (let round = 0; round < 20; round++) {
      const created = await owner.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-7' } });
      const { id } = created.json<GraphPlaygroundInfo>();
      // No pause between the server's messages: its later bind of ipc comes within the first moves.
      const paced = await owner.inject({
        method: 'PUT',
        url: `/api/graphs/${id}/nodes/server/pace`,
        payload: { ms: 0 },
      });
      expect(paced.statusCode, paced.body).toBe(200);
      expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
      for (let i = 0; i < 40; i++) {
        const moved = await owner.inject({
          method: 'POST',
          url: `/api/graphs/${id}/nodes/client-tcp/move`,
          payload: { transport: i % 2 === 0 ? 'inproc' : 'tcp' },
        });
        const key = `${moved.statusCode} ${moved.statusCode === 200 ? '' : moved.json<{ text: { key: string } }>().text.key}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      const { events } = (await owner.inject(`/api/graphs/${id}/events?since=0`)).json<{ events: PlaygroundEvent[] }>();
      nodeErrors.push(...events.filter((e) => e.type === 'node:error'));
      await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` });
      expect((await owner.inject({ method: 'DELETE', url: `/api/graphs/${id}` })).statusCode).toBe(204);
    }
    expect(internalErrors, internalErrors.join('\n')).toEqual([]);
    expect(nodeErrors).toEqual([]);
    // Refusals there may be (the client stopped at its "x", or is on that transport already); each is a 400.
    for (const key of outcomes.keys()) expect(key).toMatch(/^(200 |400 graph\.)/);
  }, 90_000);
});

describe('a visitor signalling a node while a move unbinds its socket', () => {
  it('a resume while the move holds the sender is refused with a text to act on, and the sender goes on (no EBUSY)', async () => {
    const graph: GraphSpec = {
      title: 'PUSH to a PULL',
      nodes: [
        {
          id: 'vent',
          socket: 'PUSH',
          role: { kind: 'send', messages: { kind: 'template', template: 't{i}', count: 100_000 }, intervalMs: 1 },
        },
        { id: 'w', socket: 'PULL', role: { kind: 'receive' } },
      ],
      links: [{ from: 'vent', to: 'w', bind: 'from', transport: 'tcp' }],
    };
    const { run, events, until } = await runs.start(graph, { policy });
    const received = () => events.filter((e) => e.type === 'message:received').length;
    const failed = () => events.filter((e) => e.type === 'node:error');
    await until(() => received() >= 5, 'five messages over tcp');
    // The move has started the sender's unbind of its tcp endpoint (it completes on a later turn of the loop).
    await run.moveNode('w', 'ipc');
    let refusal: unknown = null;
    try {
      run.signalNode('vent', 'resume');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.signalMoving' } });
    const before = received();
    await until(() => received() >= before + 20 || failed().length > 0 || run.ended, '20 more messages');
    expect(failed()).toEqual([]);
  }, 60_000);
});

describe('the binary task frame decoder, with crafted bytes', () => {
  it('an overlong varint (its scale run to Infinity, its value NaN) is an error, not a number read as 0', () => {
    const events: PlaygroundEvent[] = [];
    let seq = 1000;
    for (let task = 90; task < 130; task++) {
      const worker = `worker-${(task % 3) + 1}`;
      events.push({ type: 'task:sent', seq: seq++, run: 'run-7', t: task, task, body: `task ${task}` });
      events.push({
        type: 'task:received',
        seq: seq++,
        run: 'run-7',
        t: task + 0.5,
        task,
        worker,
        body: `task ${task}`,
      });
    }
    const counters = { run: 'run-7', sent: 40, received: {}, done: {}, collected: 0, lost: 0, lostBy: {} };
    const bytes = encodeTaskFrame({ type: 'events', events, dropped: 0, counters })!;
    expect(decodeTaskFrame(bytes).ok).toBe(true);
    // Each one-byte number in turn written as 150 empty groups and a last 0: each group multiplies the scale by 128.
    const accepted: number[] = [];
    for (let at = 8; at < bytes.length; at++) {
      if (bytes[at]! >= 0x80) continue;
      const crafted = new Uint8Array(bytes.length + 150);
      crafted.set(bytes.subarray(0, at));
      crafted.fill(0x80, at, at + 150);
      crafted[at + 150] = 0;
      crafted.set(bytes.subarray(at + 1), at + 151);
      if (decodeTaskFrame(crafted).ok) accepted.push(at);
    }
    expect(accepted).toEqual([]);
  });
});

describe('another edit while a move is under way', () => {
  it('a subscriber added and a pace changed during a move stay in the graph the move leaves', async () => {
    const scenario = SERIES_SCENARIOS.find((candidate) => candidate.id === 'series-4')!;
    const playground = new GraphPlayground({
      owner: null,
      policy,
      claims: new IpcClaims(),
      scenario: scenario.id,
      graph: scenario.graph,
      maxNodes: 32,
    });
    try {
      await playground.startRun();
      // Bounded: both fans dial the narrator at the start.
      const deadline = Date.now() + 20_000;
      while (playground.events(0, 20_000).events.filter((e) => e.type === 'node:connecting').length < 2) {
        if (Date.now() > deadline) throw new Error('the fans did not connect');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const moving = playground.moveNode('fan-1', 'ipc');
      // The move's sockets are on their way (it awaits them); these two edits come meanwhile.
      playground.addSubscriber({ id: 'fan-3', publisher: 'narrator', subscribe: [''] });
      playground.setPace('fan-2', 7);
      const after = await moving;
      expect(after.graph.nodes.map((node) => node.id)).toEqual(['narrator', 'fan-1', 'fan-2', 'fan-3']);
      expect(after.graph.nodes.find((node) => node.id === 'fan-2')!.role).toMatchObject({ workMs: 7 });
      expect(after.graph.links.find((link) => link.to === 'fan-1')!.transport).toBe('ipc');
      // And so the subscriber, live in the run, can be taken out again.
      expect(playground.removeNode('fan-3').graph.nodes.map((node) => node.id)).not.toContain('fan-3');
    } finally {
      await playground.close();
    }
  }, 60_000);
});

describe('signals and stops while a run with process nodes starts', () => {
  /** A PUSH and a PULL, each in a child process of its own, over ipc. */
  const processPair: GraphSpec = {
    title: 'two process nodes',
    nodes: [
      {
        id: 'vent',
        socket: 'PUSH',
        process: true,
        role: { kind: 'send', messages: { kind: 'template', template: 't{i}', count: 100_000 }, intervalMs: 1 },
      },
      { id: 'w', socket: 'PULL', process: true, role: { kind: 'receive' } },
    ],
    links: [{ from: 'vent', to: 'w', bind: 'from', transport: 'ipc' }],
  };

  /** Asks until the run exists (the start's request is on its way): the first answer that is not 'no run'. */
  async function onceTheRunExists(id: string, ask: () => ReturnType<Visitor['inject']>) {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const response = await ask();
      if (response.statusCode !== 409 && response.statusCode !== 404) return response;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`the run of ${id} never existed`);
  }

  it('a hang while the children bind is refused with a text to act on (it held the start until a stop, then a 500)', async () => {
    const { id } = (
      await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: processPair } })
    ).json<GraphPlaygroundInfo>();
    const start = owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    const hang = await onceTheRunExists(id, () =>
      owner.inject({ method: 'POST', url: `/api/graphs/${id}/nodes/vent/hang` }),
    );
    // A child takes far longer to start than a request takes here: the hang came while it was binding.
    expect(hang.statusCode, hang.body).toBe(400);
    expect(hang.json()).toMatchObject({ code: 'PG_ERR_VALIDATION', text: { key: 'graph.signalStarting' } });
    expect((await start).statusCode).toBe(201);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
    expect(internalErrors).toEqual([]);
  }, 60_000);

  it('a stop while the children bind ends the run; the start answers 201, not a 500', async () => {
    const { id } = (
      await owner.inject({ method: 'POST', url: '/api/graphs', payload: { graph: processPair } })
    ).json<GraphPlaygroundInfo>();
    const start = owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` });
    const stop = await onceTheRunExists(id, () => owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` }));
    expect(stop.statusCode, stop.body).toBe(200);
    const started = await start;
    expect(started.statusCode, started.body).toBe(201);
    expect(internalErrors, internalErrors.join('\n')).toEqual([]);
    // And the playground runs again.
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs` })).statusCode).toBe(201);
    expect((await owner.inject({ method: 'POST', url: `/api/graphs/${id}/runs/stop` })).statusCode).toBe(200);
  }, 60_000);
});
