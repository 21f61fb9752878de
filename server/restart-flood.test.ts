/**
 * Flooding `restart` on a process worker, against the real server process. Each restart closed the worker's
 * process and forked a new one, all at once: a send on the IPC channel of a child that had just died failed with
 * EPIPE, emitted as an 'error' nobody listened to, and the server crashed (3 times in 6 tries); the restarts that
 * survived forked several processes for one worker and kept only the last. Now a restart while one is under way is
 * refused with a clear error, sends to a dead child are never attempted, and the server keeps serving.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ErrorBody, PlaygroundInfo, RunDetail, WorkerInfo } from '../shared/protocol/index.ts';
import { testPolicy } from '../test/helpers.ts';
import { ApiClient, startServer, type LiveServer } from '../test/live-server.ts';

const RESTARTS = 200;
const APART_MS = 5;

let policy: ReturnType<typeof testPolicy>;
let server: LiveServer;
let api: ApiClient;

beforeAll(async () => {
  policy = testPolicy();
  // The per-visitor HTTP limit (50 a second by default, tested in command-flood.test.ts) would refuse most of this
  // flood before it reached the worker: raised here, so that the restarts themselves are what is tested.
  server = await startServer(policy.runtimeDir, undefined, ['--http-per-second', '1000']);
  api = new ApiClient(server.base);
});

afterAll(async () => {
  await server?.stop();
  policy?.cleanup();
});

/** Process ids of the worker processes under `root` (the tsx launcher, whose child is the server), from ps. */
function workerProcessesUnder(root: number): number[] {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args ?? '' }));
  const under = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const row of rows) {
      if (under.has(row.ppid) && !under.has(row.pid)) {
        under.add(row.pid);
        grew = true;
      }
    }
  }
  return rows.filter((row) => under.has(row.pid) && row.args.includes('worker-process')).map((row) => row.pid);
}

it(`survives ${RESTARTS} restarts ${APART_MS} ms apart on a process worker, which ends up running once`, async () => {
  const created = await api.request<PlaygroundInfo>('POST', '/api/playgrounds', { scenario: 'pipeline' });
  expect(created.status, created.text).toBe(201);
  const playground = created.body.id;
  const added = await api.request<WorkerInfo>('POST', `/api/playgrounds/${playground}/workers`, {
    transport: 'tcp',
    mode: 'process',
  });
  expect(added.status, added.text).toBe(201);
  const worker = added.body.id;
  const started = await api.request<{ run: string }>('POST', `/api/playgrounds/${playground}/runs`, {
    // No synchronised start: the batch flows while the restarts come.
    params: { tasks: 1_000_000, intervalMs: 2, syncStart: false },
  });
  expect(started.status, started.text).toBe(201);
  const run = started.body.run;

  // Fired without waiting for the answers, as a flooding client does; every answer is collected.
  const answers: Promise<{ status: number; body: ErrorBody | WorkerInfo }>[] = [];
  for (let i = 0; i < RESTARTS && server.alive(); i++) {
    answers.push(
      api
        .request<ErrorBody | WorkerInfo>('POST', `/api/playgrounds/${playground}/workers/${worker}/signal`, {
          signal: 'restart',
        })
        .catch((error: Error) => ({
          status: 0,
          body: { code: 'PG_ERR_INTERNAL', message: error.message } as ErrorBody,
        })),
    );
    await new Promise((resolve) => setTimeout(resolve, APART_MS));
  }
  const settled = await Promise.all(answers);
  expect(server.alive(), server.output().slice(-2000)).toBe(true);
  // Each answer is either accepted or a clear refusal while a restart is under way; never a crash or a 500.
  const statuses = new Set(settled.map((answer) => answer.status));
  expect(
    [...statuses].every((status) => status === 200 || status === 429),
    JSON.stringify([...statuses]),
  ).toBe(true);
  // A restart takes longer than 5 ms (the old process closes, a new one is forked): some are refused, for sure.
  const refusals = settled
    .filter((answer) => answer.status === 429)
    .map((answer) => (answer.body as ErrorBody).text?.key);
  expect(refusals.length).toBeGreaterThan(0);
  expect(new Set(refusals)).toEqual(new Set(['worker.restarting']));
  expect(settled.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
  const health = await api.request('GET', '/api/health');
  expect(health.status).toBe(200);

  // The worker comes back once: one live process, connected, taking tasks.
  const deadline = Date.now() + 20_000;
  let info: WorkerInfo | undefined;
  for (;;) {
    info = (await api.request<PlaygroundInfo>('GET', `/api/playgrounds/${playground}`)).body.workers.find(
      (w) => w.id === worker,
    );
    if (info?.state === 'connected' && info.pid !== null) break;
    if (Date.now() > deadline) throw new Error(`worker not back after 20 s: ${JSON.stringify(info)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const forked = () => workerProcessesUnder(server.child.pid!).filter((pid) => pid !== info!.pid);
  // Processes of earlier restarts are gone (each closed before the next started); bounded wait for the last exits.
  const quiet = Date.now() + 10_000;
  while (forked().length > 0 && Date.now() < quiet) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(forked()).toEqual([]);
  expect(workerProcessesUnder(server.child.pid!)).toContain(info.pid);

  // ... and takes tasks again.
  const receivedNow = async () =>
    (await api.request<RunDetail>('GET', `/api/playgrounds/${playground}/runs/${run}`)).body.summary.received[worker] ??
    0;
  const before = await receivedNow();
  const busy = Date.now() + 20_000;
  while ((await receivedNow()) <= before) {
    if (Date.now() > busy) throw new Error('the restarted worker received nothing in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  expect((await api.request('POST', `/api/playgrounds/${playground}/runs/stop`)).status).toBe(200);
  const ended = await api.runEnded(playground, run);
  expect(ended.reason).toBe('stopped');
  expect(server.alive()).toBe(true);
}, 120_000);
