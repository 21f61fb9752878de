/**
 * PlaygroundSession, the live page's façade, against a scripted WebSocket, a fetch answering from routes and a
 * frame loop stepped by hand: it opens the playground the address asks for (or a new one), follows its stream
 * into the run state and the live clock, sends the parameters being typed before a run starts, and starts over
 * when the playground is gone.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, type PlaygroundInfo, type ServerMessage } from '../../shared/protocol/index.ts';
import { VALID_SERVER_MESSAGES } from '../../shared/protocol/fixtures.ts';
import { TASK_FRAME_VERSION } from '../../shared/protocol/task-frame.ts';
import { FakeFetch, ScriptedSocket, SteppedFrames, countersOf, stubPage, tutorialRun } from '../../test/page-fakes.ts';
import { PlaygroundSession } from './session.svelte.ts';

const template = (VALID_SERVER_MESSAGES.hello as Extract<ServerMessage, { type: 'hello' }>).playground;
const events = tutorialRun('run-1');

function playground(id: string, changes: Partial<PlaygroundInfo> = {}): PlaygroundInfo {
  return { ...structuredClone(template), id, ...changes };
}

function hello(info: PlaygroundInfo): ServerMessage {
  return { type: 'hello', protocolVersion: PROTOCOL_VERSION, playground: info };
}

describe('PlaygroundSession', () => {
  let fetch: FakeFetch;
  let frames: SteppedFrames;
  let sockets: ScriptedSocket[];
  let session: PlaygroundSession;
  let page: { readonly href: string };

  function open(href = 'http://127.0.0.1:8080/'): PlaygroundSession {
    page = stubPage(href);
    session = new PlaygroundSession({
      loop: frames.loop,
      createSocket: (url) => {
        const socket = new ScriptedSocket(url);
        sockets.push(socket);
        return socket;
      },
    });
    session.start();
    return session;
  }

  /** The newest socket, once the session opened it, after the server's hello. */
  async function connected(info: PlaygroundInfo, count = 1): Promise<ScriptedSocket> {
    await vi.waitUntil(() => sockets.length >= count, { timeout: 2000, interval: 5 });
    const socket = sockets.at(-1)!;
    socket.open();
    socket.deliver(hello(info));
    return socket;
  }

  beforeEach(() => {
    fetch = new FakeFetch();
    frames = new SteppedFrames();
    sockets = [];
    vi.stubGlobal('fetch', fetch.fetch);
    fetch.on('GET', '/api/scenarios', () => ({ body: [] }));
  });

  afterEach(() => {
    session?.close();
    vi.unstubAllGlobals();
  });

  it('creates a playground when the address names none, streams it and draws its run on the live clock', async () => {
    fetch.on('POST', '/api/playgrounds', ({ body }) => ({
      status: 201,
      body: playground('pg-1', { scenario: (body as { scenario: string }).scenario }),
    }));
    open();
    const socket = await connected(playground('pg-1'));
    expect(socket.url).toBe('ws://127.0.0.1:8080/api/playgrounds/pg-1/stream');
    expect(new URL(page.href).searchParams.get('p')).toBe('pg-1');
    // The live page reads binary task frames (SPEC [W5]) and says which layout.
    expect(socket.sent).toEqual([{ type: 'subscribe', sinceSeq: 0, binary: TASK_FRAME_VERSION }]);
    expect(session.connection).toBe('connected');
    expect(session.canDrive).toBe(true);
    expect(session.clock.now()).toBeNull();

    const live = events.slice(0, 6);
    socket.deliver({ type: 'events', events: live, dropped: 0, counters: countersOf('run-1', live) });
    expect(session.run.status).toBe('running');
    expect(session.isRunActive).toBe(true);
    expect(session.run.sent).toBe(1);
    // The frame woke the page's loop; the clock now places the run: the newest event arrived at the frame's time.
    expect(frames.isScheduled).toBe(true);
    frames.frame(100);
    expect(session.clock.now()).toBeCloseTo(live.at(-1)!.t + 100 - 80, 6);
    expect(session.run.flights.map((flight) => flight.task)).toEqual([0]);

    session.close();
    frames.loop.wake();
    frames.frame();
    expect(frames.isScheduled).toBe(false);
    expect(socket.closedWith).toBe(1000);
  });

  it('draws at ~30 frames a second while the stream is sampled (a burst), at every frame once frames come whole', async () => {
    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: playground('pg-1') }));
    open();
    const socket = await connected(playground('pg-1'));
    const live = events.slice(0, 6);
    socket.deliver({ type: 'events', events: live.slice(0, 3), dropped: 0, counters: countersOf('run-1', live) });
    expect(session.loop.minIntervalMs).toBe(0);
    // The server left task events out of this frame: the run moves faster than the page can show.
    socket.deliver({ type: 'events', events: live.slice(3), dropped: 500, counters: countersOf('run-1', live) });
    expect(session.run.status).toBe('running');
    expect(session.loop.minIntervalMs).toBe(33);
    socket.deliver({ type: 'events', events: [], dropped: 0, counters: countersOf('run-1', live) });
    expect(session.loop.minIntervalMs).toBe(0);
    socket.deliver({ type: 'events', events: [], dropped: 20, counters: countersOf('run-1', live) });
    expect(session.loop.minIntervalMs).toBe(33);
    session.close(); // the page's loop is shared (a replay next draws every frame)
    expect(session.loop.minIntervalMs).toBe(0);
  });

  it('sends the parameters being typed before it starts a run, and refuses to start with an invalid one', async () => {
    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: playground('pg-1') }));
    fetch.on('PATCH', '/api/playgrounds/pg-1/params', ({ body }) => ({
      body: playground('pg-1', { params: { ...template.params, ...(body as object) } }),
    }));
    fetch.on('POST', '/api/playgrounds/pg-1/runs', () => ({ status: 201, body: { run: 'run-1' } }));
    open();
    const socket = await connected(playground('pg-1'));

    session.editParam('intervalMs', 'soon');
    expect(session.paramError('intervalMs')).toMatch(/0/);
    await session.startRun();
    expect(session.error?.code).toBe('PG_ERR_VALIDATION');
    expect(fetch.changes().map((call) => call.path)).toEqual(['/api/playgrounds']);

    session.editParam('intervalMs', '250');
    expect(session.paramText('intervalMs')).toBe('250');
    await session.startRun();
    expect(session.error).toBeNull();
    expect(
      fetch
        .changes()
        .slice(1)
        .map((call) => [call.method, call.path, call.body]),
    ).toEqual([
      ['PATCH', '/api/playgrounds/pg-1/params', { intervalMs: 250 }],
      ['POST', '/api/playgrounds/pg-1/runs', {}],
    ]);
    expect(session.paramText('intervalMs')).toBe('250');
    expect(session.intervalDraft).toBeNull();
    // Started, not seen yet: the run is active until its run:started arrives, and after.
    expect(session.awaitingRun).toBe('run-1');
    expect(session.isRunActive).toBe(true);
    socket.deliver({ type: 'events', events: events.slice(0, 1), dropped: 0, counters: countersOf('run-1', []) });
    expect(session.awaitingRun).toBeNull();
    expect(session.runStateKey).toBe('running');
  });

  it('keeps the sink the PATCH answered, and changes nothing a watcher may not', async () => {
    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: playground('pg-1', { scenario: 'pipeline' }) }));
    fetch.on('PATCH', '/api/playgrounds/pg-1/sink', ({ body }) => ({
      body: { ...template.sink, ...(body as object) },
    }));
    open('http://127.0.0.1:8080/?scenario=pipeline');
    await connected(playground('pg-1', { scenario: 'pipeline' }));
    expect(new URL(page.href).searchParams.has('scenario')).toBe(false);
    await session.setSink({ enabled: true });
    expect(session.sink?.enabled).toBe(true);
    expect(session.showSink).toBe(true);
  });

  it('joins with a watch link as a watcher, and the token leaves the address', async () => {
    fetch.on('POST', '/api/playgrounds/pg-9/join', ({ body }) =>
      (body as { token: string }).token === 'tok'
        ? { body: { role: 'watcher', playground: playground('pg-9') } }
        : { status: 404, body: { code: 'PG_ERR_NOT_FOUND', message: 'no' } },
    );
    open('http://127.0.0.1:8080/?p=pg-9&watch=tok');
    await connected(playground('pg-9'));
    expect(session.role).toBe('watcher');
    expect(session.canDrive).toBe(false);
    const address = new URL(page.href);
    expect(address.searchParams.get('p')).toBe('pg-9');
    expect(address.searchParams.has('watch')).toBe(false);
    expect(fetch.calls.some((call) => call.method === 'POST' && call.path === '/api/playgrounds')).toBe(false);
  });

  it('starts a new playground, and says so, when the stream says this one is gone', async () => {
    let created = 0;
    fetch.on('POST', '/api/playgrounds', () => ({ status: 201, body: playground(`pg-${++created}`) }));
    open();
    const first = await connected(playground('pg-1'));
    first.deliver({ type: 'error', code: 'PG_ERR_NOT_FOUND', message: 'Playground pg-1 not found.' });
    await connected(playground('pg-2'), 2);
    expect(session.info?.id).toBe('pg-2');
    expect(new URL(page.href).searchParams.get('p')).toBe('pg-2');
    expect(session.error?.code).toBe('PG_ERR_NOT_FOUND');
    expect(session.error?.message).toContain('pg-1');
    expect(first.closedWith).toBe(1000);
  });
});
