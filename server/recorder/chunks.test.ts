/**
 * Task events are stored in chunks (one row per run per write, and per CHUNK_EVENTS of an import), every other
 * event as a row; files of schema version 1 keep task events as rows too. Both layouts must answer every read
 * identically: event windows by seq and by time, the topology window, counters at any moment, the export's pages
 * and the CSV's task rows. Checked on a REAL run (a sink, a worker added mid-run) recorded in small flushes and on a
 * synthetic run whose times tie across chunk boundaries, each against the same events stored as rows (written here
 * with SQL, from the events themselves, so that the reference does not go through the chunks) and imported; an
 * import's export is the original export byte for byte but for the run id.
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
import { exportJson, exportText } from './export.ts';
import { SqliteRecordingStore } from './sqlite-store.ts';
import { MAX_DELTA } from './store/chunk-format.ts';
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

/** The same events imported (their task events go into chunks, as a recorded run's do). */
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

/**
 * The same events stored with every task event as a row of its own, as a version 1 file holds them: imported (run
 * row, checkpoints), then its chunks replaced by rows of JSON.stringify of each event, made from the events here.
 */
function rowsCopy(id: string, events: PlaygroundEvent[]): string {
  const copy = importCopy(id, events);
  const db = new Database(path.join(dir, 'runs.db'));
  try {
    const pk = (db.prepare('SELECT pk FROM runs WHERE id = ?').get(copy) as { pk: number }).pk;
    const insert = db.prepare('INSERT INTO events (run, seq, t, type, json) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      db.prepare('DELETE FROM task_chunks WHERE run = ?').run(pk);
      db.prepare("DELETE FROM events WHERE run = ? AND type LIKE 'task:%'").run(pk);
      for (const event of events.filter((e) => e.type.startsWith('task:')))
        insert.run(pk, event.seq, event.t, event.type, JSON.stringify({ ...event, run: copy }));
    })();
  } finally {
    db.close();
  }
  return copy;
}

/** The export document's text, with the run's id written as "RUN" and the export's time left out. */
async function exportedText(id: string): Promise<string> {
  const text = await exportText(exportJson(new SqliteRecordingStore(store), id, new Date(0)));
  return text.replaceAll(`"${id}"`, '"RUN"');
}

/** Rows per table for a run: where its task events are (chunks, or rows of their own). */
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
      const rows = rowsCopy(run.id, mine);
      expect(layout(rows)).toMatchObject({ taskRows: tasks, chunks: 0 });
      const imported = importCopy(run.id, mine);
      expect(layout(imported)).toMatchObject({ taskRows: 0, otherRows: mine.length - tasks, chunkedEvents: tasks });

      expect(store.getRun(run.id).eventCount).toBe(mine.length);
      expectSameAnswers(run.id, rows, mine);
      expectSameAnswers(imported, rows, mine);
      expect(await exportedText(imported)).toBe(await exportedText(run.id));
    } finally {
      await playground.close();
    }
  });

  it('finds the right event when equal times straddle chunk boundaries', async () => {
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
    const rows = rowsCopy('run-71e5b0a7', events);
    expectSameAnswers('run-71e5b0a7', rows, events);
    const imported = importCopy('run-71e5b0a7', events);
    expectSameAnswers(imported, rows, events);
    expect(await exportedText(imported)).toBe(await exportedText('run-71e5b0a7'));
  });

  it('upgrades a version 1 file in place: its rows still read, new runs go to chunks', () => {
    const file = path.join(dir, 'runs.db');
    const old = recordSynthetic('run-01d0f11e', 50);
    const imported = rowsCopy('run-01d0f11e', old);
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

  it('stores an import of 2,500 task events in 3 chunks, and one whose seqs pass what a chunk holds partly as rows', async () => {
    const big = recordSynthetic('run-1a2b3c4d', 2502);
    const imported = importCopy('run-1a2b3c4d', big);
    expect(layout(imported)).toEqual({ taskRows: 0, otherRows: 2, chunks: 3, chunkedEvents: 2500 });
    expect(await exportedText(imported)).toBe(await exportedText('run-1a2b3c4d'));

    // The export's schema bounds no seq; a chunk's seq column holds steps from 0 below 2^51. Events from there on
    // stay rows, merged with the chunked ones by every read.
    const shift = MAX_DELTA - 20 - 1;
    const edited = recordSynthetic('run-5e9b16e5', 40).map((event) => ({ ...event, seq: event.seq + shift }));
    const run = store.getRun('run-5e9b16e5');
    const copy = store.importRun({
      format: RUN_EXPORT_FORMAT,
      version: RUN_EXPORT_VERSION,
      exportedAt: new Date().toISOString(),
      run: { ...run, status: 'ended', firstSeq: run.firstSeq + shift, lastSeq: run.lastSeq + shift },
      events: edited,
    }).id;
    expect(layout(copy)).toEqual({ taskRows: 19, otherRows: 2, chunks: 1, chunkedEvents: 19 });
    const relabelled = edited.map((event) => JSON.stringify({ ...event, run: copy }));
    expect(store.eventWindow(copy, { limit: 100 }).json).toEqual(relabelled);
    expect(store.eventWindow(copy, { fromT: 5, toT: 12, limit: 100 }).json).toEqual(
      relabelled.filter((_, i) => edited[i]!.t >= 5 && edited[i]!.t <= 12),
    );
    expect(store.countersAt(copy, 1e9)).toMatchObject({ sent: 19, lastSeq: edited.at(-1)!.seq });
    const { pk } = store.exportable(copy);
    expect(store.tasksAfter(pk, 0, edited.at(-1)!.seq, 100).map((row) => row.seq)).toEqual(
      edited.filter((e) => e.type.startsWith('task:')).map((e) => e.seq),
    );
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
