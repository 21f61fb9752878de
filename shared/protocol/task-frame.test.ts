/**
 * The binary task frame (SPEC [W5]): what goes in comes out, event for event, and a malformed buffer of any kind is
 * refused with a message, never a throw.
 */
import { describe, expect, it } from 'vitest';
import { decodeServerMessage } from './codec.ts';
import type { Counters, PlaygroundEvent } from './schema.ts';
import {
  TASK_FRAME_VERSION,
  allEvents,
  decodeTaskFrame,
  encodeTaskFrame,
  type EventsMessage,
  type TaskFrame,
} from './task-frame.ts';

const counters: Counters = {
  run: 'run-7',
  sent: 1000,
  received: { 'worker-1': 400, 'worker-2': 350 },
  done: { 'worker-1': 399, 'worker-2': 350 },
  collected: 12,
  lost: 3,
  lostBy: { 'worker-2': 2, unknown: 1 },
};

/** Run times as the server stamps them: whole µs (server/pipeline/playground.ts). */
const stamp = (ms: number) => Math.round(ms * 1000) / 1000;

/** A burst's frame: task events of every kind, sampled seqs, a worker update and a socket event among them. */
function burstFrame(tasks = 60, run = 'run-7'): EventsMessage {
  const events: PlaygroundEvent[] = [];
  let seq = 1000;
  let t = 512.3;
  const pad = 'x'.repeat(70);
  const body = (task: number) => {
    const full = `task ${task} ${pad}`;
    return full.length > 64 ? `${full.slice(0, 63)}…` : full;
  };
  for (let task = 90; task < 90 + tasks; task++) {
    const worker = `worker-${(task % 3) + 1}`;
    events.push({ type: 'task:sent', seq: seq++, run, t, task, body: body(task) });
    seq += 3; // sampled: the frame skips seqs
    events.push({ type: 'task:received', seq: seq++, run, t: stamp(t + 0.4), task, worker, body: body(task) });
    events.push({ type: 'task:done', seq: seq++, run, t: stamp(t + 0.4), task, worker });
    if (task % 10 === 0) events.push({ type: 'task:collected', seq: seq++, run, t: stamp(t + 1.1), task, worker });
    if (task % 17 === 0) events.push({ type: 'task:lost', seq: seq++, run, t: stamp(t + 2), task, worker: null });
    if (task % 19 === 0) events.push({ type: 'task:lost', seq: seq++, run, t: stamp(t + 2), task, worker });
    if (task === 100) {
      events.push({
        type: 'socket:event',
        seq: seq++,
        run,
        t: stamp(t + 0.2),
        node: 'worker-2',
        kind: 'disconnect',
        address: 'tcp://127.0.0.1:5555',
      });
    }
    t = stamp(t + 0.7123);
  }
  return { type: 'events', events, dropped: 4321, counters };
}

function decoded(bytes: Uint8Array): TaskFrame {
  const result = decodeTaskFrame(bytes);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe('binary task frames [W5]', () => {
  it('round-trips every event, the dropped count and the counters exactly', () => {
    const frame = burstFrame();
    const bytes = encodeTaskFrame(frame);
    expect(bytes).not.toBeNull();
    const back = decoded(bytes!);
    expect(back.dropped).toBe(frame.dropped);
    expect(back.counters).toEqual(frame.counters);
    expect(allEvents(back.events, back.tasks)).toEqual(frame.events);
    // Each rebuilt event passes the JSON frame's own validation.
    const json = decodeServerMessage(JSON.stringify({ ...frame, events: allEvents(back.events, back.tasks) }));
    expect(json.ok).toBe(true);
    // Far smaller than the JSON.
    expect(bytes!.length).toBeLessThan(JSON.stringify(frame).length / 6);
  });

  it('keeps bodies that do not hold the task id, ids that repeat in the body, and empty bodies', () => {
    const events: PlaygroundEvent[] = [];
    const bodies = ['', '1', 'x', 'Esta es una prueba,1', '11 11', 'ñandú ✓ 7', 'task 7 7'];
    let seq = 1;
    for (let i = 0; i < 40; i++) {
      const body = bodies[i % bodies.length]!;
      events.push({ type: 'task:sent', seq: seq++, run: 'r', t: i, task: i % 12, body });
      events.push({ type: 'task:received', seq: seq++, run: 'r', t: i, task: i % 12, worker: 'w', body });
    }
    const frame: EventsMessage = { type: 'events', events, dropped: 0, counters: { ...counters, run: 'r' } };
    const back = decoded(encodeTaskFrame(frame, 1)!);
    expect(allEvents(back.events, back.tasks)).toEqual(events);
  });

  it('goes as JSON (null) when there are too few task events or the layout cannot say the frame exactly', () => {
    expect(encodeTaskFrame(burstFrame(5))).toBeNull();
    const frame = burstFrame();
    const fine = (change: (events: PlaygroundEvent[]) => void): Uint8Array | null => {
      const events = frame.events.map((event) => ({ ...event }));
      change(events);
      return encodeTaskFrame({ ...frame, events });
    };
    expect(fine(() => {})).not.toBeNull();
    expect(fine((events) => ((events[0] as { t: number }).t = 1 / 3))).toBeNull(); // more than 6 decimals
    // Whole ms, tenths, µs: each frame at the fewest decimals that say it exactly.
    for (const t of [12, 12.5, 12.345, 12.000001]) {
      const bytes = fine((events) => ((events[0] as { t: number }).t = t));
      const back = decoded(bytes!);
      expect(back.tasks.t[0]).toBe(t);
    }
    expect(fine((events) => ((events[1] as { seq: number }).seq = events[0]!.seq))).toBeNull(); // seq not rising
    expect(fine((events) => ((events[0] as { task: number }).task = -1))).toBeNull();
  });

  it('lets a caller skip the rows it already has, and builds nothing until asked', () => {
    const frame = burstFrame();
    const back = decoded(encodeTaskFrame(frame)!);
    const tasks = back.tasks.from(10);
    expect(tasks.count).toBe(back.tasks.count - 10);
    expect(tasks.eventAt(0)).toEqual(back.tasks.eventAt(10));
    expect(back.tasks.from(10_000).count).toBe(0);
  });

  it('refuses a frame of another layout version with a message that says so', () => {
    const bytes = encodeTaskFrame(burstFrame())!.slice();
    bytes[3] = TASK_FRAME_VERSION + 1;
    const result = decodeTaskFrame(bytes);
    expect(result).toEqual({ ok: false, error: expect.stringContaining(`layout version ${TASK_FRAME_VERSION + 1}`) });
  });

  it('refuses every truncation of a valid frame, and never throws', () => {
    const bytes = encodeTaskFrame(burstFrame())!;
    for (let length = 0; length < bytes.length; length++) {
      const result = decodeTaskFrame(bytes.subarray(0, length));
      expect(result.ok, `truncated to ${length} of ${bytes.length}`).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/^binary frame: /);
    }
    // And a byte too many.
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(decodeTaskFrame(longer)).toEqual({ ok: false, error: expect.stringContaining('after the last column') });
  });

  it('never throws on hostile bytes: every single-byte change, and random buffers', () => {
    const bytes = encodeTaskFrame(burstFrame(40))!;
    let refused = 0;
    let outOfRange = 0;
    for (let at = 0; at < bytes.length; at++) {
      for (const value of [0x00, 0x7f, 0x80, 0xff, bytes[at]! ^ 0x01]) {
        const hostile = bytes.slice();
        hostile[at] = value;
        const result = decodeTaskFrame(hostile); // must not throw
        if (!result.ok) refused++;
        else {
          // Whatever decodes is a frame the page can fold: ids, kinds and numbers in range.
          const { tasks } = result.value;
          for (let i = 0; i < tasks.count; i++) {
            const event = tasks.eventAt(i);
            if (!(event.seq > 0 && event.t >= 0 && event.task >= 0 && typeof event.run === 'string')) outOfRange++;
          }
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(outOfRange).toBe(0);
    // A seeded generator: random buffers, some with the magic in front.
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 2000; round++) {
      const hostile = new Uint8Array(Math.floor(random() * 200));
      for (let i = 0; i < hostile.length; i++) hostile[i] = Math.floor(random() * 256);
      if (round % 2 === 0 && hostile.length >= 4) hostile.set([0x5a, 0x50, 0x54, TASK_FRAME_VERSION]);
      expect(decodeTaskFrame(hostile).ok).toBe(false);
    }
  });

  it('refuses lies that would cost memory or break the fold: huge counts, bad ids, task events in the header', () => {
    const head = (header: object, rest: number[]): Uint8Array => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + rest.length);
      out.set([0x5a, 0x50, 0x54, TASK_FRAME_VERSION]);
      new DataView(out.buffer).setUint32(4, json.length, true);
      out.set(json, 8);
      out.set(rest, 8 + json.length);
      return out;
    };
    const header = { type: 'events', events: [], dropped: 0, counters };
    // 2^35 rows in a few bytes.
    expect(decodeTaskFrame(head(header, [0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).ok).toBe(false);
    // One row whose run id is not an id.
    const badRun = [1, 1, 3, ...new TextEncoder().encode('a b'), 0, 0, 1, 0, 0, 1, 1, 0];
    expect(decodeTaskFrame(head(header, badRun))).toEqual({ ok: false, error: expect.stringContaining('not an id') });
    // A header that is not an events message, or carries a task event.
    expect(decodeTaskFrame(head({ type: 'presenter' }, [0])).ok).toBe(false);
    const taskInHeader = {
      ...header,
      events: [{ type: 'task:done', seq: 1, run: 'r', t: 0, task: 1, worker: 'w' }],
    };
    expect(decodeTaskFrame(head(taskInHeader, [0, 0, 0, 0]))).toEqual({
      ok: false,
      error: expect.stringContaining('task events'),
    });
    // The header's length past the buffer; a header that is not JSON.
    expect(decodeTaskFrame(Uint8Array.of(0x5a, 0x50, 0x54, TASK_FRAME_VERSION, 0xff, 0xff, 0xff, 0x7f)).ok).toBe(false);
    expect(decodeTaskFrame(Uint8Array.of(0x5a, 0x50, 0x54, TASK_FRAME_VERSION, 1, 0, 0, 0, 0x7b)).ok).toBe(false);
    // Not a task frame at all.
    expect(decodeTaskFrame(new TextEncoder().encode('{"type":"events"}'))).toEqual({
      ok: false,
      error: expect.stringContaining('magic'),
    });
  });
});
