/**
 * Encoding a chunk straight from a posted batch's columns (encodePackedChunk) writes the very bytes encodeChunk
 * writes of the events unpackEvents makes of that batch, which is what the writer threads stored before: over the
 * batches a recorder really posts during a real run (every task event type, two workers and a sink), over odd
 * bodies, workers and numbers (unicode, quotes, escapes, lone surrogates, empty, large, non-integer tasks, times
 * that are not whole microseconds), and for a run stored under another id. A RunWriter given the posted columns
 * stores the same chunks, checkpoints, rows and progress as one given the unpacked events.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../../shared/protocol/index.ts';
import { Playground } from '../../pipeline/playground.ts';
import { runEnded, testPolicy } from '../../../test/helpers.ts';
import { RecordingStats, type WriteChannel } from '../store-api.ts';
import { Recorder } from '../recorder.ts';
import {
  isPacked,
  PackedBatch,
  PackedColumns,
  PackedTaskRows,
  packEvents,
  transferList,
  unpackEvents,
} from '../packed.ts';
import type { EventBatch, PackedEvents } from '../packed.ts';
import { RunStore } from '../store.ts';
import { RunWriter, type PlaygroundRef } from '../writer.ts';
import { CHUNK_EVENTS, type ChunkEvent } from './chunk-format.ts';
import { encodeChunk, encodePackedChunk } from './chunk-pack.ts';
import { Chunk } from './chunk-read.ts';

const policy = testPolicy();
const dirs: string[] = [];
afterEach(() => {
  policy.cleanup();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** What crossing to the writer thread does to a posted batch: a structured clone, its buffers transferred. */
const posted = (events: readonly PlaygroundEvent[]): PackedEvents => {
  const packed = packEvents(events);
  return structuredClone(packed, { transfer: transferList(packed) });
};

/** A batch's task events of run `live` stored as `stored`: as the writer stored them before, and from the columns. */
function bothEncodings(packed: PackedEvents, live: string, stored = live) {
  const columns = new PackedColumns(packed);
  const rows = new PackedTaskRows(columns, stored);
  const events: ChunkEvent[] = [];
  unpackEvents(packed, { taskText: false }).forEach((entry, i) => {
    if (!columns.isTask(i) || entry.event.run !== live) return;
    rows.at.push(i);
    // The old plan's row: the entry itself, or a relabelled copy for a run stored under another id.
    const { seq, t } = entry as ChunkEvent;
    events.push(
      stored === live ? (entry as ChunkEvent) : { seq, t, json: null, event: { ...entry.event, run: stored } },
    );
  });
  const pairs: [Buffer, Buffer][] = [];
  for (let start = 0; start < events.length; start += CHUNK_EVENTS) {
    const end = Math.min(start + CHUNK_EVENTS, events.length);
    const before = encodeChunk(events.slice(start, end));
    const after = encodePackedChunk(rows, start, end);
    expect({ ...after, data: null }).toEqual({ ...before, data: null });
    pairs.push([before.data, after.data]);
  }
  return pairs;
}

function expectSameBytes(packed: PackedEvents, live: string, stored = live): number {
  const pairs = bothEncodings(packed, live, stored);
  for (const [before, after] of pairs) expect(after.equals(before)).toBe(true);
  return pairs.length;
}

/** A channel that keeps what the recorder posts. */
class CapturingChannel implements WriteChannel {
  readonly stats = new RecordingStats();
  readonly inFlight = 0;
  /** Batches as a writer thread's channel is handed them: packed by the recorder as its events arrived. */
  readonly packed = true;
  readonly batches: { playground: PlaygroundRef; events: PlaygroundEvent[]; wallClock: [number, number][] }[] = [];
  write(playground: PlaygroundRef, packed: EventBatch, wallClock: [number, number][]): void {
    if (!isPacked(packed)) throw new Error('the recorder handed over events, not a packed batch');
    // Kept as the events (packed.test.ts: packing them again gives the very batch the recorder packed).
    const events = unpackEvents(packed, { taskText: false }).map((entry) => entry.event);
    this.batches.push({ playground, events, wallClock });
  }
  flushed = () => Promise.resolve();
  closePlayground = () => Promise.resolve();
  importRun = () => Promise.reject(new Error('not here'));
  deleteRun = () => Promise.reject(new Error('not here'));
  close = () => Promise.resolve();
}

/** The batches a recorder posts during a real run of the pipeline: two workers, a sink, every task event type. */
async function recordedBatches(tasks: number) {
  const scenario = { ...SCENARIOS.get('pipeline')!, workers: [] };
  const playground = new Playground({ scenario, params: { tasks, syncStart: true, drainMs: 500 }, policy });
  const channel = new CapturingChannel();
  // A short flush interval: many batches, cut wherever the run happens to be.
  const recorder = new Recorder(channel, playground, { flushMs: 5 });
  try {
    playground.updateSink({ enabled: true, transport: 'ipc' });
    playground.addWorker({ transport: 'tcp' });
    playground.addWorker({ transport: 'ipc' });
    const run = playground.startRun();
    await runEnded(playground, run.id);
    recorder.flush();
    await recorder.flushed();
    return { run: run.id, batches: channel.batches };
  } finally {
    await recorder.close();
    await playground.close();
  }
}

describe('a chunk encoded from the posted columns', () => {
  it('has the bytes encodeChunk writes, over the batches of a real recorded run, and a RunWriter stores the same', async () => {
    const { run, batches } = await recordedBatches(3000);
    const all = batches.flatMap((batch) => batch.events);
    const types = new Set(all.map((event) => event.type));
    for (const type of ['task:sent', 'task:received', 'task:done', 'task:collected', 'run:started', 'run:ended'])
      expect(types).toContain(type);
    expect(batches.length).toBeGreaterThan(1);
    let chunks = 0;
    for (const batch of batches) chunks += expectSameBytes(posted(batch.events), run);
    // The whole run as one batch too (chunks of CHUNK_EVENTS), and stored under another id.
    chunks += expectSameBytes(posted(all), run);
    chunks += expectSameBytes(posted(all), run, `${run}-0a1b`);
    expect(chunks).toBeGreaterThan(batches.length);

    // Both writers over the very batches posted: the same database, table for table.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-chunk-pack-'));
    dirs.push(dir);
    const files = [path.join(dir, 'entries.db'), path.join(dir, 'columns.db')];
    for (const [k, file] of files.entries()) {
      const store = RunStore.open(file);
      const writer = new RunWriter(store);
      for (const batch of batches) {
        const packed = posted(batch.events);
        const entries = k === 0 ? unpackEvents(packed, { taskText: false }) : PackedBatch.of(packed);
        const report = writer.write({
          playground: batch.playground,
          entries,
          wallClock: batch.wallClock,
          overflow: [],
        });
        expect(report.errors).toEqual([]);
        expect(report.dropped).toBe(0);
      }
      writer.closeAll();
      store.close();
    }
    const [before, after] = files.map((file) => {
      const db = new Database(file, { readonly: true });
      try {
        return {
          runs: db
            .prepare('SELECT id, event_count, first_seq, last_seq, duration, lost_events, status, summary FROM runs')
            .all(),
          chunks: db
            .prepare(
              'SELECT first_seq, last_seq, first_t, last_t, count, data FROM task_chunks ORDER BY run, first_seq',
            )
            .all(),
          checkpoints: db.prepare('SELECT seq, counts FROM checkpoints ORDER BY run, seq').all(),
          events: db.prepare('SELECT seq, t, type, json FROM events ORDER BY run, seq').all(),
        };
      } finally {
        db.close();
      }
    });
    expect(after!.chunks.length).toBeGreaterThan(0);
    expect(after!.checkpoints.length).toBeGreaterThan(0);
    expect(after).toEqual(before);
  }, 60_000);

  it('has the same bytes for odd bodies, workers, tasks and times', () => {
    const run = 'run-"ünï"';
    const large = 'x'.repeat(100_000) + ' 🚀 "quoted" \\ ' + 'y'.repeat(50_000);
    const bodies = [
      'task 1 of 5',
      '',
      'line\nbreak "quote" \\ back ñ 🚀 \u0000 \u2028',
      'task 7 task 7',
      'no number here',
      large,
      '7',
      'lone \ud800 surrogate',
      '"',
      'ends with 12',
    ];
    const workers: (string | null | undefined)[] = ['worker-1', 'wörker "2"', null, undefined, 'w\udc00', 'worker-1'];
    const tasks = [1, 7, 12, 0, -3, 1.5, 2 ** 49, 2 ** 53 + 2, 123456789];
    const times = [0, 0.001, 12.345, 1.23456789, 1e13, 5, 7.5];
    const events: PlaygroundEvent[] = [];
    let seq = 1;
    for (let i = 0; i < 400; i++) {
      const task = tasks[i % tasks.length]!;
      const body = bodies[i % bodies.length]!.replace('7', String(task));
      const worker = workers[i % workers.length];
      const t = times[i % times.length]! + i;
      const common = { task, run, seq: seq++, t };
      switch (i % 5) {
        case 0:
          events.push({ type: 'task:sent', ...common, body });
          break;
        case 1:
          events.push({ type: 'task:received', ...common, worker: worker ?? 'worker-1', body } as PlaygroundEvent);
          break;
        case 2:
          events.push({ type: 'task:done', ...common, worker: worker ?? 'worker-1' } as PlaygroundEvent);
          break;
        case 3:
          events.push({
            type: 'task:collected',
            ...common,
            worker: worker === undefined ? null : worker,
          } as PlaygroundEvent);
          break;
        default:
          // With no worker key at all when the worker is undefined.
          events.push({ type: 'task:lost', ...common, ...(worker === undefined ? {} : { worker }) } as PlaygroundEvent);
      }
      if (i % 50 === 0)
        events.push({ type: 'ventilator:state', state: 'blocked', run, seq: seq++, t } as PlaygroundEvent);
    }
    expectSameBytes(posted(events), run);
    expectSameBytes(posted(events.slice(0, 37)), run, 'run-stored-\ud800');
    // Whole microseconds only (the pipeline's times), with a run of other runs' events between.
    const micros = events
      .filter((event) => event.type.startsWith('task:'))
      .map((event, i) => ({ ...event, t: Math.round(i * 1.337 * 1000) / 1000, run: i % 3 === 0 ? 'other' : run }));
    expectSameBytes(posted(micros), run);
    expectSameBytes(posted(micros), 'other');
    // A lone event.
    expectSameBytes(posted([{ type: 'task:sent', task: 3, body: '', run, seq: 9, t: 0.5 } as PlaygroundEvent]), run);
    // And they read back as the JSON text of the events as the writer thread rebuilt them before (key order too).
    const sample = posted(events.slice(0, 20));
    const columns = new PackedColumns(sample);
    const rows = new PackedTaskRows(columns, run);
    for (let i = 0; i < columns.count; i++) if (columns.isTask(i)) rows.at.push(i);
    const encoded = encodePackedChunk(rows, 0, rows.length);
    const chunk = new Chunk({
      run: 1,
      first_seq: encoded.firstSeq,
      last_seq: encoded.lastSeq,
      count: encoded.count,
      data: encoded.data,
    });
    const texts = unpackEvents(sample)
      .filter((entry) => entry.event.type.startsWith('task:'))
      .map((entry) => JSON.stringify(entry.event));
    expect(texts.map((_, i) => chunk.json(i) === texts[i])).toEqual(texts.map(() => true));
  });
});
