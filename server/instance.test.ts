/**
 * Issue 13: an instance behind a proxy names itself in every playground id (pipeline and graph), which the proxy
 * routes by, and its health answer says which instance it is and how full. A standalone server keeps its ids.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { checkInstanceName, idOnInstance, instanceOfId } from './instance.ts';
import type { PlaygroundInfo } from '../shared/protocol/index.ts';
import { Visitor } from '../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../test/app-harness.ts';

let server: TutorialApp | null = null;
afterEach(async () => {
  if (server) await closeTutorialApp(server);
  server = null;
});

async function serverAs(instance: string | null): Promise<{ app: FastifyInstance; visitor: Visitor }> {
  server = await openTutorialApp({ store: null, instance, limits: { playgrounds: 7 } });
  const { app } = server;
  await app.ready();
  return { app, visitor: new Visitor(app) };
}

describe('instance names', () => {
  it('accepts short lower-case names only (they go into ids, ipc paths and the proxy configuration)', () => {
    for (const good of ['a', 'b2', 'web0123456789abc']) expect(checkInstanceName(good)).toBe(good);
    for (const bad of ['', 'A', 'a.b', 'a-b', 'a_b', 'web0123456789abcd', 'ä'])
      expect(() => checkInstanceName(bad)).toThrow(/--instance/);
  });

  it('puts the instance before the id and reads it back', () => {
    expect(idOnInstance('a', 'pg-xyz')).toBe('a.pg-xyz');
    expect(idOnInstance(null, 'pg-xyz')).toBe('pg-xyz');
    expect(instanceOfId('web2.gr-abc')).toBe('web2');
    expect(instanceOfId('pg-abc')).toBeNull();
  });
});

describe('a server started as an instance', () => {
  it('names itself in its playground ids, pipeline and graph, and in its health answer with its load', async () => {
    const { app, visitor } = await serverAs('b7');
    const empty = (await app.inject('/api/health')).json();
    expect(empty).toMatchObject({ ok: true, instance: 'b7', load: { playgrounds: 0, limit: 7 } });

    const pipeline = await visitor.inject({
      method: 'POST',
      url: '/api/playgrounds',
      payload: { scenario: 'tutorial' },
    });
    expect(pipeline.statusCode, pipeline.body).toBe(201);
    const pipelineId = pipeline.json<PlaygroundInfo>().id;
    expect(pipelineId).toMatch(/^b7\.pg-[A-Za-z0-9_-]{22}$/);
    const graph = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-1' } });
    expect(graph.statusCode, graph.body).toBe(201);
    expect(graph.json<{ id: string }>().id).toMatch(/^b7\.gr-[A-Za-z0-9]{20}$/);

    // The ids work in every route, the stream's included (its path is what the proxy routes by).
    expect((await visitor.inject({ url: `/api/playgrounds/${pipelineId}` })).statusCode).toBe(200);
    expect((await app.inject('/api/health')).json().load).toEqual({ playgrounds: 2, limit: 7 });
  });

  it('answers the proxy whether it has room for another playground: 200, then 404 once full', async () => {
    const { app } = await serverAs('a');
    const room = async () => {
      const response = await app.inject('/api/health/room');
      return { status: response.statusCode, room: response.json<{ room: boolean }>().room };
    };
    expect(await room()).toEqual({ status: 200, room: true });
    for (let i = 0; i < 7; i++) {
      // Each by a visitor of its own (one visitor's sixth would close its own least recently used one).
      const created = await new Visitor(app).inject({ method: 'POST', url: '/api/playgrounds', payload: {} });
      expect(created.statusCode, created.body).toBe(201);
      if (i === 3) expect(await room()).toEqual({ status: 200, room: true });
    }
    expect(await room()).toEqual({ status: 404, room: false });
    // The plain health answer stays 200: the instance is alive, only full.
    expect((await app.inject('/api/health')).statusCode).toBe(200);
  });

  it('keeps ids without a prefix when standalone, and says so', async () => {
    const { app, visitor } = await serverAs(null);
    const created = await visitor.inject({ method: 'POST', url: '/api/playgrounds', payload: {} });
    expect(created.json<PlaygroundInfo>().id).toMatch(/^pg-[A-Za-z0-9_-]{22}$/);
    expect((await app.inject('/api/health')).json()).toMatchObject({
      ok: true,
      instance: null,
      load: { playgrounds: 1, limit: 7 },
    });
  });
});
