/**
 * Issue 9.10, debris after a crash, with the real server process. A server killed with SIGKILL cannot clean up:
 * a process worker it had hung (SIGSTOP) stayed forever (state T, its parent gone), and its ipc socket files stayed
 * in the runtime folder. Now the server records its workers' pids in its runtime folder and the next server started
 * there kills the ones it can verify as such workers; it removes socket files nobody listens on; and a worker that
 * can still run exits by itself when its channel to the server goes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PlaygroundInfo, WorkerInfo } from '../shared/protocol/index.ts';
import { testPolicy } from '../test/helpers.ts';
import { ApiClient, startServer, type LiveServer } from '../test/live-server.ts';
import { processExists, serverPid } from '../test/server-process.ts';

let policy: ReturnType<typeof testPolicy>;
const servers: LiveServer[] = [];
const workerPids: number[] = [];

beforeAll(() => {
  policy = testPolicy();
});

afterAll(async () => {
  for (const server of servers) await server.stop();
  // Whatever the outcome, no process of this test is left behind.
  for (const pid of workerPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  policy?.cleanup();
});

/** The process state letter (R, S, T, Z...) from /proc/<pid>/stat. */
function stateOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

function socketFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => fs.lstatSync(path.join(dir, name)).isSocket());
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('a server killed with SIGKILL leaves no worker process and no socket file after the next start', async () => {
  const first = await startServer(policy.runtimeDir);
  servers.push(first);
  const api = new ApiClient(first.base);
  const { id } = (await api.request<PlaygroundInfo>('POST', '/api/playgrounds', { scenario: 'pipeline' })).body;
  // Two process workers (one to hang, one left running) beside the scenario's tcp and ipc workers: the ventilator
  // binds its ipc endpoint, whose socket file is what the crash leaves.
  const added: string[] = [];
  for (let i = 0; i < 2; i++) {
    const worker = await api.request<WorkerInfo>('POST', `/api/playgrounds/${id}/workers`, {
      transport: 'tcp',
      mode: 'process',
    });
    expect(worker.status, worker.text).toBe(201);
    added.push(worker.body.id);
  }
  const started = await api.request('POST', `/api/playgrounds/${id}/runs`, {
    params: { tasks: 1_000_000, intervalMs: 5, syncStart: false },
  });
  expect(started.status, started.text).toBe(201);
  const pids = new Map<string, number>();
  await until(async () => {
    const { workers } = (await api.request<PlaygroundInfo>('GET', `/api/playgrounds/${id}`)).body;
    for (const worker of workers)
      if (added.includes(worker.id) && worker.pid !== null && worker.state === 'connected')
        pids.set(worker.id, worker.pid);
    return pids.size === 2;
  }, 'both process workers running');
  const [hung, running] = added.map((worker) => pids.get(worker)!);
  workerPids.push(hung!, running!);
  expect(
    (await api.request('POST', `/api/playgrounds/${id}/workers/${added[0]}/signal`, { signal: 'stop' })).status,
  ).toBe(200);
  await until(() => stateOf(hung!) === 'T', 'the hung worker stopped');
  const leftSockets = socketFiles(policy.runtimeDir);
  expect(leftSockets.length, 'the run binds at least one ipc socket in the runtime folder').toBeGreaterThan(0);

  // The crash: nothing of the server runs any more.
  process.kill(serverPid(first.child.pid!), 'SIGKILL');
  await first.exited;
  // A worker that can still run notices its channel is gone and exits by itself.
  await until(() => !processExists(running!), 'the running worker exited with its server');
  // The hung one cannot: it is still there, stopped, with nobody to resume it.
  expect(stateOf(hung!)).toBe('T');
  expect(socketFiles(policy.runtimeDir)).toEqual(leftSockets);

  // The next server on the same runtime folder cleans up what the dead one left.
  const second = await startServer(policy.runtimeDir);
  servers.push(second);
  await until(() => !processExists(hung!), 'the hung worker of the dead server killed by the next one');
  expect(socketFiles(policy.runtimeDir)).toEqual([]);
  // Nothing else left by the dead server (its record of workers included): the folder is the new server's.
  expect(fs.readdirSync(policy.runtimeDir).filter((name) => !name.includes(`${serverPid(second.child.pid!)}`))).toEqual(
    [],
  );
  const health = await new ApiClient(second.base).request('GET', '/api/health');
  expect(health.status).toBe(200);
}, 120_000);

it('a server killed with SIGKILL leaves no graph process node after the next start, a hung one included', async () => {
  // A runtime folder of its own: the test above leaves its second server running on the shared one.
  const own = testPolicy();
  const mine: LiveServer[] = [];
  try {
    const first = await startServer(own.runtimeDir);
    mine.push(first);
    const api = new ApiClient(first.base);
    const fan = (id: string) => ({ id, socket: 'SUB', subscribe: [''], process: true, role: { kind: 'receive' } });
    const created = await api.request<{ id: string }>('POST', '/api/graphs', {
      graph: {
        title: 'process fans',
        nodes: [
          {
            id: 'news',
            socket: 'PUB',
            role: { kind: 'send', messages: { kind: 'template', template: 'n{i}', count: 100_000 }, intervalMs: 10 },
          },
          fan('hung'),
          fan('running'),
        ],
        links: [
          { from: 'news', to: 'hung', bind: 'from', transport: 'ipc' },
          { from: 'news', to: 'running', bind: 'from', transport: 'tcp' },
        ],
      },
    });
    expect(created.status, created.text).toBe(201);
    const graph = created.body.id;
    expect((await api.request('POST', `/api/graphs/${graph}/runs`)).status).toBe(201);
    const pids = new Map<string, number>();
    await until(async () => {
      const { events } = (
        await api.request<{ events: { type: string; node: string; action?: string; pid?: number }[] }>(
          'GET',
          `/api/graphs/${graph}/events?since=0`,
        )
      ).body;
      for (const e of events) if (e.type === 'node:process' && e.action === 'started') pids.set(e.node, e.pid!);
      return pids.size === 2;
    }, 'both process nodes started');
    const hung = pids.get('hung')!;
    const running = pids.get('running')!;
    workerPids.push(hung, running);
    expect((await api.request('POST', `/api/graphs/${graph}/nodes/hung/hang`)).status).toBe(200);
    await until(() => stateOf(hung) === 'T', 'the hung node stopped');

    process.kill(serverPid(first.child.pid!), 'SIGKILL');
    await first.exited;
    // The one that can still run notices its channel is gone and exits; the stopped one cannot.
    await until(() => !processExists(running), 'the running node exited with its server');
    expect(stateOf(hung)).toBe('T');

    const second = await startServer(own.runtimeDir);
    mine.push(second);
    await until(() => !processExists(hung), 'the hung node of the dead server killed by the next one');
  } finally {
    // Its servers stop before their runtime folder goes.
    for (const server of mine) await server.stop();
    own.cleanup();
  }
}, 120_000);
