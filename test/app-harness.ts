/**
 * The setup the pipeline pages' HTTP tests share (server/http/api, history, presenter, visitors, watchers and
 * server-text tests, server/instance.test.ts): the real app on a fresh runtime folder, the tutorial's endpoints moved
 * where no other test or program is (its fixed tcp port to a free one, its ipc path into that folder), and, after
 * each test, the WebSockets it opened terminated before the app closes and its folder goes. Each file had its own
 * copy; what differs (the store, limits, other registry options, listening or not) each file still chooses.
 */
import type { FastifyInstance } from 'fastify';
import type WebSocket from 'ws';
import { buildApp, type AppOptions } from '../server/app.ts';
import { freePort, testPolicy } from './helpers.ts';

export interface TutorialApp {
  app: FastifyInstance;
  policy: ReturnType<typeof testPolicy>;
}

/** Builds the app (API only unless `staticDir` says otherwise) on a fresh runtime folder. */
export async function openTutorialApp(options: Omit<AppOptions, 'policy'> = {}): Promise<TutorialApp> {
  const policy = testPolicy();
  const app = await buildApp({
    staticDir: null,
    ...options,
    policy,
    registry: {
      ...options.registry,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    },
  });
  return { app, policy };
}

/** Terminates the test's WebSockets, closes the app, then removes its runtime folder. */
export async function closeTutorialApp({ app, policy }: TutorialApp, sockets: WebSocket[] = []): Promise<void> {
  for (const socket of sockets.splice(0)) socket.terminate();
  await app.close();
  policy.cleanup();
}
