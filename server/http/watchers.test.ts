/**
 * Issue 9, presenter mode: a class of watchers costs the server one encoding per frame, not one per watcher.
 * Fifty visitors open the owner's watch link and hold real WebSockets on loopback while the owner's batch runs:
 * every one of them gets the same frames, byte for byte, the server JSON-encoded each live frame once (a spy on
 * JSON.stringify counts the `events` frames it built), and a watcher that stops reading does not hold the others
 * back. Before live-frames.ts each connection had its own batcher and encoded every frame itself (50 times).
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { PlaygroundInfo } from '../../shared/protocol/index.ts';
import { Visitor } from '../../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../../test/app-harness.ts';

const WATCHERS = 50;
const TASKS = 3000;

let app: FastifyInstance;
let policy: TutorialApp['policy'];
let base: string;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  ({ app, policy } = await openTutorialApp({
    store: null,
    // The whole class joins from one address here, before any of them has a cookie: the per-visitor HTTP limit
    // would count them as one.
    limits: { httpPerSecond: 10_000 },
  }));
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await closeTutorialApp({ app, policy }, sockets);
});

interface Watcher {
  socket: WebSocket;
  /** The raw text of every `events` frame, in order. */
  frames: string[];
  /** When the frame with run:ended arrived. */
  ended: Promise<number>;
}

/** A visitor of its own that opened the watch link and subscribed over a real WebSocket. */
async function watcher(playground: string, token: string): Promise<Watcher> {
  const visitor = new Visitor(app);
  const joined = await visitor.inject({
    method: 'POST',
    url: `/api/playgrounds/${playground}/join`,
    payload: { token },
  });
  expect(joined.json<{ role: string }>().role, joined.body).toBe('watcher');
  const socket = new WebSocket(`${base}/api/playgrounds/${playground}/stream`, {
    headers: { cookie: visitor.cookie! },
  });
  sockets.push(socket);
  const frames: string[] = [];
  let endedAt: (at: number) => void = () => {};
  const ended = new Promise<number>((resolve) => (endedAt = resolve));
  let subscribed: () => void = () => {};
  const answered = new Promise<void>((resolve) => (subscribed = resolve));
  const hello = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"hello"')) return resolve();
      if (text.startsWith('{"type":"error"') && text.includes('"command":"run:stop"')) return subscribed();
      if (!text.startsWith('{"type":"events"')) return;
      frames.push(text);
      if (text.includes('"type":"run:ended"')) endedAt(Date.now());
    });
  });
  await hello;
  socket.send(JSON.stringify({ type: 'subscribe' }));
  // A watcher may not stop the run: the refusal comes after the subscribe was handled (commands are handled in order).
  socket.send(JSON.stringify({ type: 'run:stop' }));
  await within(answered, 10_000, 'the subscribe handled');
  return { socket, frames, ended };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]);
}

it(`${WATCHERS} watchers of one run get identical frames, each encoded once, and a watcher that stops reading holds nobody back`, async () => {
  const owner = new Visitor(app);
  const created = await owner.inject({
    method: 'POST',
    url: '/api/playgrounds',
    payload: { scenario: 'pipeline', params: { tasks: TASKS, intervalMs: 0, drainMs: 200 } },
  });
  expect(created.statusCode, created.body).toBe(201);
  const playground = created.json<PlaygroundInfo>().id;
  const { watchToken } = (await owner.inject(`/api/playgrounds/${playground}/links`)).json<{ watchToken: string }>();

  const watchers: Watcher[] = [];
  for (let i = 0; i < WATCHERS; i++) watchers.push(await watcher(playground, watchToken));
  // One more that takes nothing off its socket from now on: what the server sends it waits in buffers.
  const stalled = await watcher(playground, watchToken);
  (stalled.socket as unknown as { _socket: Socket })._socket.pause();

  const stringify = vi.spyOn(JSON, 'stringify');
  const started = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground}/runs` });
  expect(started.statusCode, started.body).toBe(201);
  const endedAt = await within(
    Promise.all(watchers.map((w) => w.ended)),
    60_000,
    'every watcher told of the run:ended',
  );
  const encodedEventFrames = stringify.mock.calls.filter(
    ([value]) => (value as { type?: unknown } | null)?.type === 'events',
  ).length;
  stringify.mockRestore();

  const reference = watchers[0]!.frames;
  expect(reference.length).toBeGreaterThan(1);
  for (const { frames } of watchers) expect(frames).toEqual(reference);
  // One encoding per frame for the whole class (not one per watcher).
  expect(encodedEventFrames).toBe(reference.length);
  // The same frame reaches the whole class in the same turn: the stalled reader did not delay anyone.
  expect(Math.max(...endedAt) - Math.min(...endedAt)).toBeLessThan(1000);
  expect(stalled.socket.readyState).toBe(WebSocket.OPEN);
});
