/**
 * The topology routes through Fastify's inject: every change the page can make, and the refusals a person sees.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import type { PlaygroundInfo, WorkerInfo } from '../../shared/protocol/index.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance;
/** The visitor that owns the playground of these tests. */
let owner: Visitor;
let policy: ReturnType<typeof testPolicy>;
let id: string;

beforeEach(async () => {
  policy = testPolicy();
  app = await buildApp({ policy, staticDir: null, registry: { maxWorkers: 4 } });
  owner = new Visitor(app);
  const created = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } });
  id = created.json<PlaygroundInfo>().id;
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
});

const call = (method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, payload?: object) =>
  owner.inject({ method, url: `/api/playgrounds/${id}${url}`, ...(payload ? { payload } : {}) });

describe('workers', () => {
  it('adds, changes and removes workers, and reports them in the playground', async () => {
    const added = await call('POST', '/workers', {
      transport: 'ipc',
      mode: 'process',
      workMs: { min: 1, max: 100 },
      connections: 2,
    });
    expect(added.statusCode).toBe(201);
    const worker = added.json<WorkerInfo>();
    expect(worker).toMatchObject({
      transport: 'ipc',
      mode: 'process',
      workMs: { min: 1, max: 100 },
      connections: 2,
      state: 'idle',
    });

    const changed = await call('PATCH', `/workers/${worker.id}`, { transport: 'tcp', workMs: { min: 5, max: 5 } });
    expect(changed.json()).toMatchObject({ transport: 'tcp', workMs: { min: 5, max: 5 } });
    const info = (await call('GET', '')).json<PlaygroundInfo>();
    expect(info.workers.map((w) => w.id)).toEqual(['worker-1', 'worker-2', worker.id]);

    expect((await call('DELETE', `/workers/${worker.id}`)).statusCode).toBe(204);
    expect((await call('GET', '')).json<PlaygroundInfo>().workers.map((w) => w.id)).toEqual(['worker-1', 'worker-2']);
  });

  it('refuses bad workers with a message a person can act on', async () => {
    const cases: [object, number, string, RegExp][] = [
      [{ transport: 'udp' }, 400, 'PG_ERR_VALIDATION', /transport/],
      [
        { transport: 'inproc', mode: 'process' },
        400,
        'PG_ERR_VALIDATION',
        /inproc only works between sockets of one process/,
      ],
      [{ workMs: { min: 50, max: 10 } }, 400, 'PG_ERR_VALIDATION', /must not be above/],
      [{ connections: 9 }, 400, 'PG_ERR_VALIDATION', /connections must be <= 4/],
      [{ endpoint: 'tcp://10.0.0.1:5555' }, 400, 'PG_ERR_VALIDATION', /unknown field "endpoint"/],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await call('POST', '/workers', body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.json()).toMatchObject({ code });
      expect(response.json().message).toMatch(message);
    }
    await call('POST', '/workers', {});
    await call('POST', '/workers', {});
    const over = await call('POST', '/workers', {});
    expect(over.statusCode).toBe(429);
    expect(over.json().message).toMatch(/at most 4 workers/);
    expect((await call('PATCH', '/workers/worker-404', { transport: 'tcp' })).statusCode).toBe(404);
  });

  it('signals only process workers, and only during a run', async () => {
    const inProcess = await call('POST', '/workers/worker-1/signal', { signal: 'kill' });
    expect(inProcess.statusCode).toBe(400);
    expect(inProcess.json().message).toMatch(/inside the server's process/);
    const proc = (await call('POST', '/workers', { mode: 'process' })).json<WorkerInfo>();
    const idle = await call('POST', `/workers/${proc.id}/signal`, { signal: 'stop' });
    expect(idle.statusCode).toBe(409);
    expect(idle.json()).toMatchObject({ code: 'PG_ERR_NO_RUN' });
    const bad = await call('POST', `/workers/${proc.id}/signal`, { signal: 'SIGSEGV' });
    expect(bad.statusCode).toBe(400);
  });
});

describe('sink and socket options', () => {
  it('sets the sink between runs and refuses it during one', async () => {
    expect((await call('PATCH', '/sink', { enabled: true, transport: 'inproc' })).json()).toMatchObject({
      enabled: true,
      transport: 'inproc',
    });
    await call('PATCH', '/params', { intervalMs: 1000 });
    await call('POST', '/runs');
    const during = await call('PATCH', '/sink', { enabled: false });
    expect(during.statusCode).toBe(409);
    expect(during.json()).toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });
  });

  it('validates socket options and keeps what is valid', async () => {
    const set = await call('PATCH', '/options', {
      ventilator: { sendHighWaterMark: 5, sendBufferSize: 4096 },
      worker: { receiveHighWaterMark: 5 },
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({
      ventilator: { sendHighWaterMark: 5, sendBufferSize: 4096, linger: 1000 },
      worker: { receiveHighWaterMark: 5 },
    });
    for (const bad of [
      { ventilator: { sendHighWaterMark: -1 } },
      { worker: { receiveBufferSize: 1e12 } },
      { ventilator: { turbo: 1 } },
      { proxy: {} },
    ]) {
      const response = await call('PATCH', '/options', bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
      expect(response.json().code).toBe('PG_ERR_VALIDATION');
    }
    expect((await call('GET', '')).json<PlaygroundInfo>().options.ventilator.sendHighWaterMark).toBe(5);
  });
});

describe('endpoints from a visitor', () => {
  it('refuses hostile addresses with a clear error, creating and touching nothing', async () => {
    const fs = await import('node:fs');
    const regular = `${policy.runtimeDir}/notes.txt`;
    fs.writeFileSync(regular, 'keep me');
    const link = `${policy.runtimeDir}/link`;
    fs.symlinkSync('/etc/hostname', link);
    const cases: [string, string, RegExp][] = [
      ['tcp', 'tcp://127.0.0.1:70000', /out of range/],
      ['tcp', 'tcp://127.0.0.1:22', /out of range/],
      ['tcp', 'tcp://192.168.1.10:5555', /loopback only/],
      ['tcp', 'tcp://*:5555', /not allowed/],
      ['ipc', `ipc://${policy.runtimeDir}/../../etc/passwd`, /without "\.\."/],
      ['ipc', 'ipc:///tmp/zmqdemo', /outside this playground's folder/],
      ['ipc', 'ipc:///etc/zmq', /outside this playground's folder/],
      ['ipc', `ipc://${regular}`, /exists and is not a socket/],
      ['ipc', `ipc://${link}`, /exists and is not a socket/],
      ['ipc', 'tcp://127.0.0.1:5555', /needs a ipc:\/\/ address/],
    ];
    for (const [name, address, message] of cases) {
      const response = await call('PATCH', `/endpoints/${name}`, { address });
      expect(response.statusCode, address).toBe(400);
      expect(response.json(), address).toMatchObject({ code: 'PG_ERR_ENDPOINT' });
      expect(response.json().message, address).toMatch(message);
    }
    expect(fs.readFileSync(regular, 'utf8')).toBe('keep me');
    expect(fs.readlinkSync(link)).toBe('/etc/hostname');
    expect(fs.existsSync('/etc/zmq')).toBe(false);
    const info = (await call('GET', '')).json<PlaygroundInfo>();
    expect(info.endpoints.find((e) => e.name === 'tcp')!.requested).toBe('tcp://127.0.0.1:*');
  });

  it('accepts a loopback port, an ipc name in the runtime folder, and scopes inproc names', async () => {
    const tcp = await call('PATCH', '/endpoints/tcp', { address: 'tcp://127.0.0.1:23456' });
    expect(tcp.json()).toMatchObject({ requested: 'tcp://127.0.0.1:23456', actual: null });
    const ipc = await call('PATCH', '/endpoints/ipc', { address: `ipc://${policy.runtimeDir}/class-demo` });
    expect(ipc.json()).toMatchObject({ requested: `ipc://${policy.runtimeDir}/class-demo` });
    const inproc = await call('PATCH', '/endpoints/inproc', { address: 'inproc://shared' });
    expect(inproc.json().requested).toBe(`inproc://${id}-shared`);
  });

  it('an inproc endpoint named "sink" and a sink on inproc both bind: the sink\'s own name is never a visitor\'s', async () => {
    // Before, the sink's inproc name was `<id>-sink`, the very name `inproc://sink` becomes: the sink took it and
    // the ventilator's endpoint stayed unbound, with nothing to say why.
    expect((await call('PATCH', '/endpoints/inproc', { address: 'inproc://sink' })).statusCode).toBe(200);
    expect((await call('PATCH', '/sink', { enabled: true, transport: 'inproc' })).statusCode).toBe(200);
    expect((await call('POST', '/workers', { transport: 'inproc' })).statusCode).toBe(201);
    expect((await call('POST', '/runs')).statusCode).toBe(201);
    const deadline = Date.now() + 10_000;
    let info = (await call('GET', '')).json<PlaygroundInfo>();
    const bound = (i: PlaygroundInfo) =>
      i.endpoints.find((e) => e.name === 'inproc')!.actual !== null && i.sink.address;
    while (!bound(info) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      info = (await call('GET', '')).json<PlaygroundInfo>();
    }
    expect(info.endpoints.find((e) => e.name === 'inproc')!.actual).toBe(`inproc://${id}-sink`);
    expect(info.sink.address).toMatch(/^inproc:\/\//);
    expect(info.sink.address).not.toBe(`inproc://${id}-sink`);
    await call('POST', '/runs/stop');
  });
});

describe('idle playgrounds', () => {
  it('are closed after the idle time, and their links then say so', async () => {
    const closed = await app.playgrounds.closeIdle(Date.now() + 31 * 60_000);
    expect(closed).toBe(1);
    const gone = await call('GET', '');
    expect(gone.statusCode).toBe(404);
    expect(gone.json().message).toMatch(/closed after being idle/);
  });
});
