/**
 * [E3] Batching and sampling of the live stream, with a fake clock-free send: frames are flushed by hand.
 */
import { describe, expect, it } from 'vitest';
import type { PlaygroundEvent, ServerMessage } from '../../shared/protocol/index.ts';
import { EventBatcher } from './event-batcher.ts';

const counters = () => ({ run: 'run-1', sent: 1000, received: { w: 1000 }, done: {}, collected: 0, lost: 0 });

function events(count: number): PlaygroundEvent[] {
  const list: PlaygroundEvent[] = [];
  for (let i = 0; i < count; i++) {
    list.push({ type: 'task:sent', seq: 2 * i + 1, run: 'run-1', t: i, task: i, body: 'b' });
    list.push({ type: 'task:received', seq: 2 * i + 2, run: 'run-1', t: i, task: i, worker: 'w', body: 'b' });
  }
  return list;
}

describe('EventBatcher', () => {
  it('[E3] sends one frame per interval, samples task events past the cap, never drops the others, counters exact', () => {
    const frames: ServerMessage[] = [];
    const batcher = new EventBatcher({
      send: (text) => frames.push(JSON.parse(text)),
      counters,
      intervalMs: 1_000_000,
      maxTaskEventsPerFrame: 10,
    });
    for (const event of events(50)) batcher.push(event);
    batcher.push({ type: 'task:lost', seq: 101, run: 'run-1', t: 60, task: 3, worker: null });
    batcher.push({
      type: 'run:ended',
      seq: 102,
      run: 'run-1',
      t: 61,
      reason: 'completed',
      summary: {
        sent: 50,
        received: { w: 50 },
        done: {},
        collected: 0,
        unattributed: 0,
        lost: 1,
        lostBy: { unknown: 1 },
        externalPeersMax: 0,
        durationMs: 61,
      },
    });
    expect(frames).toHaveLength(0);
    batcher.flush();
    expect(frames).toHaveLength(1);
    const frame = frames[0]!;
    if (frame.type !== 'events') throw new Error('expected an events frame');
    expect(frame.events.filter((e) => e.type.startsWith('task:') && e.type !== 'task:lost')).toHaveLength(10);
    expect(frame.dropped).toBe(90);
    expect(frame.events.map((e) => e.type).slice(-2)).toEqual(['task:lost', 'run:ended']);
    expect(frame.counters.sent).toBe(1000);
    batcher.close();
  });

  it('spreads the sample over the whole interval, keeps tasks whole, and every worker in it (issue 12)', () => {
    const frames: ServerMessage[] = [];
    const batcher = new EventBatcher({
      send: (text) => frames.push(JSON.parse(text)),
      counters,
      intervalMs: 1_000_000,
      maxTaskEventsPerFrame: 100,
    });
    // 10,000 tasks dealt round-robin to 8 workers, each sent then received.
    for (let task = 0; task < 10_000; task++) {
      batcher.push({ type: 'task:sent', seq: 2 * task + 1, run: 'run-1', t: task, task, body: 'b' });
      const worker = `w${task % 8}`;
      batcher.push({ type: 'task:received', seq: 2 * task + 2, run: 'run-1', t: task, task, worker, body: 'b' });
    }
    batcher.flush();
    const frame = frames[0]!;
    if (frame.type !== 'events') throw new Error('expected an events frame');
    expect(frame.events).toHaveLength(100);
    expect(frame.dropped).toBe(19_900);
    const seqs = frame.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    for (const type of ['task:sent', 'task:received']) {
      const times = frame.events.filter((e) => e.type === type).map((e) => e.t);
      // From the interval's first tenth to its last (a plain cap kept the first 50 tasks only).
      expect(times[0]).toBeLessThan(1000);
      expect(times.at(-1)).toBeGreaterThanOrEqual(9000);
    }
    // A task held is held whole: most sent events have their received beside them (the charts pair them).
    const sent = new Set(frame.events.filter((e) => e.type === 'task:sent').map((e) => e.task));
    const received = frame.events.filter((e) => e.type === 'task:received');
    expect(received.filter((e) => sent.has(e.task)).length).toBeGreaterThanOrEqual(30);
    // Ids are hashed: one worker's tasks (every 8th) are not a stride of their own.
    expect(new Set(received.map((e) => (e.type === 'task:received' ? e.worker : ''))).size).toBe(8);
    batcher.close();
  });

  it('holds frames while paused (a backlog goes first), and drops task events when the socket is congested', () => {
    const frames: ServerMessage[] = [];
    let congested = false;
    const batcher = new EventBatcher({
      send: (text) => frames.push(JSON.parse(text)),
      counters,
      intervalMs: 1_000_000,
      isCongested: () => congested,
    });
    batcher.pause();
    for (const event of events(5)) batcher.push(event);
    batcher.flush();
    expect(frames).toHaveLength(0);
    batcher.resume();
    expect(frames.map((f) => (f.type === 'events' ? f.events.length : 0))).toEqual([10]);
    congested = true;
    for (const event of events(3)) batcher.push(event);
    batcher.push({ type: 'ventilator:state', seq: 7, run: 'run-1', t: 1, state: 'blocked' });
    batcher.flush();
    const last = frames.at(-1)!;
    expect(last.type === 'events' && last.events.map((e) => e.type)).toEqual(['ventilator:state']);
    expect(last.type === 'events' && last.dropped).toBe(6);
    batcher.close();
  });
});
