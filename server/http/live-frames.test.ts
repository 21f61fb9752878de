/**
 * Live frames encoded once per playground (live-frames.ts) with fake sockets and a fake clock: every caught-up
 * connection gets the same bytes of each frame, a connection that is behind has its own path, and switching
 * between the two paths neither loses nor repeats an event ([E3] still holds for each connection).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  NOT_PRESENTING,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type PresenterState,
  type ServerMessage,
} from '../../shared/protocol/index.ts';
import { TASK_FRAME_VERSION, allEvents, decodeTaskFrame } from '../../shared/protocol/task-frame.ts';
import { RunLog } from '../recorder/run-log.ts';
import { MAX_TASK_EVENTS_PER_FRAME } from './event-batcher.ts';
import {
  BINARY_TASK_EVENTS_PER_FRAME,
  LiveFrames,
  MAX_SHARED_INTERVAL_MS,
  StreamConnection,
  sharedIntervalMs,
  type FrameOutbox,
  type LiveSource,
} from './live-frames.ts';

const INTERVAL = 33;
const CONGESTED = 1000;

class FakeOutbox implements FrameOutbox {
  readonly frames: (string | Buffer)[] = [];
  /** The frames sent as binary messages. */
  readonly binary = new Set<Buffer>();
  queuedBytes = 0;
  sendingBacklog = false;
  send(frame: string | Buffer): void {
    this.frames.push(frame);
  }
  sendBinary(bytes: Buffer): void {
    this.frames.push(bytes);
    this.binary.add(bytes);
  }
  /** The whole backlog at once, as a reader that keeps up would take it. */
  sendBacklog(frames: () => string | null, onDone: () => void): void {
    this.sendingBacklog = true;
    for (let frame = frames(); frame !== null; frame = frames()) this.frames.push(frame);
    this.sendingBacklog = false;
    onDone();
  }
  /** Every frame as the JSON message it stands for (a binary one decoded, its task events rebuilt). */
  messages(): ServerMessage[] {
    return this.frames.map((frame) => {
      if (typeof frame === 'string' || !this.binary.has(frame)) return JSON.parse(frame.toString()) as ServerMessage;
      const decoded = decodeTaskFrame(frame);
      if (!decoded.ok) throw new Error(decoded.error);
      const { events, tasks, dropped, counters } = decoded.value;
      return { type: 'events', events: allEvents(events, tasks), dropped, counters };
    });
  }
  events(): PlaygroundEvent[] {
    return this.messages().flatMap((message) => (message.type === 'events' ? message.events : []));
  }
  dropped(): number {
    return this.messages().reduce((sum, message) => sum + (message.type === 'events' ? message.dropped : 0), 0);
  }
}

function fakeSource(): LiveSource & {
  log: RunLog;
  changeInfo(info: PlaygroundInfo): void;
  present(state: PresenterState): void;
} {
  const log = new RunLog();
  const listeners = new Set<(info: PlaygroundInfo) => void>();
  const presenterListeners = new Set<(state: PresenterState) => void>();
  let presenter = NOT_PRESENTING;
  return {
    log,
    get presenter() {
      return presenter;
    },
    onPresenterChanged(listener) {
      presenterListeners.add(listener);
      return () => presenterListeners.delete(listener);
    },
    present(state) {
      presenter = state;
      for (const listener of presenterListeners) listener(state);
    },
    counters: () => ({ run: 'run-1', sent: log.lastSeq, received: {}, done: {}, collected: 0, lost: 0 }),
    onInfoChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changeInfo(info) {
      for (const listener of listeners) listener(info);
    },
  };
}

let task = 0;
const taskSent = (): PlaygroundEvent => ({ type: 'task:sent', seq: 0, run: 'run-1', t: task, task: task++, body: 'b' });
const taskLost = (): PlaygroundEvent => ({
  type: 'task:lost',
  seq: 0,
  run: 'run-1',
  t: task,
  task: task++,
  worker: null,
});

function connect(hub: LiveFrames, source: LiveSource, outbox = new FakeOutbox()) {
  const connection = new StreamConnection(hub, source, outbox, { congestedBytes: CONGESTED, intervalMs: INTERVAL });
  return { connection, outbox };
}

const seqs = (events: PlaygroundEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeEach(() => {
  vi.useFakeTimers();
  task = 0;
});
afterEach(() => vi.useRealTimers());

describe('LiveFrames', () => {
  it('encodes each frame once and hands the same bytes to every caught-up connection', () => {
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const readers = Array.from({ length: 20 }, () => connect(hub, source));
    for (const { connection } of readers) connection.subscribe(0);
    expect(hub.sharedReaders).toBe(20);

    for (let tick = 0; tick < 5; tick++) {
      for (let i = 0; i < 50; i++) source.log.append(taskSent());
      vi.advanceTimersByTime(INTERVAL);
    }
    expect(hub.framesEncoded).toBe(5);
    const first = readers[0]!.outbox.frames;
    expect(first).toHaveLength(5);
    for (const { outbox } of readers) {
      expect(outbox.frames).toHaveLength(5);
      // The very same Buffer: encoded once, not once per connection.
      outbox.frames.forEach((frame, i) => expect(frame).toBe(first[i]));
      expect(seqs(outbox.events())).toEqual(range(1, 250));
    }
  });

  it('[E3] a large audience gets the shared frames further apart, every one with exact counters, and the usual pace once it leaves', () => {
    expect(sharedIntervalMs(1, INTERVAL)).toBe(INTERVAL);
    expect(sharedIntervalMs(20, INTERVAL)).toBe(INTERVAL);
    expect(sharedIntervalMs(200, INTERVAL)).toBe(100);
    expect(sharedIntervalMs(100_000, INTERVAL)).toBe(MAX_SHARED_INTERVAL_MS);

    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const audience = Array.from({ length: 200 }, () => connect(hub, source));
    for (const { connection } of audience) connection.subscribe(0);
    // 600 ms of a steady run: an event every 10 ms, 1000 task events in one interval among them.
    for (let ms = 0; ms < 600; ms += 10) {
      source.log.append(ms === 300 ? taskLost() : taskSent());
      if (ms === 200) for (let i = 0; i < 1000; i++) source.log.append(taskSent());
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(100);
    const { outbox } = audience[0]!;
    // One frame per 100 ms instead of one per 33 ms; the same 400 task events a frame at most, the rest counted.
    expect(outbox.frames.length).toBeGreaterThanOrEqual(6);
    expect(outbox.frames.length).toBeLessThanOrEqual(7);
    expect(hub.framesEncoded).toBe(outbox.frames.length);
    const events = outbox.events();
    expect(events.length + outbox.dropped()).toBe(source.log.lastSeq);
    expect(events.filter((event) => event.type === 'task:lost')).toHaveLength(1);
    for (const message of outbox.messages())
      if (message.type === 'events') {
        expect(message.events.filter((event) => event.type === 'task:sent').length).toBeLessThanOrEqual(400);
        // The fake counters count what was logged when the frame was made: at least what the frame carries.
        expect(message.counters.sent).toBeGreaterThanOrEqual(Math.max(0, ...message.events.map((event) => event.seq)));
      }
    const last = outbox.messages().at(-1)!;
    expect(last.type === 'events' && last.counters.sent).toBe(source.log.lastSeq);

    // 190 leave: the ten left get frames at the usual pace again.
    for (const { connection } of audience.slice(10)) connection.close();
    const before = outbox.frames.length;
    for (let ms = 0; ms < 330; ms += 10) {
      source.log.append(taskSent());
      vi.advanceTimersByTime(10);
    }
    expect(outbox.frames.length - before).toBeGreaterThanOrEqual(7); // every ~40 ms here (3 at 100 ms)
  });

  it('a connection that subscribes while a frame is being gathered catches up on its own path, then joins without a gap or a repeat', () => {
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const early = connect(hub, source);
    early.connection.subscribe(0);
    for (let i = 0; i < 5; i++) source.log.append(taskSent()); // 1-5, waiting in the hub's frame

    const late = connect(hub, source);
    late.connection.subscribe(0); // backlog 1-5; the hub holds events, so it waits for the hub's next frame
    expect(late.connection.mode).toBe('own');
    source.log.append(taskLost()); // 6: in the hub's frame (for early) and in late's own batcher
    vi.advanceTimersByTime(INTERVAL);
    expect(late.connection.mode).toBe('shared');
    for (let i = 0; i < 3; i++) source.log.append(taskSent()); // 7-9: shared
    vi.advanceTimersByTime(INTERVAL);

    expect(seqs(early.outbox.events())).toEqual(range(1, 9));
    expect(seqs(late.outbox.events())).toEqual(range(1, 9));
    // The last frame is the shared one, the same bytes for both.
    expect(late.outbox.frames.at(-1)).toBe(early.outbox.frames.at(-1));
    expect(hub.framesEncoded).toBe(2);
  });

  it('a congested connection leaves the shared frames (its task events left out, the others kept) and comes back once it reads', () => {
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const quick = connect(hub, source);
    const slow = connect(hub, source);
    quick.connection.subscribe(0);
    slow.connection.subscribe(0);
    expect(hub.sharedReaders).toBe(2);

    slow.outbox.queuedBytes = CONGESTED + 1;
    source.log.append(taskSent());
    source.log.append(taskLost());
    vi.advanceTimersByTime(INTERVAL); // shared frame 1-2: quick as is; slow leaves with 2 only
    expect(slow.connection.mode).toBe('own');
    expect(hub.sharedReaders).toBe(1);
    source.log.append(taskSent());
    source.log.append(taskLost());
    vi.advanceTimersByTime(INTERVAL); // 3-4: slow's own frame, still congested
    expect(slow.connection.mode).toBe('own');

    slow.outbox.queuedBytes = 0; // it read
    source.log.append(taskSent());
    vi.advanceTimersByTime(INTERVAL); // 5: its own frame, then back to the shared ones
    expect(slow.connection.mode).toBe('shared');
    source.log.append(taskSent());
    vi.advanceTimersByTime(INTERVAL); // 6: shared

    expect(seqs(quick.outbox.events())).toEqual(range(1, 6));
    expect(seqs(slow.outbox.events())).toEqual([2, 4, 5, 6]);
    expect(slow.outbox.dropped()).toBe(2);
    expect(slow.outbox.frames.at(-1)).toBe(quick.outbox.frames.at(-1));
  });

  it('says an info change once, after the events logged before it; a connection sending its backlog holds it', () => {
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const a = connect(hub, source);
    const b = connect(hub, source);
    a.connection.subscribe(0);
    b.connection.subscribe(0);
    source.log.append(taskSent());
    const info = { id: 'pg-1' } as PlaygroundInfo;
    source.changeInfo(info);
    for (const { outbox } of [a, b])
      expect(outbox.messages().map((message) => message.type)).toEqual(['events', 'playground:updated']);
    expect(a.outbox.frames[1]).toBe(b.outbox.frames[1]);

    // Not subscribed yet (idle): told all the same.
    const idle = connect(hub, source);
    source.changeInfo(info);
    expect(idle.outbox.messages().map((message) => message.type)).toEqual(['playground:updated']);
    idle.connection.close();
    a.connection.close();
    b.connection.close();
    expect(source.log.subscriberCount).toBe(0);
  });

  it('[S6] encodes a presenter change once and hands the same bytes to every connection, caught up or not', () => {
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const caughtUp = connect(hub, source);
    caughtUp.connection.subscribe(0);
    const idle = connect(hub, source);
    expect(JSON.parse(hub.presenterBytes().toString())).toEqual({ type: 'presenter', presenter: NOT_PRESENTING });
    const state: PresenterState = {
      presenting: true,
      lesson: null,
      replay: { run: 'run-1', t: 250, playing: false, speed: 1 },
    };
    source.present(state);
    const [fromCaughtUp] = caughtUp.outbox.frames.slice(-1);
    const [fromIdle] = idle.outbox.frames.slice(-1);
    expect(fromCaughtUp).toBe(fromIdle); // the same Buffer: one encoding
    expect(fromCaughtUp).toBe(hub.presenterBytes()); // and the one a new connection gets after hello
    expect(JSON.parse(fromIdle!.toString())).toEqual({ type: 'presenter', presenter: state });
    caughtUp.connection.close();
    idle.connection.close();
  });
  it('[W5] sends frames with many task events as one binary frame to those who asked, JSON to the others, each form encoded once', () => {
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const binaryReaders = Array.from({ length: 3 }, () => connect(hub, source));
    const jsonReaders = Array.from({ length: 2 }, () => connect(hub, source));
    for (const { connection } of binaryReaders) connection.subscribe(0, TASK_FRAME_VERSION);
    for (const { connection } of jsonReaders) connection.subscribe(0);
    const future = connect(hub, source); // a page that reads a later layout than this server writes: JSON
    future.connection.subscribe(0, TASK_FRAME_VERSION + 1);

    for (let i = 0; i < 100; i++) source.log.append(taskSent()); // a burst: binary
    source.log.append(taskLost());
    vi.advanceTimersByTime(INTERVAL);
    for (let i = 0; i < 3; i++) source.log.append(taskSent()); // a trickle: JSON for everyone
    vi.advanceTimersByTime(INTERVAL);

    const [first, ...others] = binaryReaders.map((reader) => reader.outbox);
    expect(first!.binary.size).toBe(1);
    expect(first!.binary.has(first!.frames[0] as Buffer)).toBe(true);
    expect(first!.binary.has(first!.frames[1] as Buffer)).toBe(false);
    for (const outbox of others) outbox.frames.forEach((frame, i) => expect(frame).toBe(first!.frames[i]));
    for (const { outbox } of [...jsonReaders, future]) {
      expect(outbox.binary.size).toBe(0);
      expect(outbox.frames[1]).toBe(first!.frames[1]); // the JSON frame: the same bytes for both kinds of reader
    }
    // Every reader saw the same events, dropped counts and counters, whatever the form.
    for (const { outbox } of [...binaryReaders, ...jsonReaders, future]) {
      expect(seqs(outbox.events())).toEqual(range(1, 104));
      expect(outbox.messages()).toEqual(jsonReaders[0]!.outbox.messages());
    }
    expect(hub.framesEncoded).toBe(2);
  });

  it('[W5] pages (binary readers) get fewer task events a burst frame, with exact counts; one JSON reader keeps 400 for all', () => {
    const burst = (source: ReturnType<typeof fakeSource>, events: number) => {
      for (let i = 0; i < events; i++) source.log.append(taskSent());
      source.log.append(taskLost());
      vi.advanceTimersByTime(INTERVAL);
    };
    const taskEventsOf = (outbox: FakeOutbox) =>
      outbox.messages().map((m) => (m.type === 'events' ? m.events.filter((e) => e.type === 'task:sent').length : 0));

    // Two pages on the hub, and one on its own path (behind): each frame at most BINARY_TASK_EVENTS_PER_FRAME.
    const source = fakeSource();
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const pages = Array.from({ length: 2 }, () => connect(hub, source));
    for (const { connection } of pages) connection.subscribe(0, TASK_FRAME_VERSION);
    burst(source, 1000);
    const behind = connect(hub, source);
    behind.connection.subscribe(source.log.lastSeq, TASK_FRAME_VERSION);
    burst(source, 1000);
    for (const { outbox } of [...pages, behind]) {
      for (const n of taskEventsOf(outbox)) expect(n).toBeLessThanOrEqual(BINARY_TASK_EVENTS_PER_FRAME);
      expect(Math.max(...taskEventsOf(outbox))).toBeGreaterThan(BINARY_TASK_EVENTS_PER_FRAME / 2); // a sample, not none
      expect(outbox.events().filter((event) => event.type === 'task:lost')).toHaveLength(
        outbox === behind.outbox ? 1 : 2,
      );
    }
    for (const { outbox } of pages) {
      expect(outbox.events().length + outbox.dropped()).toBe(source.log.lastSeq); // every event sent or counted
      const last = outbox.messages().at(-1)!;
      expect(last.type === 'events' && last.counters.sent).toBe(source.log.lastSeq);
    }

    // A JSON reader joins: from then on the hub's frames carry up to 400 again, the same to everyone.
    const script = connect(hub, source);
    script.connection.subscribe(source.log.lastSeq);
    burst(source, 1000); // the script's own path meanwhile; it joins the hub at this frame
    const before = pages[0]!.outbox.frames.length;
    burst(source, 1000);
    const [shared] = taskEventsOf(pages[0]!.outbox).slice(before);
    expect(shared).toBeGreaterThan(BINARY_TASK_EVENTS_PER_FRAME);
    expect(shared).toBeLessThanOrEqual(MAX_TASK_EVENTS_PER_FRAME);
    expect(taskEventsOf(script.outbox).at(-1)).toBe(shared);
  });

  it('[W5] a connection behind (its own path) that asked for binary frames gets them too, and the backlog as JSON', () => {
    const source = fakeSource();
    for (let i = 0; i < 50; i++) source.log.append(taskSent());
    const hub = new LiveFrames(source, undefined, INTERVAL);
    const early = connect(hub, source);
    early.connection.subscribe(0, TASK_FRAME_VERSION);
    for (let i = 0; i < 60; i++) source.log.append(taskSent()); // waiting in the hub's frame
    const late = connect(hub, source);
    late.connection.subscribe(0, TASK_FRAME_VERSION); // backlog 1-110, then its own path until the hub's frame
    expect(late.connection.mode).toBe('own');
    for (let i = 0; i < 40; i++) source.log.append(taskSent());
    vi.advanceTimersByTime(INTERVAL);
    expect(late.connection.mode).toBe('shared');

    expect(late.outbox.binary.has(late.outbox.frames[0] as Buffer)).toBe(false); // the backlog
    expect(late.outbox.binary.size).toBe(1); // its own frame of 40
    expect(seqs(late.outbox.events())).toEqual(range(1, 150));
    expect(seqs(early.outbox.events())).toEqual(range(1, 150));
  });
});
