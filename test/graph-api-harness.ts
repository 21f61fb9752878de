/**
 * The setup the graph API tests share (server/http/graph-*-api.test.ts, server/hostile-s10.test.ts): the real app
 * in a private runtime folder, driven through inject() by its owner, and a bounded poll of a graph playground's
 * events. Each file had its own copy; they differed only in the request rate allowed and in a hook added before the
 * app is ready, which each file still chooses here. The recorded variant (server/http/graph-linked-nodes-history,
 * hostile-s11) stores its runs in a SQLite file of its own, through the writer thread, as a server records by default.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { buildApp } from '../server/app.ts';
import type { ServerLimits } from '../server/limits.ts';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import { Visitor, testPolicy } from './helpers.ts';

export interface GraphApi {
  app: FastifyInstance;
  policy: ReturnType<typeof testPolicy>;
  /** The visitor that creates the graphs, so it owns them (and drives them). */
  owner: Visitor;
}

export interface GraphApiOptions {
  httpPerSecond: number;
  /** Other limits of the server's, for a test about them (each one left out keeps its default). */
  limits?: Partial<ServerLimits>;
  beforeReady?: (app: FastifyInstance) => void;
}

/** Builds the app on a fresh runtime folder; `beforeReady` may add hooks (Fastify takes none once it is ready). */
export function openGraphApi(options: GraphApiOptions): Promise<GraphApi> {
  return open(options, null);
}

async function open(options: GraphApiOptions, store: string | null): Promise<GraphApi> {
  const policy = testPolicy();
  const app = await buildApp({
    policy,
    staticDir: null,
    store,
    limits: { ...options.limits, httpPerSecond: options.httpPerSecond },
  });
  options.beforeReady?.(app);
  await app.ready();
  return { app, policy, owner: new Visitor(app) };
}

/** Closes the app, then removes its runtime folder. */
export async function closeGraphApi({ app, policy }: Pick<GraphApi, 'app' | 'policy'>): Promise<void> {
  await app.close();
  policy.cleanup();
}

/**
 * Opens the app before each test of the calling file and closes it after. The object answered holds the current
 * test's app, policy and owner: read them in a test or a hook registered after this call, not at the file's top.
 */
export function graphApiForEachTest(options: GraphApiOptions): GraphApi {
  const current = {} as GraphApi;
  beforeEach(async () => {
    Object.assign(current, await openGraphApi(options));
  });
  afterEach(() => closeGraphApi(current));
  return current;
}

export interface RecordedGraphApi extends GraphApi {
  /** The folder of the run database (runs.db). */
  folder: string;
}

/** As openGraphApi, recording into runs.db of a new temporary folder named from `folderPrefix`. */
export async function openRecordedGraphApi(
  options: GraphApiOptions & { folderPrefix: string },
): Promise<RecordedGraphApi> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), options.folderPrefix));
  return { ...(await open(options, path.join(folder, 'runs.db'))), folder };
}

/** Closes the app, removes its runtime folder, then the database's folder. */
export async function closeRecordedGraphApi(api: Pick<RecordedGraphApi, 'app' | 'policy' | 'folder'>): Promise<void> {
  await closeGraphApi(api);
  fs.rmSync(api.folder, { recursive: true, force: true });
}

/** Imports a run file (its JSON text, as exported or altered by the test) as `visitor`. */
export const importRunFile = (visitor: Visitor, body: string) =>
  visitor.inject({
    method: 'POST',
    url: '/api/runs/import',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });

/** Calls `read` every 50 ms until it answers something other than null; rejects after `timeoutMs`, naming `what`. */
export async function pollUntil<T>(read: () => Promise<T | null>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls a graph playground's events as `visitor` (bounded) until `condition` holds on them. */
export async function pollGraphEventsUntil(
  visitor: Visitor,
  id: string,
  condition: (events: PlaygroundEvent[]) => boolean,
): Promise<PlaygroundEvent[]> {
  const deadline = Date.now() + 20_000;
  const events: PlaygroundEvent[] = [];
  for (;;) {
    const response = await visitor.inject(`/api/graphs/${id}/events?since=${events.at(-1)?.seq ?? 0}`);
    events.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    if (condition(events)) return events;
    if (Date.now() > deadline) throw new Error(`condition not met; ${events.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
