/**
 * The packed task chunk (chunk-format.ts): every event reads back as exactly the text the store answered before
 * (JSON.stringify of the recorder's event, or an older chunk's line as it was), with the fields a parse of that text
 * gives; a task event of a batch costs a few bytes; bytes that do not decode are a DamagedChunkError, whatever they
 * are.
 */
import { describe, expect, it } from 'vitest';
import { DamagedChunkError, microsText, type ChunkEvent, type ChunkRow } from './chunk-format.ts';
import { encodeChunk } from './chunk-pack.ts';
import { Chunk } from './chunk-read.ts';

const RUN = 'run-c0ffee01';

function decode(rows: readonly ChunkEvent[], data?: Buffer): Chunk {
  const encoded = encodeChunk(rows);
  const row: ChunkRow = {
    run: 7,
    first_seq: encoded.firstSeq,
    last_seq: encoded.lastSeq,
    count: encoded.count,
    data: data ?? encoded.data,
  };
  return new Chunk(row);
}

/** What the CSV export read of an event before: its parsed fields. */
function parsedFields(json: string) {
  const event = JSON.parse(json) as { type: string; task?: number; worker?: string | null; body?: string };
  return { type: event.type, task: event.task ?? null, worker: event.worker ?? null, body: event.body ?? null };
}

/** Checks that every event reads back as `texts[i]`, with its seq, t and parsed fields. */
function expectSame(rows: readonly ChunkEvent[], texts: readonly string[]): Chunk {
  const chunk = decode(rows);
  expect(chunk.count).toBe(rows.length);
  rows.forEach((row, i) => {
    expect(chunk.json(i), `event ${i}`).toBe(texts[i]);
    expect(chunk.seq(i)).toBe(row.seq);
    expect(Object.is(chunk.t(i), row.t) || chunk.t(i) === row.t).toBe(true);
    expect(chunk.fields(i), `fields of ${i}`).toEqual(parsedFields(texts[i]!));
  });
  return chunk;
}

/** A batch as the pipeline logs it: every task sent, received by one of `workers`, done and collected. */
function batch(tasks: number, workers: number, padding = 16): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  let seq = 1000;
  let micros = 5_000_000;
  const stamp = (event: Record<string, unknown>) => {
    micros += 7 + (seq % 13);
    // The pipeline's stamping order: run and t set on the event, then seq by the log.
    events.push({ ...event, run: RUN, t: micros / 1000, seq: ++seq });
  };
  for (let task = 0; task < tasks; task++) {
    const body = `task ${task} ${'x'.repeat(padding)}`;
    const worker = `worker-${(task % workers) + 1}`;
    stamp({ type: 'task:sent', task, body });
    stamp({ type: 'task:received', task, worker, body });
    stamp({ type: 'task:done', task, worker });
    stamp({ type: 'task:collected', task, worker });
  }
  return events;
}

const asRows = (events: Record<string, unknown>[]): ChunkEvent[] =>
  events.map((event) => ({ seq: event.seq as number, t: event.t as number, json: null, event }));

describe('a packed task chunk', () => {
  it('reads back JSON.stringify of every recorder event, in its own key order, at a few bytes an event', () => {
    const events = batch(250, 4);
    const rows = asRows(events);
    expectSame(
      rows,
      events.map((event) => JSON.stringify(event)),
    );
    const bytes = encodeChunk(rows).data.length;
    // ~120 bytes of JSON an event before.
    expect(bytes / rows.length).toBeLessThan(8);
  });

  it('keeps what JSON.stringify writes of any body, worker and number it may meet', () => {
    const odd = [
      'caf\u00e9 "quoted" \\ back\tslash\n',
      '\u2028\u2029 emoji \u{1f600}',
      'lone \ud800 surrogate',
      '\ud800',
      '7',
      '77 and 7 and 777',
      '',
      'x'.repeat(63) + '\u2026',
    ];
    const events: Record<string, unknown>[] = [];
    let seq = 1;
    for (const [i, body] of odd.entries()) {
      for (const task of [7, 0, 2 ** 40, i]) {
        events.push({ type: 'task:sent', task, body, run: RUN, seq: seq, t: seq * 0.5 });
        seq++;
        events.push({ type: 'task:received', task, worker: `w "${body}"`, body, run: RUN, seq, t: seq * 0.5 });
        seq++;
      }
    }
    events.push({ type: 'task:lost', task: 3, worker: null, run: RUN, seq: ++seq, t: seq });
    events.push({ type: 'task:lost', task: 4, run: RUN, seq: ++seq, t: seq });
    // Other key orders (the writer thread's, an import's), a key JSON leaves out, and values columns cannot hold.
    events.push({ run: RUN, seq: ++seq, t: seq, type: 'task:done', worker: 'worker-1', task: 5 });
    events.push({ type: 'task:done', task: 6, worker: 'worker-1', note: undefined, run: RUN, seq: ++seq, t: seq });
    events.push({ type: 'task:done', task: 6.5, worker: 'worker-1', run: RUN, seq: ++seq, t: seq });
    events.push({
      type: 'task:done',
      task: 8,
      worker: 'worker-1',
      extra: { nested: [1] },
      run: RUN,
      seq: ++seq,
      t: seq,
    });
    events.push({ type: 'task:done', task: 9, worker: 42, run: RUN, seq: ++seq, t: seq });
    events.push({ type: 'task:done', task: -3, worker: 'worker-1', run: RUN, seq: ++seq, t: seq });
    events.push({ type: 'task:done', task: 2 ** 53 - 1, worker: 'worker-1', run: RUN, seq: ++seq, t: seq });
    events.push({ type: 'task:done', task: -(2 ** 53) + 1, worker: 'worker-1', run: RUN, seq: ++seq, t: seq });
    expectSame(
      asRows(events),
      events.map((event) => JSON.stringify(event)),
    );
  });

  it('keeps times that are not whole microseconds as they are', () => {
    const times = [0.1 + 0.2, 1e-7, 123456.0001, 5, 2 ** 60, 1e12 + 0.001, 2e12];
    const events = times.map((t, i) => ({ type: 'task:sent', task: i, body: `task ${i}`, run: RUN, seq: i + 1, t }));
    expectSame(
      asRows(events),
      events.map((event) => JSON.stringify(event)),
    );
  });

  it('writes a time of whole microseconds as String(t) does', () => {
    const samples = [0, 1, 999, 1000, 1001, 10_000, 123_456_789, 999_999_999_999_999];
    let seed = 1;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48271) % 2147483647;
      samples.push(Math.floor((seed / 2147483647) * 10 ** (1 + (i % 15))));
    }
    for (const micros of samples) expect(microsText(micros), String(micros)).toBe(String(micros / 1000));
  });

  it('keeps every line of an older chunk as it was, canonical or not', () => {
    const lines = [
      `{"type":"task:sent","task":1,"body":"task 1","run":"${RUN}","seq":1,"t":0.5}`,
      `{"type":"task:sent","task":2,"body":"caf\\u00e9","run":"${RUN}","seq":2,"t":1}`,
      `{"type": "task:sent", "task": 3, "body": "task 3", "run": "${RUN}", "seq": 3, "t": 1.5}`,
      `{"type":"task:sent","task":4,"body":"task 4","run":"${RUN}","seq":4,"t":2.00}`,
      `{"type":"task:sent","task":5,"body":"task 5","run":"${RUN}","seq":5,"t":2.5,"type":"task:done"}`,
      `{"type":"task:received","task":6,"worker":"worker-1","body":"task 6","run":"${RUN}","seq":6,"t":3}`,
      `{"type":"task:received","task":7,"worker":"worker-1","body":"task 7","run":"${RUN}","seq":99,"t":3.5}`,
    ];
    const rows = lines.map((json, i) => ({ seq: i + 1, t: (i + 1) / 2, json }));
    const chunk = expectSame(rows, lines);
    // Not JSON at all: read as it was; a CSV of it says it is damaged rather than answering a wrong row.
    const broken = [...rows, { seq: 8, t: 4, json: '{"type":"task:sent",' }];
    const withBroken = decode(broken);
    expect(withBroken.json(7)).toBe('{"type":"task:sent",');
    expect(() => withBroken.fields(7)).toThrow(DamagedChunkError);
    expect(chunk.indexOfSeq(4)).toBe(3);
    expect(chunk.indexOfT(2)).toBe(3);
  });

  it('says a chunk is damaged, naming its run and seq, whatever its bytes are', () => {
    const rows = asRows(batch(40, 3));
    const good = encodeChunk(rows).data;
    const attempts: Buffer[] = [
      Buffer.alloc(0),
      good.subarray(0, good.length - 1),
      good.subarray(0, 10),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from([9, ...good.subarray(1)]),
      Buffer.alloc(good.length, 0xff),
      Buffer.alloc(good.length, 0x00),
    ];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 2000; i++) {
      const copy = Buffer.from(good);
      for (let k = 0; k < 1 + (i % 3); k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      attempts.push(copy);
    }
    let damaged = 0;
    for (const data of attempts) {
      try {
        const chunk = decode(rows, data);
        // Bytes that still decode answer something for every event, without throwing anything else.
        for (let i = 0; i < chunk.count; i++) {
          chunk.json(i);
          chunk.fields(i);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(DamagedChunkError);
        expect((error as Error).message).toMatch(
          /damaged: the task events of run 7 stored from seq 1001 cannot be read/,
        );
        damaged++;
      }
    }
    expect(damaged).toBeGreaterThan(attempts.length / 2);
    expect(() => decode(rows, 'not a blob' as unknown as Buffer)).toThrow(/it is not a BLOB/);
  });
});
