/**
 * The HTTP API: everything the page does, a script can do too. Documented in docs/api.md.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import * as zmq from 'zeromq';
import {
  CreatePlaygroundBody,
  PROTOCOL_VERSION,
  RunParamsPatch,
  StartRunBody,
  type RunParamsPatch as RunParamsPatchT,
  type StartRunBody as StartRunBodyT,
  type CreatePlaygroundBody as CreatePlaygroundBodyT,
} from '../../shared/protocol/index.ts';
import type { PlaygroundRegistry } from '../pipeline/registry.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const RunIdParams = Type.Object({ id: Type.String({ maxLength: 64 }), run: Type.String({ maxLength: 64 }) });

export async function apiRoutes(app: FastifyInstance, { registry }: { registry: PlaygroundRegistry }): Promise<void> {
  app.get('/api/health', async () => ({ ok: true, protocolVersion: PROTOCOL_VERSION, zmq: zmq.version }));

  app.get('/api/scenarios', async () => registry.scenarios());

  app.get('/api/playgrounds', async () => registry.list().map((playground) => playground.info()));

  app.post<{ Body: CreatePlaygroundBodyT | undefined }>(
    '/api/playgrounds',
    { schema: { body: CreatePlaygroundBody } },
    async (request, reply) => {
      const playground = registry.create(request.body?.scenario, request.body?.params);
      return reply.code(201).send(playground.info());
    },
  );

  app.get<{ Params: { id: string } }>('/api/playgrounds/:id', { schema: { params: IdParams } }, async (request) =>
    registry.get(request.params.id).info(),
  );

  app.delete<{ Params: { id: string } }>('/api/playgrounds/:id', { schema: { params: IdParams } }, async (request, reply) => {
    await registry.remove(request.params.id);
    return reply.code(204).send();
  });

  app.patch<{ Params: { id: string }; Body: RunParamsPatchT }>(
    '/api/playgrounds/:id/params',
    { schema: { params: IdParams, body: RunParamsPatch } },
    async (request) => registry.get(request.params.id).updateParams(request.body),
  );

  app.post<{ Params: { id: string }; Body: StartRunBodyT | undefined }>(
    '/api/playgrounds/:id/runs',
    { schema: { params: IdParams, body: StartRunBody } },
    async (request, reply) => {
      const run = registry.get(request.params.id).startRun(request.body?.params);
      return reply.code(201).send({ run: run.id });
    },
  );

  app.post<{ Params: { id: string } }>('/api/playgrounds/:id/runs/stop', { schema: { params: IdParams } }, async (request) => {
    const run = registry.get(request.params.id).stopRun();
    return { run: run.id };
  });

  app.get<{ Params: { id: string } }>('/api/playgrounds/:id/runs', { schema: { params: IdParams } }, async (request) => {
    const playground = registry.get(request.params.id);
    return playground.runs().map((run) => playground.runDetail(run.id));
  });

  app.get<{ Params: { id: string; run: string } }>(
    '/api/playgrounds/:id/runs/:run',
    { schema: { params: RunIdParams } },
    async (request) => registry.get(request.params.id).runDetail(request.params.run),
  );
}
