/**
 * A long recorded graph run replayed a window at a time (issue 11), for real: a PUSH sends 6,000 messages to two
 * PULLs on real ZeroMQ sockets in an in-process server (store ':memory:'), recorded as every run is; the page's
 * GraphReplay reads it over real HTTP in windows of 1,000 events. It never holds more than a window; a seek to the
 * end fetches the server's state there and one window, not the run, and shows the live run's books per node; a seek
 * to the middle and a step back across a window's start show exactly the events before them (checked against a fold
 * of the stored events); played from the start it slides from window to window to the end, each event fetched
 * once; the graph-state route answers a stranger 404.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.ts';
import { emptyGraphRunState, foldGraphState, type GraphRunStateAt } from '../../shared/protocol/graph-run-state.ts';
import type { GraphPlaygroundInfo } from '../../shared/protocol/graph-stream.ts';
import type {
  GraphSpec,
  GraphSummary,
  PlaygroundEvent,
  RecordedGraphRunDetail,
  RunPage,
} from '../../shared/protocol/index.ts';
import { testPolicy, visitorFetch } from '../../test/helpers.ts';
import { pollUntil } from '../../test/graph-api-harness.ts';
import { GraphReplay } from './graph-replay.svelte.ts';
import { GraphSession } from './graph-session.svelte.ts';

const MESSAGES = 6000;
const WINDOW = 1000;

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let base: string;

beforeAll(async () => {
  policy = testPolicy();
  app = await buildApp({ store: ':memory:', policy, staticDir: null, limits: { httpPerSecond: 1000 } });
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
});
afterAll(async () => {
  await app?.close();
  policy?.cleanup();
});

/** One visitor's JSON requests on the server; `fetched` counts the events its windows carried. */
function visitor() {
  const fetchAs = visitorFetch();
  const counted = { events: 0 };
  const send = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetchAs(new URL(path, base).href, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const value = (await response.json()) as unknown;
    if (!response.ok) throw Object.assign(new Error(JSON.stringify(value)), { status: response.status });
    if (path.includes('/events?')) counted.events += (value as { events: unknown[] }).events.length;
    return value;
  };
  return { send, counted };
}

/** Bounded polling. */
const until = <T>(read: () => Promise<T | null>, what: string, timeoutMs = 30_000) => pollUntil(read, what, timeoutMs);

const flood: GraphSpec = {
  title: 'a long run',
  nodes: [
    {
      id: 'ventilator',
      socket: 'PUSH',
      role: { kind: 'send', messages: { kind: 'template', template: 'task {n}', count: MESSAGES }, waitForPeers: 2 },
    },
    { id: 'left', socket: 'PULL', role: { kind: 'receive' } },
    { id: 'right', socket: 'PULL', role: { kind: 'receive' } },
  ],
  links: [
    { from: 'ventilator', to: 'left', bind: 'from', transport: 'inproc' },
    { from: 'ventilator', to: 'right', bind: 'from', transport: 'inproc' },
  ],
  drainMs: 300,
};

function books(state: { counters: GraphRunStateAt['counters'] }) {
  return Object.fromEntries(
    Object.entries(state.counters.nodes).map(([node, counts]) => [
      node,
      { sent: counts.sent, received: counts.received },
    ]),
  );
}

describe('a long graph run replayed in windows', () => {
  it('holds one window at a time and shows the exact counters at any moment, the end being the live books', async () => {
    const owner = visitor();
    const playground = (await owner.send('POST', '/api/graphs', { graph: flood })) as GraphPlaygroundInfo;
    const { run } = (await owner.send('POST', `/api/graphs/${playground.id}/runs`)) as { run: string };
    const live: PlaygroundEvent[] = [];
    const ended = await until(async () => {
      const page = (await owner.send('GET', `/api/graphs/${playground.id}/events?since=${live.at(-1)?.seq ?? 0}`)) as {
        events: PlaygroundEvent[];
      };
      live.push(...page.events);
      const end = live.find((event) => event.type === 'graph:ended' && event.run === run);
      return end?.type === 'graph:ended' ? end.summary : null;
    }, 'the long run ending');
    const liveBooks: GraphSummary = ended;
    expect(liveBooks.nodes.ventilator!.sent).toBe(MESSAGES);
    expect(liveBooks.nodes.left!.received + liveBooks.nodes.right!.received).toBe(MESSAGES);

    const recorded = await until(async () => {
      const page = (await owner.send('GET', '/api/runs')) as RunPage;
      return page.runs.find((candidate) => candidate.id === run && candidate.status === 'ended') ?? null;
    }, 'the run stored as ended');
    expect(recorded.eventCount).toBeGreaterThan(2 * MESSAGES);

    // The stored events, read whole by the test alone: the reference each moment is checked against.
    const stored: PlaygroundEvent[] = [];
    for (let fromSeq = 0; ;) {
      const page = (await owner.send('GET', `/api/runs/${run}/events?fromSeq=${fromSeq}&limit=5000`)) as {
        events: PlaygroundEvent[];
        nextSeq: number | null;
      };
      stored.push(...page.events);
      if (page.nextSeq === null) break;
      fromSeq = page.nextSeq;
    }
    expect(stored).toHaveLength(recorded.eventCount);
    const reference = (count: number) => {
      const state = emptyGraphRunState(run);
      for (const event of stored.slice(0, count)) foldGraphState(state, event);
      return state;
    };

    const page = visitor();
    // The page is the owner's (the same session): its replay reads the run as the owner's page would.
    const session = new GraphSession({
      request: owner.send,
      createSocket: () => {
        throw new Error('a replay opens no stream');
      },
      streamUrl: (id) => id,
      now: () => 0,
    });
    const replay = new GraphReplay(session, owner.send, { window: WINDOW });
    owner.counted.events = 0;
    await replay.open(run);
    expect(session.error).toBeNull();
    expect(replay.total).toBe(recorded.eventCount);
    expect(replay.position).toBe(1);

    // The end: the server's state there and one (short) window; the live run's books, node by node.
    await replay.seekTime((replay.detail as RecordedGraphRunDetail).durationMs);
    expect(session.error).toBeNull();
    expect(replay.position).toBe(recorded.eventCount);
    expect(books(session)).toEqual(liveBooks.nodes);
    expect(session.counters).toEqual(reference(stored.length).counters);
    expect(session.summary).toEqual(liveBooks);
    expect(owner.counted.events).toBeLessThanOrEqual(2 * WINDOW);

    // The middle of the run, by time: every event with t' <= t, exactly.
    const middle = stored[Math.floor(stored.length / 2)]!;
    await replay.seekTime(middle.t);
    const atMiddle = stored.filter((event) => event.t <= middle.t + 0.001).length;
    expect(replay.position).toBe(atMiddle);
    expect(session.counters).toEqual(reference(atMiddle).counters);
    expect(session.lastBodies).toEqual(reference(atMiddle).lastBodies);

    // Forward through the window's end and on (slides to the next window), then one step back across its start.
    await replay.seekIndex(atMiddle + WINDOW + 10);
    expect(session.counters).toEqual(reference(atMiddle + WINDOW + 10).counters);
    const position = replay.position;
    for (let back = 1; back <= 12; back++) await replay.step(-1);
    expect(replay.position).toBe(position - 12);
    expect(session.counters).toEqual(reference(position - 12).counters);

    // Played from the start: window after window to the end (frames stubbed, 4 s of run time each at speed 8).
    const frames: FrameRequestCallback[] = [];
    const realFrame = { request: globalThis.requestAnimationFrame, cancel: globalThis.cancelAnimationFrame };
    globalThis.requestAnimationFrame = (callback) => frames.push(callback);
    globalThis.cancelAnimationFrame = () => {};
    try {
      await replay.seekIndex(1);
      owner.counted.events = 0;
      replay.speed = 8;
      replay.play();
      let wall = performance.now();
      for (let frame = 0; replay.playing && frame < 1000; frame++) {
        wall += 500;
        frames.shift()?.(wall);
        await replay.settled();
      }
    } finally {
      globalThis.requestAnimationFrame = realFrame.request;
      globalThis.cancelAnimationFrame = realFrame.cancel;
    }
    expect(replay.playing).toBe(false);
    expect(replay.position).toBe(recorded.eventCount);
    expect(books(session)).toEqual(liveBooks.nodes);
    expect(session.runState).toBe('ended');
    // Each event fetched once on the way (a window at a time), none held beyond a window.
    expect(owner.counted.events).toBeLessThanOrEqual(recorded.eventCount + WINDOW);

    expect(replay.mostHeld).toBeLessThanOrEqual(WINDOW);
    expect(session.error).toBeNull();

    // Another visitor is told the run does not exist.
    await expect(page.send('GET', `/api/runs/${run}/graph-state`)).rejects.toMatchObject({ status: 404 });
    // The owner reads the books at the end with no moment at all (what a comparison reads).
    const atEnd = (await owner.send('GET', `/api/runs/${run}/graph-state`)) as GraphRunStateAt;
    expect(atEnd.count).toBe(recorded.eventCount);
    expect(books(atEnd)).toEqual(liveBooks.nodes);
  }, 90_000);
});
