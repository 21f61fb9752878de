/**
 * The HTTP API and the WebSocket stream through Fastify's inject/injectWS, with the real pipeline underneath.
 * Bad input gets a clear, coded error; the server and any run in progress carry on.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlaygroundInfo } from '../../shared/protocol/index.ts';
import { StreamProbe, Visitor } from '../../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../../test/app-harness.ts';

let app: FastifyInstance;
/** The visitor that creates and drives the playgrounds of these tests. */
let owner: Visitor;
let policy: TutorialApp['policy'];
const sockets: WebSocket[] = [];

beforeEach(async () => {
  ({ app, policy } = await openTutorialApp({ registry: { maxPlaygrounds: 3 } }));
  await app.ready(); // injectWS, unlike inject, does not wait for plugins to load
  owner = new Visitor(app);
});
afterEach(() => closeTutorialApp({ app, policy }, sockets));

// The tutorial at 100 ms: its ipc worker joins up to about 200 ms after the ipc bind (libzmq's reconnect interval
// plus jitter), and must join before the first "x" goes out, 7 intervals later, for every message to be taken.
async function createPlayground(body: object = { scenario: 'tutorial', params: { intervalMs: 100, drainMs: 800 } }) {
  const response = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: body });
  expect(response.statusCode).toBe(201);
  return response.json<PlaygroundInfo>();
}

async function openStream(id: string): Promise<{ socket: WebSocket; probe: StreamProbe }> {
  const probe = new StreamProbe();
  const socket = await owner.injectWS(`/api/playgrounds/${id}/stream`, { probe });
  sockets.push(socket);
  return { socket, probe };
}

describe('HTTP API', () => {
  it('lists scenarios, creates a playground, runs it and reports the run summary', async () => {
    const scenarios = (await owner.inject('/api/scenarios')).json<{ id: string }[]>();
    expect(scenarios.map((s) => s.id)).toEqual(['tutorial', 'pipeline']);

    const playground = await createPlayground();
    expect(playground.endpoints.map((e) => e.name)).toEqual(['tcp', 'ipc']);
    expect(playground.params.intervalMs).toBe(100);
    const { probe } = await openStream(playground.id);
    await probe.waitFor((m) => m.type === 'hello');

    const started = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/runs`, payload: {} });
    expect(started.statusCode).toBe(201);
    const { run } = started.json<{ run: string }>();
    const again = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/runs` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });

    await probe.waitFor(
      (m) => m.type === 'playground:updated' && m.playground.activeRun === null && m.playground.lastSeq > 0,
      15_000,
    );
    const detail = (await owner.inject(`/api/playgrounds/${playground.id}/runs/${run}`)).json();
    expect(detail).toMatchObject({ id: run, reason: 'completed', summary: { sent: 12, unattributed: 0 } });
    expect(detail.messages['worker-tcp'].slice(0, 3)).toEqual(['1', '2', '3']);
    expect([...detail.messages['worker-tcp'], ...detail.messages['worker-ipc']]).toHaveLength(12);
    expect(detail.endpoints.every((e: { actual: string | null }) => e.actual !== null)).toBe(true);
  });

  it('[H1] answers bad input with 400 and a coded, readable error', async () => {
    const { id } = await createPlayground();
    const cases: [string, string, unknown, string, RegExp][] = [
      ['PATCH', `/api/playgrounds/${id}/params`, { intervalMs: -5 }, 'PG_ERR_VALIDATION', /intervalMs must be >= 0/],
      [
        'PATCH',
        `/api/playgrounds/${id}/params`,
        { intervalMs: 1e9 },
        'PG_ERR_VALIDATION',
        /intervalMs must be <= 10000/,
      ],
      ['PATCH', `/api/playgrounds/${id}/params`, { intervalMs: '100' }, 'PG_ERR_VALIDATION', /must be integer/],
      ['PATCH', `/api/playgrounds/${id}/params`, { turbo: true }, 'PG_ERR_VALIDATION', /unknown field "turbo"/],
      [
        'POST',
        `/api/playgrounds/${id}/runs`,
        { params: { tasks: 10_000_000 } },
        'PG_ERR_VALIDATION',
        /tasks must be <= 1000000/,
      ],
      ['POST', '/api/playgrounds', { scenario: 'rm -rf /' }, 'PG_ERR_VALIDATION', /scenario must match/],
    ];
    for (const [method, url, payload, code, message] of cases) {
      const response = await owner.inject({ method: method as 'POST', url, payload: payload as object });
      expect(response.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(response.json().code).toBe(code);
      expect(response.json().message).toMatch(message);
    }
    const malformed = await owner.inject({
      method: 'PATCH',
      url: `/api/playgrounds/${id}/params`,
      headers: { 'content-type': 'application/json' },
      payload: '{"intervalMs": 10',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('PG_ERR_BAD_JSON');
    const missing = await owner.inject('/api/playgrounds/pg-nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    expect((await owner.inject('/api/nothing-here')).json()).toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    // Nothing changed
    expect((await owner.inject(`/api/playgrounds/${id}`)).json().params.intervalMs).toBe(100);
  });

  it('refuses a playground past the server-wide limit with 429', async () => {
    for (let i = 0; i < 3; i++) await createPlayground();
    const response = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: {} });
    expect(response.statusCode).toBe(429);
    expect(response.json()).toMatchObject({ code: 'PG_ERR_LIMIT' });
  });

  it('stops a run and refuses to stop when nothing runs', async () => {
    const { id } = await createPlayground({ params: { intervalMs: 5000 } });
    const idle = await owner.inject({ method: 'POST', url: `/api/playgrounds/${id}/runs/stop` });
    expect(idle.statusCode).toBe(409);
    expect(idle.json()).toMatchObject({ code: 'PG_ERR_NO_RUN' });
    const { socket, probe } = await openStream(id);
    socket.send(JSON.stringify({ type: 'subscribe' }));
    const { run } = (await owner.inject({ method: 'POST', url: `/api/playgrounds/${id}/runs` })).json<{
      run: string;
    }>();
    await probe.waitForEvent((e) => e.type === 'task:sent');
    const stop = await owner.inject({ method: 'POST', url: `/api/playgrounds/${id}/runs/stop` });
    expect(stop.statusCode).toBe(200);
    expect(stop.json()).toEqual({ run });
    const ended = await probe.waitForEvent((e) => e.type === 'run:ended', 3000);
    expect(ended.type === 'run:ended' && ended.reason).toBe('stopped');
  });
});

describe('WebSocket stream', () => {
  it('[S1][S2] says hello with the protocol version, then streams the run in batched frames', async () => {
    const { id } = await createPlayground();
    const { socket, probe } = await openStream(id);
    const hello = await probe.waitFor((m) => m.type === 'hello');
    expect(hello).toMatchObject({ protocolVersion: 1, playground: { id } });
    socket.send(JSON.stringify({ type: 'subscribe' }));
    socket.send(JSON.stringify({ type: 'run:start', params: { intervalMs: 0, drainMs: 300 } }));
    await probe.waitForEvent((e) => e.type === 'run:ended', 15_000);
    const events = probe.events();
    events.forEach((event, i) => expect(event.seq).toBe(i + 1));
    const frames = probe.messages.filter((m) => m.type === 'events');
    // Batched: far fewer frames than events.
    expect(frames.length).toBeLessThan(events.length / 2);
    const last = frames.at(-1)!;
    expect(last.type === 'events' && last.counters.sent).toBe(12);
  });

  it('[S2] replays the backlog to a late subscriber from sinceSeq', async () => {
    const { id } = await createPlayground({ params: { intervalMs: 0, drainMs: 200 } });
    const first = await openStream(id);
    first.socket.send(JSON.stringify({ type: 'subscribe' }));
    first.socket.send(JSON.stringify({ type: 'run:start' }));
    await first.probe.waitForEvent((e) => e.type === 'run:ended');
    const all = first.probe.events();
    const late = await openStream(id);
    late.socket.send(JSON.stringify({ type: 'subscribe', sinceSeq: 5 }));
    await late.probe.waitForEvent((e) => e.type === 'run:ended');
    expect(late.probe.events().map((e) => e.seq)).toEqual(all.slice(5).map((e) => e.seq));
  });

  it('[S3][W3][W1] answers malformed and hostile commands with errors while a run carries on unharmed', async () => {
    const { id } = await createPlayground({ params: { intervalMs: 100, drainMs: 800 } });
    const { socket, probe } = await openStream(id);
    socket.send(JSON.stringify({ type: 'subscribe' }));
    socket.send(JSON.stringify({ type: 'run:start' }));
    await probe.waitForEvent((e) => e.type === 'task:sent');
    const bad = [
      '{"type":"run:start"', // malformed JSON
      '{"type":"format-disk"}', // unknown command
      '{"type":"params:update","params":{"intervalMs":"fast"}}', // wrong type
      '{"type":"params:update","params":{"intervalMs":-1}}', // out of range
      '{"type":"run:start","params":{"tasks":99999999999}}', // absurd count
      '{"type":"run:start"}', // a second run while one is active
      'null',
    ];
    for (const text of bad) socket.send(text);
    socket.send(Buffer.from([0xff, 0x00]), { binary: true }); // [W1] a binary frame: PG_ERR_BAD_MESSAGE below
    const ended = await probe.waitForEvent((e) => e.type === 'run:ended', 15_000);
    const errors = probe.messages.filter((m) => m.type === 'error');
    expect(errors.map((e) => e.type === 'error' && e.code)).toEqual([
      'PG_ERR_BAD_JSON',
      'PG_ERR_UNKNOWN_COMMAND',
      'PG_ERR_VALIDATION',
      'PG_ERR_VALIDATION',
      'PG_ERR_VALIDATION',
      'PG_ERR_RUN_ACTIVE',
      'PG_ERR_BAD_MESSAGE',
      'PG_ERR_BAD_JSON',
    ]);
    for (const error of errors) expect(error.type === 'error' && error.message.length).toBeGreaterThan(10);
    expect(ended.type === 'run:ended' && ended.reason).toBe('completed');
    expect(ended.type === 'run:ended' && ended.summary).toMatchObject({ sent: 12, unattributed: 0 });
    expect((await owner.inject('/api/health')).json()).toMatchObject({ ok: true });
  });

  it('[S4] closes a stream for a playground that does not exist with 4404', async () => {
    const probe = new StreamProbe();
    let resolveClosed: (code: number) => void = () => {};
    const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
    const socket = await owner.injectWS('/api/playgrounds/pg-missing/stream', {
      probe,
      onInit: (ws) => ws.on('close', (code) => resolveClosed(code)),
    });
    sockets.push(socket);
    expect(await closed).toBe(4404);
    expect(probe.messages[0]).toMatchObject({ type: 'error', code: 'PG_ERR_NOT_FOUND' });
  });

  it('tells every watcher of a playground about parameter changes', async () => {
    const { id } = await createPlayground();
    const one = await openStream(id);
    const two = await openStream(id);
    one.socket.send(JSON.stringify({ type: 'params:update', params: { intervalMs: 250 } }));
    const update = await two.probe.waitFor((m) => m.type === 'playground:updated');
    expect(update.type === 'playground:updated' && update.playground.params.intervalMs).toBe(250);
  });
});
