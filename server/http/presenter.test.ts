/**
 * Presenter mode on the wire ([S6]): a watcher's stream hears the presenter state right after `hello` and again
 * whenever the owner sets it (over HTTP or the owner's own stream); a watcher may not set it; a bad state is refused.
 * Real server, real WebSockets on loopback.
 */
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  NOT_PRESENTING,
  type PlaygroundInfo,
  type PresenterState,
  type ServerMessage,
} from '../../shared/protocol/index.ts';
import { Visitor } from '../../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../../test/app-harness.ts';

let app: FastifyInstance;
let policy: TutorialApp['policy'];
let base: string;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  ({ app, policy } = await openTutorialApp({ store: null }));
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
});
afterEach(() => closeTutorialApp({ app, policy }, sockets));

/** A stream of `visitor` that keeps every message; `next(type)` waits (bounded) for the next one of that type. */
function stream(playground: string, visitor: Visitor) {
  const socket = new WebSocket(`${base}/api/playgrounds/${playground}/stream`, {
    headers: { cookie: visitor.cookie! },
  });
  sockets.push(socket);
  const messages: ServerMessage[] = [];
  let read = 0;
  let wake: () => void = () => {};
  socket.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as ServerMessage);
    wake();
  });
  const next = async <K extends ServerMessage['type']>(type: K): Promise<Extract<ServerMessage, { type: K }>> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      while (read < messages.length) {
        const message = messages[read++]!;
        if (message.type === type) return message as Extract<ServerMessage, { type: K }>;
      }
      if (Date.now() > deadline)
        throw new Error(`no ${type} within 10 s (got ${messages.map((m) => m.type).join(', ')})`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  };
  return { socket, messages, next };
}

it('[S6] a watcher hears the presenter state after hello and on every change by the owner, and may not set it', async () => {
  const owner = new Visitor(app);
  const created = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'tutorial' } });
  expect(created.statusCode, created.body).toBe(201);
  const playground = created.json<PlaygroundInfo>().id;
  const { watchToken } = (await owner.inject(`/api/playgrounds/${playground}/links`)).json<{ watchToken: string }>();
  const pupil = new Visitor(app);
  const joined = await pupil.inject({
    method: 'POST',
    url: `/api/playgrounds/${playground}/join`,
    payload: { token: watchToken },
  });
  expect(joined.statusCode, joined.body).toBe(200);

  const watcher = stream(playground, pupil);
  await watcher.next('hello');
  expect(await watcher.next('presenter')).toEqual({ type: 'presenter', presenter: NOT_PRESENTING });
  expect(watcher.messages.map((message) => message.type).slice(0, 2)).toEqual(['hello', 'presenter']); // right after hello

  const state: PresenterState = {
    presenting: true,
    lesson: null,
    replay: { run: 'run-7', t: 1234.5, playing: false, speed: 2 },
  };
  const put = await owner.inject({ method: 'PUT', url: `/api/playgrounds/${playground}/presenter`, payload: state });
  expect(put.statusCode, put.body).toBe(200);
  expect((await watcher.next('presenter')).presenter).toEqual(state);

  // The owner's own stream sets it too; every connection (the owner's included) hears it.
  const teacher = stream(playground, owner);
  await teacher.next('hello');
  expect((await teacher.next('presenter')).presenter).toEqual(state);
  const playing: PresenterState = { ...state, replay: { ...state.replay!, playing: true } };
  teacher.socket.send(JSON.stringify({ type: 'presenter:set', presenter: playing }));
  expect((await watcher.next('presenter')).presenter).toEqual(playing);
  expect((await teacher.next('presenter')).presenter).toEqual(playing);

  // A watcher may read it but not set it, on either path.
  watcher.socket.send(JSON.stringify({ type: 'presenter:set', presenter: NOT_PRESENTING }));
  const refused = await watcher.next('error');
  expect([refused.code, refused.command]).toEqual(['PG_ERR_FORBIDDEN', 'presenter:set']);
  const pupilPut = await pupil.inject({
    method: 'PUT',
    url: `/api/playgrounds/${playground}/presenter`,
    payload: NOT_PRESENTING,
  });
  expect(pupilPut.statusCode).toBe(403);
  expect((await pupil.inject(`/api/playgrounds/${playground}/presenter`)).json()).toEqual(playing);

  // A state outside the schema is refused whole.
  const bad = await owner.inject({
    method: 'PUT',
    url: `/api/playgrounds/${playground}/presenter`,
    payload: { ...playing, replay: { ...playing.replay!, speed: 1000 } },
  });
  expect(bad.statusCode).toBe(400);
  expect((await owner.inject(`/api/playgrounds/${playground}/presenter`)).json()).toEqual(playing);
});

it('[S6] a presenter that moved on tells the watchers where, and they can join the new playground with what it says', async () => {
  const owner = new Visitor(app);
  const create = async (scenario: string) => {
    const created = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario } });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<PlaygroundInfo>().id;
    return { id, ...(await owner.inject(`/api/playgrounds/${id}/links`)).json<{ watchToken: string }>() };
  };
  const left = await create('tutorial');
  const next = await create('pipeline');
  const pupil = new Visitor(app);
  await pupil.inject({ method: 'POST', url: `/api/playgrounds/${left.id}/join`, payload: { token: left.watchToken } });
  const watcher = stream(left.id, pupil);
  await watcher.next('presenter');

  const moved: PresenterState = {
    presenting: true,
    lesson: 'slow-joiner',
    replay: null,
    moved: { playground: next.id, watchToken: next.watchToken },
  };
  const put = await owner.inject({ method: 'PUT', url: `/api/playgrounds/${left.id}/presenter`, payload: moved });
  expect(put.statusCode, put.body).toBe(200);
  const heard = (await watcher.next('presenter')).presenter;
  expect(heard).toEqual(moved);
  const joined = await pupil.inject({
    method: 'POST',
    url: `/api/playgrounds/${heard.moved!.playground}/join`,
    payload: { token: heard.moved!.watchToken },
  });
  expect(joined.statusCode, joined.body).toBe(200);
  expect(joined.json<{ role: string }>().role).toBe('watcher');

  // Only a playground id and a token-shaped string: anything else is refused whole.
  for (const bad of [
    { playground: next.id, watchToken: 'has space' },
    { playground: next.id, watchToken: next.watchToken, invite: 'x' },
  ]) {
    const refused = await owner.inject({
      method: 'PUT',
      url: `/api/playgrounds/${left.id}/presenter`,
      payload: { ...moved, moved: bad },
    });
    expect(refused.statusCode).toBe(400);
  }
});
