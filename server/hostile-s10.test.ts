/**
 * Hostile input against session 10's new code (issues 9, 11, 12): live moves and paces of graph nodes, process
 * nodes, binary task frames, later binds. Each test is a defect found by trying it, and fails on the code before its
 * fix. Real sockets, the real app through inject(), loopback only.
 */
import type { FastifyInstance } from 'fastify';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from './engine/graph-playground.ts';
import { Visitor, testPolicy } from '../test/helpers.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let owner: Visitor;
/** Errors the app answered with a 500 (their stacks), to say what went wrong when a test sees one. */
let internalErrors: string[];

beforeEach(async () => {
  policy = testPolicy();
  internalErrors = [];
  app = await buildApp({ policy, staticDir: null, store: null, limits: { httpPerSecond: 100_000 } });
  app.addHook('onError', async (_request, reply, error) => {
    if (reply.statusCode >= 500 || !(error as { code?: string }).code?.startsWith('PG_ERR'))
      internalErrors.push(String((error as Error).stack ?? error));
  });
  await app.ready();
  owner = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
});

/** Polls the playground's events (bounded) until `condition` holds on them. */
async function eventsUntil(id: string, condition: (events: PlaygroundEvent[]) => boolean): Promise<PlaygroundEvent[]> {
  const deadline = Date.now() + 20_000;
  const events: PlaygroundEvent[] = [];
  for (;;) {
    const response = await owner.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
    events.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    if (condition(events)) return events;
    if (Date.now() > deadline) throw new Error(`condition not met; ${events.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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
