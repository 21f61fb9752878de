/**
 * The storage conformance suite (issue 13): every store behind the storage interface (store-api.ts) answers the
 * same, for every read and write the recorder and the history offer. Run against each factory of
 * conformance-stores.ts (SQLite file, SQLite :memory:, PostgreSQL when its binaries are here), each test on a fresh
 * database:
 *   - a real tutorial run (real sockets) recorded through the store's own write channel: stored exactly as logged,
 *     windows by seq, by time and topology, paging, counters at any moment, CSV, against what was logged
 *   - a run still being recorded: listed "running", refused for export and delete; late events after run:ended
 *   - listing: newest first, keyset pages, what each visitor sees (owned, watched playgrounds, public by id only)
 *   - a synthetic run of several chunks and checkpoints: windows and counters at chunk and checkpoint boundaries
 *   - export and import round trip (a new id, the same export but for it); a refused import stores nothing, and
 *     an import the store itself fails half-way stores nothing either (one transaction)
 *   - rename, public, delete
 *   - a graph run recorded, exported and imported through the app over this store (buildApp({ store }))
 *   - a crash mid-run (SIGKILL of the recording process) leaves the run "running"; a server opening the database
 *     marks it incomplete with a summary rebuilt from its events
 *   - a database of a newer schema version is refused, naming both versions
 * Every wait is bounded; there are no sleeps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import {
  GRAPH_RUN_EXPORT_FORMAT,
  type GraphRunExport,
  type PlaygroundEvent,
  type RecordedGraphRunDetail,
  type RunExport,
} from '../../shared/protocol/index.ts';
import { Visitor, collect, freePort, run as spawnProcess, runEnded, testPolicy } from '../../test/helpers.ts';
import { syntheticEvents, until } from '../../test/recording.ts';
import { buildApp } from '../app.ts';
import { Playground } from '../pipeline/playground.ts';
import { CSV_HEADER, csvField, exportCsv, exportJson, exportText } from './export.ts';
import { Recorder } from './recorder.ts';
import { RunLog } from './run-log.ts';
import { storeFactories, type StoreUnderTest } from './conformance-stores.ts';
import { StoreOpenError, type EventRange, type RecordingStore, type WriteChannel } from './store-api.ts';
import { openRecordingStore } from './store-open.ts';
import { CHECKPOINT_EVERY, SCHEMA_VERSION } from './store.ts';

const TUTORIAL = { id: 'tutorial', title: 'The tutorial' };

/** The events a store gives back for a window, following the rules of docs/recording.md, computed from the log. */
function expectedWindow(
  events: PlaygroundEvent[],
  range: EventRange,
): { events: PlaygroundEvent[]; nextSeq: number | null } {
  const matching = events.filter(
    (e) =>
      e.seq >= (range.fromSeq ?? 0) &&
      e.seq <= (range.toSeq ?? Number.MAX_SAFE_INTEGER) &&
      e.t >= (range.fromT ?? -Infinity) &&
      e.t <= (range.toT ?? Infinity) &&
      (range.kind !== 'topology' || !e.type.startsWith('task:')),
  );
  const taken = matching.slice(0, range.limit);
  return { events: taken, nextSeq: matching.length > range.limit ? taken.at(-1)!.seq + 1 : null };
}

/** The counters at t counted straight from the events (not through the shared reducer the stores use). */
function expectedCounters(events: PlaygroundEvent[], workers: string[], t: number) {
  const upTo = events.filter((e) => e.t <= t);
  const perWorker = (type: string) => {
    const counts: Record<string, number> = Object.fromEntries(workers.map((w) => [w, 0]));
    for (const e of upTo)
      if (e.type === type && 'worker' in e && typeof e.worker === 'string')
        counts[e.worker] = (counts[e.worker] ?? 0) + 1;
    return counts;
  };
  return {
    t,
    lastSeq: upTo.at(-1)?.seq ?? 0,
    sent: upTo.filter((e) => e.type === 'task:sent').length,
    received: perWorker('task:received'),
    done: perWorker('task:done'),
    collected: upTo.filter((e) => e.type === 'task:collected').length,
    lost: upTo.filter((e) => e.type === 'task:lost').length,
  };
}

const parse = (json: string[]) => json.map((text) => JSON.parse(text) as PlaygroundEvent);

describe.each(storeFactories)('$name', (factory) => {
  let under: StoreUnderTest;
  let store: RecordingStore;
  let channel: WriteChannel;
  let policy: ReturnType<typeof testPolicy>;
  /** Run after each test, newest first (playgrounds, recorders, apps, folders). */
  const cleanups: (() => unknown)[] = [];

  beforeEach(async () => {
    [under, store, channel, policy] = [undefined!, undefined!, undefined!, undefined!];
    under = await factory.create();
    store = under.store;
    channel = store.openWriteChannel();
    policy = testPolicy();
  }, 60_000);
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    // Each part may be missing when the factory or the channel failed to start.
    await channel?.close();
    await under?.dispose();
    policy?.cleanup();
  }, 30_000);
  afterAll(async () => {
    await factory.teardown?.();
  }, 30_000);

  /** Every event of a run, read window by window (`limit` each). */
  async function readAll(id: string, limit = 1000): Promise<PlaygroundEvent[]> {
    const events: PlaygroundEvent[] = [];
    let fromSeq: number | null = 0;
    let windows = 0;
    while (fromSeq !== null) {
      const window = await store.eventWindow(id, { fromSeq, limit });
      expect(window.json.length).toBeLessThanOrEqual(limit);
      events.push(...parse(window.json));
      fromSeq = window.nextSeq;
      if (++windows > 100_000) throw new Error('the windows never ended');
    }
    return events;
  }

  /** Synthetic events of one run, appended to a RunLog a Recorder on `channel` follows; the events as logged. */
  async function recordSynthetic(options: {
    playground: string;
    owner: string | null;
    run: string;
    count: number;
    ended?: boolean;
    log?: RunLog;
    recorder?: Recorder;
  }): Promise<{ events: PlaygroundEvent[]; log: RunLog; recorder: Recorder }> {
    const log = options.log ?? new RunLog();
    const recorder =
      options.recorder ??
      new Recorder(channel, { id: options.playground, scenario: TUTORIAL, log, owner: options.owner }, { flushMs: 10 });
    cleanups.push(() => recorder.close());
    const events = [...syntheticEvents(options.run, { count: options.count, ended: options.ended ?? true })].map(
      (event) => log.append(event),
    );
    await recorder.flushed();
    return { events, log, recorder };
  }

  it('stores a real run written through its write channel exactly as logged, and answers every read from it', async () => {
    const port = await freePort();
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 0, drainMs: 300 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${port}`, ipc: `ipc://${policy.runtimeDir}/conformance` },
      owner: 'visitor-a',
    });
    cleanups.push(() => playground.close());
    // Small batches: many transactions, many chunks, topology events between and inside them.
    const recorder = new Recorder(channel, playground, { flushMs: 10, batchSize: 7 });
    const logged = collect(playground);
    const started = playground.startRun();
    await runEnded(playground, started.id);
    // What the recorder saw is what was logged until it stopped listening (a late disconnect may follow).
    const closing = recorder.close();
    const mine = logged.filter((event) => event.run === started.id);
    await closing;
    const ended = mine.find((event) => event.type === 'run:ended') as Extract<PlaygroundEvent, { type: 'run:ended' }>;
    expect(ended).toBeDefined();
    expect(mine.filter((e) => e.type.startsWith('task:')).length).toBeGreaterThan(20);

    const detail = await store.getRun(started.id, 'visitor-a');
    expect(detail).toMatchObject({
      id: started.id,
      playground: playground.id,
      scenario: 'tutorial',
      status: 'ended',
      reason: ended.reason,
      summary: ended.summary,
      eventCount: mine.length,
      firstSeq: mine[0]!.seq,
      lastSeq: mine.at(-1)!.seq,
      lostEvents: 0,
      source: 'live',
      owned: true,
    });
    expect(await store.getAnyRun(started.id)).toEqual({ ...detail, owned: undefined });

    // Everything, whatever the window size; windows by seq, by time and topology only, as the rules say.
    expect(await readAll(started.id)).toEqual(mine);
    expect(await readAll(started.id, 7)).toEqual(mine);
    const seqs = mine.map((e) => e.seq);
    const times = [...new Set(mine.map((e) => e.t))];
    const ranges: EventRange[] = [
      { fromSeq: seqs[3], toSeq: seqs[40], limit: 10 },
      { fromSeq: seqs[5], limit: 1 },
      { toSeq: seqs[2], limit: 100 },
      { fromSeq: seqs.at(-1)! + 1, limit: 10 },
      { fromT: times[2], toT: times[Math.floor(times.length / 2)], limit: 5000 },
      { fromT: times[1], toT: times[1], limit: 5000 },
      { fromT: times.at(-1)! + 1, limit: 10 },
      { fromT: times[1], toT: times.at(-2), limit: 3 },
      { kind: 'topology', limit: 5000 },
      { kind: 'topology', fromSeq: seqs[10], limit: 2 },
    ];
    for (const range of ranges) {
      const window = await store.eventWindow(started.id, range);
      const expected = expectedWindow(mine, range);
      expect({ events: parse(window.json), nextSeq: window.nextSeq }, JSON.stringify(range)).toEqual(expected);
      expect(window.run).toBe(started.id);
    }

    // Counters at any moment: before the first event, at and between event times, after the end.
    const workers = (mine[0] as Extract<PlaygroundEvent, { type: 'run:started' }>).workers.map((w) => w.id);
    for (const t of [-1, ...times.filter((_, i) => i % 5 === 0), times.at(-1)!, times.at(-1)! + 1000]) {
      for (const at of [t, t + 0.0001]) {
        expect(await store.countersAt(started.id, at), `t ${at}`).toEqual({
          run: started.id,
          ...expectedCounters(mine, workers, at),
        });
      }
    }

    // The CSV: every task event, in seq order.
    const csv = await exportText(exportCsv(store, started.id));
    const taskLines = mine
      .filter((e) => e.type.startsWith('task:'))
      .map((e) => {
        const task = e as PlaygroundEvent & { task?: number; worker?: string; body?: string };
        return [
          e.seq,
          e.t,
          csvField(e.type),
          csvField(task.task ?? null),
          csvField(task.worker ?? null),
          csvField(task.body ?? null),
        ].join(',');
      });
    expect(csv).toBe([CSV_HEADER, ...taskLines].map((line) => `${line}\r\n`).join(''));

    // The export: the run as stored, every event as logged.
    const doc = JSON.parse(await exportText(exportJson(store, started.id))) as RunExport;
    expect(doc.events).toEqual(mine);
    expect(doc.run).toMatchObject({ id: started.id, eventCount: mine.length, status: 'ended' });
  }, 60_000);

  it('lists a run being recorded as running, refuses to export or delete it, and keeps events logged after its end', async () => {
    const { log, recorder } = await recordSynthetic({
      playground: 'pg-live',
      owner: 'visitor-a',
      run: 'run-11be0001',
      count: 300,
      ended: false,
    });
    const id = 'run-11be0001';
    const running = await store.getRun(id);
    expect(running).toMatchObject({ status: 'running', summary: null, endedAt: null, eventCount: 300 });
    expect((await store.listRuns()).runs.map((r) => [r.id, r.status])).toEqual([[id, 'running']]);
    await expect(store.exportable(id)).rejects.toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });
    await expect(store.deleteRun(id)).rejects.toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });
    await expect(channel.deleteRun(id)).rejects.toMatchObject({ code: 'PG_ERR_RUN_ACTIVE' });

    // Its end, then a late monitor event of the same run: both stored with it.
    const tail = [...syntheticEvents(id, { count: 302 })].slice(-1)[0] as Extract<
      PlaygroundEvent,
      { type: 'run:ended' }
    >;
    const endedEvent = log.append({ ...tail, t: 1000 });
    const late = log.append({ type: 'ventilator:state', state: 'idle', run: id, t: 1001 } as PlaygroundEvent);
    await recorder.flushed();
    const ended = await store.getRun(id);
    expect(ended).toMatchObject({ status: 'ended', reason: 'completed', lastSeq: late.seq });
    expect(ended.eventCount).toBe(302);
    const stored = await readAll(id);
    expect(stored.at(-2)).toEqual(endedEvent);
    expect(stored.at(-1)).toEqual(late);
    await expect(store.exportable(id)).resolves.toMatchObject({ run: { id, status: 'ended' } });
  });

  it('lists runs newest first in keyset pages, each visitor seeing its own and those of the playgrounds it may watch', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const owner = i < 3 ? 'visitor-a' : 'visitor-b';
      const id = `run-0000a${i}00`;
      await recordSynthetic({ playground: owner === 'visitor-a' ? 'pg-a' : 'pg-b', owner, run: id, count: 10 });
      ids.push(id);
    }
    const newestFirst = [...ids].reverse();

    const all = await store.listRuns();
    expect(all.runs.map((r) => r.id)).toEqual(newestFirst);
    expect(all).toMatchObject({ total: 5, nextBefore: null });

    // Keyset pages of 2: every run once, in order, then no cursor.
    const paged: string[] = [];
    let before: string | undefined;
    for (let page = 0; page < 10; page++) {
      const answer = await store.listRuns({ limit: 2, before });
      expect(answer.total).toBe(5);
      paged.push(...answer.runs.map((r) => r.id));
      if (answer.nextBefore === null) break;
      before = answer.nextBefore;
    }
    expect(paged).toEqual(newestFirst);

    // A's own; B's own plus those of pg-a when B may watch it; a stranger nothing; nobody's flag for others.
    const a = await store.listRuns({ viewer: { visitor: 'visitor-a', playgrounds: [] } });
    expect(a.runs.map((r) => [r.id, r.owned])).toEqual(newestFirst.slice(2).map((id) => [id, true]));
    expect(a.total).toBe(3);
    const b = await store.listRuns({ viewer: { visitor: 'visitor-b', playgrounds: ['pg-a'] } });
    expect(b.runs.map((r) => [r.id, r.owned])).toEqual(newestFirst.map((id, i) => [id, i < 2]));
    const bPage = await store.listRuns({ limit: 4, viewer: { visitor: 'visitor-b', playgrounds: ['pg-a'] } });
    expect(bPage.runs).toHaveLength(4);
    const bRest = await store.listRuns({
      before: bPage.nextBefore!,
      viewer: { visitor: 'visitor-b', playgrounds: ['pg-a'] },
    });
    expect([...bPage.runs, ...bRest.runs].map((r) => r.id)).toEqual(newestFirst);
    expect(await store.listRuns({ viewer: { visitor: 'stranger', playgrounds: [] } })).toMatchObject({
      runs: [],
      total: 0,
    });

    // Public: readable by its id (accessOf says so), still not listed for others.
    await store.setPublic(ids[0]!, true);
    expect(await store.accessOf(ids[0]!)).toEqual({ owner: 'visitor-a', playground: 'pg-a', public: true });
    expect(await store.listRuns({ viewer: { visitor: 'stranger', playgrounds: [] } })).toMatchObject({ total: 0 });
    expect(await store.accessOf('run-nothere')).toBeNull();

    await expect(store.listRuns({ before: 'not-a-cursor' })).rejects.toMatchObject({ code: 'PG_ERR_VALIDATION' });
    await expect(store.getRun('run-nothere')).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    await expect(store.eventWindow('run-nothere', { limit: 1 })).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    await expect(store.countersAt('run-nothere', 0)).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
  });

  it('answers windows and counters exactly across chunk and checkpoint boundaries of a long run', async () => {
    const count = 2 * CHECKPOINT_EVERY + 1234;
    const { events } = await recordSynthetic({ playground: 'pg-long', owner: 'visitor-a', run: 'run-10c90001', count });
    const id = 'run-10c90001';
    expect((await store.getRun(id)).eventCount).toBe(count);
    expect(await readAll(id, 999)).toEqual(events);
    const boundaries = [
      1,
      2,
      999,
      1000,
      1001,
      1002,
      CHECKPOINT_EVERY,
      CHECKPOINT_EVERY + 1,
      2 * CHECKPOINT_EVERY + 1,
      count - 1,
      count,
    ];
    for (const seq of boundaries) {
      for (const range of [
        { fromSeq: seq, limit: 3 },
        { fromSeq: seq - 2, toSeq: seq + 2, limit: 5000 },
        { fromT: events[seq - 1]!.t, toT: events[seq - 1]!.t + 1, limit: 4 },
      ]) {
        const window = await store.eventWindow(id, range);
        expect({ events: parse(window.json), nextSeq: window.nextSeq }, JSON.stringify(range)).toEqual(
          expectedWindow(events, range),
        );
      }
      const t = events[seq - 1]!.t;
      expect(await store.countersAt(id, t)).toEqual({
        run: id,
        ...expectedCounters(events, ['worker-tcp', 'worker-ipc'], t),
      });
    }
    // The export's pages: events and task rows after any seq, bounded by the run's last seq and the limit.
    const { pk, run } = await store.exportable(id);
    for (const after of [0, 998, 1000, CHECKPOINT_EVERY, count - 2]) {
      const page = await store.eventsAfter(pk, after, run.lastSeq, 50);
      expect(page.map((row) => row.seq)).toEqual(
        events
          .filter((e) => e.seq > after)
          .slice(0, 50)
          .map((e) => e.seq),
      );
      expect(parse(page.map((row) => row.json))).toEqual(events.filter((e) => e.seq > after).slice(0, 50));
      const tasks = await store.tasksAfter(pk, after, run.lastSeq, 50);
      expect(tasks.map((row) => row.seq)).toEqual(
        events
          .filter((e) => e.seq > after && e.type.startsWith('task:'))
          .slice(0, 50)
          .map((e) => e.seq),
      );
    }
    expect(await store.eventsAfter(pk, 0, 10, 5000)).toHaveLength(10);
  });

  it('round-trips an export through an import (a new id, the same export but for it), owned by the importer', async () => {
    const { events } = await recordSynthetic({
      playground: 'pg-x',
      owner: 'visitor-a',
      run: 'run-e1e10001',
      count: 2500,
    });
    const text = await exportText(exportJson(store, 'run-e1e10001', new Date(0)));
    const copy = await channel.importRun(text, 'visitor-b');
    expect(copy.id).not.toBe('run-e1e10001');
    expect(copy).toMatchObject({ source: 'imported', status: 'ended', eventCount: 2500, owned: true });
    expect(await store.accessOf(copy.id)).toEqual({ owner: 'visitor-b', playground: null, public: false });
    // An import is listed first, and only for its importer (the playground it names proves nothing).
    expect((await store.listRuns()).runs[0]!.id).toBe(copy.id);
    const viewer = (visitor: string) => ({ viewer: { visitor, playgrounds: ['pg-x'] } });
    expect((await store.listRuns(viewer('visitor-b'))).runs.map((r) => r.id)).toEqual([copy.id, 'run-e1e10001']);
    expect((await store.listRuns(viewer('visitor-c'))).runs.map((r) => r.id)).toEqual(['run-e1e10001']);
    const again = await exportText(exportJson(store, copy.id, new Date(0)));
    expect(again).toBe(text.replaceAll('"run-e1e10001"', JSON.stringify(copy.id)));
    expect(await readAll(copy.id)).toEqual(events.map((e) => ({ ...e, run: copy.id })));
    // The store's own import of a checked document answers the same way.
    const direct = await store.importRun(JSON.parse(text) as RunExport, null);
    expect(direct).toMatchObject({ source: 'imported', eventCount: 2500 });
  });

  it('refuses a corrupt import whole: nothing of it is stored, whether the check or the store refuses it', async () => {
    await recordSynthetic({ playground: 'pg-x', owner: 'visitor-a', run: 'run-c0220001', count: 3000 });
    const text = await exportText(exportJson(store, 'run-c0220001'));
    const before = await store.listRuns();

    const doc = JSON.parse(text) as RunExport;
    const outOfOrder = structuredClone(doc);
    outOfOrder.events[2500]!.seq = outOfOrder.events[2499]!.seq;
    for (const input of [text.slice(0, text.length - 50), JSON.stringify(outOfOrder), '', '{"format":"other"}']) {
      await expect(channel.importRun(input, 'visitor-a')).rejects.toMatchObject({ code: 'PG_ERR_IMPORT' });
    }
    // Past the checks (the store is handed the document as checked), failing in its 2,500th event: one transaction.
    await expect(store.importRun(outOfOrder, 'visitor-a')).rejects.toThrow();
    expect(await store.listRuns()).toEqual(before);
    expect((await store.listRuns({ viewer: { visitor: 'visitor-a', playgrounds: [] } })).total).toBe(1);
  });

  it('renames a run, makes it public and private again, and deletes it with its events', async () => {
    await recordSynthetic({ playground: 'pg-x', owner: 'visitor-a', run: 'run-0e4a0001', count: 1500 });
    const id = 'run-0e4a0001';
    const original = await store.getRun(id);
    expect(original.defaultName).toEqual({ scenario: 'tutorial', n: 1 });
    expect(original.name).toBe('The tutorial #1');

    const renamed = await store.renameRun(id, 'My first run');
    expect(renamed).toMatchObject({ id, name: 'My first run' });
    expect(renamed.defaultName).toBeUndefined();
    expect((await store.getRun(id)).name).toBe('My first run');

    await store.setPublic(id, true);
    expect(await store.getRun(id)).toMatchObject({ public: true });
    await store.setPublic(id, false);
    expect(await store.accessOf(id)).toMatchObject({ public: false });

    await recordSynthetic({ playground: 'pg-x', owner: 'visitor-a', run: 'run-0e4a0002', count: 10 });
    await channel.deleteRun(id);
    await expect(store.getRun(id)).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    await expect(store.eventWindow(id, { limit: 10 })).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    expect(await store.accessOf(id)).toBeNull();
    await expect(channel.deleteRun(id)).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    await store.deleteRun('run-0e4a0002');
    expect(await store.listRuns()).toMatchObject({ runs: [], total: 0 });
    await expect(store.renameRun(id, 'gone')).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
  });

  it('records a graph run through the app over this store; it exports in its own format and imports back', async () => {
    const app = await buildApp({ policy, staticDir: null, store, limits: { httpPerSecond: 1000 } });
    cleanups.push(() => app.close());
    await app.ready();
    const visitor = new Visitor(app);
    const created = await visitor.inject({ method: 'POST', url: '/api/graphs', payload: { scenario: 'series-1' } });
    expect(created.statusCode, created.body).toBe(201);
    const playground = created.json<{ id: string }>();
    const started = await visitor.inject({ method: 'POST', url: `/api/graphs/${playground.id}/runs` });
    expect(started.statusCode, started.body).toBe(201);
    const { run } = started.json<{ run: string }>();
    // Bounded: the run of part 1 ends by itself, then its graph:ended is stored.
    let detail: RecordedGraphRunDetail | null = null;
    for (const deadline = Date.now() + 20_000; detail?.status !== 'ended';) {
      if (Date.now() > deadline)
        throw new Error(`the graph run was not stored as ended within 20 s: ${JSON.stringify(detail)}`);
      // Polled, as the page does; the run of part 1 ends by itself.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const response = await visitor.inject(`/api/runs/${run}`);
      detail = response.statusCode === 200 ? response.json<RecordedGraphRunDetail>() : null;
    }
    expect(detail).toMatchObject({ kind: 'graph', owned: true, scenario: 'series-1' });
    expect(detail.graphSummary).not.toBeNull();

    const exported = await visitor.inject(`/api/runs/${run}/export.json`);
    expect(exported.statusCode, exported.body).toBe(200);
    const doc = exported.json<GraphRunExport>();
    expect(doc.format).toBe(GRAPH_RUN_EXPORT_FORMAT);
    expect(doc.events).toHaveLength(detail.eventCount);
    const imported = await visitor.inject({
      method: 'POST',
      url: '/api/runs/import',
      headers: { 'content-type': 'application/json' },
      payload: exported.body,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const copy = imported.json<RecordedGraphRunDetail>();
    expect(copy).toMatchObject({ kind: 'graph', source: 'imported', eventCount: detail.eventCount });
    const again = await visitor.inject(`/api/runs/${copy.id}/export.json`);
    expect(again.json<GraphRunExport>().events).toEqual(doc.events.map((e) => ({ ...e, run: copy.id })));
    // A graph file with one event fewer is refused whole.
    const broken = { ...doc, events: doc.events.slice(0, -1) };
    const refused = await visitor.inject({
      method: 'POST',
      url: '/api/runs/import',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(broken),
    });
    expect(refused.statusCode).toBe(400);
    expect((await store.listRuns()).total).toBe(2);
    expect((await visitor.inject('/api/recording')).json()).toMatchObject({ enabled: true, path: store.displayName });
  }, 60_000);

  it('marks a run left running incomplete, its summary rebuilt from its stored events (markInterrupted)', async () => {
    const { events } = await recordSynthetic({
      playground: 'pg-x',
      owner: 'visitor-a',
      run: 'run-1e7a0001',
      count: 2101,
      ended: false,
    });
    await recordSynthetic({ playground: 'pg-y', owner: 'visitor-a', run: 'run-1e7a0002', count: 20 });
    expect(await store.markInterrupted()).toBe(1);
    const run = await store.getRun('run-1e7a0001');
    expect(run).toMatchObject({ status: 'incomplete', reason: null, endedAt: null, eventCount: events.length });
    expect(run.summary).toMatchObject({
      sent: events.filter((e) => e.type === 'task:sent').length,
      received: expectedCounters(events, ['worker-tcp', 'worker-ipc'], Infinity).received,
      durationMs: events.at(-1)!.t,
    });
    expect((await store.getRun('run-1e7a0002')).status).toBe('ended');
    expect(await store.markInterrupted()).toBe(0);
  });

  it('keeps a run whose recording process was killed mid-run; opening the database marks it incomplete', async (context) => {
    if (!under.location) return context.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-conformance-crash-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'record-then-hang.mts');
    const source = (file: string) => JSON.stringify(path.resolve(file));
    // A process that records 3,000 events of a run through the store's own channel, says so, then waits to be killed.
    fs.writeFileSync(
      script,
      `import { openRecordingStore } from ${source('server/recorder/store-open.ts')};
import { Recorder } from ${source('server/recorder/recorder.ts')};
import { RunLog } from ${source('server/recorder/run-log.ts')};
import { syntheticEvents } from ${source('test/recording.ts')};
const store = await openRecordingStore(process.argv[2]);
const channel = store.openWriteChannel();
const log = new RunLog();
const recorder = new Recorder(channel, { id: 'pg-crash', scenario: { id: 'tutorial', title: 'The tutorial' }, log, owner: 'visitor-a' });
for (const event of syntheticEvents('run-c4a50001', { count: 3000, ended: false })) log.append(event);
await recorder.flushed();
console.log('recorded');
setInterval(() => {}, 60_000);
`,
    );
    const child = spawnProcess(process.execPath, ['--import', 'tsx', script, under.location], 60_000);
    cleanups.push(() => child.child.kill('SIGKILL'));
    await until(() => child.output().includes('recorded'), 'the child to record its events', 45_000).catch(
      async (error: Error) => {
        child.child.kill('SIGKILL');
        const exit = await child.exited;
        throw new Error(`${error.message}\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`);
      },
    );
    child.child.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    // Seen without recovery, it is still "running"; a server opening the database marks it incomplete.
    const looking = await openRecordingStore(under.location, { recover: false });
    try {
      expect(await looking.getRun('run-c4a50001')).toMatchObject({ status: 'running', eventCount: 3000 });
    } finally {
      await looking.close();
    }
    const reopened = await openRecordingStore(under.location);
    try {
      const run = await reopened.getRun('run-c4a50001');
      expect(run).toMatchObject({ status: 'incomplete', eventCount: 3000, lostEvents: 0 });
      const events = [...syntheticEvents('run-c4a50001', { count: 3000, ended: false })].map((e, i) => ({
        ...e,
        seq: i + 1,
      }));
      expect(run.summary).toMatchObject({ sent: events.filter((e) => e.type === 'task:sent').length });
      const window = await reopened.eventWindow('run-c4a50001', { fromSeq: 2990, limit: 100 });
      expect(parse(window.json)).toEqual(events.slice(2989));
    } finally {
      await reopened.close();
    }
  }, 90_000);

  it('migrates a database of the previous schema version in place, keeping its runs, and records into it', async (context) => {
    if (!under.location || !under.toPreviousVersion) return context.skip();
    const { events } = await recordSynthetic({
      playground: 'pg-x',
      owner: 'visitor-a',
      run: 'run-01d50001',
      count: 1200,
    });
    await channel.close();
    await store.close();
    await under.toPreviousVersion();
    const migrated = await openRecordingStore(under.location);
    const migratedChannel = migrated.openWriteChannel();
    try {
      expect(await migrated.getRun('run-01d50001')).toMatchObject({ status: 'ended', eventCount: 1200 });
      const window = await migrated.eventWindow('run-01d50001', { fromSeq: 990, limit: 20 });
      expect(parse(window.json)).toEqual(events.slice(989, 1009));
      // Written after the migration, through the migrated store's own channel.
      const log = new RunLog();
      const recorder = new Recorder(migratedChannel, { id: 'pg-y', scenario: TUTORIAL, log, owner: 'visitor-a' });
      for (const event of syntheticEvents('run-01d50002', { count: 30 })) log.append(event);
      await recorder.close();
      expect(await migrated.getRun('run-01d50002')).toMatchObject({ status: 'ended', eventCount: 30 });
      expect((await migrated.listRuns()).runs.map((r) => r.id)).toEqual(['run-01d50002', 'run-01d50001']);
    } finally {
      await migratedChannel.close();
      await migrated.close();
    }
  });

  it('refuses a database of a newer schema version, naming both versions', async (context) => {
    if (!under.location || !under.setSchemaVersion) return context.skip();
    await recordSynthetic({ playground: 'pg-x', owner: 'visitor-a', run: 'run-5c4e0001', count: 10 });
    await channel.close();
    await store.close();
    expect(store.closed).toBe(true);
    await store.close(); // idempotent
    await under.setSchemaVersion(SCHEMA_VERSION + 1);
    const opening = openRecordingStore(under.location);
    await expect(opening).rejects.toBeInstanceOf(StoreOpenError);
    await expect(opening).rejects.toThrow(new RegExp(`${SCHEMA_VERSION + 1}.*${SCHEMA_VERSION}`, 's'));
    // Back at this version, it opens and still holds the run.
    await under.setSchemaVersion(SCHEMA_VERSION);
    const reopened = await openRecordingStore(under.location);
    try {
      expect((await reopened.getRun('run-5c4e0001')).eventCount).toBe(10);
    } finally {
      await reopened.close();
    }
  });
});
