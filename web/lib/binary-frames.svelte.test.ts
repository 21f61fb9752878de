/**
 * Binary task frames on the page (SPEC [W5]): a frame folded from its columns (no object per task event) leaves
 * the page exactly as the same frame in JSON does: counts, dots, messages, log, charts, the screen reader's digest
 * and the clock. And the stream client asks for them, skips rows it already has, drops a malformed one with a
 * clear message, and subscribes again without them when a server predates them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PROTOCOL_VERSION,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type ServerMessage,
} from '../../shared/protocol/index.ts';
import { VALID_SERVER_MESSAGES } from '../../shared/protocol/fixtures.ts';
import { TASK_FRAME_VERSION, decodeTaskFrame, encodeTaskFrame } from '../../shared/protocol/task-frame.ts';
import { countersOf, frameOf, tutorialRun } from '../../test/page-fakes.ts';
import { ChartCollector } from './charts.ts';
import { LiveDigest } from './diagram-text.ts';
import { translatorFor } from './i18n/translate.ts';
import { LiveClock } from './run-clock.svelte.ts';
import { RunState } from './run-state.svelte.ts';
import { StreamClient, type EventsFrame, type SocketLike } from './stream-client.svelte.ts';

/** A socket the test drives, text and binary messages alike. */
class ScriptedSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  binaryType?: string;
  readonly sent: unknown[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {}
  deliver(message: ServerMessage | ArrayBuffer): void {
    const data = message instanceof ArrayBuffer ? message : JSON.stringify(message);
    this.onmessage?.({ data } as MessageEvent);
  }
}

const en = translatorFor('en');

/** The tutorial's start, then a burst of 120 tasks over both workers (one lost now and then), then its end. */
function burstRun(): PlaygroundEvent[] {
  const tutorial = tutorialRun('run-1');
  const events: PlaygroundEvent[] = tutorial.slice(0, 4).map((event) => structuredClone(event));
  // The ipc worker connects too, so both are on the diagram.
  events.push({ ...(tutorial[10] as PlaygroundEvent), seq: 5 });
  let seq = 6;
  for (let task = 0; task < 120; task++) {
    const t = 100 + task * 2;
    const worker = task % 2 === 0 ? 'worker-tcp' : 'worker-ipc';
    const body = `task ${task} xxxx`;
    events.push({ type: 'task:sent', seq: seq++, run: 'run-1', t, task, body });
    if (task % 25 === 24) {
      events.push({ type: 'task:lost', seq: seq++, run: 'run-1', t: t + 0.5, task, worker });
      continue;
    }
    events.push({ type: 'task:received', seq: seq++, run: 'run-1', t: t + 0.3, task, worker, body });
    events.push({ type: 'task:done', seq: seq++, run: 'run-1', t: t + 1.1, task, worker });
  }
  return events;
}

/** The same frame through the binary layout, as the stream client hands it on. */
function binaryOf(frame: EventsFrame): EventsFrame {
  const bytes = encodeTaskFrame({
    type: 'events',
    events: frame.events,
    dropped: frame.dropped,
    counters: frame.counters,
  });
  expect(bytes).not.toBeNull();
  const decoded = decodeTaskFrame(bytes!);
  if (!decoded.ok) throw new Error(decoded.error);
  expect(decoded.value.tasks.count).toBeGreaterThan(150);
  return { ...decoded.value, historyUntil: frame.historyUntil };
}

/** What the page shows after folding `frames`. */
function folded(frames: EventsFrame[]) {
  const run = new RunState();
  const charts = new ChartCollector();
  const digest = new LiveDigest();
  let wall = 0;
  const clock = new LiveClock(() => wall);
  run.onFrame((frame) => charts.add(frame));
  run.onFrame((frame) => digest.feedFrame(frame, run.runId, null, 0));
  for (const frame of frames) {
    run.applyFrame(frame, 1000);
    clock.follow(run.runId, frame.events, 1500, frame.tasks);
  }
  wall = 1600;
  const drawn = clock.now();
  // Drawn at run time 300: some dots landed, some in the air, their messages listed or on the way.
  run.tick(300, 2000);
  return {
    counts: [run.sent, run.received, run.doneBy, run.collected, run.lost, run.lostBy, run.dropped],
    workers: run.workers.map((w) => [w.id, w.count, w.inAir, w.messages, w.incoming]),
    flights: run.flights,
    log: run.log,
    charts: { ...charts, pairs: [charts.pairs.sentToReceived, charts.pairs.receivedToDone] },
    digest: digest.take(10_000, en),
    drawn,
  };
}

describe('a binary frame folds as its JSON twin does [W5]', () => {
  it('live: the same counts, dots, listed messages, log, charts, digest and clock', () => {
    const events = burstRun();
    const live = [
      frameOf(events.slice(0, 200), { dropped: 7 }),
      frameOf(events.slice(200), { dropped: 3, countedUpTo: events }),
    ];
    const fromJson = folded(live);
    const fromBinary = folded(live.map(binaryOf));
    expect(fromBinary).toEqual(fromJson);
    // Something was really folded: tallies, dots in the air, messages listed by the tutorial.
    expect(fromJson.counts[0]).toBe(120);
    expect(fromJson.flights.length).toBeGreaterThan(0);
    expect(fromJson.flights[0]!.body).toMatch(/^task \d+ xxxx$/);
    expect(fromJson.workers.some((worker) => (worker[2] as number) > 0)).toBe(true); // messages on their way
    expect(fromJson.charts.sentSeen).toBe(120);
    expect(fromJson.log.some((entry) => entry.kind === 'task:lost' || /lost/i.test(JSON.stringify(entry)))).toBe(true);
  });

  it('history (before the connection): counted, not animated, the same way', () => {
    const events = burstRun();
    const history = [frameOf(events, { historyUntil: events.at(-1)!.seq, counters: countersOf('run-1', events) })];
    expect(folded(history.map(binaryOf))).toEqual(folded(history));
  });
});

const helloFixture = VALID_SERVER_MESSAGES.hello as Extract<ServerMessage, { type: 'hello' }>;
const hello = (lastSeq: number): ServerMessage => ({
  ...helloFixture,
  protocolVersion: PROTOCOL_VERSION,
  playground: { ...helloFixture.playground, lastSeq } as PlaygroundInfo,
});

describe('the stream client and binary frames [W5]', () => {
  let sockets: ScriptedSocket[];
  let frames: EventsFrame[];
  let errors: string[];
  let client: StreamClient;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    frames = [];
    errors = [];
    client = new StreamClient({
      url: 'ws://test/stream',
      binaryFrames: true,
      onHello: () => {},
      onEvents: (frame) => frames.push(frame),
      onPlayground: () => {},
      onServerError: (code) => errors.push(code),
      createSocket: () => {
        const socket = new ScriptedSocket();
        sockets.push(socket);
        return socket;
      },
    });
  });
  afterEach(() => {
    client.close();
    vi.useRealTimers();
  });

  const binary = (events: PlaygroundEvent[]): ArrayBuffer => {
    const bytes = encodeTaskFrame({ type: 'events', events, dropped: 0, counters: countersOf('run-1', events) })!;
    return bytes.slice().buffer;
  };

  it('asks for the layout it reads, takes binary frames as columns and skips the rows it already has', () => {
    client.start();
    sockets[0]!.deliver(hello(0));
    expect(sockets[0]!.binaryType).toBe('arraybuffer');
    expect(sockets[0]!.sent).toEqual([{ type: 'subscribe', sinceSeq: 0, binary: TASK_FRAME_VERSION }]);
    const events = burstRun();
    sockets[0]!.deliver(binary(events.slice(0, 150)));
    // A repeat of the last 50 (a reconnect's backlog and a live frame overlapping), and 100 new ones.
    sockets[0]!.deliver(binary(events.slice(100, 250)));
    expect(client.badFrames).toBe(0);
    expect(frames).toHaveLength(2);
    expect(frames[1]!.tasks!.seq[0]).toBe(events[150]!.seq);
    const seen = frames.flatMap((frame) => [
      ...frame.events.map((event) => event.seq),
      ...Array.from(frame.tasks!.seq),
    ]);
    expect(seen.sort((a, b) => a - b)).toEqual(events.slice(0, 250).map((event) => event.seq));
    expect(client.lastSeq).toBe(events[249]!.seq);
  });

  it('drops a malformed binary frame, counts it and says why once in the console; the stream goes on', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    client.start();
    sockets[0]!.deliver(hello(0));
    const good = new Uint8Array(binary(burstRun().slice(0, 150)));
    sockets[0]!.deliver(good.slice(0, good.length - 9).buffer); // truncated
    const otherVersion = good.slice();
    otherVersion[3] = TASK_FRAME_VERSION + 1;
    sockets[0]!.deliver(otherVersion.buffer);
    expect(client.badFrames).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^Dropped a frame from the server: binary frame: /);
    expect(client.lastBadFrame).toMatch(/^binary frame: layout version /); // the last one, shown on the page
    sockets[0]!.deliver(good.buffer);
    expect(frames).toHaveLength(1);
    expect(client.status).toBe('connected');
    warn.mockRestore();
  });

  it('subscribes again without binary frames when the server refuses the field (a server from before them)', () => {
    client.start();
    sockets[0]!.deliver(hello(0));
    sockets[0]!.deliver({
      type: 'error',
      code: 'PG_ERR_VALIDATION',
      message: 'subscribe: /binary: Unexpected property (got 1)',
    });
    expect(errors).toEqual([]);
    expect(sockets[0]!.sent).toEqual([
      { type: 'subscribe', sinceSeq: 0, binary: TASK_FRAME_VERSION },
      { type: 'subscribe', sinceSeq: 0 },
    ]);
  });

  it('a client that does not ask (scripts, tests) subscribes as before', () => {
    const plain = new StreamClient({
      url: 'ws://test/stream',
      onHello: () => {},
      onEvents: () => {},
      onPlayground: () => {},
      onServerError: () => {},
      createSocket: () => {
        const socket = new ScriptedSocket();
        sockets.push(socket);
        return socket;
      },
    });
    plain.start();
    sockets.at(-1)!.deliver(hello(0));
    expect(sockets.at(-1)!.sent).toEqual([{ type: 'subscribe', sinceSeq: 0 }]);
    plain.close();
  });
});
