/**
 * buildApp(options) -> a Fastify instance with the API, the stream and the built page. Nothing listens here:
 * tests use inject/injectWS, server/main.ts listens.
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import fastifyRateLimit from '@fastify/rate-limit';
import { BUILT_PAGE_DIR } from './layout.ts';
import { defaultPolicy, type EndpointPolicy } from './pipeline/endpoints.ts';
import { PlaygroundRegistry, type RegistryOptions } from './pipeline/registry.ts';
import { apiRoutes } from './http/routes.ts';
import { MAX_FRAME_BYTES, streamRoute } from './http/stream.ts';
import { SHARED_DEFLATE_OPTIONS } from './http/shared-frame.ts';
import { toErrorBody } from './http/errors.ts';
import { parseJsonWithDepthLimit } from './http/json-body.ts';
import { historyRoutes } from './http/history-routes.ts';
import { graphRoutes } from './http/graph-routes.ts';
import { graphStreamRoute } from './http/graph-stream.ts';
import { GraphRegistry, type GraphPlayground } from './engine/graph-playground.ts';
import { pageFileOptions } from './http/page-files.ts';
import { installSessions } from './http/session.ts';
import { installSiteGuard, type SiteOptions } from './http/site-guard.ts';
import { installFramePolicy } from './http/framing.ts';
import { hasSession } from './http/session.ts';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.ts';
import { RunStore, resolveDbPath } from './recorder/store.ts';
import type { RecordingStore } from './recorder/store-api.ts';
import { SqliteRecordingStore } from './recorder/sqlite-store.ts';
import { openRecordingStore } from './recorder/store-open.ts';
import { Recorder } from './recorder/recorder.ts';
import { RecordingStats } from './recorder/channel.ts';
import type { Playground } from './pipeline/playground.ts';
import { MAX_COMMAND_BYTES, english, text, type ErrorBody, type ServerText } from '../shared/protocol/index.ts';
import { CodedError } from './errors.ts';

const notFound = (reason: ServerText): ErrorBody => ({
  code: 'PG_ERR_NOT_FOUND',
  message: english(reason),
  text: reason,
});

/** dist/web: the page `npm run build` writes (server/layout.ts finds it from the sources and from the built server). */
export const DEFAULT_STATIC_DIR = BUILT_PAGE_DIR;

export interface AppOptions {
  policy?: EndpointPolicy;
  registry?: Omit<RegistryOptions, 'policy'>;
  /** Folder with the built page; null serves the API only. */
  staticDir?: string | null;
  logger?: FastifyServerOptions['logger'];
  /**
   * Where every run is recorded: an open store (a RecordingStore, or a SQLite RunStore; the caller closes it), a
   * location the app opens and closes (a SQLite file path, ':memory:', or a postgres:// URL: store-open.ts), or
   * null for no recording and no history API. Default: $PLAYGROUND_DB, else the data-folder file.
   */
  store?: RecordingStore | RunStore | string | null;
  /** Which Host names and foreign Origins the server accepts (server/http/site-guard.ts). */
  site?: SiteOptions;
  /** Believe X-Forwarded-Proto/-Host from the proxy in front (only when one is: --trust-proxy). */
  trustProxy?: boolean;
  /** Origins of the pages that may show this server in an <iframe> (--frame-ancestors; server/http/framing.ts). */
  frameAncestors?: readonly string[];
  /** The operator's limits (server/limits.ts); each one left out keeps its default. */
  limits?: Partial<ServerLimits>;
  /**
   * The key sessions are signed with (PLAYGROUND_SESSION_KEY): the same on every instance of a site, and across
   * restarts, keeps signed cookies signed; without it a random one is made at start (http/session.ts).
   */
  sessionKey?: string | null;
  /**
   * This server's instance name behind a proxy (--instance; server/instance.ts): the prefix of every playground
   * id, and what /api/health names. None: a standalone server.
   */
  instance?: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    playgrounds: PlaygroundRegistry;
    /** The graph playgrounds (issue 11): the bench times their runs from the log, as it does the pipeline's. */
    graphs: GraphRegistry;
  }
}

export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: MAX_COMMAND_BYTES,
    trustProxy: options.trustProxy ?? false,
    // Strict input: unknown fields are refused, not silently removed, and "100" is not a number.
    // verbose: errors carry the offending value, which the error text quotes ("got 99999").
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, verbose: true } },
  });
  const given = options.store;
  // The rest of the server sees the storage interface only (recorder/store-api.ts).
  const store: RecordingStore | null =
    given === null
      ? null
      : given instanceof RunStore
        ? new SqliteRecordingStore(given)
        : typeof given === 'object'
          ? given
          : await openRecordingStore(resolveDbPath(given), { instance: options.instance ?? null });
  const ownsStore = given === undefined || typeof given === 'string';
  const recording = new RecordingStats();
  // The store's own channel: for a SQLite file a worker thread, off the event loop the pipeline uses
  // (recorder/channel.ts); for PostgreSQL its batched writer.
  const channel = store
    ? store.openWriteChannel({
        stats: recording,
        onError: (error) => app.log.error({ err: error }, 'Recording failed'),
      })
    : null;
  const recorders = new Map<Playground | GraphPlayground, Recorder>();
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const registry: PlaygroundRegistry = new PlaygroundRegistry({
    policy: options.policy ?? defaultPolicy(),
    maxPlaygrounds: limits.playgrounds,
    maxPlaygroundsPerVisitor: limits.playgroundsPerVisitor,
    maxWorkers: limits.workersPerPlayground,
    maxProcessWorkers: limits.processWorkersPerPlayground,
    maxServerProcessWorkers: limits.processWorkers,
    maxRunPayloadBytes: limits.runPayloadBytes,
    instance: options.instance ?? null,
    // Graph runs' process nodes count against the same server-wide cap as process workers.
    otherProcesses: (): number => graphs.runningProcesses(),
    // One visitor's graph playgrounds count against the same per-visitor limit (an idle one may make room).
    otherOwned: (owner) => graphs.ownedBy(owner),
    ...options.registry,
    onCreate: (playground) => {
      if (channel) recorders.set(playground, new Recorder(channel, playground));
      options.registry?.onCreate?.(playground);
    },
    onClosed: async (playground) => {
      await recorders.get(playground)?.close();
      recorders.delete(playground);
      await options.registry?.onClosed?.(playground);
    },
  });
  app.decorate('playgrounds', registry);
  // Graph playgrounds (issue 11): counted with the pipeline's against the same caps.
  const graphs: GraphRegistry = new GraphRegistry({
    policy: registry.policy,
    maxPlaygrounds: limits.playgrounds,
    maxPlaygroundsPerVisitor: limits.playgroundsPerVisitor,
    maxNodes: limits.workersPerPlayground,
    maxRunBytes: limits.runPayloadBytes,
    instance: options.instance ?? null,
    // Process nodes: as many per graph as process workers per playground, counted with them server-wide.
    processes: {
      perPlayground: limits.processWorkersPerPlayground,
      server: limits.processWorkers,
      pipelineRunning: (): number => registry.list().reduce((sum, p) => sum + p.runningProcessWorkers, 0),
    },
    othersOpen: (visitor) => ({
      total: registry.list().length,
      owned: visitor === null ? [] : registry.ownedBy(visitor),
    }),
    // Graph runs are recorded as the pipeline's are: through the same write channel (issue 11).
    onCreate: (playground) => {
      if (channel) recorders.set(playground, new Recorder(channel, playground));
    },
    onClosed: async (playground) => {
      await recorders.get(playground)?.close();
      recorders.delete(playground);
    },
  });
  app.decorate('graphs', graphs);

  // Before any route: requests another site could make are refused, and every caller gets a visitor id.
  installSiteGuard(app, options.site);
  // Which other sites' pages may frame it (none by default): on every response, refusals included.
  installFramePolicy(app, options.frameAncestors);
  await installSessions(app, options.sessionKey);
  // Per visitor (a session this server signed; a request without one, or with one it never issued, by its address),
  // on the API only: the page's own files are not counted. After the sessions: the visitor is known.
  await app.register(fastifyRateLimit, {
    max: limits.httpPerSecond,
    timeWindow: 1000,
    keyGenerator: (request) => (hasSession(request) ? `visitor:${request.visitor}` : `ip:${request.ip}`),
    allowList: (request) => !request.url.startsWith('/api/'),
    errorResponseBuilder: (_request, context) =>
      new CodedError('PG_ERR_LIMIT', text('limit.requests', { rate: limits.httpPerSecond, after: context.after })),
  });
  // And per client address, whatever sessions it holds (each cookieless request mints a new one): generous enough
  // for a class behind one NAT. The address is the socket's, or with --trust-proxy what the proxy says. Never below
  // one visitor's limit: an operator who raises that one means one visitor may go that fast.
  const perAddressRate = Math.max(limits.httpPerSecondPerAddress, limits.httpPerSecond);
  const perAddress = app.createRateLimit({
    max: perAddressRate,
    timeWindow: 1000,
    keyGenerator: (request) => `address:${request.ip}`,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const verdict = await perAddress(request);
    if (verdict.isAllowed || !verdict.isExceeded) return;
    const after = `${verdict.ttlInSeconds} second${verdict.ttlInSeconds === 1 ? '' : 's'}`;
    reply.header('retry-after', verdict.ttlInSeconds);
    throw new CodedError('PG_ERR_LIMIT', text('limit.requestsPerAddress', { rate: perAddressRate, after }));
  });

  // A POST or PATCH without a body means "no options": validate it as an empty object.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PATCH')) request.body = {};
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorBody(error);
    if (status >= 500) request.log.error(error);
    return reply.code(status).send(body);
  });

  // Before any route: a body nested too deeply is refused before validation walks it.
  parseJsonWithDepthLimit(app);
  // Frames up to MAX_FRAME_BYTES reach the stream, which answers one over MAX_COMMAND_BYTES, or one that is not
  // UTF-8, with an error frame (ws would close the connection, and log each one as an error). permessage-deflate is
  // answered without server context takeover, so that a frame many watchers get is compressed once for all of them
  // (shared-frame.ts).
  await app.register(fastifyWebsocket, {
    options: { maxPayload: MAX_FRAME_BYTES, skipUTF8Validation: true, perMessageDeflate: SHARED_DEFLATE_OPTIONS },
  });
  await app.register(apiRoutes, {
    registry,
    // The health figure a proxy or an operator reads: playgrounds of every kind open here, against the cap.
    health: () => ({
      instance: options.instance ?? null,
      load: { playgrounds: registry.list().length + graphs.list().length, limit: limits.playgrounds },
    }),
  });
  await app.register(graphRoutes, { graphs });
  await app.register(streamRoute, {
    registry,
    commands: { perSecond: limits.commandsPerSecond, burst: limits.commandBurst },
  });
  await app.register(graphStreamRoute, {
    graphs,
    commands: { perSecond: limits.commandsPerSecond, burst: limits.commandBurst },
  });
  if (store && channel) {
    await app.register(historyRoutes, {
      store,
      channel,
      registry,
      graphs,
      imports: { maxBytes: limits.importBytes, atOnce: limits.importsAtOnce },
    });
  }

  const staticDir = options.staticDir === undefined ? DEFAULT_STATIC_DIR : options.staticDir;
  if (staticDir && fs.existsSync(path.join(staticDir, 'index.html'))) {
    await app.register(fastifyStatic, pageFileOptions(staticDir));
  } else if (staticDir) {
    app.get('/', async (_request, reply) =>
      reply
        .type('text/plain')
        .send('The page is not built yet: run `npm run build` (or `npm start`, which builds it).\n'),
    );
  }

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(notFound(text('request.noRoute', { method: request.method, url: request.url.slice(0, 100) }))),
  );

  // Every socket closed and every ipc file removed before close() resolves.
  app.addHook('onClose', async () => {
    await registry.closeAll();
    await graphs.closeAll();
    // After the playgrounds: their final run:ended events are stored before the database closes.
    await Promise.all([...recorders.values()].map((recorder) => recorder.close()));
    await channel?.close();
    if (store && ownsStore) await store.close();
  });
  return app;
}
