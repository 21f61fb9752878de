/**
 * ipc paths as a hostile visitor would set them, against the real server process and the real file system:
 * - a NUL byte (or any control character) in an endpoint is refused; it used to pass every check as one path
 *   (lstat threw on the NUL, so the probe said "free") while libzmq bound the path cut at the NUL, replacing a
 *   regular file by a socket;
 * - the ipc length limit is in UTF-8 bytes, as sun_path holds them;
 * - every path a playground binds, the sink's included, is claimed server-wide: a regular file at the sink's path
 *   survives a run, and a visitor cannot take another playground's ventilator or sink path (whose cleanup would
 *   then unlink the other's live socket).
 */
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, PlaygroundInfo, RunDetail } from '../shared/protocol/index.ts';
import { IPC_PATH_MAX, IpcClaims, probeIpcPath } from './pipeline/endpoints.ts';
import { testPolicy } from '../test/helpers.ts';
import { ApiClient, startServer, type LiveServer } from '../test/live-server.ts';

let policy: ReturnType<typeof testPolicy>;
let server: LiveServer;
/** Two visitors: each has its own cookies, so (once sessions exist) its own playgrounds. */
let victim: ApiClient;
let visitor: ApiClient;

beforeAll(async () => {
  policy = testPolicy();
  server = await startServer(policy.runtimeDir);
  victim = new ApiClient(server.base);
  visitor = new ApiClient(server.base);
});

afterAll(async () => {
  await server?.stop();
  policy?.cleanup();
});

async function createPipeline(client: ApiClient, params: Record<string, unknown> = {}): Promise<string> {
  const created = await client.request<PlaygroundInfo>('POST', '/api/playgrounds', {
    scenario: 'pipeline',
    params: { tasks: 20, ...params },
  });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

async function setIpc(client: ApiClient, playground: string, address: string) {
  return await client.request<ErrorBody>('PATCH', `/api/playgrounds/${playground}/endpoints/ipc`, { address });
}

async function runToEnd(client: ApiClient, playground: string): Promise<RunDetail> {
  const started = await client.request<{ run: string }>('POST', `/api/playgrounds/${playground}/runs`);
  expect(started.status, started.text).toBe(201);
  return await client.runEnded(playground, started.body.run);
}

/** Starts a run that keeps going, and resolves once its ventilator's ipc endpoint (and sink, if any) are bound. */
async function startLongRun(client: ApiClient, playground: string): Promise<{ run: string; detail: RunDetail }> {
  const started = await client.request<{ run: string }>('POST', `/api/playgrounds/${playground}/runs`, {
    params: { tasks: 1_000_000, intervalMs: 5 },
  });
  expect(started.status, started.text).toBe(201);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { body } = await client.request<RunDetail>('GET', `/api/playgrounds/${playground}/runs/${started.body.run}`);
    const info = await client.request<PlaygroundInfo>('GET', `/api/playgrounds/${playground}`);
    const ipcBound = body.endpoints?.find((e) => e.transport === 'ipc')?.actual;
    const sinkBound = !info.body.sink.enabled || info.body.sink.address;
    if (ipcBound && sinkBound && body.summary.sent > 0) return { run: started.body.run, detail: body };
    if (Date.now() > deadline) throw new Error(`run not under way after 15 s: ${JSON.stringify(body).slice(0, 400)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function expectRefused(answer: { status: number; body: ErrorBody; text: string }, key: string): void {
  expect(answer.status, answer.text).toBe(400);
  expect(answer.body.code).toBe('PG_ERR_ENDPOINT');
  expect(answer.body.text?.key).toBe(key);
}

function expectUntouched(file: string, content: string): void {
  const stat = fs.lstatSync(file);
  expect(stat.isFile(), `${file} is no longer a regular file`).toBe(true);
  expect(fs.readFileSync(file, 'utf8')).toBe(content);
}

describe('control characters in endpoints', () => {
  it('a NUL byte in an ipc path is refused, and the file it pointed at is left as it was', async () => {
    const existing = `${policy.runtimeDir}/existing.txt`;
    fs.writeFileSync(existing, 'a learner file\n');
    const playground = await createPipeline(visitor);
    const answer = await setIpc(visitor, playground, `ipc://${existing}\u0000x`);
    expectRefused(answer, 'endpoint.control');
    expect(answer.body.text?.params).toMatchObject({ char: 'U+0000', position: `ipc://${existing}`.length });
    // A run afterwards binds the playground's own path, not the file.
    const detail = await runToEnd(visitor, playground);
    expect(detail.reason).toBe('completed');
    expectUntouched(existing, 'a learner file\n');
  });

  it('is refused on every transport', async () => {
    const playground = await createPipeline(visitor);
    for (const [name, address] of [
      ['tcp', 'tcp://127.0.0.1:5555\n'],
      ['tcp', 'tcp://127.0.0.1\u0000:5555'],
      ['inproc', 'inproc://work\u0007ers'],
      ['ipc', `ipc://${policy.runtimeDir}/a\u001fb`],
      ['ipc', `ipc://${policy.runtimeDir}/a\u007fb`],
    ] as const) {
      const answer = await visitor.request<ErrorBody>('PATCH', `/api/playgrounds/${playground}/endpoints/${name}`, {
        address,
      });
      expectRefused(answer, 'endpoint.control');
    }
  });

  it('the ipc length limit counts UTF-8 bytes, not characters', async () => {
    const playground = await createPipeline(visitor);
    const prefix = `${policy.runtimeDir}/`;
    // Fewer than 107 characters, more than 107 bytes.
    const name = 'é'.repeat(Math.ceil((IPC_PATH_MAX - prefix.length) / 2) + 2);
    const file = `${prefix}${name}`;
    expect(file.length).toBeLessThanOrEqual(IPC_PATH_MAX);
    expect(Buffer.byteLength(file)).toBeGreaterThan(IPC_PATH_MAX);
    const answer = await setIpc(visitor, playground, `ipc://${file}`);
    expectRefused(answer, 'endpoint.ipcLength');
    expect(answer.body.text?.params).toMatchObject({ length: Buffer.byteLength(file), max: IPC_PATH_MAX });
    // Within the limit in bytes, non-ASCII names are fine and really bound.
    const short = `${prefix}sé.ipc`;
    expect((await setIpc(visitor, playground, `ipc://${short}`)).status).toBe(200);
    const detail = await runToEnd(visitor, playground);
    expect(detail.reason).toBe('completed');
    expect(detail.endpoints.find((e) => e.transport === 'ipc')?.actual).toBe(`ipc://${short}`);
  });
});

describe('the probe fails closed', () => {
  it('an ipc path that cannot be examined is not free', async () => {
    const file = `${policy.runtimeDir}/plain.txt`;
    fs.writeFileSync(file, 'x');
    // lstat answers ENOTDIR here, not ENOENT: nothing says the path is free.
    expect(await probeIpcPath(`${file}/below`)).toBe('unknown');
    expect(await probeIpcPath(`${policy.runtimeDir}/nothing-here`)).toBe('free');
  });
});

describe('ipc paths are claimed server-wide', () => {
  it('a regular file at the sink ipc path survives the run; the sink binds another path of its own', async () => {
    const playground = await createPipeline(victim, { tasks: 50 });
    expect(
      (await victim.request('PATCH', `/api/playgrounds/${playground}/sink`, { enabled: true, transport: 'ipc' }))
        .status,
    ).toBe(200);
    const sinkPath = `${policy.runtimeDir}/${playground}-sink.ipc`;
    fs.writeFileSync(sinkPath, 'not a socket\n');
    const detail = await runToEnd(victim, playground);
    expect(detail.reason).toBe('completed');
    expect(detail.summary.collected).toBe(50);
    expectUntouched(sinkPath, 'not a socket\n');
    const info = await victim.request<PlaygroundInfo>('GET', `/api/playgrounds/${playground}`);
    const bound = info.body.sink.address!.slice('ipc://'.length);
    expect(bound).toMatch(new RegExp(`^${policy.runtimeDir}/${playground}-sink-[0-9a-f]+\\.ipc$`));
    // Its own socket file was removed at the end of the run; the learner's file was not.
    expect(fs.existsSync(bound)).toBe(false);
    fs.rmSync(sinkPath);
  });

  it("a visitor cannot take another playground's ventilator or sink path, live or not", async () => {
    const target = await createPipeline(victim);
    expect(
      (await victim.request('PATCH', `/api/playgrounds/${target}/sink`, { enabled: true, transport: 'ipc' })).status,
    ).toBe(200);
    const attacker = await createPipeline(visitor);
    const ventPath = `${policy.runtimeDir}/${target}-vent.ipc`;
    const sinkPath = `${policy.runtimeDir}/${target}-sink.ipc`;

    // Before the target runs: its names are its own all the same (its peers started by hand use them).
    expectRefused(await setIpc(visitor, attacker, `ipc://${ventPath}`), 'endpoint.ipcOtherPlayground');
    expectRefused(await setIpc(visitor, attacker, `ipc://${sinkPath}`), 'endpoint.ipcOtherPlayground');

    // While it runs, with both sockets live.
    const { run, detail } = await startLongRun(victim, target);
    expect(detail.endpoints.find((e) => e.transport === 'ipc')?.actual).toBe(`ipc://${ventPath}`);
    expect(fs.lstatSync(ventPath).isSocket()).toBe(true);
    expect(fs.lstatSync(sinkPath).isSocket()).toBe(true);
    expectRefused(await setIpc(visitor, attacker, `ipc://${ventPath}`), 'endpoint.ipcOtherPlayground');
    expectRefused(await setIpc(visitor, attacker, `ipc://${sinkPath}`), 'endpoint.ipcOtherPlayground');

    // A neutral name the target holds is refused while it holds it, and free again once it let go.
    expect((await victim.request('POST', `/api/playgrounds/${target}/runs/stop`)).status).toBe(200);
    await victim.runEnded(target, run);
    expect(fs.existsSync(ventPath)).toBe(false);
    const neutral = `${policy.runtimeDir}/shared-name.ipc`;
    expect((await setIpc(victim, target, `ipc://${neutral}`)).status).toBe(200);
    const second = await startLongRun(victim, target);
    expect(second.detail.endpoints.find((e) => e.transport === 'ipc')?.actual).toBe(`ipc://${neutral}`);
    expectRefused(await setIpc(visitor, attacker, `ipc://${neutral}`), 'endpoint.ipcOtherPlayground');
    // The target's sockets were never replaced: its sink still collects what its workers finish.
    expect((await victim.request('POST', `/api/playgrounds/${target}/runs/stop`)).status).toBe(200);
    const ended = await victim.runEnded(target, second.run);
    expect(ended.summary.collected).toBeGreaterThan(0);
    expect((await setIpc(visitor, attacker, `ipc://${neutral}`)).status).toBe(200);
    const attackerRun = await runToEnd(visitor, attacker);
    expect(attackerRun.reason).toBe('completed');
    expect(server.alive()).toBe(true);
  });
});

describe('IpcClaims', () => {
  it('removes at release only the socket file its holder bound, never a file that replaced it', async () => {
    const claims = new IpcClaims();
    claims.register('pg-a');
    claims.register('pg-b');
    const file = `${policy.runtimeDir}/claimed.ipc`;
    expect(await claims.claim(file, 'pg-a')).toBeNull();
    expect(await claims.claim(file, 'pg-b')).toBe('other-playground');
    expect(await claims.claim(`${policy.runtimeDir}/pg-a-sink.ipc`, 'pg-b')).toBe('other-playground');

    // pg-a binds, then something else replaces its socket file: release leaves the newcomer alone.
    const first = net.createServer().listen(file);
    await new Promise((resolve) => first.once('listening', resolve));
    claims.bound(file, 'pg-a');
    fs.unlinkSync(file);
    const second = net.createServer().listen(file);
    await new Promise((resolve) => second.once('listening', resolve));
    claims.release(file, 'pg-b'); // not the holder: nothing happens
    claims.release(file, 'pg-a');
    expect(fs.lstatSync(file).isSocket()).toBe(true);
    expect(claims.holderOf(file)).toBeUndefined();
    await new Promise((resolve) => first.close(resolve));
    await new Promise((resolve) => second.close(resolve));

    // A path claimed but never bound is not removed either (it may be a stale socket someone else left).
    fs.writeFileSync(`${policy.runtimeDir}/other.txt`, 'x');
    expect(await claims.claim(`${policy.runtimeDir}/other.txt`, 'pg-a')).toBe('not-a-socket');
    claims.forget('pg-a');
    expect(await claims.claim(`${policy.runtimeDir}/pg-a-sink.ipc`, 'pg-b')).toBeNull();
  });
});
