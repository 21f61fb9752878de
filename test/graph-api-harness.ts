/**
 * The setup the graph API tests share (server/http/graph-*-api.test.ts, server/hostile-s10.test.ts): the real app
 * in a private runtime folder, driven through inject() by its owner, and a bounded poll of a graph playground's
 * events. Each file had its own copy; they differed only in the request rate allowed and in a hook added before the
 * app is ready, which each file still chooses here.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../server/app.ts';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import { Visitor, testPolicy } from './helpers.ts';

export interface GraphApi {
  app: FastifyInstance;
  policy: ReturnType<typeof testPolicy>;
  /** The visitor that creates the graphs, so it owns them (and drives them). */
  owner: Visitor;
}

/** Builds the app on a fresh runtime folder; `beforeReady` may add hooks (Fastify takes none once it is ready). */
export async function openGraphApi(options: {
  httpPerSecond: number;
  beforeReady?: (app: FastifyInstance) => void;
}): Promise<GraphApi> {
  const policy = testPolicy();
  const app = await buildApp({
    policy,
    staticDir: null,
    store: null,
    limits: { httpPerSecond: options.httpPerSecond },
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
