/**
 * Issue 10.10: a recorded run's default name is made of parts a page can say in its own language (scenario or
 * lesson, number), and a lesson's run is named after the lesson, not after the sandbox it runs in. Real pipeline
 * and recorder underneath (Fastify inject), plus a run database of the previous schema opened by this one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { LESSON_TEXT_EN } from '../../shared/lessons/text/en.ts';
import type { PlaygroundInfo, RecordedRun, RunParams } from '../../shared/protocol/index.ts';
import { RunStore } from './store.ts';
import { Visitor, freePort, testPolicy } from '../../test/helpers.ts';
import { until } from '../../test/recording.ts';

let app: FastifyInstance;
let owner: Visitor;
let store: RunStore;
let policy: ReturnType<typeof testPolicy>;

beforeEach(async () => {
  policy = testPolicy();
  store = RunStore.open(':memory:');
  app = await buildApp({
    policy,
    staticDir: null,
    store,
    registry: {
      endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    },
  });
  owner = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  store.close();
  policy.cleanup();
});

async function post<T>(url: string, payload?: object): Promise<T> {
  const response = await owner.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });
  expect(response.statusCode, `${url}: ${response.body.slice(0, 300)}`).toBeLessThan(300);
  return response.json<T>();
}

/** Runs the playground once and waits (bounded) until its recording has ended; returns the listed run. */
async function recordedRun(playground: string): Promise<RecordedRun> {
  const { run } = await post<{ run: string }>(`/api/playgrounds/${playground}/runs`);
  return await until(
    () => store.listRuns().runs.find((r) => r.id === run && r.status === 'ended'),
    `run ${run} recorded to its end`,
    15_000,
  );
}

describe('recorded run names (issue 10.10)', () => {
  it('names a lesson run after the lesson, numbers lesson and scenario runs apart, and keeps a typed name as it is', async () => {
    const burst: Partial<RunParams> = { intervalMs: 0, drainMs: 300 };
    const lessonPlayground = await post<PlaygroundInfo>('/api/playgrounds', { scenario: 'tutorial', params: burst });
    await post(`/api/playgrounds/${lessonPlayground.id}/lesson`, { lesson: 'tutorial', stage: 'start' });
    const lessonRun = await recordedRun(lessonPlayground.id);
    expect(lessonRun.name).toBe(`${LESSON_TEXT_EN['tutorial']!.title} #1`);
    expect(lessonRun.defaultName).toEqual({ scenario: 'tutorial', lesson: 'tutorial', n: 1 });

    // The same scenario outside the lesson: its own numbering, the scenario's title.
    const free = await post<PlaygroundInfo>('/api/playgrounds', { scenario: 'tutorial', params: burst });
    const freeRun = await recordedRun(free.id);
    expect(freeRun.name).toBe('The tutorial: one PUSH socket on tcp, then also on ipc #1');
    expect(freeRun.defaultName).toEqual({ scenario: 'tutorial', n: 1 });
    const second = await recordedRun(lessonPlayground.id);
    expect(second.defaultName).toEqual({ scenario: 'tutorial', lesson: 'tutorial', n: 2 });

    // A name someone typed has no parts: a page shows it as typed, in every language.
    const renamed = await owner.inject({
      method: 'PATCH',
      url: `/api/runs/${freeRun.id}`,
      payload: { name: 'Mi prueba' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json<RecordedRun>().defaultName).toBeUndefined();
    expect(store.listRuns().runs.find((r) => r.id === freeRun.id)).toMatchObject({ name: 'Mi prueba' });
    expect(store.listRuns().runs.find((r) => r.id === freeRun.id)!.defaultName).toBeUndefined();

    // An export carries the name as it reads, and nothing the previous export version did not have.
    const exported = (await owner.inject(`/api/runs/${lessonRun.id}/export.json`)).json<{
      run: Record<string, unknown>;
    }>();
    expect(exported.run['name']).toBe(lessonRun.name);
    expect(exported.run).not.toHaveProperty('defaultName');
  });
});

describe('a run database of schema version 3', () => {
  it("is opened, given the name parts, and keeps its runs' stored names as they are", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-names-'));
    try {
      const file = path.join(dir, 'runs.db');
      const current = RunStore.open(file);
      current.insertRun({
        id: 'run-old',
        playground: 'pg-1',
        scenario: 'pipeline',
        scenarioTitle: 'Sandbox',
        params: {} as RunParams,
        endpoints: [],
        workers: [],
        startedAt: 1,
      });
      current.close();
      // As version 3 left it: no lesson, no name_n.
      const raw = new Database(file);
      raw.exec('ALTER TABLE runs DROP COLUMN lesson; ALTER TABLE runs DROP COLUMN name_n;');
      raw.pragma('user_version = 3');
      raw.close();

      const reopened = RunStore.open(file);
      try {
        const [old] = reopened.listRuns().runs;
        expect(old).toMatchObject({ id: 'run-old', name: 'Sandbox #1' });
        expect(old!.defaultName).toBeUndefined();
        reopened.insertRun({
          id: 'run-new',
          playground: 'pg-1',
          scenario: 'pipeline',
          scenarioTitle: 'Sandbox',
          params: {} as RunParams,
          endpoints: [],
          workers: [],
          startedAt: 2,
        });
        expect(reopened.listRuns().runs.find((r) => r.id === 'run-new')).toMatchObject({
          name: 'Sandbox #2',
          defaultName: { scenario: 'pipeline', n: 2 },
        });
      } finally {
        reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
