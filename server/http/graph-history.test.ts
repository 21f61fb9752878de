/**
 * Graph runs recorded as the pipeline's are (issue 11): the series' part 1 run on real sockets by a visitor is
 * stored through the writer thread of a file database, listed for its owner and for a watcher of its playground,
 * never for a stranger; its stored events are the live ones; it exports in the graph format and imports back as the
 * same run (a new id), and an import of a malformed graph file is refused whole.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import {
  GRAPH_RUN_EXPORT_FORMAT,
  type GraphRunExport,
  type PlaygroundEvent,
  type RecordedGraphRunDetail,
  type RecordedRun,
  type RunPage,
} from '../../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../engine/graph-playground.ts';
import { RunStore, SCHEMA_VERSION } from '../recorder/store.ts';
import { Visitor, testPolicy } from '../../test/helpers.ts';
import { pollUntil } from '../../test/graph-api-harness.ts';

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let folder: string;
let owner: Visitor;
let stranger: Visitor;

beforeEach(async () => {
  policy = testPolicy();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-graph-history-'));
  // A file database: recorded by the writer thread, as a server records by default.
  app = await buildApp({
    policy,
    staticDir: null,
    store: path.join(folder, 'runs.db'),
    // Many small reads of one test, not a visitor's pace.
    limits: { httpPerSecond: 1000 },
  });
  await app.ready();
  owner = new Visitor(app);
  stranger = new Visitor(app);
});
afterEach(async () => {
  await app.close();
  policy.cleanup();
  fs.rmSync(folder, { recursive: true, force: true });
});

/** Bounded polling of a condition over HTTP (well below the API's rate limit per visitor). */
const until = <T>(read: () => Promise<T | null>, what: string, timeoutMs = 15_000) => pollUntil(read, what, timeoutMs);

/** Runs the series' part 1 in a new playground of `visitor`; its live events, once graph:ended came. */
async function runPartOne(
  visitor: Visitor,
): Promise<{ playground: GraphPlaygroundInfo; run: string; live: PlaygroundEvent[] }> {
  const created = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-1' } });
  expect(created.statusCode, created.body).toBe(201);
  const playground = created.json<GraphPlaygroundInfo>();
  const started = await visitor.inject({ method: 'POST', url: `/api/graphs/${playground.id}/runs` });
  expect(started.statusCode, started.body).toBe(201);
  const { run } = started.json<{ run: string }>();
  const live: PlaygroundEvent[] = [];
  await until(async () => {
    const response = await visitor.inject(`/api/graphs/${playground.id}/events?since=${live.at(-1)?.seq ?? 0}`);
    live.push(...response.json<{ events: PlaygroundEvent[] }>().events);
    return live.some((event) => event.type === 'graph:ended') ? true : null;
  }, 'the run of part 1 ending');
  return { playground, run, live: live.filter((event) => event.run === run) };
}

async function listed(visitor: Visitor): Promise<RecordedRun[]> {
  const response = await visitor.inject('/api/runs');
  expect(response.statusCode, response.body).toBe(200);
  return response.json<RunPage>().runs;
}

/** Every stored event of a run, window by window. */
async function storedEvents(visitor: Visitor, id: string): Promise<PlaygroundEvent[]> {
  const events: PlaygroundEvent[] = [];
  let fromSeq = 0;
  for (;;) {
    const response = await visitor.inject(`/api/runs/${id}/events?fromSeq=${fromSeq}&limit=100`);
    expect(response.statusCode, response.body).toBe(200);
    const window = response.json<{ events: PlaygroundEvent[]; nextSeq: number | null }>();
    events.push(...window.events);
    if (window.nextSeq === null) return events;
    fromSeq = window.nextSeq;
  }
}

function importFile(visitor: Visitor, body: string) {
  return visitor.inject({
    method: 'POST',
    url: '/api/runs/import',
    headers: { 'content-type': 'application/json' },
    payload: body,
  });
}

describe('graph runs in the history', () => {
  it("records part 1's run, lists it for its owner and watchers only, and stores exactly the live events", async () => {
    const { playground, run, live } = await runPartOne(owner);
    const ended = live.at(-1)!;
    expect(ended.type).toBe('graph:ended');

    const recorded = await until(async () => {
      const mine = (await listed(owner)).find((candidate) => candidate.id === run);
      return mine?.status === 'ended' ? mine : null;
    }, 'the run stored as ended');
    expect(recorded).toMatchObject({
      kind: 'graph',
      scenario: 'series-1',
      playground: playground.id,
      status: 'ended',
      reason: ended.type === 'graph:ended' ? ended.reason : null,
      summary: null,
      workers: [],
      eventCount: live.length,
      firstSeq: live[0]!.seq,
      lastSeq: ended.seq,
      lostEvents: 0,
      source: 'live',
      owned: true,
    });
    expect(recorded.graphSummary).toEqual(ended.type === 'graph:ended' ? ended.summary : null);
    expect(recorded.name).toBe(`${playground.title} #1`);

    const detail = (await owner.inject(`/api/runs/${run}`)).json<RecordedGraphRunDetail>();
    expect(detail.kind).toBe('graph');
    expect(detail.graph).toEqual(playground.graph);

    // Stored events are the live ones, field for field and in order.
    expect(await storedEvents(owner, run)).toEqual(live);

    // A stranger neither lists nor reads it; a watcher of the playground does both, read-only.
    expect((await listed(stranger)).map((candidate) => candidate.id)).not.toContain(run);
    expect((await stranger.inject(`/api/runs/${run}`)).statusCode).toBe(404);
    expect((await stranger.inject(`/api/runs/${run}/export.json`)).statusCode).toBe(404);
    const { watchToken } = (await owner.inject(`/api/graphs/${playground.id}/links`)).json<{ watchToken: string }>();
    const watcher = new Visitor(app);
    const joined = await watcher.inject({
      method: 'POST',
      url: `/api/graphs/${playground.id}/join`,
      payload: { token: watchToken },
    });
    expect(joined.statusCode, joined.body).toBe(200);
    expect((await listed(watcher)).find((candidate) => candidate.id === run)).toMatchObject({ owned: false });
    expect(await storedEvents(watcher, run)).toEqual(live);
    const rename = await watcher.inject({ method: 'PATCH', url: `/api/runs/${run}`, payload: { name: 'mine' } });
    expect(rename.statusCode).toBe(403);

    // Made public, its permalink opens for anyone.
    const published = await owner.inject({ method: 'PATCH', url: `/api/runs/${run}`, payload: { public: true } });
    expect(published.json<RecordedGraphRunDetail>()).toMatchObject({ kind: 'graph', public: true });
    expect((await stranger.inject(`/api/runs/${run}`)).json<RecordedGraphRunDetail>().graph).toEqual(playground.graph);
  });

  it('exports a graph run in its own format and imports it back identically; a malformed file is refused whole', async () => {
    const { run, live } = await runPartOne(owner);
    await until(async () => {
      const mine = (await listed(owner)).find((candidate) => candidate.id === run);
      return mine?.status === 'ended' ? true : null;
    }, 'the run stored as ended');

    const exported = await owner.inject(`/api/runs/${run}/export.json`);
    expect(exported.statusCode, exported.body).toBe(200);
    const file = exported.json<GraphRunExport>();
    expect(file.format).toBe(GRAPH_RUN_EXPORT_FORMAT);
    expect(file.version).toBe(1);
    expect(file.events).toEqual(live);
    expect(file.run).toMatchObject({ id: run, kind: 'graph', scenario: 'series-1', status: 'ended' });

    const imported = await importFile(owner, exported.body);
    expect(imported.statusCode, imported.body).toBe(201);
    const copy = imported.json<RecordedGraphRunDetail>();
    expect(copy).toMatchObject({ kind: 'graph', source: 'imported', owned: true, name: file.run.name });
    expect(copy.id).not.toBe(run);
    expect(copy.graph).toEqual(file.run.graph);
    expect(copy.graphSummary).toEqual(file.run.graphSummary);
    // The same events under the new id; exported again, the same document but for the id and the export's time.
    expect(await storedEvents(owner, copy.id)).toEqual(live.map((event) => ({ ...event, run: copy.id })));
    const again = (await owner.inject(`/api/runs/${copy.id}/export.json`)).json<GraphRunExport>();
    expect({ ...again, exportedAt: file.exportedAt, run: { ...again.run, id: run }, events: again.events }).toEqual({
      ...file,
      events: live.map((event) => ({ ...event, run: copy.id })),
    });

    // Malformed files: nothing of them is stored.
    const before = (await owner.inject('/api/runs')).json<RunPage>().total;
    const bad = (change: (doc: GraphRunExport) => unknown) =>
      importFile(owner, JSON.stringify(change(structuredClone(file))));
    const refusals = [
      await importFile(owner, exported.body.slice(0, exported.body.length / 2)),
      await bad((doc) => ({ ...doc, version: 2 })),
      await bad((doc) => ({ ...doc, events: doc.events.slice(0, -1) })),
      await bad((doc) => {
        const received = doc.events.find((event) => event.type === 'message:received')!;
        doc.events.splice(doc.events.indexOf(received), 1);
        doc.run.eventCount--;
        return doc;
      }),
      await bad((doc) => {
        // A pipeline event inside a graph run.
        const index = doc.events.findIndex((event) => event.type === 'message:sent');
        const at = doc.events[index]!;
        doc.events[index] = { type: 'task:sent', task: 1, body: 'x', run: at.run, seq: at.seq, t: at.t };
        return doc;
      }),
      await bad((doc) => ({ ...doc, events: [doc.events[1], doc.events[0], ...doc.events.slice(2)] })),
    ];
    for (const refusal of refusals) {
      expect(refusal.statusCode, refusal.body).toBe(400);
      expect(refusal.json<{ code: string }>().code).toBe('PG_ERR_IMPORT');
    }
    expect(refusals[1]!.json<{ message: string }>().message).toMatch(/version 2/);
    expect(refusals[3]!.json<{ message: string }>().message).toMatch(/received/);
    expect(refusals[4]!.json<{ message: string }>().message).toMatch(/task:sent is not an event of a graph run/);
    expect((await owner.inject('/api/runs')).json<RunPage>().total).toBe(before);
  });

  it('upgrades a version 5 file in place: its runs are pipeline runs, as before', () => {
    const file = path.join(folder, 'v5.db');
    const before = RunStore.open(file);
    before.insertRun({
      id: 'run-old5',
      playground: 'pg-old5',
      scenario: 'tutorial',
      params: { intervalMs: 0, builtInWorkers: true, tasks: 1, payloadBytes: 0, drainMs: 0, syncStart: false },
      endpoints: [],
      workers: [],
      startedAt: 1,
    });
    before.close();
    // Back to what a version-5 server wrote: no kind.
    const raw = new Database(file);
    raw.exec('ALTER TABLE runs DROP COLUMN kind; PRAGMA user_version = 5;');
    raw.close();

    const store = RunStore.open(file);
    try {
      const [run] = store.listRuns().runs;
      expect(run).toMatchObject({ id: 'run-old5', status: 'incomplete', params: { tasks: 1 } });
      expect(run!.kind).toBeUndefined();
      expect(store.getAnyRun('run-old5')).not.toHaveProperty('graph');
    } finally {
      store.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.prepare('SELECT kind FROM runs').all()).toEqual([{ kind: 'pipeline' }]);
    check.close();
  });
});
