/**
 * The PostgreSQL store (issue 13) against the SQLite store, on a throw-away PostgreSQL cluster started once for the
 * file (scripts/throwaway-postgres.ts; each test its own database):
 *   - a REAL run recorded into both at once (two recorders on one playground, small flushes: many chunks) answers
 *     every read the same: list, detail, windows by seq and by time, topology, counters at any moment, the export
 *     (byte for byte) and the CSV; its import too, and rename, public, delete
 *   - several instances share one database: each sees the other's runs, and a starting instance marks only its own
 *     interrupted runs incomplete
 *   - a failed transaction stores nothing of its batch, counts it, and the run ends incomplete with lostEvents;
 *     memory stays bounded while PostgreSQL holds the writer back; the writer thread's death is survived
 *   - schema rules: a newer version refused naming both, two servers creating the tables together, an unreachable
 *     server refused naming host:port
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../../scripts/throwaway-postgres.ts';
import { SCENARIOS } from '../../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../../shared/protocol/index.ts';
import { collect, freePort, runEnded, testPolicy, waitForEvent } from '../../../test/helpers.ts';
import { syntheticEvents, until } from '../../../test/recording.ts';
import { buildApp } from '../../app.ts';
import { Playground } from '../../pipeline/playground.ts';
import { ThreadChannel } from '../channel.ts';
import { exportCsv, exportJson } from '../export.ts';
import { Recorder } from '../recorder.ts';
import { RunLog } from '../run-log.ts';
import { SqliteRecordingStore } from '../sqlite-store.ts';
import { StoreOpenError, type RecordingStore, type WriteChannel } from '../store-api.ts';
import { SCHEMA_VERSION } from '../store/schema.ts';
import { PG_SCHEMA_VERSION, PostgresStore } from './index.ts';

let cluster: ThrowawayPostgres;
let databases = 0;
/** A fresh database of the cluster. */
const freshDatabase = () => cluster.createDatabase(`test_${++databases}`);

beforeAll(async () => {
  cluster = await startThrowawayPostgres({ timeoutMs: 50_000 });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

/** Every text a reader gets, with the export time fixed. */
async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

/** Every read the history API makes, on the same run in both stores, compared. */
async function expectSameAnswers(a: RecordingStore, b: RecordingStore, id: string, events: PlaygroundEvent[]) {
  const [detailA, detailB] = await Promise.all([a.getAnyRun(id, 'v1'), b.getAnyRun(id, 'v1')]);
  // Each recorder took the wall clock of run:started and run:ended when its own listener saw them: a millisecond
  // apart at times. Everything else is the same.
  const align = (text: string) =>
    text.replaceAll(detailA.startedAt, detailB.startedAt).replaceAll(String(detailA.endedAt), String(detailB.endedAt));
  expect(JSON.parse(align(JSON.stringify(detailA)))).toEqual(detailB);
  const firstSeq = events[0]!.seq;
  const lastSeq = events.at(-1)!.seq;
  const times = [...new Set(events.map((e) => e.t))];
  const probesT = [-1, 0, ...times.filter((_, i) => i % 53 === 0), times.at(-1)!, times.at(-1)! + 1].flatMap((t) => [
    t,
    t + 0.0005,
  ]);
  const probesSeq = [0, firstSeq, firstSeq + 1, ...events.filter((_, i) => i % 67 === 0).map((e) => e.seq), lastSeq];
  for (const fromSeq of probesSeq) {
    for (const range of [
      { fromSeq, limit: 7 },
      { fromSeq, limit: 500 },
      { fromSeq, toSeq: fromSeq + 3, limit: 500 },
      { fromSeq, limit: 5, kind: 'topology' as const },
    ]) {
      expect(await a.eventWindow(id, range), JSON.stringify(range)).toEqual(await b.eventWindow(id, range));
    }
  }
  for (const fromT of probesT) {
    for (const span of [0, 3, 1e9]) {
      const range = { fromT, toT: fromT + span, limit: 200 };
      expect(await a.eventWindow(id, range), JSON.stringify(range)).toEqual(await b.eventWindow(id, range));
    }
    expect(await a.countersAt(id, fromT), `counters at ${fromT}`).toEqual(await b.countersAt(id, fromT));
  }
  const [pkA, pkB] = [(await a.exportable(id)).pk, (await b.exportable(id)).pk];
  for (const after of [0, firstSeq + 2, ...probesSeq.slice(3, 8)]) {
    expect(await a.eventsAfter(pkA, after, lastSeq, 64)).toEqual(await b.eventsAfter(pkB, after, lastSeq, 64));
    expect(await a.tasksAfter(pkA, after, lastSeq, 64)).toEqual(await b.tasksAfter(pkB, after, lastSeq, 64));
  }
  const exported = align(await text((await exportJson(a, id, new Date(0))).chunks));
  expect(exported).toBe(await text((await exportJson(b, id, new Date(0))).chunks));
  expect(await text((await exportCsv(a, id)).chunks)).toBe(await text((await exportCsv(b, id)).chunks));
  return exported;
}

/** A synthetic run handed to `channel` (one batch per `flushEvery` events); the events as logged. */
async function recordSynthetic(
  channel: WriteChannel,
  id: string,
  count: number,
  options: { ended?: boolean; playground?: string } = {},
): Promise<PlaygroundEvent[]> {
  const log = new RunLog();
  const recorder = new Recorder(channel, {
    id: options.playground ?? `pg-${id}`,
    scenario: { id: 'tutorial', title: 'The tutorial' },
    log,
    owner: 'v1',
  });
  const events = [...syntheticEvents(id, { count, ended: options.ended ?? true })].map((event) =>
    structuredClone(log.append(event)),
  );
  await recorder.flushed();
  // An unended run stays "running": its recorder is left open (closing it would mark the run incomplete).
  if (options.ended !== false) await recorder.close();
  return events;
}

describe('the PostgreSQL store', () => {
  it('answers every read of a real run, and of its import, as the SQLite store does', { timeout: 60_000 }, async () => {
    // A SQLite file, written by its writer thread as a server's is: the same path of events (packed, rebuilt in a
    // thread, task chunks packed from the rebuilt events) as PostgreSQL's writer thread.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-pgcmp-'));
    const sqlite = SqliteRecordingStore.open(path.join(folder, 'runs.db'));
    const postgres = await PostgresStore.open(await freshDatabase());
    const sqliteChannel = sqlite.openWriteChannel();
    const postgresChannel = postgres.openWriteChannel();
    const policy = testPolicy();
    const scenario = { ...SCENARIOS.get('pipeline')!, workers: [] };
    const playground = new Playground({
      scenario,
      params: { tasks: 400, intervalMs: 1, syncStart: true, drainMs: 1000 },
      policy,
      owner: 'v1',
    });
    try {
      playground.updateSink({ enabled: true, transport: 'ipc' });
      playground.addWorker({ transport: 'tcp' });
      playground.addWorker({ transport: 'ipc' });
      // Small flushes: many chunks, and topology events between and inside them.
      const recorders = [sqliteChannel, postgresChannel].map(
        (channel) => new Recorder(channel, playground, { flushMs: 20, batchSize: 97 }),
      );
      const events = collect(playground);
      const run = playground.startRun();
      await waitForEvent(playground, (e) => e.type === 'task:collected' && e.task === 150, 15_000);
      playground.addWorker({ transport: 'tcp' });
      await runEnded(playground, run.id, 20_000);
      await Promise.all(recorders.map((recorder) => recorder.close()));
      const mine = events.filter((e) => e.run === run.id);
      expect(postgresChannel.stats).toMatchObject({ recordedEvents: mine.length, droppedEvents: 0, writeErrors: 0 });

      const listed = await postgres.listRuns({ viewer: { visitor: 'v1', playgrounds: [] } });
      expect(listed.runs.map((r) => r.id)).toEqual([run.id]);
      const listedInSqlite = await sqlite.listRuns({ viewer: { visitor: 'v1', playgrounds: [] } });
      expect({ ...listed, runs: listed.runs.map(({ startedAt: _s, endedAt: _e, ...run }) => run) }).toEqual({
        ...listedInSqlite,
        runs: listedInSqlite.runs.map(({ startedAt: _s, endedAt: _e, ...run }) => run),
      });
      expect(await postgres.listRuns({ viewer: { visitor: 'v2', playgrounds: [] } })).toMatchObject({ total: 0 });
      expect(await postgres.listRuns({ viewer: { visitor: 'v2', playgrounds: [playground.id] } })).toMatchObject({
        total: 1,
      });
      expect(await postgres.accessOf(run.id)).toEqual(await sqlite.accessOf(run.id));
      expect((await postgres.getRun(run.id)).eventCount).toBe(mine.length);
      const exported = await expectSameAnswers(postgres, sqlite, run.id, mine);

      // Imported into each: the same run again under a new id, whose export is the original's but for the id.
      const [intoPostgres, intoSqlite] = await Promise.all([
        postgresChannel.importRun(exported, 'v2'),
        sqliteChannel.importRun(exported, 'v2'),
      ]);
      expect({ ...intoPostgres, id: 'X' }).toEqual({ ...intoSqlite, id: 'X' });
      const reexported = await text((await exportJson(postgres, intoPostgres.id, new Date(0))).chunks);
      expect(reexported.replaceAll(intoPostgres.id, run.id)).toBe(exported);
      // A refused import stores nothing.
      await expect(
        postgresChannel.importRun(exported.replace('"completed"', '"nonsense"'), 'v2'),
      ).rejects.toMatchObject({
        code: 'PG_ERR_IMPORT',
      });
      expect((await postgres.listRuns()).total).toBe(2);

      // The history's own changes.
      await postgres.setPublic(run.id, true);
      expect(await postgres.accessOf(run.id)).toMatchObject({ public: true, owner: 'v1', playground: playground.id });
      expect(await postgres.renameRun(run.id, 'Mine')).toMatchObject({ name: 'Mine' });
      // PostgreSQL's TEXT holds no U+0000: a name with one is stored with U+FFFD instead, not refused with a 500.
      expect(await postgres.renameRun(intoPostgres.id, 'a\u0000b')).toMatchObject({ name: 'a\uFFFDb' });
      await expect(postgres.getRun('run-nothere')).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
      await expect(postgres.listRuns({ before: 'x' })).rejects.toMatchObject({ code: 'PG_ERR_VALIDATION' });
      await postgresChannel.deleteRun(intoPostgres.id);
      await expect(postgres.getRun(intoPostgres.id)).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    } finally {
      await playground.close();
      policy.cleanup();
      await Promise.all([sqliteChannel.close(), postgresChannel.close()]);
      await Promise.all([sqlite.close(), postgres.close()]);
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('shares one database among instances: each sees the others\u2019 runs, and marks only its own incomplete', async () => {
    const url = await freshDatabase();
    const a = await PostgresStore.open(url, { instance: 'a' });
    const b = await PostgresStore.open(url, { instance: 'b' });
    const channelA = a.openWriteChannel();
    const channelB = b.openWriteChannel();
    let a2: PostgresStore | null = null;
    try {
      await recordSynthetic(channelA, 'run-aaaa0001', 30);
      const interruptedOnA = await recordSynthetic(channelA, 'run-aaaa0002', 20, { ended: false });
      await recordSynthetic(channelB, 'run-bbbb0001', 20, { ended: false });
      for (const store of [a, b]) {
        const page = await store.listRuns();
        expect(page.runs.map((run) => [run.id, run.status])).toEqual([
          ['run-bbbb0001', 'running'],
          ['run-aaaa0002', 'running'],
          ['run-aaaa0001', 'ended'],
        ]);
      }
      // B's run, recorded by A's neighbour, replays on A.
      expect((await a.eventWindow('run-bbbb0001', { limit: 100 })).json).toHaveLength(20);
      // Instance a stops hard (its channel is simply dropped) and starts again: only its own run is interrupted.
      await a.close();
      a2 = await PostgresStore.open(url, { instance: 'a' });
      expect((await a2.getRun('run-aaaa0002')).status).toBe('incomplete');
      expect((await a2.getRun('run-aaaa0002')).summary).toMatchObject({
        sent: interruptedOnA.filter((e) => e.type === 'task:sent').length,
      });
      expect((await a2.getRun('run-bbbb0001')).status).toBe('running');
      // A standalone server (no --instance) on the same database leaves both instances' runs alone too.
      const standalone = await PostgresStore.open(url);
      expect((await standalone.getRun('run-bbbb0001')).status).toBe('running');
      await standalone.close();
      // B's recording carries on and ends normally.
      await channelB.closePlayground('pg-run-bbbb0001');
      expect((await b.getRun('run-bbbb0001')).status).toBe('incomplete');
    } finally {
      await Promise.all([channelA.close(), channelB.close()]);
      await Promise.all([a2?.close(), b.close()]);
    }
  });

  it('stores nothing of a batch whose transaction fails, counts it, and ends the run incomplete', async () => {
    const url = await freshDatabase();
    const store = await PostgresStore.open(url);
    const channel = store.openWriteChannel({ onError: () => {} });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const log = new RunLog();
      const recorder = new Recorder(channel, { id: 'pg-fails', scenario: { id: 'tutorial', title: 'T' }, log });
      const events = [...syntheticEvents('run-fa11ed01', { count: 40 })];
      for (const event of events.slice(0, 10)) log.append(event);
      await recorder.flushed();
      // Every event row refused from now on (the run's row exists already); task chunks still go in.
      await admin.query("ALTER TABLE events ADD CONSTRAINT refuse_all CHECK (type = 'never') NOT VALID");
      for (const event of events.slice(10)) log.append(event);
      await recorder.flushed();
      expect(channel.stats.droppedEvents).toBe(30);
      expect(channel.stats.writeErrors).toBeGreaterThan(0);
      await admin.query('ALTER TABLE events DROP CONSTRAINT refuse_all');
      await recorder.close();
      const run = await waitForStatus(store, 'run-fa11ed01');
      expect(run).toMatchObject({ status: 'incomplete', lostEvents: 30, eventCount: 10 });
    } finally {
      await admin.end();
      await channel.close();
      await store.close();
    }
  });

  it('refuses a newer schema version naming both, and creates the tables once when servers start together', async () => {
    expect(PG_SCHEMA_VERSION).toBe(SCHEMA_VERSION);
    const url = await freshDatabase();
    const stores = await Promise.all([PostgresStore.open(url), PostgresStore.open(url), PostgresStore.open(url)]);
    await Promise.all(stores.map((store) => store.close()));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      expect((await admin.query('SELECT version FROM schema_version')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
      await admin.query('UPDATE schema_version SET version = $1', [PG_SCHEMA_VERSION + 1]);
    } finally {
      await admin.end();
    }
    const refused = await PostgresStore.open(url).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreOpenError);
    expect((refused as Error).message).toMatch(
      new RegExp(`schema version ${PG_SCHEMA_VERSION + 1}, newer than this server knows \\(${PG_SCHEMA_VERSION}\\)`),
    );
  });

  it('bounds memory while PostgreSQL is slow: the recorder holds back, then drops and counts', async () => {
    const url = await freshDatabase();
    const store = await PostgresStore.open(url);
    const channel = store.openWriteChannel({ onError: () => {} });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const log = new RunLog();
      const recorder = new Recorder(
        channel,
        { id: 'pg-slow', scenario: { id: 'tutorial', title: 'T' }, log },
        { maxInFlight: 50, maxBuffered: 100, flushMs: 60_000, batchSize: 1_000_000 },
      );
      const events = [...syntheticEvents('run-5104e001', { count: 300 })];
      log.append(events[0]!);
      recorder.flush();
      await channel.flushed(); // the run's row exists
      // Every write of events waits from now on (a long transaction holding the table).
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE events, task_chunks IN ACCESS EXCLUSIVE MODE');
      const handOver = (from: number, to: number) => {
        for (const event of events.slice(from, to)) log.append(event);
        recorder.flush();
      };
      handOver(1, 31);
      handOver(31, 61);
      expect(channel.inFlight).toBe(60);
      // The writer is 50 behind or more: the recorder keeps the next events, up to its cap, and drops the rest.
      handOver(61, 299);
      expect(channel.inFlight).toBe(60);
      expect(recorder.buffered).toBe(100);
      expect(channel.stats.droppedEvents).toBe(238 - 100);
      log.append(events[299]!); // run:ended is always kept
      expect(recorder.buffered).toBe(101);
      await admin.query('COMMIT');
      await recorder.close();
      const run = await store.getRun('run-5104e001');
      expect(run).toMatchObject({ status: 'incomplete', lostEvents: 138, eventCount: 300 - 138 });
      expect(channel.stats).toMatchObject({ recordedEvents: 300 - 138, writeErrors: 0 });
    } finally {
      await admin.end();
      await channel.close();
      await store.close();
    }
  });

  it('writes from its own thread, and on the main thread once that thread is gone', async () => {
    const store = await PostgresStore.open(await freshDatabase());
    const errors: string[] = [];
    const channel = store.openWriteChannel({ onError: (error) => errors.push(error.message) });
    try {
      expect(channel).toBeInstanceOf(ThreadChannel);
      const thread = (channel as ThreadChannel).worker!;
      expect(thread).not.toBeNull();
      await recordSynthetic(channel, 'run-7h4ead01', 50);
      expect(await store.getRun('run-7h4ead01')).toMatchObject({ status: 'ended', eventCount: 50 });
      await thread.terminate();
      await until(() => (channel as ThreadChannel).worker === null, 'the channel to notice its thread is gone');
      await recordSynthetic(channel, 'run-7h4ead02', 30);
      expect(await store.getRun('run-7h4ead02')).toMatchObject({ status: 'ended', eventCount: 30 });
      expect(errors.join('\n')).toMatch(/writer thread exited .*writing on the main thread/);
    } finally {
      await channel.close();
      await store.close();
    }
  });

  it('keeps a server from starting on a database it cannot reach', async () => {
    const port = await freePort();
    await expect(
      buildApp({ store: `postgres://postgres@127.0.0.1:${port}/none`, staticDir: null, logger: false }),
    ).rejects.toThrow(new RegExp(`Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}`));
  });

  it('says which host:port it cannot reach, and what to do', async () => {
    const port = await freePort();
    const started = Date.now();
    const refused = await PostgresStore.open(`postgres://postgres@127.0.0.1:${port}/none`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreOpenError);
    expect((refused as Error).message).toContain(`Cannot reach PostgreSQL at 127.0.0.1:${port}`);
    expect((refused as Error).message).toContain('did not start');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

/** The run once it is no longer "running" (bounded). */
async function waitForStatus(store: RecordingStore, id: string) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const run = await store.getRun(id);
    if (run.status !== 'running' || Date.now() > deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
