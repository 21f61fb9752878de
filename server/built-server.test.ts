/**
 * The server as `npm start` runs it: bundled by scripts/build-server.ts (here into a folder of its own, so that a
 * build another test or `npm start` makes is never touched), started with plain node, nothing compiled at start.
 * It answers /api/health, runs the tutorial, and forks its process workers from the built worker entry (not the
 * TypeScript one through tsx), and its graph process nodes from the built graph-node-process.js; its recording
 * goes through the built writer thread into a database file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PlaygroundInfo, RunDetail, WorkerInfo } from '../shared/protocol/index.ts';
import type { RecordedRun, RunPage } from '../shared/protocol/history.ts';
import { buildServer } from '../scripts/build-server.ts';
import { run, testPolicy, type Exited } from '../test/helpers.ts';
import { ApiClient } from '../test/live-server.ts';
import { descendantsOf } from '../test/server-process.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

let policy: ReturnType<typeof testPolicy>;
/** Inside the project, so that the bundle finds zeromq and better-sqlite3 in node_modules as dist/server does. */
let buildDir: string;
let server: ReturnType<typeof run>;
let exited: Promise<Exited>;
let api: ApiClient;

beforeAll(async () => {
  policy = testPolicy();
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  buildDir = fs.mkdtempSync(path.join(ROOT, 'dist', 'test-build-'));
  await buildServer(path.join(buildDir, 'server'), ROOT);
  server = run(
    process.execPath,
    [
      path.join(buildDir, 'server/main.js'),
      '--port',
      '0',
      '--runtime-dir',
      policy.runtimeDir,
      '--db',
      path.join(policy.runtimeDir, 'runs.db'),
    ],
    5 * 60_000,
  );
  exited = server.exited;
  exited.catch(() => {});
  // Bounded: the URL is printed once it listens.
  const deadline = Date.now() + 30_000;
  let base: string | undefined;
  while (!(base = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(server.output())?.[1])) {
    if (Date.now() > deadline || server.child.exitCode !== null)
      throw new Error(`the built server printed no URL: ${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  api = new ApiClient(base);
});

afterAll(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
  await exited?.catch(() => {});
  if (buildDir) fs.rmSync(buildDir, { recursive: true, force: true });
  policy?.cleanup();
});

it('answers /api/health', async () => {
  const health = await api.request<{ ok: boolean }>('GET', '/api/health');
  expect(health.status).toBe(200);
  expect(health.body.ok).toBe(true);
});

it('runs the tutorial with a process worker forked from the built entry, and records the run', async () => {
  const created = await api.request<PlaygroundInfo>('POST', '/api/playgrounds', { scenario: 'tutorial' });
  expect(created.status, created.text).toBe(201);
  const playground = created.body.id;
  const added = await api.request<WorkerInfo>('POST', `/api/playgrounds/${playground}/workers`, {
    transport: 'tcp',
    mode: 'process',
  });
  expect(added.status, added.text).toBe(201);
  const worker = added.body.id;
  // Short: 12 messages 50 ms apart. Which worker gets which text depends on when each connects; that every
  // message was sent and the run completed does not.
  const started = await api.request<{ run: string }>('POST', `/api/playgrounds/${playground}/runs`, {
    params: { intervalMs: 50 },
  });
  expect(started.status, started.text).toBe(201);

  // While it runs: the worker is a child of the built server, started from the built worker entry without tsx.
  let detail: RunDetail | undefined;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await api.request<RunDetail>('GET', `/api/playgrounds/${playground}/runs/${started.body.run}`);
    detail = answer.body;
    if (detail.workers.find((info) => info.id === worker)?.pid || detail.endedAt || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pid = detail.workers.find((info) => info.id === worker)?.pid;
  expect(pid, JSON.stringify(detail.workers)).toBeTruthy();
  const child = descendantsOf(server.child.pid!).find((row) => row.pid === pid);
  expect(child?.args).toContain(path.join(buildDir, 'server/worker-process.js'));
  expect(child?.args).not.toContain('tsx');

  const ended = await api.runEnded(playground, started.body.run, 30_000);
  expect(ended.reason).toBe('completed');
  expect(ended.summary.sent).toBe(12);

  // The built writer thread stored it: the run is listed with its events.
  const recordedBy = Date.now() + 20_000;
  let recorded: RecordedRun | undefined;
  while (!recorded?.endedAt && Date.now() < recordedBy) {
    const page = await api.request<RunPage>('GET', '/api/runs');
    recorded = page.body.runs.find((entry) => entry.id === started.body.run);
    if (!recorded?.endedAt) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(recorded?.endedAt).toBeTruthy();
  expect(recorded!.eventCount).toBeGreaterThan(12);
});

it('runs a batch with a process worker doing its share', async () => {
  const created = await api.request<PlaygroundInfo>('POST', '/api/playgrounds', { scenario: 'pipeline' });
  expect(created.status, created.text).toBe(201);
  const playground = created.body.id;
  const added = await api.request<WorkerInfo>('POST', `/api/playgrounds/${playground}/workers`, {
    transport: 'tcp',
    mode: 'process',
  });
  expect(added.status, added.text).toBe(201);
  // A synchronised start: every worker, the process one included, has shaken hands before the first task.
  const started = await api.request<{ run: string }>('POST', `/api/playgrounds/${playground}/runs`, {
    params: { tasks: 30, syncStart: true },
  });
  expect(started.status, started.text).toBe(201);
  const ended = await api.runEnded(playground, started.body.run, 30_000);
  expect(ended.reason).toBe('completed');
  expect(ended.summary.sent).toBe(30);
  expect(ended.summary.received[added.body.id]).toBeGreaterThan(0);
  expect(Object.values(ended.summary.received).reduce((sum, count) => sum + count, 0)).toBe(30);
});

it('runs a graph with a process node forked from the built entry; killed, it is gone', async () => {
  // A PUSH in the server and a PULL that runs as its own process (server/engine/graph-process.ts), over tcp.
  const created = await api.request<{ id: string }>('POST', '/api/graphs', {
    graph: {
      title: 'a process worker',
      nodes: [
        {
          id: 'tasks',
          socket: 'PUSH',
          role: { kind: 'send', messages: { kind: 'template', template: 't{i}', count: 1000 }, intervalMs: 20 },
        },
        { id: 'worker', socket: 'PULL', process: true, role: { kind: 'receive' } },
      ],
      links: [{ from: 'tasks', to: 'worker', bind: 'from', transport: 'tcp' }],
    },
  });
  expect(created.status, created.text).toBe(201);
  const graph = created.body.id;
  const started = await api.request<{ run: string }>('POST', `/api/graphs/${graph}/runs`);
  expect(started.status, started.text).toBe(201);
  type Events = { events: { type: string; node?: string; action?: string; pid?: number }[] };
  let pid: number | undefined;
  let received = false;
  const deadline = Date.now() + 30_000;
  while ((!pid || !received) && Date.now() < deadline) {
    const { events } = (await api.request<Events>('GET', `/api/graphs/${graph}/events?since=0`)).body;
    pid = events.find((e) => e.type === 'node:process' && e.action === 'started')?.pid;
    received = events.some((e) => e.type === 'message:received' && e.node === 'worker');
    if (!pid || !received) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(received).toBe(true);
  const child = descendantsOf(server.child.pid!).find((row) => row.pid === pid);
  expect(child?.args).toContain(path.join(buildDir, 'server/graph-node-process.js'));
  expect(child?.args).not.toContain('tsx');
  const killed = await api.request('POST', `/api/graphs/${graph}/nodes/worker/kill`);
  expect(killed.status, killed.text).toBe(200);
  const stopped = await api.request('POST', `/api/graphs/${graph}/runs/stop`);
  expect(stopped.status, stopped.text).toBe(200);
  expect(descendantsOf(server.child.pid!).some((row) => row.pid === pid)).toBe(false);
});
