/**
 * Task events are stored in chunks (one row per run per write), every other event as a row; imports store every
 * event as a row. Both layouts must answer every read identically: event windows by seq and by time, the topology
 * window, counters at any moment, the export's pages and the CSV's task rows. Checked on a REAL run (a sink, a
 * worker added mid-run) recorded in small flushes, against the same events imported, and on a synthetic run whose
 * times tie across chunk boundaries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import {
  RUN_EXPORT_FORMAT,
  RUN_EXPORT_VERSION,
  type PlaygroundEvent,
  type RunExport,
} from '../../shared/protocol/index.ts';
import { Playground } from '../pipeline/playground.ts';
import { RunLog } from './run-log.ts';
import { Recorder } from './recorder.ts';
import { RunStore, SCHEMA_VERSION } from './store.ts';
import { collect, runEnded, testPolicy, waitForEvent } from '../../test/helpers.ts';
import { syntheticEvents } from '../../test/recording.ts';

let dir: string;
let store: RunStore;
let policy: ReturnType<typeof testPolicy>;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-chunks-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
  policy = testPolicy();
});
afterEach(() => {
  store.close();
  policy.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The same events stored as rows, through the import. */
function importCopy(id: string, events: PlaygroundEvent[]): string {
  const run = store.getRun(id);
  expect(run.status).toBe('ended');
  const doc: RunExport = {
    format: RUN_EXPORT_FORMAT,
    version: RUN_EXPORT_VERSION,
    exportedAt: new Date().toISOString(),
    run: { ...run, status: 'ended' },
    events,
  };
  return store.importRun(doc).id;
}

/** Rows per table for a run: task events must be in chunks for a recorded run, in rows for an imported one. */
function layout(id: string): { taskRows: number; otherRows: number; chunks: number; chunkedEvents: number } {
  const db = new Database(path.join(dir, 'runs.db'), { readonly: true });
  try {
    const pk = (db.prepare('SELECT pk FROM runs WHERE id = ?').get(id) as { pk: number }).pk;
    const rows = db
      .prepare(
        "SELECT sum(type LIKE 'task:%') AS tasks, sum(type NOT LIKE 'task:%') AS others FROM events WHERE run = ?",
      )
      .get(pk) as {
      tasks: number | null;
      others: number | null;
    };
    const chunks = db
      .prepare('SELECT count(*) AS n, coalesce(sum(count), 0) AS events FROM task_chunks WHERE run = ?')
      .get(pk) as { n: number; events: number };
    return { taskRows: rows.tasks ?? 0, otherRows: rows.others ?? 0, chunks: chunks.n, chunkedEvents: chunks.events };
  } finally {
    db.close();
  }
}

/** Stored JSON without the run id (an import re-labels its events). */
const withoutRun = (json: string[]) => json.map((text) => ({ ...(JSON.parse(text) as object), run: undefined }));

/** Every read the history API makes, on both copies, compared. */
function expectSameAnswers(recorded: string, imported: string, events: PlaygroundEvent[]): void {
  const firstSeq = events[0]!.seq;
  const lastSeq = events.at(-1)!.seq;
  const times = [...new Set(events.map((e) => e.t))];
  const probesT = [-1, 0, ...times.filter((_, i) => i % 37 === 0), ...times.slice(-3), times.at(-1)! + 1].flatMap(
    (t) => [t, t + 0.0005],
  );
  const probesSeq = [
    0,
    firstSeq,
    firstSeq + 1,
    ...events.filter((_, i) => i % 41 === 0).map((e) => e.seq),
    lastSeq,
    lastSeq + 5,
  ];
  const same = (
    what: string,
    a: { json: string[]; nextSeq: number | null },
    b: { json: string[]; nextSeq: number | null },
  ) => {
    expect(withoutRun(a.json), what).toEqual(withoutRun(b.json));
    expect(a.nextSeq, what).toBe(b.nextSeq);
  };
  for (const fromSeq of probesSeq) {
    for (const limit of [1, 7, 500]) {
      same(
        `seq ${fromSeq}+${limit}`,
        store.eventWindow(recorded, { fromSeq, limit }),
        store.eventWindow(imported, { fromSeq, limit }),
      );
      same(
        `seq ${fromSeq}..${fromSeq + 3}`,
        store.eventWindow(recorded, { fromSeq, toSeq: fromSeq + 3, limit }),
        store.eventWindow(imported, { fromSeq, toSeq: fromSeq + 3, limit }),
      );
    }
    const topology = { fromSeq, limit: 5, kind: 'topology' as const };
    same(`topology ${fromSeq}`, store.eventWindow(recorded, topology), store.eventWindow(imported, topology));
  }
  for (const fromT of probesT) {
    for (const span of [0, 3, 1e9]) {
      const range = { fromT, toT: fromT + span, limit: 200 };
      same(`t ${fromT}+${span}`, store.eventWindow(recorded, range), store.eventWindow(imported, range));
    }
    const { run: _a, ...a } = store.countersAt(recorded, fromT);
    const { run: _b, ...b } = store.countersAt(imported, fromT);
    expect(a, `counters at ${fromT}`).toEqual(b);
  }
  // The export's pages and the CSV's task rows.
  const pk = (id: string) => store.exportable(id).pk;
  for (const after of [0, firstSeq + 2, ...probesSeq.slice(3, 8)]) {
    expect(
      withoutRun(store.eventsAfter(pk(recorded), after, lastSeq, 64).map((r) => r.json)),
      `after ${after}`,
    ).toEqual(withoutRun(store.eventsAfter(pk(imported), after, lastSeq, 64).map((r) => r.json)));
    expect(store.tasksAfter(pk(recorded), after, lastSeq, 64), `tasks after ${after}`).toEqual(
      store.tasksAfter(pk(imported), after, lastSeq, 64),
    );
  }
}

describe('chunked task events', () => {
  it('answer every read of a real run exactly as rows of the same events do', { timeout: 30_000 }, async () => {
    const scenario = { ...SCENARIOS.get('pipeline')!, workers: [] };
    const playground = new Playground({
      scenario,
      params: { tasks: 600, intervalMs: 1, syncStart: true, drainMs: 1000 },
      policy,
    });
    try {
      playground.updateSink({ enabled: true, transport: 'ipc' });
      playground.addWorker({ transport: 'tcp' });
      playground.addWorker({ transport: 'ipc' });
      // Small flushes: many chunks, and topology events falling between and inside them.
      const recorder = new Recorder(store, playground, { flushMs: 20, batchSize: 97 });
      const events = collect(playground);
      const run = playground.startRun();
      await waitForEvent(playground, (e) => e.type === 'task:collected' && e.task === 200, 15_000);
      playground.addWorker({ transport: 'tcp' });
      await runEnded(playground, run.id, 20_000);
      await recorder.close();
      const mine = events.filter((e) => e.run === run.id);
      expect(new Set(mine.map((e) => e.type))).toEqual(
        new Set(
          [
            'run:started',
            'endpoint:bound',
            'sink:bound',
            'socket:event',
            'worker:connecting',
            'worker:updated',
            'peers:changed',
            'ventilator:state',
            'task:sent',
            'task:received',
            'task:done',
            'task:collected',
            'worker:stopped',
            'run:ended',
          ].filter((type) => mine.some((e) => e.type === type)),
        ),
      );
      expect(mine.filter((e) => e.type === 'task:collected')).toHaveLength(600);

      const stored = layout(run.id);
      const tasks = mine.filter((e) => e.type.startsWith('task:')).length;
      expect(stored).toMatchObject({ taskRows: 0, otherRows: mine.length - tasks, chunkedEvents: tasks });
      expect(stored.chunks).toBeGreaterThan(10);
      const copy = importCopy(run.id, mine);
      expect(layout(copy)).toMatchObject({ taskRows: tasks, chunks: 0 });

      expect(store.getRun(run.id).eventCount).toBe(mine.length);
      expectSameAnswers(run.id, copy, mine);
    } finally {
      await playground.close();
    }
  });

  it('finds the right event when equal times straddle chunk boundaries', () => {
    const log = new RunLog();
    const recorder = new Recorder(store, { id: 'pg-ties', scenario: { id: 'tutorial', title: 'The tutorial' }, log });
    const events: PlaygroundEvent[] = [];
    // 0.0004 ms per event, rounded to 0.001: two or three events share each time; a flush every 5 events.
    for (const event of syntheticEvents('run-71e5b0a7', { count: 400, stepMs: 0.0004 })) {
      events.push(structuredClone(log.append(event)));
      if (events.length % 5 === 0) recorder.flush();
    }
    recorder.close();
    expect(layout('run-71e5b0a7').chunks).toBeGreaterThan(50);
    const copy = importCopy('run-71e5b0a7', events);
    expectSameAnswers('run-71e5b0a7', copy, events);
  });

  it('upgrades a version 1 file in place: its rows still read, new runs go to chunks', () => {
    const file = path.join(dir, 'runs.db');
    const old = recordSynthetic('run-01d0f11e', 50);
    const imported = importCopy('run-01d0f11e', old);
    store.close();
    // What a version 1 file looked like: no task_chunks, no topology index.
    const db = new Database(file);
    db.exec('DROP TABLE task_chunks; DROP INDEX events_topology; PRAGMA user_version = 1;');
    db.close();

    store = RunStore.open(file);
    const check = new Database(file, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(
        check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('task_chunks', 'events_topology')").get(),
      ).toEqual({ n: 2 });
    } finally {
      check.close();
    }
    expect(
      store.eventWindow(imported, { limit: 100 }).json.map((json) => (JSON.parse(json) as PlaygroundEvent).seq),
    ).toEqual(old.map((e) => e.seq));
    expect(store.countersAt(imported, 1e9).sent).toBe(24);
    recordSynthetic('run-0e3a11e5', 30);
    expect(layout('run-0e3a11e5')).toMatchObject({ taskRows: 0, chunkedEvents: 28 });
  });
});

/** A synthetic run recorded through a Recorder (inline, one flush); the events as logged. */
function recordSynthetic(id: string, count: number): PlaygroundEvent[] {
  const log = new RunLog();
  const recorder = new Recorder(store, { id: `pg-${id}`, scenario: { id: 'tutorial', title: 'The tutorial' }, log });
  const events = [...syntheticEvents(id, { count })].map((event) => structuredClone(log.append(event)));
  recorder.close();
  return events;
}
