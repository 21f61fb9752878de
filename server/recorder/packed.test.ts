/**
 * The packed hand-off to the writer thread: the events of a real run with a sink (every task event type) come
 * back equal, each with JSON text that parses to the event; bodies that need escaping and a lost task with no
 * worker survive too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { Playground } from '../pipeline/playground.ts';
import { collect, runEnded, testPolicy } from '../../test/helpers.ts';
import { packEvents, transferList, unpackEvents } from './packed.ts';

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
});
