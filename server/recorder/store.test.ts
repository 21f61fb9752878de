/**
 * RunStore on real better-sqlite3: schema and pragmas, round trips through a file and a restart, the crash case,
 * windows by seq and by time, counters at a moment, listing, renaming and deleting. Events are fed the way the
 * server does it: a RunLog stamps seq, a Recorder stores.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { RunLog } from './run-log.ts';
import { Recorder } from './recorder.ts';
import { CHECKPOINT_EVERY, RunStore, SCHEMA_VERSION, StoreOpenError, defaultDbPath, resolveDbPath } from './store.ts';
import { CodedError } from '../errors.ts';
import { syntheticEvents } from '../../test/recording.ts';

let dir: string;
const open: RunStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-store-'));
});
afterEach(() => {
  for (const store of open.splice(0)) store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openStore(location = path.join(dir, 'runs.db')): RunStore {
  const store = RunStore.open(location);
  open.push(store);
  return store;
}

/** Records `events` (as a playground would log them) and returns what the log emitted. */
function record(
  store: RunStore,
  events: Iterable<PlaygroundEvent>,
  options: { playground?: string; close?: boolean } = {},
) {
  const log = new RunLog();
  const recorder = new Recorder(store, {
    id: options.playground ?? 'pg-test',
    scenario: { id: 'tutorial', title: 'The tutorial' },
    log,
  });
  const emitted: PlaygroundEvent[] = [];
  for (const event of events) emitted.push(structuredClone(log.append(event)));
  if (options.close ?? true) recorder.close();
  else recorder.flush();
  return { emitted, recorder, log };
}

/** Every stored event of a run, read back in windows of `limit`. */
function readAll(store: RunStore, id: string, limit = 333): PlaygroundEvent[] {
  const events: PlaygroundEvent[] = [];
  let fromSeq: number | undefined = 0;
  while (fromSeq !== undefined) {
    const window = store.eventWindow(id, { fromSeq, limit });
    events.push(...window.json.map((json) => JSON.parse(json) as PlaygroundEvent));
    fromSeq = window.nextSeq ?? undefined;
  }
  return events;
}

describe('RunStore', () => {
  it('creates its schema in a new file under the data folder: user_version, WAL, synchronous=NORMAL', () => {
    expect(defaultDbPath({ XDG_DATA_HOME: '/data' })).toBe('/data/zmq-playground/runs.db');
    expect(defaultDbPath({ XDG_DATA_HOME: 'relative', HOME: '/home/x' })).toBe(
      path.join(os.homedir(), '.local/share/zmq-playground/runs.db'),
    );
    expect(resolveDbPath(undefined, { PLAYGROUND_DB: '/tmp/x.db' })).toBe('/tmp/x.db');
    expect(resolveDbPath('/flag.db', { PLAYGROUND_DB: '/tmp/x.db' })).toBe('/flag.db');

    const file = path.join(dir, 'nested', 'folder', 'runs.db');
    openStore(file);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(expect.arrayContaining(['events', 'events_run_t', 'runs']));
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer schema, naming both versions', () => {
    const file = path.join(dir, 'future.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => RunStore.open(file)).toThrow(StoreOpenError);
    expect(() => RunStore.open(file)).toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this server knows \\(${SCHEMA_VERSION}\\)`),
    );
  });

  it('round-trips a run through a file, and a restart on the same file loses no finished run', () => {
    const file = path.join(dir, 'runs.db');
    const store = openStore(file);
    const { emitted } = record(store, syntheticEvents('run-aaaa0001', { count: 1001 }));
    const first = store.getRun('run-aaaa0001');
    store.close();

    const reopened = openStore(file);
    const run = reopened.getRun('run-aaaa0001');
    expect(run).toEqual(first);
    const ended = emitted.at(-1) as Extract<PlaygroundEvent, { type: 'run:ended' }>;
    expect(run).toMatchObject({
      status: 'ended',
      reason: 'completed',
      eventCount: 1001,
      firstSeq: 1,
      lastSeq: 1001,
      lostEvents: 0,
      durationMs: ended.summary.durationMs,
      summary: ended.summary,
      source: 'live',
      playground: 'pg-test',
      name: 'The tutorial #1',
    });
    expect(run.params).toEqual((emitted[0] as Extract<PlaygroundEvent, { type: 'run:started' }>).params);
    expect(Date.parse(run.endedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    expect(readAll(reopened, run.id)).toEqual(emitted);
  });

  it('[R2] marks a run left "running" by a crash incomplete on reopen, keeping its events and rebuilding its summary', () => {
    const file = path.join(dir, 'runs.db');
    const store = openStore(file);
    // Flushed but never ended, and the recorder never closed: what a kill -9 leaves behind.
    const { emitted } = record(store, syntheticEvents('run-c0ffee00', { count: 501, ended: false }), { close: false });
    expect(store.getRun('run-c0ffee00').status).toBe('running');
    store.close();

    const reopened = openStore(file);
    const run = reopened.getRun('run-c0ffee00');
    expect(run).toMatchObject({ status: 'incomplete', reason: null, endedAt: null, eventCount: 501, lastSeq: 501 });
    const sent = emitted.filter((e) => e.type === 'task:sent').length;
    expect(run.summary).toMatchObject({
      sent,
      received: { 'worker-tcp': 125, 'worker-ipc': 125 },
      unattributed: 0,
      durationMs: emitted.at(-1)!.t,
    });
    expect(readAll(reopened, run.id)).toEqual(emitted);
    // Marked once: a second reopen finds nothing running.
    reopened.close();
    expect(openStore(file).getRun('run-c0ffee00').status).toBe('incomplete');
  });

  it('[R3] returns windows by seq and by time without reading the whole run', () => {
    const store = openStore(':memory:');
    // seq 1..2000, t = (seq - 1) * 0.5 ms
    const { emitted } = record(store, syntheticEvents('run-0000beef', { count: 2000, stepMs: 0.5 }));
    const bySeq = store.eventWindow('run-0000beef', { fromSeq: 100, limit: 50 });
    expect(bySeq.json.map((j) => (JSON.parse(j) as PlaygroundEvent).seq)).toEqual(
      Array.from({ length: 50 }, (_, i) => 100 + i),
    );
    expect(bySeq.nextSeq).toBe(150);
    expect(store.eventWindow('run-0000beef', { fromSeq: 1990, limit: 50 })).toMatchObject({ nextSeq: null });
    expect(store.eventWindow('run-0000beef', { fromSeq: 1990, limit: 50 }).json).toHaveLength(11);

    // t in [100, 110] -> seq 201..221; cut by limit 15 -> nextSeq 216, then continue with fromSeq + the same toT.
    const byT = store.eventWindow('run-0000beef', { fromT: 100, toT: 110, limit: 15 });
    const first = byT.json.map((j) => JSON.parse(j) as PlaygroundEvent);
    expect(first.map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => 201 + i));
    expect(byT.nextSeq).toBe(216);
    const rest = store.eventWindow('run-0000beef', { fromSeq: byT.nextSeq!, toT: 110, limit: 15 });
    expect(rest.json.map((j) => (JSON.parse(j) as PlaygroundEvent).seq)).toEqual([216, 217, 218, 219, 220, 221]);
    expect(rest.nextSeq).toBeNull();
    expect([...first, ...rest.json.map((j) => JSON.parse(j))]).toEqual(emitted.filter((e) => e.t >= 100 && e.t <= 110));

    // Between two events, past the end, and an inverted range: empty.
    expect(store.eventWindow('run-0000beef', { fromT: 100.1, toT: 100.2, limit: 10 }).json).toEqual([]);
    expect(store.eventWindow('run-0000beef', { fromT: 5000, limit: 10 }).json).toEqual([]);
    expect(store.eventWindow('run-0000beef', { fromSeq: 50, toSeq: 40, limit: 10 }).json).toEqual([]);
    expect(() => store.eventWindow('run-nope', { limit: 10 })).toThrow(CodedError);
  });

  it('[R4] gives the exact counters at any moment of a run', () => {
    const store = openStore(':memory:');
    const { emitted } = record(store, syntheticEvents('run-0000c0de', { count: 400, stepMs: 1 }));
    for (const t of [0, 0.5, 1, 2, 57, 57.5, 398, 399, 10_000]) {
      const upTo = emitted.filter((e) => e.t <= t);
      const received = { 'worker-tcp': 0, 'worker-ipc': 0 } as Record<string, number>;
      for (const e of upTo) if (e.type === 'task:received') received[e.worker]!++;
      const counters = store.countersAt('run-0000c0de', t);
      expect(counters, `t=${t}`).toMatchObject({
        run: 'run-0000c0de',
        t,
        lastSeq: upTo.at(-1)?.seq ?? 0,
        sent: upTo.filter((e) => e.type === 'task:sent').length,
        received,
      });
    }
  });

  it('keeps counters exact across checkpoints in a long run, recorded or imported', () => {
    const file = path.join(dir, 'runs.db');
    const store = openStore(file);
    const { emitted } = record(store, syntheticEvents('run-00c0c0c0', { count: 25_001, stepMs: 0.1 }));
    const copy = store.importRun({
      format: 'zmq-pipeline-playground/run',
      version: 1,
      exportedAt: new Date().toISOString(),
      run: { ...store.getRun('run-00c0c0c0'), status: 'ended' },
      events: emitted,
    } as never);
    const db = new Database(file, { readonly: true });
    try {
      // Every CHECKPOINT_EVERY events of each run.
      const every = Array.from({ length: Math.floor(25_001 / CHECKPOINT_EVERY) }, (_, i) => (i + 1) * CHECKPOINT_EVERY);
      expect(every.length).toBeGreaterThan(1);
      expect(db.prepare('SELECT run, seq FROM checkpoints ORDER BY run, seq').all()).toEqual([
        ...every.map((seq) => ({ run: 1, seq })),
        ...every.map((seq) => ({ run: 2, seq })),
      ]);
    } finally {
      db.close();
    }
    let sent = 0;
    const received: Record<string, number> = { 'worker-tcp': 0, 'worker-ipc': 0 };
    const expected = new Map<number, object>();
    const moments = new Set([0, 999.9, 1000, 1999.9, 2000, 2000.05, 1234.5, 2500]);
    for (const event of emitted) {
      if (event.type === 'task:sent') sent++;
      if (event.type === 'task:received') received[event.worker]!++;
      if (moments.has(event.t)) expected.set(event.t, { sent, received: { ...received }, lastSeq: event.seq });
    }
    expect(expected.size).toBe(7); // 2000.05 falls between two events
    for (const id of ['run-00c0c0c0', copy.id]) {
      for (const [t, counters] of expected) expect(store.countersAt(id, t), `${id} t=${t}`).toMatchObject(counters);
      expect(store.countersAt(id, 2000.05)).toMatchObject(expected.get(2000)!);
    }
  });

  it('lists newest first with a cursor, renames, and deletes a run with its events (never a running one)', () => {
    const store = openStore(':memory:');
    for (let i = 0; i < 5; i++)
      record(store, syntheticEvents(`run-0000000${i}`, { count: 10 }), { playground: `pg-${i}` });
    record(store, syntheticEvents('run-running0', { count: 10, ended: false }), { close: false });

    const page1 = store.listRuns({ limit: 4 });
    expect(page1.total).toBe(6);
    expect(page1.runs.map((r) => r.id)).toEqual(['run-running0', 'run-00000004', 'run-00000003', 'run-00000002']);
    expect(page1.runs.map((r) => r.name)).toEqual([
      'The tutorial #6',
      'The tutorial #5',
      'The tutorial #4',
      'The tutorial #3',
    ]);
    const page2 = store.listRuns({ limit: 4, before: page1.nextBefore! });
    expect(page2.runs.map((r) => r.id)).toEqual(['run-00000001', 'run-00000000']);
    expect(page2.nextBefore).toBeNull();
    expect(() => store.listRuns({ before: 'abc' })).toThrow(/before/);

    expect(store.renameRun('run-00000002', 'Slow joiner, take 2').name).toBe('Slow joiner, take 2');
    expect(store.getRun('run-00000002').name).toBe('Slow joiner, take 2');

    store.deleteRun('run-00000002');
    expect(() => store.getRun('run-00000002')).toThrow(/No recorded run/);
    expect(store.listRuns().total).toBe(5);
    // its events went with it
    const db = store as unknown as { eventsAfter: RunStore['eventsAfter'] };
    expect(db.eventsAfter(3, 0, Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    expect(() => store.deleteRun('run-running0')).toThrow(expect.objectContaining({ code: 'PG_ERR_RUN_ACTIVE' }));
    expect(() => store.deleteRun('run-00000002')).toThrow(expect.objectContaining({ code: 'PG_ERR_NOT_FOUND' }));
  });

  it('stores a run under a new id when a stored run already has its id, with its events relabelled', () => {
    const store = openStore(':memory:');
    record(store, syntheticEvents('run-5a5e0000', { count: 6 }), { playground: 'pg-old' });
    const { emitted } = record(store, syntheticEvents('run-5a5e0000', { count: 8 }), { playground: 'pg-new' });
    const [newest, oldest] = store.listRuns().runs;
    expect(oldest!.id).toBe('run-5a5e0000');
    expect(newest!.id).toMatch(/^run-5a5e0000-[0-9a-f]{4}$/);
    expect(newest!.playground).toBe('pg-new');
    expect(readAll(store, newest!.id)).toEqual(emitted.map((e) => ({ ...e, run: newest!.id })));
  });
});
