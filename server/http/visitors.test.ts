/**
 * Issue 9: one visitor cannot see or touch another's playgrounds and runs; sharing is explicit (watch and invite
 * links, public runs); requests another site could make (foreign Origin or Host, text/plain bodies) are refused.
 * Each visitor is a Visitor (test/helpers.ts) with its own session cookie, as two browsers would be.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { RunStore, SCHEMA_VERSION } from '../recorder/store.ts';
import type { PlaygroundInfo, RecordedRunDetail, RunPage } from '../../shared/protocol/index.ts';
import { StreamProbe, Visitor } from '../../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../../test/app-harness.ts';

let app: FastifyInstance;
let policy: TutorialApp['policy'];
let owner: Visitor;
let stranger: Visitor;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  ({ app, policy } = await openTutorialApp({ store: ':memory:' }));
  await app.ready();
  owner = new Visitor(app);
  stranger = new Visitor(app);
});
afterEach(() => closeTutorialApp({ app, policy }, sockets));

async function createPlayground(
  visitor: Visitor,
  params: object = { intervalMs: 0, drainMs: 200 },
): Promise<PlaygroundInfo> {
  const response = await visitor.inject({
    method: 'POST',
    url: '/api/playgrounds',
    payload: { scenario: 'tutorial', params },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<PlaygroundInfo>();
}

/** Polls `condition` (bounded, every 20 ms) until it gives a value. */
async function until<T>(condition: () => Promise<T | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A finished, recorded run of `visitor`'s playground `id`. */
async function recordedRun(visitor: Visitor, id: string): Promise<RecordedRunDetail> {
  const started = await visitor.inject({ method: 'POST', url: `/api/playgrounds/${id}/runs` });
  expect(started.statusCode, started.body).toBe(201);
  const { run } = started.json<{ run: string }>();
  return await until(
    async () => {
      const response = await visitor.inject(`/api/runs/${run}`);
      return response.statusCode === 200 && response.json<RecordedRunDetail>().status === 'ended'
        ? response.json<RecordedRunDetail>()
        : null;
    },
    `run ${run} recorded to its end`,
    15_000,
  );
}

async function openStream(visitor: Visitor, id: string, headers: Record<string, string | undefined> = {}) {
  const probe = new StreamProbe();
  let closedWith: (code: number) => void = () => {};
  const closed = new Promise<number>((resolve) => (closedWith = resolve));
  const socket = await visitor.injectWS(`/api/playgrounds/${id}/stream`, {
    probe,
    headers,
    onInit: (ws) => ws.on('close', (code) => closedWith(code)),
  });
  sockets.push(socket);
  return { socket, probe, closed };
}

async function links(
  visitor: Visitor,
  id: string,
): Promise<{ watch: string; invite: string; watchToken: string; inviteToken: string }> {
  const response = await visitor.inject(`/api/playgrounds/${id}/links`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

async function join(visitor: Visitor, id: string, token: string) {
  return await visitor.inject({ method: 'POST', url: `/api/playgrounds/${id}/join`, payload: { token } });
}

describe('a session cookie per visitor, and long ids', () => {
  it('sets an HttpOnly, SameSite=Lax cookie of 256 random bits on the first request, and keeps it', async () => {
    const first = await app.inject('/api/health');
    const cookie = [first.headers['set-cookie']].flat()[0]!;
    // 32 random bytes (43 characters), then their signature (22): a session this server issued (http/session.ts).
    expect(cookie).toMatch(/^zpg_session=[A-Za-z0-9_-]{65}; /);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/);
    const again = await app.inject({ url: '/api/health', headers: { cookie: cookie.split(';')[0]! } });
    expect(again.headers['set-cookie']).toBeUndefined();
  });

  it('marks the cookie Secure behind a trusted proxy that says https', async () => {
    const proxied = await buildApp({ policy, staticDir: null, store: null, trustProxy: true });
    try {
      const response = await proxied.inject({ url: '/api/health', headers: { 'x-forwarded-proto': 'https' } });
      expect([response.headers['set-cookie']].flat()[0]).toMatch(/; Secure/);
    } finally {
      await proxied.close();
    }
  });

  it('gives playgrounds and runs ids of 128 random bits, which still make valid ipc paths and inproc names', async () => {
    const plain = await buildApp({ policy, staticDir: null, store: ':memory:' }); // the scenario's own endpoints
    try {
      const visitor = new Visitor(plain);
      const created = await visitor.inject({
        method: 'POST',
        url: '/api/playgrounds',
        payload: { scenario: 'pipeline', params: { tasks: 10, drainMs: 200 } },
      });
      const { id } = created.json<PlaygroundInfo>();
      expect(id).toMatch(/^pg-[A-Za-z0-9_-]{22}$/);
      // The ventilator binds inproc only for a worker on it.
      expect(
        (
          await visitor.inject({
            method: 'POST',
            url: `/api/playgrounds/${id}/workers`,
            payload: { transport: 'inproc' },
          })
        ).statusCode,
      ).toBe(201);
      const run = await recordedRun(visitor, id);
      expect(run.id).toMatch(/^run-[A-Za-z0-9_-]{22}$/);
      expect(run.summary).toMatchObject({ sent: 10, lost: 0 });
      const detail = (await visitor.inject(`/api/playgrounds/${id}/runs/${run.id}`)).json<{
        endpoints: { name: string; actual: string | null }[];
      }>();
      expect(detail.endpoints.find((e) => e.name === 'ipc')?.actual).toBe(`ipc://${policy.runtimeDir}/${id}-vent.ipc`);
      expect(detail.endpoints.find((e) => e.name === 'inproc')?.actual).toBe(`inproc://${id}-vent`);
    } finally {
      await plain.close();
    }
  });
});

describe('a stranger (another cookie)', () => {
  it("cannot list, read, drive or delete the owner's playground over HTTP", async () => {
    const playground = await createPlayground(owner, { intervalMs: 5000 });
    const { id } = playground;
    expect((await stranger.inject('/api/playgrounds')).json()).toEqual([]);
    expect((await owner.inject('/api/playgrounds')).json<PlaygroundInfo[]>().map((p) => p.id)).toEqual([id]);

    const attempts: [string, string, object?][] = [
      ['GET', ''],
      ['GET', '/runs'],
      ['GET', '/links'],
      ['POST', '/runs'],
      ['POST', '/runs/stop'],
      ['PATCH', '/params', { intervalMs: 1 }],
      ['POST', '/workers', {}],
      ['PATCH', '/workers/worker-tcp', { workMs: { min: 5, max: 5 } }],
      ['DELETE', '/workers/worker-tcp'],
      ['PATCH', '/endpoints/ipc', { address: `ipc://${policy.runtimeDir}/mine` }],
      ['POST', '/lesson', { lesson: 'tutorial', stage: 'solution' }],
      ['POST', '/undo'],
      ['DELETE', ''],
    ];
    for (const [method, path, payload] of attempts) {
      const response = await stranger.inject({
        method: method as 'GET',
        url: `/api/playgrounds/${id}${path}`,
        ...(payload ? { payload } : {}),
      });
      // As for an id that does not exist: the stranger learns nothing about it.
      expect(response.statusCode, `${method} ${path}: ${response.body}`).toBe(404);
      expect(response.json().code).toBe('PG_ERR_NOT_FOUND');
    }
    // A watch token of another playground (its own) opens nothing here.
    const own = await createPlayground(stranger);
    expect((await join(stranger, id, (await links(stranger, own.id)).watchToken)).statusCode).toBe(404);

    const after = (await owner.inject(`/api/playgrounds/${id}`)).json<PlaygroundInfo>();
    expect(after.params.intervalMs).toBe(5000);
    expect(after.workers.map((w) => w.id)).toEqual(playground.workers.map((w) => w.id));
    expect(after.activeRun).toBeNull();
  });

  it("[S5] cannot stream or command the owner's playground over the WebSocket", async () => {
    const { id } = await createPlayground(owner, { intervalMs: 5000 });
    const { socket, probe, closed } = await openStream(stranger, id);
    socket.send(JSON.stringify({ type: 'run:start' }));
    expect(await closed).toBe(4404);
    expect(probe.messages).toHaveLength(1);
    expect(probe.messages[0]).toMatchObject({ type: 'error', code: 'PG_ERR_NOT_FOUND' });
    expect((await owner.inject(`/api/playgrounds/${id}`)).json<PlaygroundInfo>().activeRun).toBeNull();
  });

  it("cannot list, read, export, rename or delete the owner's recorded runs", async () => {
    const { id } = await createPlayground(owner);
    const run = await recordedRun(owner, id);
    expect((await owner.inject('/api/runs')).json<RunPage>()).toMatchObject({
      runs: [{ id: run.id, owned: true, public: false }],
      total: 1,
    });
    expect((await stranger.inject('/api/runs')).json<RunPage>()).toMatchObject({ runs: [], total: 0 });
    for (const [method, path, payload] of [
      ['GET', ''],
      ['GET', '/events'],
      ['GET', '/counters?t=0'],
      ['GET', '/export.json'],
      ['GET', '/export.csv'],
      ['PATCH', '', { name: 'mine now' }],
      ['PATCH', '', { public: true }],
      ['DELETE', ''],
    ] as [string, string, object?][]) {
      const response = await stranger.inject({
        method: method as 'GET',
        url: `/api/runs/${run.id}${path}`,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, `${method} ${path}: ${response.body}`).toBe(404);
      expect(response.json().code).toBe('PG_ERR_NOT_FOUND');
    }
    expect((await owner.inject(`/api/runs/${run.id}`)).json()).toMatchObject({ name: run.name, public: false });
  });

  it('owns what it imports, and only that', async () => {
    const { id } = await createPlayground(owner);
    const run = await recordedRun(owner, id);
    const file = (await owner.inject(`/api/runs/${run.id}/export.json`)).body;
    const imported = await stranger.inject({
      method: 'POST',
      url: '/api/runs/import',
      headers: { 'content-type': 'application/json' },
      payload: file,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const copy = imported.json<RecordedRunDetail>();
    expect(copy).toMatchObject({ owned: true, source: 'imported' });
    expect((await stranger.inject('/api/runs')).json<RunPage>().runs.map((r) => r.id)).toEqual([copy.id]);
    expect((await owner.inject('/api/runs')).json<RunPage>().runs.map((r) => r.id)).toEqual([run.id]);
    expect((await owner.inject(`/api/runs/${copy.id}`)).statusCode).toBe(404);
  });
});

describe('sharing', () => {
  it('[S5] a watch link gives a read-only view: the playground live and its runs, no commands', async () => {
    const { id } = await createPlayground(owner, { intervalMs: 20, drainMs: 200 });
    const ownerLinks = await links(owner, id);
    expect(ownerLinks.watch).toBe(`http://localhost/?p=${id}&watch=${ownerLinks.watchToken}`);
    expect(ownerLinks.watchToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(ownerLinks.inviteToken).not.toBe(ownerLinks.watchToken);

    const joined = await join(stranger, id, ownerLinks.watchToken);
    expect(joined.statusCode, joined.body).toBe(200);
    expect(joined.json()).toMatchObject({ role: 'watcher', playground: { id } });
    expect((await stranger.inject(`/api/playgrounds/${id}/access`)).json()).toEqual({
      playground: id,
      role: 'watcher',
    });
    expect((await stranger.inject('/api/playgrounds')).json<PlaygroundInfo[]>().map((p) => p.id)).toEqual([id]);

    // Live: the watcher's stream sees the run the owner starts; its own commands are refused.
    const watcher = await openStream(stranger, id);
    watcher.socket.send(JSON.stringify({ type: 'subscribe' }));
    await watcher.probe.waitFor((m) => m.type === 'hello');
    watcher.socket.send(JSON.stringify({ type: 'params:update', params: { intervalMs: 1 } }));
    const refused = await watcher.probe.waitFor((m) => m.type === 'error');
    expect(refused).toMatchObject({ type: 'error', code: 'PG_ERR_FORBIDDEN', command: 'params:update' });
    expect(refused.type === 'error' && refused.text?.key).toBe('access.forbidden');

    const run = await recordedRun(owner, id);
    await watcher.probe.waitForEvent((e) => e.type === 'run:ended' && e.run === run.id);
    for (const type of ['run:start', 'run:stop', 'worker:add']) {
      watcher.socket.send(JSON.stringify(type === 'worker:add' ? { type, worker: {} } : { type }));
    }
    await watcher.probe.waitFor(() => watcher.probe.messages.filter((m) => m.type === 'error').length === 4);
    expect(watcher.probe.messages.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.code)).toEqual(
      Array(4).fill('PG_ERR_FORBIDDEN'),
    );

    // Its runs are readable (and listed) but not the watcher's to change.
    expect((await stranger.inject('/api/runs')).json<RunPage>().runs).toMatchObject([{ id: run.id, owned: false }]);
    expect((await stranger.inject(`/api/runs/${run.id}/events`)).statusCode).toBe(200);
    expect((await stranger.inject(`/api/runs/${run.id}/export.json`)).statusCode).toBe(200);

    for (const [method, url, payload] of [
      ['POST', `/api/playgrounds/${id}/runs`],
      ['PATCH', `/api/playgrounds/${id}/params`, { intervalMs: 1 }],
      ['POST', `/api/playgrounds/${id}/workers`, {}],
      ['DELETE', `/api/playgrounds/${id}`],
      ['GET', `/api/playgrounds/${id}/links`],
      ['PATCH', `/api/runs/${run.id}`, { name: 'renamed' }],
      ['PATCH', `/api/runs/${run.id}`, { public: true }],
      ['DELETE', `/api/runs/${run.id}`],
    ] as [string, string, object?][]) {
      const response = await stranger.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(403);
      expect(response.json().code).toBe('PG_ERR_FORBIDDEN');
    }
    const info = (await owner.inject(`/api/playgrounds/${id}`)).json<PlaygroundInfo>();
    expect(info.params.intervalMs).toBe(20);
    expect((await owner.inject(`/api/runs/${run.id}`)).json().name).toBe(run.name);
  });

  it('an invite link lets another visitor drive, but not delete the playground or share it', async () => {
    const { id } = await createPlayground(owner, { intervalMs: 0, drainMs: 200 });
    const joined = await join(stranger, id, (await links(owner, id)).inviteToken);
    expect(joined.json()).toMatchObject({ role: 'driver' });
    // A watch token later does not lower the role.
    expect((await join(stranger, id, (await links(owner, id)).watchToken)).json()).toMatchObject({ role: 'driver' });

    expect(
      (await stranger.inject({ method: 'PATCH', url: `/api/playgrounds/${id}/params`, payload: { intervalMs: 1 } }))
        .statusCode,
    ).toBe(200);
    const added = await stranger.inject({ method: 'POST', url: `/api/playgrounds/${id}/workers`, payload: {} });
    expect(added.statusCode, added.body).toBe(201);
    const driver = await openStream(stranger, id);
    driver.socket.send(JSON.stringify({ type: 'subscribe' }));
    driver.socket.send(JSON.stringify({ type: 'run:start' }));
    const ended = await driver.probe.waitForEvent((e) => e.type === 'run:ended', 15_000);
    expect(ended.type === 'run:ended' && ended.reason).toBe('completed');
    expect(driver.probe.messages.filter((m) => m.type === 'error')).toEqual([]);

    expect((await stranger.inject({ method: 'DELETE', url: `/api/playgrounds/${id}` })).statusCode).toBe(403);
    expect((await stranger.inject(`/api/playgrounds/${id}/links`)).statusCode).toBe(403);
    // The driver's runs of this playground are still the owner's.
    const run = ended.run;
    await until(
      async () => (await owner.inject(`/api/runs/${run}`)).json<RecordedRunDetail>().status === 'ended',
      'the run recorded',
      10_000,
    );
    expect((await owner.inject(`/api/runs/${run}`)).json()).toMatchObject({ owned: true });
    expect((await stranger.inject({ method: 'DELETE', url: `/api/runs/${run}` })).statusCode).toBe(403);
    expect((await owner.inject({ method: 'DELETE', url: `/api/playgrounds/${id}` })).statusCode).toBe(204);
  });

  it('a wrong or missing token is answered as an unknown playground', async () => {
    const { id } = await createPlayground(owner);
    for (const token of ['x', (await links(owner, id)).watchToken.slice(1) + 'A']) {
      const response = await join(stranger, id, token);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'PG_ERR_NOT_FOUND', text: { key: 'access.badToken' } });
    }
    expect((await stranger.inject(`/api/playgrounds/${id}`)).statusCode).toBe(404);
  });

  it('a public run is readable by anyone with its id, read-only, and listed for nobody else', async () => {
    const { id } = await createPlayground(owner);
    const run = await recordedRun(owner, id);
    const published = await owner.inject({ method: 'PATCH', url: `/api/runs/${run.id}`, payload: { public: true } });
    expect(published.json()).toMatchObject({ id: run.id, public: true, owned: true });

    expect((await stranger.inject(`/api/runs/${run.id}`)).json()).toMatchObject({
      id: run.id,
      public: true,
      owned: false,
    });
    expect((await stranger.inject(`/api/runs/${run.id}/events`)).statusCode).toBe(200);
    expect((await stranger.inject(`/api/runs/${run.id}/export.csv`)).statusCode).toBe(200);
    expect((await stranger.inject('/api/runs')).json<RunPage>().runs).toEqual([]);
    for (const [method, payload] of [['PATCH', { name: 'mine' }], ['PATCH', { public: false }], ['DELETE']] as [
      string,
      object?,
    ][]) {
      const response = await stranger.inject({
        method: method as 'GET',
        url: `/api/runs/${run.id}`,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'PG_ERR_FORBIDDEN', text: { key: 'access.runOwnerOnly' } });
    }
    // The playground itself stays private.
    expect((await stranger.inject(`/api/playgrounds/${id}`)).statusCode).toBe(404);
    // Private again: gone for the stranger.
    await owner.inject({ method: 'PATCH', url: `/api/runs/${run.id}`, payload: { public: false } });
    expect((await stranger.inject(`/api/runs/${run.id}`)).statusCode).toBe(404);
  });
});

describe('requests another site could make', () => {
  it('[S5] refuses a foreign Origin on the WebSocket handshake and on state-changing requests', async () => {
    const { id } = await createPlayground(owner, { intervalMs: 5000 });
    await expect(openStream(owner, id, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(openStream(owner, id, { origin: 'null' })).rejects.toThrow(/403/);
    // The page's own origin (and none, as curl sends) are fine.
    const own = await openStream(owner, id, { origin: 'http://localhost' });
    await own.probe.waitFor((m) => m.type === 'hello');
    const none = await openStream(owner, id, { origin: undefined });
    await none.probe.waitFor((m) => m.type === 'hello');

    for (const headers of [
      { origin: 'http://evil.example' },
      { origin: 'http://localhost:9999' },
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      for (const [method, url, payload] of [
        ['POST', '/api/playgrounds', undefined],
        ['POST', `/api/playgrounds/${id}/runs`, undefined],
        ['POST', `/api/playgrounds/${id}/workers`, {}],
        ['DELETE', `/api/playgrounds/${id}`, undefined],
      ] as [string, string, object | undefined][]) {
        const response = await owner.inject({
          method: method as 'POST',
          url,
          headers,
          ...(payload ? { payload } : {}),
        });
        expect(response.statusCode, `${method} ${url} ${JSON.stringify(headers)}`).toBe(403);
        expect(response.json()).toMatchObject({ code: 'PG_ERR_FORBIDDEN', text: { key: 'request.foreignOrigin' } });
      }
    }
    const info = (await owner.inject(`/api/playgrounds/${id}`)).json<PlaygroundInfo>();
    expect(info.activeRun).toBeNull();
    expect((await owner.inject('/api/playgrounds')).json()).toHaveLength(1);
    // Same origin passes.
    const sameOrigin = await owner.inject({
      method: 'POST',
      url: `/api/playgrounds/${id}/workers`,
      headers: { origin: 'http://localhost' },
      payload: {},
    });
    expect(sameOrigin.statusCode, sameOrigin.body).toBe(201);
  });

  it('refuses text/plain and form bodies (no preflight needed cross-site) with 415', async () => {
    const { id } = await createPlayground(owner, { intervalMs: 5000 });
    const cases: [string, string, string][] = [
      ['/api/playgrounds', 'text/plain', '{"scenario":"pipeline"}'],
      [`/api/playgrounds/${id}/runs`, 'text/plain;charset=UTF-8', '{}'],
      [`/api/playgrounds/${id}/runs/stop`, 'text/plain', 'x'],
      [`/api/playgrounds/${id}/workers`, 'application/x-www-form-urlencoded', 'a=b'],
      ['/api/runs/import', 'text/plain', '{"format":"zmq-pipeline-playground/run"}'],
      ['/api/runs/import', 'multipart/form-data; boundary=x', '--x--'],
    ];
    for (const [url, type, payload] of cases) {
      const response = await owner.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
      expect(response.statusCode, `${url} ${type}: ${response.body}`).toBe(415);
      expect(response.json()).toMatchObject({ code: 'PG_ERR_BAD_MESSAGE', text: { key: 'request.mediaType' } });
    }
    expect((await owner.inject('/api/playgrounds')).json()).toHaveLength(1);
    expect((await owner.inject(`/api/playgrounds/${id}`)).json<PlaygroundInfo>().activeRun).toBeNull();
    expect((await owner.inject('/api/runs')).json<RunPage>().total).toBe(0);
  });

  it('[S5] refuses a Host it does not answer as (DNS rebinding), over HTTP and the WebSocket', async () => {
    const { id } = await createPlayground(owner);
    for (const host of ['evil.example', 'evil.example:8080', 'localhost.evil.example', '127.0.0.1.evil.example']) {
      const response = await owner.inject({ url: `/api/playgrounds/${id}`, headers: { host } });
      expect(response.statusCode, host).toBe(403);
      expect(response.json()).toMatchObject({ code: 'PG_ERR_FORBIDDEN', text: { key: 'request.foreignHost' } });
    }
    await expect(openStream(owner, id, { host: 'evil.example:80', origin: 'http://evil.example:80' })).rejects.toThrow(
      /403/,
    );
    for (const host of ['localhost:8080', '127.0.0.1:9', '[::1]:8080', 'app.localhost']) {
      expect((await owner.inject({ url: `/api/playgrounds/${id}`, headers: { host } })).statusCode, host).toBe(200);
    }
    // A name the operator configured.
    const named = await buildApp({
      policy,
      staticDir: null,
      store: null,
      site: { allowedHosts: ['class.example.org'], allowedOrigins: ['https://course.example.org'] },
    });
    try {
      expect((await named.inject({ url: '/api/health', headers: { host: 'class.example.org' } })).statusCode).toBe(200);
      expect((await named.inject({ url: '/api/health', headers: { host: 'other.example.org' } })).statusCode).toBe(403);
      const fromCourse = await named.inject({
        method: 'POST',
        url: '/api/playgrounds',
        headers: { host: 'class.example.org', origin: 'https://course.example.org' },
        payload: {},
      });
      expect(fromCourse.statusCode).toBe(201);
    } finally {
      await named.close();
    }
  });

  it('holds on a real listening server with a real WebSocket client', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const { id } = await createPlayground(owner);
    const cookie = await owner.session();
    const statusOf = (origin: string, host = `127.0.0.1:${port}`) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`${address.replace('http', 'ws')}/api/playgrounds/${id}/stream`, {
          headers: { cookie: cookie!, host },
          origin,
        });
        sockets.push(socket);
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('open', () => resolve(101));
        socket.on('error', reject);
      });
    expect(await statusOf('http://evil.example')).toBe(403);
    expect(await statusOf(`http://evil.example:${port}`, `evil.example:${port}`)).toBe(403);
    expect(await statusOf(`http://127.0.0.1:${port}`)).toBe(101);
    const plain = await fetch(`${address}/api/playgrounds`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
    const foreign = await fetch(`${address}/api/playgrounds`, {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });
});

describe('recorded runs from before owners (schema 2)', () => {
  it('keeps them in the file, readable by nobody', async () => {
    const file = path.join(policy.runtimeDir, 'old.db');
    const before = RunStore.open(file);
    before.insertRun({
      id: 'run-old1',
      playground: 'pg-old1',
      scenario: 'tutorial',
      params: { intervalMs: 0, builtInWorkers: true, tasks: 1, payloadBytes: 0, drainMs: 0, syncStart: false },
      endpoints: [],
      workers: [],
      startedAt: 1,
    });
    before.close();
    // Back to what a version-2 server wrote: no owner, no public.
    const raw = new Database(file);
    raw.exec(
      'DROP INDEX runs_owner; ALTER TABLE runs DROP COLUMN owner; ALTER TABLE runs DROP COLUMN public; PRAGMA user_version = 2;',
    );
    raw.close();

    const store = RunStore.open(file);
    const old = await buildApp({ policy, staticDir: null, store });
    try {
      expect(store.listRuns().runs.map((r) => r.id)).toEqual(['run-old1']);
      expect(store.accessOf('run-old1')).toEqual({ owner: null, playground: 'pg-old1', public: false });
      const visitor = new Visitor(old);
      expect((await visitor.inject('/api/runs')).json<RunPage>()).toMatchObject({ runs: [], total: 0 });
      expect((await visitor.inject('/api/runs/run-old1')).statusCode).toBe(404);
    } finally {
      await old.close();
      store.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });
});
