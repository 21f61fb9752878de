/**
 * The real server process and its database file: SIGTERM stores the final run:ended of a run in progress;
 * SIGKILL mid-run leaves the run "running" in the file, and the next start keeps it, marked incomplete, with its
 * events. The server runs as one node process (node --import tsx) so SIGKILL really kills the server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { PlaygroundInfo, RunPage } from '../../shared/protocol/index.ts';
import { run, testPolicy, visitorFetch } from '../../test/helpers.ts';
import { until } from '../../test/recording.ts';
import { RunStore } from './store.ts';

let policy: ReturnType<typeof testPolicy>;
let dir: string;
const killers: (() => void)[] = [];

beforeEach(() => {
  policy = testPolicy();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-crash-'));
});
afterEach(() => {
  for (const kill of killers.splice(0)) kill();
  policy.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startServer(args: string[], env: Record<string, string> = {}) {
  const saved = Object.entries(env).map(([key]) => [key, process.env[key]] as const);
  Object.assign(process.env, env); // the child inherits process.env
  const server = run(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--port', '0', '--runtime-dir', policy.runtimeDir, ...args],
    30_000,
  );
  for (const [key, value] of saved) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  killers.push(() => server.child.kill('SIGKILL'));
  const base = await until(() => /(http:\/\/127\.0\.0\.1:\d+)\//.exec(server.output())?.[1], 'the server URL', 20_000);
  return { server, base };
}

/** Starts a slow tutorial run (one send every 2 s: it lasts ~24 s) and waits until the server has stored a few of its events. */
/** One visitor for both servers: its cookie is just a random name, so the second server knows it as the same owner. */
const visit = visitorFetch();

async function startSlowRun(base: string): Promise<string> {
  const playground = (await (
    await visit(`${base}/api/playgrounds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'tutorial', params: { intervalMs: 2000 } }),
    })
  ).json()) as PlaygroundInfo;
  const { run: id } = (await (
    await visit(`${base}/api/playgrounds/${playground.id}/runs`, { method: 'POST' })
  ).json()) as { run: string };
  // The writer thread takes a moment to start (longer on a busy machine); its first batches wait for it. A task
  // sent must be stored too (the test checks the rebuilt summary): how many topology events come before the first
  // task:sent depends on how fast the workers connect, so a count of events alone does not say it.
  let page: RunPage | null = null;
  for (let attempt = 0; attempt < 300; attempt++) {
    page = (await (await visit(`${base}/api/runs`)).json()) as RunPage;
    const stored = page.runs.find((r) => r.id === id);
    if (stored && stored.summary === null && stored.eventCount >= 8) {
      const counters = (await (await visit(`${base}/api/runs/${id}/counters?t=1000000`)).json()) as { sent: number };
      if (counters.sent >= 1) return id;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${id} was not being recorded within 15 s: ${JSON.stringify(page).slice(0, 500)}`);
}

it('records into the file named by PLAYGROUND_DB; SIGTERM stores the final run:ended of the run in progress', async () => {
  const file = path.join(dir, 'env.db');
  const { server, base } = await startServer([], { PLAYGROUND_DB: file });
  const id = await startSlowRun(base);
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  expect(exit.code, exit.stderr).toBe(0);
  expect(exit.stdout).toContain(`Runs are recorded in ${file}`);

  const store = RunStore.open(file);
  try {
    const stored = store.getRun(id);
    expect(stored).toMatchObject({ status: 'ended', reason: 'stopped', lostEvents: 0 });
    const events = store.eventWindow(id, { limit: 5000 }).json.map((json) => JSON.parse(json) as { type: string });
    expect(events).toHaveLength(stored.eventCount);
    expect(events.filter((e) => e.type === 'run:ended')).toHaveLength(1);
  } finally {
    store.close();
  }
});

it('[R2] keeps a run interrupted by SIGKILL, marked incomplete with its events, when the server starts again (--db)', async () => {
  const file = path.join(dir, 'flag.db');
  const first = await startServer(['--db', file]);
  const id = await startSlowRun(first.base);
  first.server.child.kill('SIGKILL');
  const exit = await first.server.exited;
  expect(exit.signal).toBe('SIGKILL');

  const second = await startServer(['--db', file]);
  const page = (await (await visit(`${second.base}/api/runs`)).json()) as RunPage;
  const stored = page.runs.find((r) => r.id === id)!;
  expect(stored).toMatchObject({ status: 'incomplete', reason: null, endedAt: null });
  expect(stored.eventCount).toBeGreaterThanOrEqual(8);
  expect(stored.summary!.sent).toBeGreaterThanOrEqual(1);
  const window = (await (await visit(`${second.base}/api/runs/${id}/events?limit=5000`)).json()) as {
    events: { type: string }[];
  };
  expect(window.events).toHaveLength(stored.eventCount);
  expect(window.events[0]!.type).toBe('run:started');
  second.server.child.kill('SIGTERM');
  expect((await second.server.exited).code).toBe(0);
});
