/**
 * The packed hand-off to the writer thread: the events of a real run with a sink (every task event type) come
 * back equal, each with JSON text that parses to the event; bodies that need escaping and a lost task with no
 * worker survive too. The recorder packs events as they arrive (EventPacker): its posted batches are exactly what
 * packing each batch's events at once gives, however the batches are cut and whatever runs and workers interleave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { Playground } from '../pipeline/playground.ts';
import { collect, runEnded, testPolicy } from '../../test/helpers.ts';
import { EventPacker, isPacked, packEvents, transferList, unpackEvents, type PackedEvents } from './packed.ts';
import { Recorder } from './recorder.ts';
import { RunLog } from './run-log.ts';
import { RecordingStats, type WriteChannel } from './store-api.ts';
import { idleChannelParts, syntheticEvents } from '../../test/recording.ts';

const policy = testPolicy();
afterEach(() => policy.cleanup());

/** What crossing to a worker thread does to a message: a structured clone, buffers transferred. */
function viaThread<T>(value: T, transfer: ArrayBuffer[]): T {
  return structuredClone(value, { transfer });
}

describe('packed events', () => {
  it('carries every event of a real run with a sink across, with JSON that parses to the event', async () => {
    const scenario = { ...SCENARIOS.get('pipeline')!, workers: [] };
    const playground = new Playground({ scenario, params: { tasks: 50, syncStart: true, drainMs: 1000 }, policy });
    try {
      playground.updateSink({ enabled: true, transport: 'ipc' });
      playground.addWorker({ transport: 'tcp' });
      playground.addWorker({ transport: 'ipc' });
      const events = collect(playground);
      const run = playground.startRun();
      await runEnded(playground, run.id);
      const types = new Set(events.map((e) => e.type));
      for (const type of [
        'task:sent',
        'task:received',
        'task:done',
        'task:collected',
        'run:started',
        'socket:event',
        'run:ended',
      ])
        expect(types).toContain(type);

      const packed = packEvents(events);
      const entries = unpackEvents(viaThread(packed, transferList(packed)));
      expect(entries.map((e) => e.event)).toEqual(events);
      for (const entry of entries) expect(JSON.parse(entry.json!)).toEqual(entry.event);
      // The task events were packed, not serialised: only the other events and the bodies travel as text.
      const bodies = events.filter((e) => e.type === 'task:sent' || e.type === 'task:received').length;
      const others = events.filter((e) => !e.type.startsWith('task:')).length;
      expect(packed.texts).toHaveLength(bodies + others);
    } finally {
      await playground.close();
    }
  });

  it('keeps bodies that need escaping and a lost task with no worker', () => {
    const base = { run: 'run-"quoted"', t: 12.345 };
    const events: PlaygroundEvent[] = [
      { type: 'task:sent', task: 1, body: 'line\nbreak "quote" \\ back ñ 🚀 \u0000', seq: 1, ...base },
      { type: 'task:received', task: 1, worker: 'w\u2028', body: '', seq: 2, ...base },
      { type: 'task:lost', task: 2, worker: null, seq: 3, ...base },
      { type: 'task:lost', task: 3, worker: 'worker-1', seq: 4, ...base },
      { type: 'ventilator:state', state: 'blocked', seq: 5, ...base },
    ];
    const entries = unpackEvents(viaThread(packEvents(events), []));
    expect(entries.map((e) => e.event)).toEqual(events);
    for (const entry of entries) expect(JSON.parse(entry.json!)).toEqual(entry.event);
    expect(unpackEvents(packEvents([]))).toEqual([]);
  });

  it('packs as events arrive: the recorder posts what packing each batch at once gives, batch after batch', () => {
    const posted: PackedEvents[] = [];
    const channel: WriteChannel = {
      stats: new RecordingStats(),
      inFlight: 0,
      packed: true,
      write: (_playground, events) => {
        if (!isPacked(events)) throw new Error('the recorder handed over events, not a packed batch');
        posted.push(structuredClone(events, { transfer: transferList(events) }));
      },
      ...idleChannelParts,
    };
    const log = new RunLog();
    const logged: PlaygroundEvent[] = [];
    log.subscribe((event) => void logged.push(event));
    const playground = { id: 'pg-packer', scenario: { id: 'pipeline', title: 'Pipeline' }, log };
    const recorder = new Recorder(channel, playground, { flushMs: 60_000, batchSize: 1_000_000 });
    // Two runs interleaved (the run id cache), every task event type, workers absent, null and new, other events.
    const first = [...syntheticEvents('run-0000a001', { count: 1500 })];
    const second = [...syntheticEvents('run-0000a002', { count: 40 })];
    const extra: PlaygroundEvent[] = [
      { type: 'task:done', task: 3, worker: 'worker-x', run: 'run-0000a001', seq: 0, t: 1.25 },
      { type: 'task:collected', task: 3, worker: 'worker-x', run: 'run-0000a001', seq: 0, t: 1.5 },
      { type: 'task:lost', task: 4, worker: null, run: 'run-0000a002', seq: 0, t: 2 },
      { type: 'ventilator:state', state: 'blocked', run: 'run-0000a002', seq: 0, t: 2.5 },
    ];
    const cuts: number[] = [];
    const sizes = [1000, 1, 0, 300, 600]; // a batch that grows past the first arrays, one event, none, smaller ones
    const all = [...first.slice(0, 700), ...second, ...extra, ...first.slice(700)];
    let next = 0;
    for (const size of sizes) {
      for (const event of all.slice(next, next + size)) log.append({ ...event });
      next += size;
      recorder.flush();
      cuts.push(logged.length);
    }
    for (const event of all.slice(next)) log.append({ ...event });
    recorder.flush();
    cuts.push(logged.length);
    expect(logged).toHaveLength(all.length);

    // An empty flush posts nothing; every other batch is what packEvents makes of its events.
    const batches = cuts.map((end, k) => logged.slice(k === 0 ? 0 : cuts[k - 1], end)).filter((b) => b.length > 0);
    expect(posted).toHaveLength(batches.length);
    batches.forEach((events, k) => {
      const expected = packEvents(events);
      const actual = posted[k]!;
      expect(actual.count).toBe(events.length);
      expect(actual.kinds).toEqual(expected.kinds);
      expect(actual.numbers).toEqual(expected.numbers);
      expect(actual.refs).toEqual(expected.refs);
      expect(actual.names).toEqual(expected.names);
      expect(actual.texts).toEqual(expected.texts);
      expect(unpackEvents(actual).map((entry) => entry.event)).toEqual(events);
    });
    void recorder.close();
  });

  it('hands over exactly what was packed and starts anew, its arrays sized like the last batch', () => {
    const packer = new EventPacker();
    const events = [...syntheticEvents('run-0000b001', { count: 3000 })];
    for (const event of events) packer.add(event);
    const big = packer.take();
    expect(big.count).toBe(3000);
    expect(big.kinds).toHaveLength(3000);
    expect(big.numbers).toHaveLength(9000);
    expect(big.refs).toHaveLength(6000);
    expect(packer.count).toBe(0);
    packer.add(events[1]!);
    const one = packer.take();
    expect(one.count).toBe(1);
    expect(one.names).toEqual(['run-0000b001']);
    // Its arrays were new ones (the last batch's size): the one posted before keeps its contents.
    expect(one.kinds.buffer.byteLength).toBe(4096);
    expect(big.kinds[1]).toBe(one.kinds[0]);
    expect(unpackEvents(big).map((entry) => entry.event)).toEqual(events);
    expect(packer.take().count).toBe(0);
  });
});
