/**
 * The HTTP API: everything the page does, a script can do too. Documented in docs/api.md.
 */
import { text } from '../../shared/protocol/server-text.ts';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import * as zmq from 'zeromq';
import {
  CreatePlaygroundBody,
  PROTOCOL_VERSION,
  RunParamsPatch,
  StartRunBody,
  NewWorker,
  WorkerPatch,
  WorkerSignal,
  SinkPatch,
  SocketOptionsPatch,
  ApplyLessonBody,
  type ApplyLessonBody as ApplyLessonBodyT,
  type NewWorker as NewWorkerT,
  type WorkerPatch as WorkerPatchT,
  type WorkerSignal as WorkerSignalT,
  type SinkPatch as SinkPatchT,
  type SocketOptionsPatch as SocketOptionsPatchT,
  type RunParamsPatch as RunParamsPatchT,
  type StartRunBody as StartRunBodyT,
  type CreatePlaygroundBody as CreatePlaygroundBodyT,
} from '../../shared/protocol/index.ts';
import type { PlaygroundRegistry } from '../pipeline/registry.ts';
import { PlaygroundError } from '../pipeline/playground.ts';
import { LESSONS, LESSONS_BY_ID } from '../../shared/lessons/index.ts';
import { LESSON_TEXT_EN } from '../../shared/lessons/text/en.ts';
import { LESSON_TEXT_ES } from '../../shared/lessons/text/es.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const WorkerIdParams = Type.Object({ id: Type.String({ maxLength: 64 }), worker: Type.String({ maxLength: 64 }) });
const RunIdParams = Type.Object({ id: Type.String({ maxLength: 64 }), run: Type.String({ maxLength: 64 }) });

export async function apiRoutes(app: FastifyInstance, { registry }: { registry: PlaygroundRegistry }): Promise<void> {
  app.get('/api/health', async () => ({ ok: true, protocolVersion: PROTOCOL_VERSION, zmq: zmq.version }));

  app.get('/api/scenarios', async () => registry.scenarios());

  app.get('/api/lessons', async () =>
    LESSONS.map((lesson) => ({
      id: lesson.id,
      scenario: lesson.scenario,
      text: { en: LESSON_TEXT_EN[lesson.id], es: LESSON_TEXT_ES[lesson.id] },
    })),
  );

  app.post<{ Params: { id: string }; Body: ApplyLessonBodyT }>(
    '/api/playgrounds/:id/lesson',
    { schema: { params: IdParams, body: ApplyLessonBody } },
    async (request) => registry.get(request.params.id).applyLesson(request.body.lesson, request.body.stage),
  );

  app.post<{ Params: { id: string } }>('/api/playgrounds/:id/undo', { schema: { params: IdParams } }, async (request) =>
    registry.get(request.params.id).undo(),
  );

  app.get('/api/playgrounds', async () => registry.list().map((playground) => playground.info()));

  app.post<{ Body: CreatePlaygroundBodyT | undefined }>(
    '/api/playgrounds',
    { schema: { body: CreatePlaygroundBody } },
    async (request, reply) => {
      const { scenario, lesson, params } = request.body ?? {};
      const lessonScenario = lesson ? LESSONS_BY_ID.get(lesson)?.scenario : undefined;
      if (lesson && !lessonScenario) {
        throw new PlaygroundError('PG_ERR_NOT_FOUND', text('lesson.unknown', { lesson: lesson.slice(0, 40), known: [...LESSONS_BY_ID.keys()].join(', ') }));
      }
      const playground = registry.create(lessonScenario ?? scenario, params);
      if (lesson) playground.applyLesson(lesson, 'start');
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

  app.post<{ Params: { id: string }; Body: NewWorkerT }>(
    '/api/playgrounds/:id/workers',
    { schema: { params: IdParams, body: NewWorker } },
    async (request, reply) => reply.code(201).send(registry.get(request.params.id).addWorker(request.body)),
  );

  app.patch<{ Params: { id: string; worker: string }; Body: WorkerPatchT }>(
    '/api/playgrounds/:id/workers/:worker',
    { schema: { params: WorkerIdParams, body: WorkerPatch } },
    async (request) => registry.get(request.params.id).updateWorker(request.params.worker, request.body),
  );

  app.delete<{ Params: { id: string; worker: string } }>(
    '/api/playgrounds/:id/workers/:worker',
    { schema: { params: WorkerIdParams } },
    async (request, reply) => {
      await registry.get(request.params.id).removeWorker(request.params.worker);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string; worker: string }; Body: { signal: WorkerSignalT } }>(
    '/api/playgrounds/:id/workers/:worker/signal',
    { schema: { params: WorkerIdParams, body: Type.Object({ signal: WorkerSignal }, { additionalProperties: false }) } },
    async (request) => {
      const playground = registry.get(request.params.id);
      playground.signalWorker(request.params.worker, request.body.signal);
      return playground.info().workers.find((worker) => worker.id === request.params.worker) ?? null;
    },
  );

  app.patch<{ Params: { id: string; name: string }; Body: { address: string } }>(
    '/api/playgrounds/:id/endpoints/:name',
    {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 64 }), name: Type.String({ maxLength: 20 }) }),
        body: Type.Object({ address: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      },
    },
    async (request) => registry.get(request.params.id).setEndpoint(request.params.name, request.body.address),
  );

  app.patch<{ Params: { id: string }; Body: SinkPatchT }>(
    '/api/playgrounds/:id/sink',
    { schema: { params: IdParams, body: SinkPatch } },
    async (request) => registry.get(request.params.id).updateSink(request.body),
  );

  app.patch<{ Params: { id: string }; Body: SocketOptionsPatchT }>(
    '/api/playgrounds/:id/options',
    { schema: { params: IdParams, body: SocketOptionsPatch } },
    async (request) => registry.get(request.params.id).updateOptions(request.body),
  );

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
