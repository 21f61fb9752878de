/**
 * The history API through Fastify's inject, with the real pipeline and recorder underneath: every run recorded
 * without asking, listed, windowed, renamed, deleted, exported (JSON and CSV, streamed) and imported back. Bad
 * files are refused with a message naming the problem, and nothing of them is stored.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import {
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  type EventWindow,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type RecordedRunDetail,
  type RecordingStatus,
  type RunCountersAt,
  type RunExport,
  type RunPage,
} from '../../shared/protocol/index.ts';
import { RunStore } from '../recorder/store.ts';
import { Visitor, freePort } from '../../test/helpers.ts';
import { type TutorialApp, closeTutorialApp, openTutorialApp } from '../../test/app-harness.ts';
import { syntheticEvents, until } from '../../test/recording.ts';

let app: FastifyInstance;
/** The visitor that records, imports and manages the runs of these tests. */
let owner: Visitor;
let store: RunStore;
let policy: TutorialApp['policy'];

beforeEach(async () => {
  store = RunStore.open(':memory:');
  ({ app, policy } = await openTutorialApp({ store }));
  owner = new Visitor(app);
});
afterEach(async () => {
  await closeTutorialApp({ app, policy });
  store.close();
});

async function get<T>(url: string, status = 200): Promise<T> {
  const response = await owner.inject(url);
  expect(response.statusCode, `${url}: ${response.body.slice(0, 300)}`).toBe(status);
  return response.json<T>();
}

/** Runs the tutorial through the API and waits (bounded) until its recording has ended. */
async function recordedTutorial(params: object = { intervalMs: 0, drainMs: 300 }): Promise<RecordedRunDetail> {
  const playground = (
    await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'tutorial', params } })
  ).json<PlaygroundInfo>();
  const { run } = (await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/runs` })).json<{
    run: string;
  }>();
  return await until(
    () => store.listRuns().runs.find((r) => r.id === run)?.status === 'ended' && store.getRun(run),
    `run ${run} recorded to its end`,
    15_000,
  );
}

async function exportText(id: string): Promise<string> {
  const response = await owner.inject(`/api/runs/${id}/export.json`);
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['content-disposition']).toMatch(new RegExp(`attachment; filename=".*${id}\\.json"`));
  return response.body;
}

function importFile(payload: string) {
  return owner.inject({
    method: 'POST',
    url: '/api/runs/import',
    headers: { 'content-type': 'application/json' },
    payload,
  });
}

/** A synthetic run stored through the import route; returns its export document. */
function syntheticExport(count: number, mutate: (events: PlaygroundEvent[]) => void = () => {}): RunExport {
  const events = [...syntheticEvents('run-5e1f0001', { count, firstSeq: 41 })];
  mutate(events);
  const started = events[0] as Extract<PlaygroundEvent, { type: 'run:started' }>;
  const ended = events.at(-1) as Extract<PlaygroundEvent, { type: 'run:ended' }>;
  return {
    format: RUN_EXPORT_FORMAT,
    version: RUN_EXPORT_VERSION,
    exportedAt: new Date().toISOString(),
    run: {
      id: 'run-5e1f0001',
      name: 'Synthetic',
      playground: 'pg-elsewhere',
      scenario: started.scenario,
      startedAt: '2026-01-02T03:04:05.000Z',
      endedAt: '2026-01-02T03:04:06.000Z',
      durationMs: ended.t,
      status: 'ended',
      reason: 'completed',
      summary: ended.summary,
      eventCount: events.length,
      firstSeq: events[0]!.seq,
      lastSeq: ended.seq,
      lostEvents: 0,
      workers: started.workers,
      params: started.params,
      endpoints: started.endpoints,
      protocolVersion: 1,
    },
    events,
  };
}

describe('history API', () => {
  it('[R1][R3] records every run without asking and serves it: list, detail, event windows, counters', async () => {
    const run = await recordedTutorial();
    const page = await get<RunPage>('/api/runs');
    expect(page.total).toBe(1);
    expect(page.nextBefore).toBeNull();
    const [listed] = page.runs;
    expect(listed).toMatchObject({
      id: run.id,
      scenario: 'tutorial',
      status: 'ended',
      reason: 'completed',
      source: 'live',
    });
    expect(listed!.summary!.sent).toBe(12);
    expect(Object.values(listed!.summary!.received).reduce((a, b) => a + b, 0) + listed!.summary!.unattributed).toBe(
      12,
    );
    // The list carries the run's parameters too (the batch-time chart compares runs of one shape: issue 10.12).
    expect(listed!.params).toMatchObject({ intervalMs: 0, drainMs: 300 });

    const detail = await get<RecordedRunDetail>(`/api/runs/${run.id}`);
    expect(detail).toMatchObject({ id: run.id, params: { intervalMs: 0, drainMs: 300 }, protocolVersion: 1 });
    expect(detail.endpoints.map((e) => e.name)).toEqual(['tcp', 'ipc']);

    // Windows: the first 5 events, then the rest in pages that chain through nextSeq.
    const first = await get<EventWindow>(`/api/runs/${run.id}/events?limit=5`);
    expect(first.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5].map((i) => detail.firstSeq + i - 1));
    expect(first.events[0]!.type).toBe('run:started');
    const all = [...first.events];
    let next = first.nextSeq;
    for (let guard = 0; next !== null && guard < 100; guard++) {
      const window = await get<EventWindow>(`/api/runs/${run.id}/events?fromSeq=${next}&limit=7`);
      all.push(...window.events);
      next = window.nextSeq;
    }
    expect(all).toHaveLength(detail.eventCount);
    expect(all.at(-1)!.type).toBe('run:ended');

    // A time window holds exactly the events with fromT <= t <= toT.
    const ipcBound = all.find((e) => e.type === 'endpoint:bound' && e.endpoint.name === 'ipc')!;
    const around = await get<EventWindow>(`/api/runs/${run.id}/events?fromT=0&toT=${ipcBound.t}&limit=5000`);
    expect(around.events).toEqual(all.filter((e) => e.t <= ipcBound.t));
    // Counters at that moment: exactly the tasks sent/received by then (the tutorial binds ipc after 3 sends).
    const counters = await get<RunCountersAt>(`/api/runs/${run.id}/counters?t=${ipcBound.t}`);
    expect(counters.sent).toBe(all.filter((e) => e.type === 'task:sent' && e.t <= ipcBound.t).length);
    expect(counters.sent).toBe(3);
    expect(counters.lastSeq).toBe(around.events.at(-1)!.seq);

    // kind=topology: every non-task event (what a big run's replay draws its diagram from), in pages, in order.
    const topology: PlaygroundEvent[] = [];
    let from: number | null = detail.firstSeq;
    for (let guard = 0; from !== null && guard < 100; guard++) {
      const window: EventWindow = await get<EventWindow>(
        `/api/runs/${run.id}/events?kind=topology&fromSeq=${from}&limit=4`,
      );
      topology.push(...window.events);
      from = window.nextSeq;
    }
    const expected = all.filter((e) => !e.type.startsWith('task:'));
    expect(topology).toEqual(expected);
    expect(expected.map((e) => e.type)).toEqual(
      expect.arrayContaining(['run:started', 'endpoint:bound', 'socket:event', 'run:ended']),
    );
    expect((await owner.inject(`/api/runs/${run.id}/events?kind=tasks`)).json()).toMatchObject({
      code: 'PG_ERR_VALIDATION',
    });

    const status = await get<RecordingStatus>('/api/recording');
    expect(status).toMatchObject({
      enabled: true,
      path: ':memory:',
      writeErrors: 0,
      droppedEvents: 0,
      lastError: null,
    });
    expect(status.recordedEvents).toBe(detail.eventCount);
  });

  it('stores the final run:ended of a run in progress when the app closes', async () => {
    const playground = (
      await owner.inject({
        method: 'POST',
        url: '/api/playgrounds',
        payload: { scenario: 'tutorial', params: { intervalMs: 5000 } },
      })
    ).json<PlaygroundInfo>();
    const { run } = (await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/runs` })).json<{
      run: string;
    }>();
    await until(() => store.listRuns().runs.find((r) => r.id === run && r.eventCount > 2), 'the run row');
    // A run being recorded can be neither deleted nor exported.
    const deleting = await owner.inject({ method: 'DELETE', url: `/api/runs/${run}` });
    expect(deleting.statusCode).toBe(409);
    expect(deleting.json()).toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });
    expect((await owner.inject(`/api/runs/${run}/export.json`)).statusCode).toBe(409);

    await app.close();
    expect(store.getRun(run)).toMatchObject({ status: 'ended', reason: 'stopped' });
    app = await buildApp({ policy, staticDir: null, store }); // for afterEach
  });

  it('[R5][R7] exports a run as a versioned JSON document, streamed, and imports it back as an equal run under a new id', async () => {
    const run = await recordedTutorial();
    const text = await exportText(run.id);
    const doc = JSON.parse(text) as RunExport;
    expect(doc).toMatchObject({
      format: 'zmq-pipeline-playground/run',
      version: 1,
      run: { id: run.id, status: 'ended', firstSeq: run.firstSeq },
    });
    expect(doc.run.eventCount).toBeGreaterThanOrEqual(run.eventCount); // late monitor events may have joined it since
    expect(doc.events).toHaveLength(doc.run.eventCount);
    expect(doc.events.map((e) => e.seq)).toEqual(
      Array.from({ length: doc.run.eventCount }, (_, i) => run.firstSeq + i),
    );

    const imported = await importFile(text);
    expect(imported.statusCode, imported.body).toBe(201);
    const copy = imported.json<RecordedRunDetail>();
    expect(copy.id).not.toBe(run.id);
    expect(copy.source).toBe('imported');
    const { id: _a, ...exported } = doc.run;
    const { id: _b, source: _c, public: _d, owned: _e, ...again } = copy;
    expect(again).toEqual(exported);
    // Its own export equals the original one but for the run id (and the export time).
    const second = JSON.parse(await exportText(copy.id)) as RunExport;
    expect(second.run).toEqual({ ...doc.run, id: copy.id });
    expect(second.events).toEqual(doc.events.map((e) => ({ ...e, run: copy.id })));
    expect((await get<RunPage>('/api/runs')).runs.map((r) => r.id)).toEqual([copy.id, run.id]);
  });

  it('[R5][R6] refuses corrupt, truncated, foreign, newer and inconsistent files with a clear message, storing nothing', async () => {
    const good = syntheticExport(30);
    const text = JSON.stringify(good);
    const withEvent = (i: number, patch: object) => syntheticExport(30, (events) => Object.assign(events[i]!, patch));
    const cases: [string, string, RegExp][] = [
      ['corrupt JSON', '{"format": "zmq-pipeline-playground/run", "version": 1, oops', /not valid JSON/],
      ['truncated file', text.slice(0, Math.floor(text.length * 0.6)), /not valid JSON \(truncated or corrupt\?\)/],
      ['empty body', '', /No file|empty/],
      ['a JSON array', '[1, 2, 3]', /Not a run export/],
      [
        'foreign format',
        JSON.stringify({ ...good, format: 'some-other-tool/session' }),
        /Not a ZeroMQ Pipeline Playground run: "format" is "some-other-tool\/session"/,
      ],
      [
        'newer version',
        JSON.stringify({ ...good, version: 2 }),
        /format version 2, which is newer than this server reads \(version 1\)/,
      ],
      [
        'bad run metadata',
        JSON.stringify({ ...good, run: { ...good.run, params: { ...good.run.params, intervalMs: -1 } } }),
        /^run: \/params\/intervalMs/,
      ],
      [
        'event with a bad field',
        JSON.stringify(withEvent(8, { worker: '' })),
        /^events\[8\] \(seq 49\): task:received: \/worker/,
      ],
      [
        'a second run:ended',
        JSON.stringify(
          syntheticExport(30, (events) => events.splice(28, 1, { ...events[29]!, seq: 69, t: events[28]!.t })),
        ),
        /events\[29\] \(seq 70\): a second run:ended \(the first is events\[28\]\)/,
      ],
      [
        'event of an unknown type',
        JSON.stringify(withEvent(3, { type: 'task:teleported' })),
        /^events\[3\] \(seq 44\): Unknown event type "task:teleported"/,
      ],
      [
        'non-increasing seq',
        JSON.stringify(withEvent(5, { seq: 45 })),
        /^events\[5\] \(seq 45\): seq 45 is not greater than the previous seq 45/,
      ],
      ['time going backwards', JSON.stringify(withEvent(5, { t: 0 })), /^events\[5\] \(seq 46\): t 0 is earlier/],
      [
        'events cut off with a consistent count',
        JSON.stringify({
          ...good,
          run: { ...good.run, eventCount: 29, lastSeq: 69, status: 'ended' },
          events: good.events.slice(0, 29),
        }),
        /stop before run:ended/,
      ],
      [
        'event count that does not match',
        JSON.stringify({ ...good, events: good.events.slice(0, 20) }),
        /truncated or was edited: run.eventCount is 30 but it holds 20 events/,
      ],
      [
        'event of another run',
        JSON.stringify(withEvent(2, { run: 'run-other' })),
        /events\[2\] \(seq 43\) belongs to run "run-other"/,
      ],
    ];
    for (const [what, payload, message] of cases) {
      const response = await importFile(payload);
      expect(response.statusCode, what).toBe(400);
      expect(response.json().code, what).toBe('PG_ERR_IMPORT');
      expect(response.json().message, what).toMatch(message);
    }
    expect(store.listRuns().total).toBe(0);
    // The good file goes in, under a new id, relabelled.
    const ok = await importFile(text);
    expect(ok.statusCode).toBe(201);
    const stored = ok.json<RecordedRunDetail>();
    expect(stored).toMatchObject({
      name: 'Synthetic',
      eventCount: 30,
      firstSeq: 41,
      lastSeq: 70,
      status: 'ended',
      startedAt: '2026-01-02T03:04:05.000Z',
    });
    const events = await get<EventWindow>(`/api/runs/${stored.id}/events`);
    expect(events.events).toEqual(good.events.map((e) => ({ ...e, run: stored.id })));
  });

  it('[R7] stores nothing of an import that fails half-way through writing', () => {
    // The checker would refuse a repeated seq; go past it to make the writing itself fail at event 2000 of 3000
    // (its task chunk refuses a seq that does not increase; a row would break the table's primary key).
    const broken = syntheticExport(3000);
    broken.events[2000]!.seq = broken.events[1999]!.seq;
    expect(() => store.importRun(broken)).toThrow(/needs increasing whole seqs|UNIQUE constraint failed/);
    expect(store.listRuns().total).toBe(0);
  });

  it('exports the task events as CSV with correct quoting', async () => {
    const doc = syntheticExport(8, (events) => {
      Object.assign(events[1]!, { body: 'plain' });
      Object.assign(events[2]!, { body: 'a, "quoted"\nline' });
      Object.assign(events[3]!, { body: '=HYPERLINK("x")' });
    });
    const imported = (await importFile(JSON.stringify(doc))).json<RecordedRunDetail>();
    const response = await owner.inject(`/api/runs/${imported.id}/export.csv`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const lines = response.body.split('\r\n');
    expect(lines[0]).toBe('seq,t,type,task,worker,body');
    expect(lines[1]).toBe('42,0.5,task:sent,0,,plain');
    expect(lines[2]).toBe('43,1,task:received,0,worker-tcp,"a, ""quoted""\nline"');
    // A formula is defused with a leading ' (and quoted, as it holds quotes).
    expect(lines[3]).toBe(`44,1.5,task:sent,1,,"'=HYPERLINK(""x"")"`);
    // run:started and run:ended are not task events; 6 task rows + header + final empty line.
    expect(lines).toHaveLength(8);
    expect(lines.at(-1)).toBe('');
  });

  it('renames and deletes runs, and answers bad input with coded errors', async () => {
    const a = (await importFile(JSON.stringify(syntheticExport(6)))).json<RecordedRunDetail>();
    const b = (await importFile(JSON.stringify(syntheticExport(6)))).json<RecordedRunDetail>();
    const renamed = await owner.inject({
      method: 'PATCH',
      url: `/api/runs/${a.id}`,
      payload: { name: '  Round-robin, 3 workers ' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id: a.id, name: 'Round-robin, 3 workers' });
    expect((await get<RecordedRunDetail>(`/api/runs/${a.id}`)).name).toBe('Round-robin, 3 workers');

    const bad: [string, string, object | undefined, number, string, RegExp][] = [
      [
        'PATCH',
        `/api/runs/${a.id}`,
        { name: '' },
        400,
        'PG_ERR_VALIDATION',
        /name must NOT have fewer than 1 characters/,
      ],
      ['PATCH', `/api/runs/${a.id}`, { name: 'x'.repeat(101) }, 400, 'PG_ERR_VALIDATION', /more than 100 characters/],
      ['PATCH', `/api/runs/${a.id}`, { name: '   ' }, 400, 'PG_ERR_VALIDATION', /blank/],
      ['PATCH', `/api/runs/${a.id}`, { name: 'ok', color: 'red' }, 400, 'PG_ERR_VALIDATION', /unknown field "color"/],
      ['PATCH', '/api/runs/run-nope', { name: 'ok' }, 404, 'PG_ERR_NOT_FOUND', /No recorded run "run-nope"/],
      ['GET', `/api/runs/${a.id}/events?limit=5001`, undefined, 400, 'PG_ERR_VALIDATION', /limit must be 1-5000/], // [R3]
      ['GET', `/api/runs/${a.id}/events?limit=0`, undefined, 400, 'PG_ERR_VALIDATION', /limit must be 1-5000/],
      ['GET', `/api/runs/${a.id}/events?fromSeq=-1`, undefined, 400, 'PG_ERR_VALIDATION', /fromSeq must match/],
      ['GET', `/api/runs/${a.id}/events?fromT=abc`, undefined, 400, 'PG_ERR_VALIDATION', /fromT must match/],
      ['GET', `/api/runs/${a.id}/events?bogus=1`, undefined, 400, 'PG_ERR_VALIDATION', /unknown field "bogus"/],
      ['GET', `/api/runs/${a.id}/counters`, undefined, 400, 'PG_ERR_VALIDATION', /must have required property 't'/],
      ['GET', '/api/runs?limit=1000', undefined, 400, 'PG_ERR_VALIDATION', /limit must be 1-200/],
      ['GET', '/api/runs?before=x', undefined, 400, 'PG_ERR_VALIDATION', /before must match/],
      ['GET', '/api/runs/run-nope/export.csv', undefined, 404, 'PG_ERR_NOT_FOUND', /No recorded run/],
      ['DELETE', '/api/runs/run-nope', undefined, 404, 'PG_ERR_NOT_FOUND', /No recorded run/],
    ];
    for (const [method, url, payload, status, code, message] of bad) {
      const response = await owner.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(status);
      expect(response.json(), `${method} ${url}`).toMatchObject({ code });
      expect(response.json().message, `${method} ${url}`).toMatch(message);
    }

    const deleted = await owner.inject({ method: 'DELETE', url: `/api/runs/${a.id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await owner.inject(`/api/runs/${a.id}`)).statusCode).toBe(404);
    expect((await get<RunPage>('/api/runs')).runs.map((r) => r.id)).toEqual([b.id]);
  });

  it("[R4] /counters?t= gives the exact counts of every kind of task event with t' <= t", async () => {
    // About 150 counter requests within seconds, more than a visitor's 50 a second (limits.ts): an app that allows them.
    await app.close();
    const endpointOverrides = { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` };
    app = await buildApp({
      policy,
      staticDir: null,
      store,
      limits: { httpPerSecond: 10_000 },
      registry: { endpointOverrides },
    });
    owner = new Visitor(app);
    // A batch with the sink on: sent, received, done and collected, ~4,900 events, so checkpoints (every 2,000)
    // and task chunks are both read. Then the tutorial's burst, whose second "x" is lost with a closed pipe.
    const pipeline = (
      await owner.inject({
        method: 'POST',
        url: '/api/playgrounds',
        payload: { scenario: 'pipeline', params: { tasks: 1200 } },
      })
    ).json<PlaygroundInfo>();
    expect(
      (
        await owner.inject({
          method: 'PATCH',
          url: `/api/playgrounds/${pipeline.id}/sink`,
          payload: { enabled: true, transport: 'tcp' },
        })
      ).statusCode,
    ).toBe(200);
    const { run: batchId } = (
      await owner.inject({ method: 'POST', url: `/api/playgrounds/${pipeline.id}/runs` })
    ).json<{ run: string }>();
    const batch = await until(
      () => store.listRuns().runs.find((r) => r.id === batchId)?.status === 'ended' && store.getRun(batchId),
      'the batch recorded',
      20_000,
    );
    const burst = await recordedTutorial();
    const seen = { collected: 0, lost: 0 };
    for (const run of [batch, burst]) {
      const events: PlaygroundEvent[] = [];
      for (let from: number | null = run.firstSeq; from !== null;) {
        const window: EventWindow = await get<EventWindow>(`/api/runs/${run.id}/events?fromSeq=${from}&limit=5000`);
        events.push(...window.events);
        from = window.nextSeq;
      }
      expect(events).toHaveLength(run.eventCount);
      // Every 50th event's moment, those around each checkpoint, the start and after the end.
      const moments = new Set<number>([0, Math.ceil(events.at(-1)!.t) + 1000]);
      events.forEach((event, i) => {
        if (i % 50 === 0 || (event.seq - run.firstSeq + 1) % 2000 <= 1) moments.add(event.t);
      });
      for (const t of moments) {
        const upTo = events.filter((event) => event.t <= t);
        const expected = {
          lastSeq: upTo.at(-1)?.seq ?? 0,
          sent: 0,
          received: {} as Record<string, number>,
          done: {} as Record<string, number>,
          collected: 0,
          lost: 0,
        };
        for (const worker of run.workers) expected.received[worker.id] = expected.done[worker.id] = 0;
        for (const event of upTo) {
          if (event.type === 'task:sent') expected.sent++;
          else if (event.type === 'task:received')
            expected.received[event.worker] = (expected.received[event.worker] ?? 0) + 1;
          else if (event.type === 'task:done') expected.done[event.worker] = (expected.done[event.worker] ?? 0) + 1;
          else if (event.type === 'task:collected') expected.collected++;
          else if (event.type === 'task:lost') expected.lost++;
        }
        const counters = await get<RunCountersAt>(`/api/runs/${run.id}/counters?t=${t}`);
        expect(counters, `${run.scenario} at t=${t}`).toEqual({ run: run.id, t, ...expected });
        seen.collected = Math.max(seen.collected, counters.collected);
        seen.lost = Math.max(seen.lost, counters.lost);
      }
    }
    expect(seen.collected).toBe(1200);
    expect(seen.lost).toBeGreaterThan(0);
  });

  it('pages the run list newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await importFile(JSON.stringify(syntheticExport(4)))).json<RecordedRunDetail>().id);
    const first = await get<RunPage>('/api/runs?limit=2');
    expect(first.runs.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const second = await get<RunPage>(`/api/runs?limit=2&before=${first.nextBefore}`);
    expect(second.runs.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const third = await get<RunPage>(`/api/runs?limit=2&before=${second.nextBefore}`);
    expect(third).toMatchObject({ runs: [{ id: ids[0] }], nextBefore: null, total: 5 });
  });
});
