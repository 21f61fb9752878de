/**
 * The HTTP API: everything the page does, a script can do too. Documented in docs/api.md.
 */
import { text } from '../../shared/protocol/server-text.ts';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
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
  PresenterState,
  type PresenterState as PresenterStateT,
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
import { ZMQ_VERSION } from '../pipeline/sockets.ts';
import type { Role } from '../pipeline/access.ts';
import { LESSONS, LESSONS_BY_ID } from '../../shared/lessons/index.ts';
import { LESSON_TEXT_EN } from '../../shared/lessons/text/en.ts';
import { LESSON_TEXT_ES } from '../../shared/lessons/text/es.ts';
import { CodedError } from '../errors.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const WorkerIdParams = Type.Object({ id: Type.String({ maxLength: 64 }), worker: Type.String({ maxLength: 64 }) });
const RunIdParams = Type.Object({ id: Type.String({ maxLength: 64 }), run: Type.String({ maxLength: 64 }) });
const JoinBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false });

/** What /api/health says besides ok and versions: which instance this is and how full (issue 13). */
export interface HealthFigure {
  /** The instance name (--instance), or null for a standalone server. */
  instance: string | null;
  /** Playgrounds open here (every kind) and the most this server opens. */
  load: { playgrounds: number; limit: number };
}

export async function apiRoutes(
  app: FastifyInstance,
  { registry, health }: { registry: PlaygroundRegistry; health?: () => HealthFigure },
): Promise<void> {
  // Every playground route names the least role it needs (see access.ts): watchers read, drivers change, the
  // owner also deletes and shares. A caller with no role is told the playground does not exist.
  const playgroundOf = (request: { params: { id: string }; visitor: string }, needed: Role) =>
    registry.forVisitor(request.params.id, request.visitor, needed);

  const figure = (): HealthFigure =>
    health?.() ?? {
      instance: null,
      load: { playgrounds: registry.list().length, limit: registry.maxPlaygrounds },
    };
  app.get('/api/health', async () => ({ ok: true, protocolVersion: PROTOCOL_VERSION, zmq: ZMQ_VERSION, ...figure() }));
  // A proxy's health check (deploy/haproxy.cfg) asks this every second, cheap whatever the load: 200 while this
  // server has room for another playground, 404 when it is full, so that the proxy sends it no new visitors (its
  // playgrounds still reach it: HAProxy's disable-on-404), and no answer when it is gone.
  app.get('/api/health/room', async (_request, reply) => {
    const { instance, load } = figure();
    const hasRoom = load.playgrounds < load.limit;
    return reply.code(hasRoom ? 200 : 404).send({ ok: true, room: hasRoom, instance, load });
  });

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
    async (request) => playgroundOf(request, 'driver').applyLesson(request.body.lesson, request.body.stage),
  );

  // Presenter mode (SPEC [S6]): anyone with a role reads it, an owner or driver sets it; every stream hears it.
  app.get<{ Params: { id: string } }>(
    '/api/playgrounds/:id/presenter',
    { schema: { params: IdParams } },
    async (request) => playgroundOf(request, 'watcher').presenter,
  );
  app.put<{ Params: { id: string }; Body: PresenterStateT }>(
    '/api/playgrounds/:id/presenter',
    { schema: { params: IdParams, body: PresenterState } },
    async (request) => playgroundOf(request, 'driver').setPresenter(request.body),
  );

  app.post<{ Params: { id: string } }>('/api/playgrounds/:id/undo', { schema: { params: IdParams } }, async (request) =>
    playgroundOf(request, 'driver').undo(),
  );

  // Only the caller's own playgrounds and those it joined through a link: nothing lists anyone else's.
  app.get('/api/playgrounds', async (request) =>
    registry.listFor(request.visitor).map((playground) => playground.info()),
  );

  app.post<{ Body: CreatePlaygroundBodyT | undefined }>(
    '/api/playgrounds',
    { schema: { body: CreatePlaygroundBody } },
    async (request, reply) => {
      const { scenario, lesson, params } = request.body ?? {};
      const lessonScenario = lesson ? LESSONS_BY_ID.get(lesson)?.scenario : undefined;
      if (lesson && !lessonScenario) {
        throw new CodedError(
          'PG_ERR_NOT_FOUND',
          text('lesson.unknown', { lesson: lesson.slice(0, 40), known: [...LESSONS_BY_ID.keys()].join(', ') }),
        );
      }
      const playground = registry.create(lessonScenario ?? scenario, params, request.visitor);
      if (lesson) playground.applyLesson(lesson, 'start');
      return reply.code(201).send(playground.info());
    },
  );

  app.get<{ Params: { id: string } }>('/api/playgrounds/:id', { schema: { params: IdParams } }, async (request) =>
    playgroundOf(request, 'watcher').info(),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/playgrounds/:id',
    { schema: { params: IdParams } },
    async (request, reply) => {
      playgroundOf(request, 'owner');
      await registry.remove(request.params.id);
      return reply.code(204).send();
    },
  );

  // The caller's role in the playground (the page shows it and hides what the role may not do).
  app.get<{ Params: { id: string } }>(
    '/api/playgrounds/:id/access',
    { schema: { params: IdParams } },
    async (request) => {
      const playground = playgroundOf(request, 'watcher');
      return { playground: playground.id, role: playground.access.roleOf(request.visitor) };
    },
  );

  // The owner's two links: anyone who opens the watch link sees the playground live, read-only; the invite link
  // lets another person drive it too. They stay valid as long as the playground lives.
  app.get<{ Params: { id: string } }>(
    '/api/playgrounds/:id/links',
    { schema: { params: IdParams } },
    async (request) => {
      const playground = playgroundOf(request, 'owner');
      // The page as this caller reached it (behind a trusted proxy: its public name and scheme).
      const page = `${new URL(`${request.protocol}://${request.host}`).origin}/?p=${encodeURIComponent(playground.id)}`;
      const { watchToken, inviteToken } = playground.access;
      return { watch: `${page}&watch=${watchToken}`, invite: `${page}&invite=${inviteToken}`, watchToken, inviteToken };
    },
  );

  // Presenting a link's token gives this session its role (never lowers one it has). A wrong token is answered
  // like an unknown playground, so ids cannot be probed.
  app.post<{ Params: { id: string }; Body: { token: string } }>(
    '/api/playgrounds/:id/join',
    { schema: { params: IdParams, body: JoinBody } },
    async (request) => {
      const playground = registry.list().find((candidate) => candidate.id === request.params.id);
      const role = playground?.access.join(request.visitor, request.body.token) ?? null;
      if (!playground || role === null) {
        throw new CodedError(
          'PG_ERR_NOT_FOUND',
          text('access.badToken', { playground: request.params.id.slice(0, 64) }),
        );
      }
      return { role, playground: playground.info() };
    },
  );

  app.patch<{ Params: { id: string }; Body: RunParamsPatchT }>(
    '/api/playgrounds/:id/params',
    { schema: { params: IdParams, body: RunParamsPatch } },
    async (request) => playgroundOf(request, 'driver').updateParams(request.body),
  );

  app.post<{ Params: { id: string }; Body: StartRunBodyT | undefined }>(
    '/api/playgrounds/:id/runs',
    { schema: { params: IdParams, body: StartRunBody } },
    async (request, reply) => {
      const run = playgroundOf(request, 'driver').startRun(request.body?.params);
      return reply.code(201).send({ run: run.id });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/playgrounds/:id/runs/stop',
    { schema: { params: IdParams } },
    async (request) => {
      const run = playgroundOf(request, 'driver').stopRun();
      return { run: run.id };
    },
  );

  app.post<{ Params: { id: string }; Body: NewWorkerT }>(
    '/api/playgrounds/:id/workers',
    { schema: { params: IdParams, body: NewWorker } },
    async (request, reply) => reply.code(201).send(playgroundOf(request, 'driver').addWorker(request.body)),
  );

  app.patch<{ Params: { id: string; worker: string }; Body: WorkerPatchT }>(
    '/api/playgrounds/:id/workers/:worker',
    { schema: { params: WorkerIdParams, body: WorkerPatch } },
    async (request) => playgroundOf(request, 'driver').updateWorker(request.params.worker, request.body),
  );

  app.delete<{ Params: { id: string; worker: string } }>(
    '/api/playgrounds/:id/workers/:worker',
    { schema: { params: WorkerIdParams } },
    async (request, reply) => {
      await playgroundOf(request, 'driver').removeWorker(request.params.worker);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string; worker: string }; Body: { signal: WorkerSignalT } }>(
    '/api/playgrounds/:id/workers/:worker/signal',
    {
      schema: { params: WorkerIdParams, body: Type.Object({ signal: WorkerSignal }, { additionalProperties: false }) },
    },
    async (request) => {
      const playground = playgroundOf(request, 'driver');
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
    async (request) => playgroundOf(request, 'driver').setEndpoint(request.params.name, request.body.address),
  );

  app.patch<{ Params: { id: string }; Body: SinkPatchT }>(
    '/api/playgrounds/:id/sink',
    { schema: { params: IdParams, body: SinkPatch } },
    async (request) => playgroundOf(request, 'driver').updateSink(request.body),
  );

  app.patch<{ Params: { id: string }; Body: SocketOptionsPatchT }>(
    '/api/playgrounds/:id/options',
    { schema: { params: IdParams, body: SocketOptionsPatch } },
    async (request) => playgroundOf(request, 'driver').updateOptions(request.body),
  );

  app.get<{ Params: { id: string } }>(
    '/api/playgrounds/:id/runs',
    { schema: { params: IdParams } },
    async (request) => {
      const playground = playgroundOf(request, 'watcher');
      return playground.runs().map((run) => playground.runDetail(run.id));
    },
  );

  app.get<{ Params: { id: string; run: string } }>(
    '/api/playgrounds/:id/runs/:run',
    { schema: { params: RunIdParams } },
    async (request) => playgroundOf(request, 'watcher').runDetail(request.params.run),
  );
}
