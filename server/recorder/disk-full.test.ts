/**
 * Issue 9.12: with the disk full, runs vanished from the history (4 of 6 in the report): a run's row was created
 * in the same transaction as its first events, so when that transaction failed the run was never stored, and every
 * later event of it was dropped as belonging to no run. Now the row is created on its own, retried until the disk
 * has room again, and the run ends "incomplete" with what could be stored.
 *
 * The full disk is injected at the store boundary: every write of the RunStore throws SQLITE_FULL while `full` is
 * set, as better-sqlite3 does when the file cannot grow (a real full disk needs a tiny filesystem mounted, which
 * only root may do; the writer sees the same error either way).
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { RunStore } from './store.ts';
import type { PlaygroundInfo, RunDetail } from '../../shared/protocol/index.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';

let app: FastifyInstance | null = null;
let store: RunStore | null = null;
let policy: ReturnType<typeof testPolicy> | null = null;

afterEach(async () => {
  await app?.close();
  store?.close();
  policy?.cleanup();
  app = store = policy = null;
});

/** Makes every write of `target` fail with SQLITE_FULL while the returned switch is on. */
function diskFullSwitch(target: RunStore): { full: boolean } {
  const state = { full: false };
  for (const method of [
    'insertRun',
    'insertEvents',
    'insertTaskChunk',
    'insertCheckpoint',
    'updateProgress',
    'finishRun',
    'markIncomplete',
  ] as const) {
    const original = (target[method] as (...args: unknown[]) => unknown).bind(target);
    (target as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (state.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return original(...args);
    };
  }
  return state;
}

it('keeps every run in the history while the disk is full, marking the ones that lost events incomplete', async () => {
  policy = testPolicy();
  store = RunStore.open(':memory:');
  const disk = diskFullSwitch(store);
  app = await buildApp({ policy, staticDir: null, store, logger: false });
  await app.ready();
  const visitor = new Visitor(app);
  const { id } = (
    await visitor.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'pipeline' } })
  ).json<PlaygroundInfo>();

  const runs: string[] = [];
  for (let i = 1; i <= 6; i++) {
    // Runs 2 to 5 start, run and end while nothing can be written.
    disk.full = i >= 2 && i <= 5;
    const started = await visitor.inject({
      method: 'POST',
      url: `/api/playgrounds/${id}/runs`,
      payload: { params: { tasks: 50, drainMs: 200 } },
    });
    expect(started.statusCode, started.body).toBe(201);
    const run = started.json<{ run: string }>().run;
    runs.push(run);
    const deadline = Date.now() + 20_000;
    while (!(await visitor.inject(`/api/playgrounds/${id}/runs/${run}`)).json<RunDetail>().endedAt) {
      if (Date.now() > deadline) throw new Error(`run ${i} did not end`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Let the recorder try (and fail) to write what it holds before the disk has room again.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  disk.full = false;

  // The history lists all six, once what waited could be written.
  const deadline = Date.now() + 10_000;
  let listed = store.listRuns({ limit: 50 }).runs;
  while (listed.length < 6 || listed.some((run) => run.status === 'running')) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    listed = store.listRuns({ limit: 50 }).runs;
  }
  const byLiveId = new Map(listed.map((run) => [run.id, run]));
  expect(runs.map((run) => byLiveId.get(run)?.status ?? 'missing')).toEqual([
    'ended',
    'incomplete',
    'incomplete',
    'incomplete',
    'incomplete',
    'ended',
  ]);
  // An incomplete run still says what it was.
  expect(byLiveId.get(runs[1]!)?.scenario).toBe('pipeline');
});
