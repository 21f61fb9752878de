/**
 * The history API over the recording store (RecordingStore, server/recorder/store-api.ts: SQLite or PostgreSQL): list, open, rename and delete recorded runs, fetch windows of their events,
 * export them (streamed JSON and CSV) and import an export. Documented in docs/recording.md.
 */
import { text } from '../../shared/protocol/server-text.ts';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_EVENT_WINDOW, MAX_RUN_PAGE, RunName, type RecordingStatus } from '../../shared/protocol/index.ts';
import type { RecordingStore } from '../recorder/store-api.ts';
import { hidePathsUnder, hideServerPaths } from './hide-paths.ts';
import type { PlaygroundRegistry } from '../pipeline/registry.ts';
import type { GraphRegistry } from '../engine/graph-playground.ts';
import type { WriteChannel } from '../recorder/channel.ts';
import { exportCsv, exportJson, type Export } from '../recorder/export.ts';
import { CodedError } from '../errors.ts';
import { GraphRunStates } from './graph-run-state.ts';

/** Largest import body: a one-million-event run exports to roughly 150-200 MB. */
export const IMPORT_BODY_LIMIT = 256 * 1024 * 1024;
/** Events per window when `limit` is not given. */
export const DEFAULT_EVENT_WINDOW = 1000;

// Query strings arrive as text and the app does not coerce types: numbers are checked by pattern, then converted.
const UInt = Type.String({ pattern: '^[0-9]{1,15}$' });
const Time = Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,9})?$' });

const RunIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 80 }) }, { additionalProperties: false });
const ListQuery = Type.Object(
  { limit: Type.Optional(UInt), before: Type.Optional(UInt) },
  { additionalProperties: false },
);
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
/** A graph run's state: at t, after its first `count` events, or (neither) at its end. */
const GraphStateQuery = Type.Object(
  { t: Type.Optional(Time), count: Type.Optional(UInt) },
  { additionalProperties: false, maxProperties: 1 },
);
const RunPatchBody = Type.Object(
  { name: Type.Optional(RunName), public: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

type RunIdParams = Static<typeof RunIdParams>;

function count(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (value < min || value > max)
    throw new CodedError('PG_ERR_VALIDATION', text('request.queryRange', { name, min, max, got: raw }));
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
  {
    store,
    channel,
    registry,
    graphs,
    imports = { maxBytes: IMPORT_BODY_LIMIT, atOnce: 2 },
  }: {
    store: RecordingStore;
    channel: WriteChannel;
    registry: PlaygroundRegistry;
    /** Graph playgrounds: their runs are read by whoever may watch them, as the pipeline's are. */
    graphs?: GraphRegistry;
    /** Largest import, and how many the server takes at once (each is held and parsed whole). */
    imports?: { maxBytes: number; atOnce: number };
  },
): Promise<void> {
  const { stats } = channel;
  if (store.privateFolder !== null) hidePathsUnder(store.privateFolder);
  /** The live playgrounds, of either kind, `visitor` may watch: their recorded runs are readable to it. */
  const watchable = (visitor: string): string[] => [
    ...registry.watchableIds(visitor),
    ...(graphs?.listFor(visitor).map((playground) => playground.id) ?? []),
  ];
  const unknownRun = (id: string) =>
    new CodedError('PG_ERR_NOT_FOUND', text('record.unknownRun', { run: id.slice(0, 64) }));

  /**
   * A stored run may be read by its owner, by anyone who may watch the live playground that recorded it, and by
   * anyone at all once its owner made it public. Everyone else is told it does not exist.
   */
  const readable = async (id: string, visitor: string): Promise<string> => {
    const access = await store.accessOf(id);
    if (!access) throw unknownRun(id);
    if (access.owner !== null && access.owner === visitor) return id;
    if (access.public) return id;
    if (access.playground !== null && watchable(visitor).includes(access.playground)) return id;
    throw unknownRun(id);
  };

  /** Renaming, publishing and deleting are the owner's alone (403 for another reader, 404 for a stranger). */
  const ownRun = async (id: string, visitor: string): Promise<string> => {
    await readable(id, visitor);
    if ((await store.accessOf(id))?.owner !== visitor)
      throw new CodedError('PG_ERR_FORBIDDEN', text('access.runOwnerOnly', { run: id.slice(0, 64) }));
    return id;
  };

  app.get('/api/recording', async (): Promise<RecordingStatus> => ({
    enabled: true,
    // The file's name only, or "PostgreSQL": where the data is is the operator's business (the server prints it at
    // start).
    path: store.displayName,
    recordedEvents: stats.recordedEvents,
    flushes: stats.flushes,
    writeErrors: stats.writeErrors,
    droppedEvents: stats.droppedEvents,
    // A database server's errors name its host and port, or an address it resolved to: the log has them whole.
    lastError: stats.lastError && {
      ...stats.lastError,
      message:
        store.kind === 'postgres'
          ? 'PostgreSQL did not take a write (the server log says why)'
          : hideServerPaths(stats.lastError.message),
    },
  }));

  // The caller's runs and those of the playgrounds it may watch; public runs of others are read by id only.
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/runs',
    { schema: { querystring: ListQuery } },
    async (request) =>
      store.listRuns({
        limit: count(request.query.limit, 'limit', 1, MAX_RUN_PAGE, 50),
        before: request.query.before,
        viewer: { visitor: request.visitor, playgrounds: watchable(request.visitor) },
      }),
  );

  app.get<{ Params: RunIdParams }>('/api/runs/:id', { schema: { params: RunIdParams } }, async (request) =>
    store.getAnyRun(await readable(request.params.id, request.visitor), request.visitor),
  );

  // Rename ({name}) and publish or unpublish ({public}), the owner only.
  app.patch<{ Params: RunIdParams; Body: Static<typeof RunPatchBody> }>(
    '/api/runs/:id',
    { schema: { params: RunIdParams, body: RunPatchBody } },
    async (request) => {
      const id = await ownRun(request.params.id, request.visitor);
      const name = request.body.name?.trim();
      if (name === '') throw new CodedError('PG_ERR_VALIDATION', text('validation.blankName'));
      if (name !== undefined) await store.renameRun(id, name);
      if (request.body.public !== undefined) await store.setPublic(id, request.body.public);
      return store.getAnyRun(id, request.visitor);
    },
  );

  app.delete<{ Params: RunIdParams }>('/api/runs/:id', { schema: { params: RunIdParams } }, async (request, reply) => {
    await channel.deleteRun(await ownRun(request.params.id, request.visitor)); // off the event loop: a run may have a million events
    return reply.code(204).send();
  });

  app.get<{ Params: RunIdParams; Querystring: Static<typeof WindowQuery> }>(
    '/api/runs/:id/events',
    { schema: { params: RunIdParams, querystring: WindowQuery } },
    async (request, reply) => {
      const { query } = request;
      const window = await store.eventWindow(await readable(request.params.id, request.visitor), {
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
        .send(
          `{"run":${JSON.stringify(window.run)},"events":[${window.json.join(',')}],"nextSeq":${window.nextSeq ?? 'null'}}`,
        );
    },
  );

  app.get<{ Params: RunIdParams; Querystring: Static<typeof CountersQuery> }>(
    '/api/runs/:id/counters',
    { schema: { params: RunIdParams, querystring: CountersQuery } },
    async (request) => store.countersAt(await readable(request.params.id, request.visitor), Number(request.query.t)),
  );

  // A graph run at a moment (issue 11): its counters per node, newest bodies, refusals and end, folded from its
  // stored events (server/http/graph-run-state.ts): the patterns page's replay seeks with it, a comparison reads
  // each run's end.
  const graphStates = new GraphRunStates(store);
  app.get<{ Params: RunIdParams; Querystring: Static<typeof GraphStateQuery> }>(
    '/api/runs/:id/graph-state',
    { schema: { params: RunIdParams, querystring: GraphStateQuery } },
    async (request) => {
      const id = await readable(request.params.id, request.visitor);
      const run = await store.getAnyRun(id, request.visitor);
      if (!('graph' in run) || run.kind !== 'graph')
        throw new CodedError('PG_ERR_VALIDATION', text('record.notGraphRun', { run: id.slice(0, 64) }));
      const { t, count } = request.query;
      const moment = t !== undefined ? { t: Number(t) } : count !== undefined ? { count: Number(count) } : {};
      return graphStates.stateAt(run, moment, request.visitor);
    },
  );

  app.get<{ Params: RunIdParams }>(
    '/api/runs/:id/export.json',
    { schema: { params: RunIdParams } },
    async (request, reply) =>
      stream(
        reply,
        await exportJson(store, await readable(request.params.id, request.visitor)),
        'application/json; charset=utf-8',
        'json',
      ),
  );

  app.get<{ Params: RunIdParams }>(
    '/api/runs/:id/export.csv',
    { schema: { params: RunIdParams } },
    async (request, reply) =>
      stream(
        reply,
        await exportCsv(store, await readable(request.params.id, request.visitor)),
        'text/csv; charset=utf-8',
        'csv',
      ),
  );

  // The import gets its own scope: its body is taken as raw bytes (up to imports.maxBytes) and handed to the
  // writer, which decodes, parses and checks it: a truncated or corrupt file is answered with PG_ERR_IMPORT and a
  // message about the file, and a big one never stalls the event loop.
  let importing = 0;
  await app.register(async (scope) => {
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser(
      ['application/json', 'text/plain', 'application/octet-stream'],
      { parseAs: 'buffer', bodyLimit: imports.maxBytes },
      (_request, body, done) => done(null, body),
    );
    // Counted from the first byte, before the body is read: each import holds its whole file in memory.
    scope.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url !== '/api/runs/import') return;
      if (importing >= imports.atOnce)
        throw new CodedError('PG_ERR_LIMIT', text('limit.imports', { max: imports.atOnce }));
      importing++;
      reply.raw.once('close', () => importing--);
    });
    scope.post('/api/runs/import', { bodyLimit: imports.maxBytes }, async (request, reply) => {
      const body = request.body;
      const empty =
        body === undefined ||
        (body instanceof Uint8Array
          ? body.byteLength === 0
          : typeof body === 'object' && body !== null && Object.keys(body).length === 0);
      if (empty) throw new CodedError('PG_ERR_IMPORT', text('import.noFile'));
      // Checked and stored by the writer (its thread, for a file store): seconds for a million events.
      // The imported run is the importer's, whatever the file says about where it was recorded.
      return reply.code(201).send({ ...(await channel.importRun(body, request.visitor)), owned: true });
    });
  });
}
