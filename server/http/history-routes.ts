/**
 * The history API over the RunStore: list, open, rename and delete recorded runs, fetch windows of their events,
 * export them (streamed JSON and CSV) and import an export. Documented in docs/recording.md.
 */
import { english, text, type ServerText } from '../../shared/protocol/server-text.ts';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  MAX_EVENT_WINDOW,
  MAX_RUN_PAGE,
  RunName,
  type RecordingStatus,
} from '../../shared/protocol/index.ts';
import { RecordError, type RunStore } from '../recorder/store.ts';
import type { RecordingSink } from '../recorder/sink.ts';
import { exportCsv, exportJson, type Export } from '../recorder/export.ts';

/** Largest import body: a one-million-event run exports to roughly 150-200 MB. */
export const IMPORT_BODY_LIMIT = 256 * 1024 * 1024;
/** Events per window when `limit` is not given. */
export const DEFAULT_EVENT_WINDOW = 1000;

// Query strings arrive as text and the app does not coerce types: numbers are checked by pattern, then converted.
const UInt = Type.String({ pattern: '^[0-9]{1,15}$' });
const Time = Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,9})?$' });

const RunIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false });
const ListQuery = Type.Object({ limit: Type.Optional(UInt), before: Type.Optional(UInt) }, { additionalProperties: false });
const WindowQuery = Type.Object(
  {
    fromSeq: Type.Optional(UInt),
    toSeq: Type.Optional(UInt),
    fromT: Type.Optional(Time),
    toT: Type.Optional(Time),
    limit: Type.Optional(UInt),
    kind: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('topology')])),
  },
  { additionalProperties: false },
);
const CountersQuery = Type.Object({ t: Time }, { additionalProperties: false });
const RenameBody = Type.Object({ name: RunName }, { additionalProperties: false });

type RunIdParams = Static<typeof RunIdParams>;

function count(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (value < min || value > max) throw new RecordError('PG_ERR_VALIDATION', text('request.queryRange', { name, min, max, got: raw }));
  return value;
}

const optionalNumber = (raw: string | undefined): number | undefined => (raw === undefined ? undefined : Number(raw));

function stream(reply: FastifyReply, exported: Export, type: string, extension: string): FastifyReply {
  return reply
    .type(type)
    .header('content-disposition', `attachment; filename="${exported.fileName}.${extension}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(exported.chunks, { objectMode: false }));
}

export async function historyRoutes(
  app: FastifyInstance,
  { store, sink }: { store: RunStore; sink: RecordingSink },
): Promise<void> {
  const { stats } = sink;
  app.get('/api/recording', async (): Promise<RecordingStatus> => ({
    enabled: true,
    path: store.location,
    recordedEvents: stats.recordedEvents,
    flushes: stats.flushes,
    writeErrors: stats.writeErrors,
    droppedEvents: stats.droppedEvents,
    lastError: stats.lastError,
  }));

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/runs', { schema: { querystring: ListQuery } }, async (request) =>
    store.listRuns({ limit: count(request.query.limit, 'limit', 1, MAX_RUN_PAGE, 50), before: request.query.before }),
  );

  app.get<{ Params: RunIdParams }>('/api/runs/:id', { schema: { params: RunIdParams } }, async (request) =>
    store.getRun(request.params.id),
  );

  app.patch<{ Params: RunIdParams; Body: Static<typeof RenameBody> }>(
    '/api/runs/:id',
    { schema: { params: RunIdParams, body: RenameBody } },
    async (request) => {
      const name = request.body.name.trim();
      if (name === '') throw new RecordError('PG_ERR_VALIDATION', text('validation.blankName'));
      return store.renameRun(request.params.id, name);
    },
  );

  app.delete<{ Params: RunIdParams }>('/api/runs/:id', { schema: { params: RunIdParams } }, async (request, reply) => {
    await sink.deleteRun(request.params.id); // off the event loop: a run may have a million events
    return reply.code(204).send();
  });

  app.get<{ Params: RunIdParams; Querystring: Static<typeof WindowQuery> }>(
    '/api/runs/:id/events',
    { schema: { params: RunIdParams, querystring: WindowQuery } },
    async (request, reply) => {
      const { query } = request;
      const window = store.eventWindow(request.params.id, {
        fromSeq: optionalNumber(query.fromSeq),
        toSeq: optionalNumber(query.toSeq),
        fromT: optionalNumber(query.fromT),
        toT: optionalNumber(query.toT),
        limit: count(query.limit, 'limit', 1, MAX_EVENT_WINDOW, DEFAULT_EVENT_WINDOW),
        kind: query.kind ?? 'all',
      });
      // The stored JSON goes out as is: no parse, no re-serialisation.
      return reply
        .type('application/json; charset=utf-8')
        .send(`{"run":${JSON.stringify(window.run)},"events":[${window.json.join(',')}],"nextSeq":${window.nextSeq ?? 'null'}}`);
    },
  );

  app.get<{ Params: RunIdParams; Querystring: Static<typeof CountersQuery> }>(
    '/api/runs/:id/counters',
    { schema: { params: RunIdParams, querystring: CountersQuery } },
    async (request) => store.countersAt(request.params.id, Number(request.query.t)),
  );

  app.get<{ Params: RunIdParams }>('/api/runs/:id/export.json', { schema: { params: RunIdParams } }, async (request, reply) =>
    stream(reply, exportJson(store, request.params.id), 'application/json; charset=utf-8', 'json'),
  );

  app.get<{ Params: RunIdParams }>('/api/runs/:id/export.csv', { schema: { params: RunIdParams } }, async (request, reply) =>
    stream(reply, exportCsv(store, request.params.id), 'text/csv; charset=utf-8', 'csv'),
  );

  // The import gets its own scope: its body is taken as raw bytes (up to IMPORT_BODY_LIMIT) and handed to the
  // writer, which decodes, parses and checks it: a truncated or corrupt file is answered with PG_ERR_IMPORT and a
  // message about the file, and a big one never stalls the event loop.
  await app.register(async (scope) => {
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser(
      ['application/json', 'text/plain', 'application/octet-stream'],
      { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.post('/api/runs/import', { bodyLimit: IMPORT_BODY_LIMIT }, async (request, reply) => {
      const body = request.body;
      const empty =
        body === undefined ||
        (body instanceof Uint8Array ? body.byteLength === 0 : typeof body === 'object' && body !== null && Object.keys(body).length === 0);
      if (empty) throw new RecordError('PG_ERR_IMPORT', text('import.noFile'));
      // Checked and stored by the writer (its thread, for a file store): seconds for a million events.
      return reply.code(201).send(await sink.importRun(body));
    });
  });
}
