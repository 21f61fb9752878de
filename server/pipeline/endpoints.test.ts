/**
 * Endpoints are a security boundary: hostile values are refused before libzmq sees them, and nothing outside
 * the runtime folder is created, deleted or stolen.
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { checkEndpoint, probeIpcPath } from './endpoints.ts';
import { CodedError } from '../errors.ts';
import { Playground } from './playground.ts';
import { collect, freePort, ofType, receivedBy, runEnded, testPolicy } from '../../test/helpers.ts';

let policy: ReturnType<typeof testPolicy>;
const cleanups: (() => unknown)[] = [];

beforeEach(() => {
  policy = testPolicy();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  policy.cleanup();
});

describe('checkEndpoint', () => {
  const refused: [string, RegExp][] = [
    ['tcp://127.0.0.1:70000', /out of range/],
    ['tcp://127.0.0.1:80', /out of range/],
    ['tcp://10.0.0.1:5555', /not allowed.*loopback/],
    ['tcp://*:5555', /not allowed/],
    ['tcp://0.0.0.0:5555', /not allowed/],
    ['tcp://127.0.0.1', /needs a host and a port/],
    ['ipc:///etc/passwd', /outside this playground's folder/],
    ['ipc://relative/path', /must be absolute/],
    ['ipc:///tmp/zpg-x/../../etc/shadow', /without ".."/],
    [`ipc:///tmp/${'a'.repeat(120)}`, /limit is 107/],
    ['inproc://../other', /inproc names/],
    ['udp://127.0.0.1:5555', /not supported/],
    ['127.0.0.1:5555', /not an endpoint/],
  ];
  for (const [endpoint, reason] of refused) {
    it(`refuses ${endpoint.slice(0, 40)}`, () => {
      expect(() => checkEndpoint(endpoint, policy)).toThrow(CodedError);
      expect(() => checkEndpoint(endpoint, policy)).toThrow(expect.objectContaining({ code: 'PG_ERR_ENDPOINT' }));
      expect(() => checkEndpoint(endpoint, policy)).toThrow(reason);
    });
  }

  it('accepts loopback tcp, ipc inside the runtime folder, configured ipc paths and inproc names', () => {
    expect(checkEndpoint('tcp://127.0.0.1:12345', policy)).toEqual({
      transport: 'tcp',
      host: '127.0.0.1',
      port: 12345,
    });
    expect(checkEndpoint('tcp://localhost:*', policy)).toEqual({ transport: 'tcp', host: 'localhost', port: '*' });
    expect(checkEndpoint(`ipc://${policy.runtimeDir}/demo`, policy)).toEqual({
      transport: 'ipc',
      path: `${policy.runtimeDir}/demo`,
    });
    const withTutorial = { ...policy, allowedIpcPaths: new Set(['/tmp/zmqdemo']) };
    expect(checkEndpoint('ipc:///tmp/zmqdemo', withTutorial)).toEqual({ transport: 'ipc', path: '/tmp/zmqdemo' });
    expect(checkEndpoint('inproc://workers', policy)).toEqual({ transport: 'inproc', name: 'workers' });
  });
});

describe('probeIpcPath', () => {
  it('tells a free path, a regular file and a live socket apart without touching them', async () => {
    const file = `${policy.runtimeDir}/probe`;
    expect(await probeIpcPath(file)).toBe('free');
    fs.writeFileSync(file, 'precious');
    expect(await probeIpcPath(file)).toBe('not-a-socket');
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    fs.rmSync(file);
    const server = net.createServer().listen(file);
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    expect(await probeIpcPath(file)).toBe('live-socket');
  });
});

describe('a run whose endpoints are taken', () => {
  async function runWith(endpointOverrides: Record<string, string>) {
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 20, drainMs: 800 },
      policy,
      endpointOverrides,
    });
    cleanups.push(() => playground.close());
    const events = collect(playground);
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    return { events, ended, bound: ofType(events, 'endpoint:bound').map((e) => e.endpoint) };
  }

  it('falls back to a free port when the tcp port is in use, says so, and still delivers everything', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const takenPort = (blocker.address() as net.AddressInfo).port;
    const { bound, ended, events } = await runWith({
      tcp: `tcp://127.0.0.1:${takenPort}`,
      ipc: `ipc://${policy.runtimeDir}/demo`,
    });
    const tcp = bound.find((e) => e.name === 'tcp')!;
    expect(tcp.requested).toBe(`tcp://127.0.0.1:${takenPort}`);
    expect(tcp.actual).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(tcp.actual).not.toBe(tcp.requested);
    expect(tcp.note).toMatch(new RegExp(`port ${takenPort} is in use`));
    expect(ended.reason).toBe('completed');
    expect(Object.values(receivedBy(events)).flat()).toHaveLength(12);
  });

  it('never binds over a regular file or a live socket at the ipc path: both are left as they were', async () => {
    const file = `${policy.runtimeDir}/demo`;
    fs.writeFileSync(file, 'precious');
    const first = await runWith({ tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${file}` });
    const ipc = first.bound.find((e) => e.name === 'ipc')!;
    expect(ipc.actual).not.toBe(`ipc://${file}`);
    expect(ipc.note).toMatch(/not a socket/);
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');
    expect(first.ended.reason).toBe('completed');
    fs.rmSync(file);

    const server = net.createServer().listen(file);
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const second = await runWith({ tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${file}` });
    expect(second.bound.find((e) => e.name === 'ipc')!.note).toMatch(/in use by another program/);
    expect(await probeIpcPath(file)).toBe('live-socket');
  });

  it('fails the run with a clear error, touching nothing, when an endpoint is hostile', async () => {
    const { events, ended } = await runWith({ tcp: 'tcp://127.0.0.1:70000', ipc: 'ipc:///etc/zmqdemo' });
    expect(ended.reason).toBe('failed');
    const [error] = ofType(events, 'node:error');
    expect(error).toMatchObject({ code: 'PG_ERR_ENDPOINT' });
    expect(error!.message).toMatch(/out of range/);
    expect(ofType(events, 'endpoint:bound')).toHaveLength(0);
    expect(fs.existsSync('/etc/zmqdemo')).toBe(false);
  });
});
