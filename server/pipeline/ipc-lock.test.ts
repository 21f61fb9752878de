/**
 * ipc paths are claimed across processes (two servers on one machine). Inside one server IpcClaims held a path
 * race-free, but two server processes starting a tutorial at the same moment both found `/tmp/zmqdemo` free, and
 * the second bind took the path from the first (libzmq unlinks and rebinds an ipc path): one visitor's tasks
 * reached another visitor's workers. Now a claim takes a lock file beside the path, holding its pid.
 * Real processes, real files, real sockets: test/ipc-claimer.ts is the other process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { IpcClaims, ipcLockPath } from './endpoints.ts';
import { Playground } from './playground.ts';
import { cleanLeftovers } from '../workers/leftovers.ts';
import { collect, freePort, ofType, receivedBy, runEnded, testPolicy } from '../../test/helpers.ts';

let policy: ReturnType<typeof testPolicy>;
const cleanups: (() => unknown)[] = [];

beforeEach(() => {
  policy = testPolicy();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  policy.cleanup();
});

/** Another process with its own IpcClaims; `send` resolves with its answer to one command. */
interface Claimer {
  pid: number;
  send(command: string): Promise<string>;
}

async function startClaimer(): Promise<Claimer> {
  const child: ChildProcess = spawn('node_modules/.bin/tsx', ['test/ipc-claimer.ts'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanups.push(async () => {
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  const waiting: ((line: string) => void)[] = [];
  const lines = readline.createInterface({ input: child.stdout! });
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`claimer: no answer to ${what} within 30 s`)), 30_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const ready = /^ready (\d+)$/.exec(await next('start'));
  expect(ready).not.toBeNull();
  return {
    pid: Number(ready![1]),
    send(command) {
      const answer = next(command);
      child.stdin!.write(`${command}\n`);
      return answer;
    },
  };
}

/** The pid of a process that has exited (and been reaped): nobody has it until the kernel reuses it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('ipc claims across processes', () => {
  it('two processes claiming the same path at the same moment never both get it (20 rounds)', async () => {
    const [first, second] = await Promise.all([startClaimer(), startClaimer()]);
    for (let round = 0; round < 20; round++) {
      const file = `${policy.runtimeDir}/demo-${round % 2}`;
      const answers = await Promise.all([first.send(`claim ${file}`), second.send(`claim ${file}`)]);
      const winners = answers.filter((answer) => answer === `claimed ${file} null`);
      expect(winners, `round ${round}: ${answers.join(' | ')}`).toHaveLength(1);
      // The loser is refused as the page already says for a path another program holds.
      expect(answers.find((answer) => answer !== `claimed ${file} null`)).toBe(`claimed ${file} live-socket`);
      expect(fs.readFileSync(ipcLockPath(file), 'utf8').trim()).toBe(
        String(answers[0] === `claimed ${file} null` ? first.pid : second.pid),
      );
      await Promise.all([first.send(`release ${file}`), second.send(`release ${file}`)]);
      expect(fs.existsSync(ipcLockPath(file))).toBe(false);
    }
  });

  it('a path another live process holds is refused here, and is free once it lets go', async () => {
    const other = await startClaimer();
    const file = `${policy.runtimeDir}/demo`;
    expect(await other.send(`claim ${file}`)).toBe(`claimed ${file} null`);
    const claims = new IpcClaims();
    claims.register('pg-a');
    expect(await claims.claim(file, 'pg-a')).toBe('live-socket');
    expect(fs.readFileSync(ipcLockPath(file), 'utf8').trim()).toBe(String(other.pid)); // its lock left alone
    expect(await other.send(`release ${file}`)).toBe(`released ${file}`);
    expect(await claims.claim(file, 'pg-a')).toBeNull();
    claims.forget('pg-a');
    expect(fs.existsSync(ipcLockPath(file))).toBe(false);
  });

  it('takes over the lock of a dead process, or one naming our own pid that we never took', async () => {
    const file = `${policy.runtimeDir}/demo`;
    const claims = new IpcClaims();
    claims.register('pg-a');
    fs.writeFileSync(ipcLockPath(file), `${await deadPid()}\n`);
    expect(await claims.claim(file, 'pg-a')).toBeNull();
    expect(fs.readFileSync(ipcLockPath(file), 'utf8').trim()).toBe(String(process.pid));
    claims.release(file, 'pg-a');
    expect(fs.existsSync(ipcLockPath(file))).toBe(false);

    // A server in a container is often pid 1 again after a restart: the lock its predecessor left names our pid.
    fs.writeFileSync(ipcLockPath(file), `${process.pid}\n`);
    expect(await claims.claim(file, 'pg-a')).toBeNull();
    // ...but a second IpcClaims of this same process (graph runs have their own) sees it held.
    const graphClaims = new IpcClaims();
    expect(await graphClaims.claim(file, 'pg-b')).toBe('live-socket');
    claims.forget('pg-a');
    expect(fs.existsSync(ipcLockPath(file))).toBe(false);

    // A lock that is not a pid is nobody's to remove: refused, left alone.
    fs.writeFileSync(ipcLockPath(file), 'something else');
    expect(await claims.claim(file, 'pg-a')).toBe('live-socket');
    expect(fs.readFileSync(ipcLockPath(file), 'utf8')).toBe('something else');
  });

  it('a tutorial run whose ipc path another process holds binds its own path, says so, and completes', async () => {
    const other = await startClaimer();
    const file = `${policy.runtimeDir}/demo`;
    expect(await other.send(`claim ${file}`)).toBe(`claimed ${file} null`);
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 20, drainMs: 800 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${file}` },
    });
    cleanups.push(() => playground.close());
    const events = collect(playground);
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    const ipc = ofType(events, 'endpoint:bound')
      .map((e) => e.endpoint)
      .find((e) => e.name === 'ipc')!;
    expect(ipc.actual).not.toBe(`ipc://${file}`);
    expect(ipc.note).toMatch(/in use by another program/);
    expect(fs.existsSync(file)).toBe(false); // nothing bound there
    expect(ended.reason).toBe('completed');
    expect(Object.values(receivedBy(events)).flat()).toHaveLength(12);
    // The run's own path was locked and is unlocked (and removed) now that the run ended.
    const own = ipc.actual!.slice('ipc://'.length);
    expect(fs.existsSync(own)).toBe(false);
    expect(fs.existsSync(ipcLockPath(own))).toBe(false);
    expect(fs.readFileSync(ipcLockPath(file), 'utf8').trim()).toBe(String(other.pid));
  });

  it('a tutorial run locks its ipc path while it runs and removes the lock when it ends', async () => {
    const file = `${policy.runtimeDir}/demo`;
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 20, drainMs: 800 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${file}` },
    });
    cleanups.push(() => playground.close());
    const lockedWhileBound: boolean[] = [];
    playground.log.subscribe((event) => {
      if (event.type === 'endpoint:bound' && event.endpoint.name === 'ipc') {
        lockedWhileBound.push(fs.readFileSync(ipcLockPath(file), 'utf8').trim() === String(process.pid));
      }
    });
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    expect(ended.reason).toBe('completed');
    expect(lockedWhileBound).toEqual([true]);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(ipcLockPath(file))).toBe(false);
  });

  it("a server starting removes the lock files of dead processes, never a live one's", async () => {
    const other = await startClaimer();
    const held = `${policy.runtimeDir}/held`;
    expect(await other.send(`claim ${held}`)).toBe(`claimed ${held} null`);
    const dead = await deadPid();
    const debris = [
      `${policy.runtimeDir}/left.lock`,
      `${policy.runtimeDir}/left.lock.takeover`,
      `${policy.runtimeDir}/left.lock.${dead}.k3j4h5`,
    ];
    for (const file of debris) fs.writeFileSync(file, `${dead}\n`);
    const cleanup = await cleanLeftovers(policy.runtimeDir);
    // (a takeover lock may go as part of taking over its lock, and is then not named)
    expect(cleanup.removedLocks).toContain('left.lock');
    for (const file of debris) expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(ipcLockPath(held), 'utf8').trim()).toBe(String(other.pid));
  });

  it('a tutorial run whose tcp port another process holds binds a free port, says so, and completes', async () => {
    const other = await startClaimer();
    const port = await freePort();
    expect(await other.send(`listen ${port}`)).toBe(`listening ${port}`);
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 20, drainMs: 800 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${port}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    });
    cleanups.push(() => playground.close());
    const events = collect(playground);
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    const tcp = ofType(events, 'endpoint:bound')
      .map((e) => e.endpoint)
      .find((e) => e.name === 'tcp')!;
    expect(tcp.actual).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(tcp.actual).not.toBe(`tcp://127.0.0.1:${port}`);
    expect(tcp.note).toMatch(new RegExp(`port ${port} is in use`));
    expect(ended.reason).toBe('completed');
    expect(Object.values(receivedBy(events)).flat()).toHaveLength(12);
  });
});
