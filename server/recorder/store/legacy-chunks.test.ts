/**
 * A file written by a version 4 server (task chunks as JSON lines and positions) is repacked in place when this
 * server opens it: every read (windows by seq and by time, topology, counters at t, export pages, CSV rows) answers
 * exactly what it answered before, byte for byte, lines the packed columns could not render included; a repack cut
 * short goes on at the next open; the file shrinks; an old chunk that does not decode stops the server with a clear
 * message. The version 4 files are made here with a copy of version 4's encoder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VALID_EVENTS } from '../../../shared/protocol/fixtures.ts';
import type { PlaygroundEvent } from '../../../shared/protocol/index.ts';
import { syntheticEvents } from '../../../test/recording.ts';
import { Recorder } from '../recorder.ts';
import { RunLog } from '../run-log.ts';
import { RunStore, SCHEMA_VERSION, StoreOpenError } from '../store.ts';
import type { ChunkRow } from './chunk-format.ts';
import { Chunk } from './chunk-read.ts';
import { LEGACY_TABLE } from './legacy-chunks.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-legacy-'));
  file = path.join(dir, 'runs.db');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

// ---- version 4's task chunk, as it was written (a copy: the server no longer writes it)

const V4_TASK_CHUNKS = `
CREATE TABLE task_chunks (
  run       INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  first_t   REAL    NOT NULL,
  last_t    REAL    NOT NULL,
  count     INTEGER NOT NULL,
  positions BLOB    NOT NULL,
  lines     TEXT    NOT NULL,
  PRIMARY KEY (run, first_seq)
) WITHOUT ROWID;
CREATE INDEX task_chunks_first_t ON task_chunks (run, first_t);
CREATE INDEX task_chunks_last_t ON task_chunks (run, last_t);`;

interface Line {
  seq: number;
  t: number;
  json: string;
}

/** Version 4's encodeChunk: the lines joined by "\n", and (seq, t, offset of the line) per event as doubles. */
function v4Chunk(lines: readonly Line[]): { positions: Buffer; lines: string } {
  const positions = new Float64Array(lines.length * 3);
  let offset = 0;
  lines.forEach((line, i) => {
    positions[i * 3] = line.seq;
    positions[i * 3 + 1] = line.t;
    positions[i * 3 + 2] = offset;
    offset += line.json.length + 1;
  });
  return { positions: Buffer.from(positions.buffer), lines: lines.map((line) => line.json).join('\n') };
}

/** The events of every chunk row in `table` of an open file, by chunk. */
function chunkLines(db: Database.Database): { row: ChunkRow & { first_t: number; last_t: number }; lines: Line[] }[] {
  const rows = db
    .prepare('SELECT run, first_seq, last_seq, first_t, last_t, count, data FROM task_chunks ORDER BY run, first_seq')
    .all() as (ChunkRow & { first_t: number; last_t: number })[];
  return rows.map((row) => {
    const chunk = new Chunk(row);
    const lines = Array.from({ length: chunk.count }, (_, i) => ({
      seq: chunk.seq(i),
      t: chunk.t(i),
      json: chunk.json(i),
    }));
    return { row, lines };
  });
}

/**
 * Turns a file this server wrote into what a version 4 server would have written: the same runs, its task
 * chunks in version 4's encoding. `edit` may change a line's text (as an older writer could have written it).
 */
function toVersion4(edit: (line: Line) => string = (line) => line.json): void {
  const db = new Database(file);
  try {
    db.transaction(() => {
      const chunks = chunkLines(db);
      db.exec(`DROP TABLE task_chunks; ${V4_TASK_CHUNKS}`);
      const insert = db.prepare(
        'INSERT INTO task_chunks (run, first_seq, last_seq, first_t, last_t, count, positions, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const { row, lines } of chunks) {
        const old = v4Chunk(lines.map((line) => ({ ...line, json: edit(line) })));
        insert.run(row.run, row.first_seq, row.last_seq, row.first_t, row.last_t, row.count, old.positions, old.lines);
      }
      db.pragma('user_version = 4');
    })();
  } finally {
    db.close();
  }
}

// ---- runs, and every read of them

/** A run with every kind of task event (lost ones with and without a worker) and other events among them. */
function* mixedRun(id: string, tasks: number): Generator<PlaygroundEvent> {
  const [started, , ...rest] = [...syntheticEvents(id, { count: 3 })];
  const ended = rest.at(-1)!;
  let i = 0;
  const t = () => Math.round(++i * 37) / 1000;
  yield { ...started!, t: 0 };
  for (let task = 0; task < tasks; task++) {
    const worker = `worker-${(task % 3) + 1}`;
    const body = `task ${task} ${'x'.repeat(task % 20)}`;
    yield { type: 'task:sent', task, body, run: id, seq: 0, t: t() };
    if (task % 97 === 5) {
      yield { type: 'task:lost', task, worker: task % 2 ? null : worker, run: id, seq: 0, t: t() };
      continue;
    }
    yield { type: 'task:received', task, worker, body, run: id, seq: 0, t: t() };
    yield { type: 'task:done', task, worker, run: id, seq: 0, t: t() };
    yield { type: 'task:collected', task, worker, run: id, seq: 0, t: t() };
    if (task % 250 === 0) yield { ...structuredClone(VALID_EVENTS['ventilator:state']), run: id, seq: 0, t: t() };
  }
  yield { ...ended, t: t() };
}

/** Records `events` through a Recorder, a flush every `flushEvery` (chunks of that size or less). */
function record(store: RunStore, id: string, events: Iterable<PlaygroundEvent>, flushEvery = 500): void {
  const log = new RunLog();
  const recorder = new Recorder(store, { id: `pg-${id}`, scenario: { id: 'tutorial', title: 'The tutorial' }, log });
  let n = 0;
  for (const event of events) {
    log.append(event);
    if (++n % flushEvery === 0) recorder.flush();
  }
  recorder.close();
}

/** Every read the history API makes of a run, at probes spread over it. */
function answers(store: RunStore, id: string): Record<string, unknown> {
  const all = store.eventWindow(id, { limit: 100_000 }).json.map((json) => JSON.parse(json) as PlaygroundEvent);
  const lastSeq = all.at(-1)!.seq;
  const seqs = [0, ...all.filter((_, i) => i % 293 === 0).map((e) => e.seq), lastSeq, lastSeq + 1];
  const times = [-1, ...all.filter((_, i) => i % 311 === 0).map((e) => e.t), all.at(-1)!.t + 1];
  const out: Record<string, unknown> = {};
  for (const fromSeq of seqs) {
    out[`seq ${fromSeq}`] = store.eventWindow(id, { fromSeq, limit: 300 });
    out[`seq ${fromSeq}..+5`] = store.eventWindow(id, { fromSeq, toSeq: fromSeq + 5, limit: 300 });
    out[`topology ${fromSeq}`] = store.eventWindow(id, { fromSeq, limit: 10, kind: 'topology' });
  }
  for (const t of times) {
    out[`t ${t}`] = store.eventWindow(id, { fromT: t, toT: t + 20, limit: 400 });
    out[`counters ${t}`] = store.countersAt(id, t);
  }
  const { pk } = store.exportable(id);
  for (const after of seqs) {
    out[`export ${after}`] = store.eventsAfter(pk, after, lastSeq, 500);
    out[`csv ${after}`] = store.tasksAfter(pk, after, lastSeq, 500);
  }
  return out;
}

/** A file with three runs: two recorded and one imported (task chunks, all three). */
function makeFile(): Record<string, Record<string, unknown>> {
  const store = RunStore.open(file);
  try {
    record(store, 'run-0000aaaa', mixedRun('run-0000aaaa', 1500), 700);
    record(store, 'run-0000bbbb', syntheticEvents('run-0000bbbb', { count: 4000, stepMs: 0.05 }), 1000);
    const events = store
      .eventWindow('run-0000bbbb', { limit: 10_000 })
      .json.map((j) => JSON.parse(j) as PlaygroundEvent);
    const run = store.getRun('run-0000bbbb');
    const imported = store.importRun({
      format: 'zmq-playground-run',
      version: 1,
      exportedAt: new Date().toISOString(),
      run,
      events,
    } as never).id;
    return Object.fromEntries(['run-0000aaaa', 'run-0000bbbb', imported].map((id) => [id, answers(store, id)]));
  } finally {
    store.close();
  }
}

function pragma(name: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma(name, { simple: true });
  } finally {
    db.close();
  }
}

function tables(): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((row) => row.name);
  } finally {
    db.close();
  }
}

describe('a version 4 file', () => {
  it('is repacked in place when opened, and every read answers what it answered before', () => {
    const before = makeFile();
    // One line as an older writer could have written it (a space, an escape): it must come back as it was.
    const odd = (json: string) => json.replace('"task":', '"task": ').replace('task 17', 'task \\u0031\\u0037');
    let original = '';
    toVersion4((line) => {
      if (!line.json.includes('"task":17,') || !line.json.includes('"task:received"') || original) return line.json;
      original = line.json;
      return odd(line.json);
    });
    expect(original).toContain('run-0000aaaa');
    expect(tables()).toContain('task_chunks');
    expect(pragma('user_version')).toBe(4);
    const legacySize = fs.statSync(file).size;

    const store = RunStore.open(file);
    try {
      // What the version 4 reads answered: the odd line as it was stored, everything else unchanged.
      const expected = JSON.parse(
        JSON.stringify(before).replaceAll(
          JSON.stringify(original).slice(1, -1),
          JSON.stringify(odd(original)).slice(1, -1),
        ),
      ) as typeof before;
      for (const [id, reads] of Object.entries(expected)) expect(answers(store, id), id).toEqual(reads);
      const window = store.eventWindow('run-0000aaaa', { limit: 100_000 }).json;
      expect(window).toContain(odd(original));
    } finally {
      store.close();
    }
    expect(pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(tables()).not.toContain(LEGACY_TABLE);
    // The old chunks' pages were given back (VACUUM): the packed chunks take a fraction of them.
    expect(pragma('freelist_count')).toBe(0);
    expect(fs.statSync(file).size).toBeLessThan(legacySize / 2);
  });

  it('goes on repacking at the next open when a repack was cut short', () => {
    const before = makeFile();
    // What a server killed halfway leaves: version 5, some chunks packed, the rest still in the old table.
    const db = new Database(file);
    db.transaction(() => {
      const chunks = chunkLines(db).filter((_, i) => i % 2 === 1);
      db.exec(V4_TASK_CHUNKS.replace('CREATE TABLE task_chunks', `CREATE TABLE ${LEGACY_TABLE}`).split(';')[0]!);
      const remove = db.prepare('DELETE FROM task_chunks WHERE run = ? AND first_seq = ?');
      const insert = db.prepare(`INSERT INTO ${LEGACY_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const { row, lines } of chunks) {
        const old = v4Chunk(lines);
        remove.run(row.run, row.first_seq);
        insert.run(row.run, row.first_seq, row.last_seq, row.first_t, row.last_t, row.count, old.positions, old.lines);
      }
    })();
    db.close();
    expect(tables()).toContain(LEGACY_TABLE);

    const store = RunStore.open(file);
    try {
      for (const [id, reads] of Object.entries(before)) expect(answers(store, id), id).toEqual(reads);
    } finally {
      store.close();
    }
    expect(tables()).not.toContain(LEGACY_TABLE);
  });

  it('with an old chunk that does not decode, stops the server saying which run and seq, and what to do', () => {
    makeFile();
    toVersion4();
    const db = new Database(file);
    const { run, first_seq: firstSeq } = db
      .prepare('SELECT run, first_seq FROM task_chunks ORDER BY run DESC, first_seq LIMIT 1')
      .get() as { run: number; first_seq: number };
    db.prepare('UPDATE task_chunks SET positions = zeroblob(23) WHERE run = ? AND first_seq = ?').run(run, firstSeq);
    db.close();
    const open = () => RunStore.open(file);
    expect(open).toThrow(StoreOpenError);
    expect(open).toThrow(
      new RegExp(`is damaged \\(the task events of run ${run} stored from seq ${firstSeq} cannot be read: .*mv '`),
    );
  });
});

describe('a damaged packed chunk', () => {
  it('makes a read of it fail with a clear error, and only that read', () => {
    const store = RunStore.open(file);
    record(store, 'run-0000cccc', syntheticEvents('run-0000cccc', { count: 3000 }), 1000);
    store.close();
    const db = new Database(file);
    const { first_seq: firstSeq } = db
      .prepare('SELECT first_seq FROM task_chunks ORDER BY first_seq DESC LIMIT 1')
      .get() as { first_seq: number };
    db.prepare('UPDATE task_chunks SET data = substr(data, 1, length(data) - 3) WHERE first_seq = ?').run(firstSeq);
    db.close();
    const reopened = RunStore.open(file);
    try {
      const message = new RegExp(
        `The run database is damaged: the task events of run \\d+ stored from seq ${firstSeq}`,
      );
      expect(() => reopened.eventWindow('run-0000cccc', { fromSeq: firstSeq, limit: 10 })).toThrow(message);
      expect(() => reopened.countersAt('run-0000cccc', 1e9)).toThrow(message);
      const { pk } = reopened.exportable('run-0000cccc');
      expect(() => reopened.tasksAfter(pk, firstSeq, firstSeq + 5, 10)).toThrow(message);
      // The chunks before it still read.
      expect(reopened.eventWindow('run-0000cccc', { fromSeq: 1, limit: 100 }).json).toHaveLength(100);
    } finally {
      reopened.close();
    }
  });
});
