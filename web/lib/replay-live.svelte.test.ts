/**
 * Issue 4, and issue 8: for a REAL recorded run, what the page shows in replay at time t is what it showed live at
 * t. Both sides are the page's own state, not a reference fold: live, a PlaygroundSession (its RunState) fed by
 * the WebSocket stream of a real run on real ZeroMQ sockets in an in-process server (store ':memory:'), over a
 * real socket; in replay, a ReplaySession after seek(t), fed by the history API (whole, and as a big run's
 * windows: counters?t= plus the events after). The live page is read after every frame it folds, at rest: every
 * message received listed (as a moment picked on the timeline shows them) and the newest exact counters shown
 * (frames are taken COUNTERS_EVERY_MS apart). The reference fold (replay.ts foldSnapshot / stateAt) is checked
 * against the same streams too.
 */
import { createRequire } from 'node:module';
import type * as Ws from 'ws';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.ts';
import {
  MAX_EVENT_WINDOW,
  type EventWindow,
  type RecordedRunDetail,
  type RunCountersAt,
} from '../../shared/protocol/history.ts';
import type { PlaygroundEvent, PlaygroundInfo } from '../../shared/protocol/index.ts';
import { allEvents as allEventsOf } from '../../shared/protocol/task-frame.ts';
import { freePort, sessionCookieOf, testPolicy } from '../../test/helpers.ts';
import { stubPage } from '../../test/page-fakes.ts';
import { FrameLoop } from './frame-loop.svelte.ts';
import { translatorFor } from './i18n/translate.ts';
import { say } from './log-lines.ts';
import { ReplaySession } from './replay-session.svelte.ts';
import {
  WHOLE_RUN_EVENTS,
  addToCounts,
  countUpTo,
  emptyCounts,
  foldSnapshot,
  replayFrame,
  stateAt,
  type LoadedWindow,
} from './replay.ts';
import { COUNTERS_EVERY_MS, type RunState } from './run-state.svelte.ts';
import type { RunReadout } from './run-view.ts';
import { PlaygroundSession } from './session.svelte.ts';
import type { SocketLike } from './stream-client.svelte.ts';

// The WebSocket client a browser would be: ws, loaded by Node itself (this project resolves packages for the
// browser, where ws is a stub).
const { WebSocket } = createRequire(import.meta.url)('ws') as typeof Ws;

let app: FastifyInstance;
let policy: ReturnType<typeof testPolicy>;
let base: string;
/** The browser's session cookie, as the server set it. */
let cookie: string | null = null;
const serverFetch = globalThis.fetch;
const sessions: PlaygroundSession[] = [];
const en = translatorFor('en');

beforeAll(async () => {
  policy = testPolicy();
  app = await buildApp({
    store: ':memory:',
    policy,
    staticDir: null,
    registry: {
      endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    },
  });
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
});

afterAll(async () => {
  for (const session of sessions) session.close();
  await app?.close();
  policy?.cleanup();
});

/** The page's fetch: its relative paths on the server, with the browser's cookie and the page's Origin. */
async function pageFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  headers.set('origin', base);
  const response = await serverFetch(new URL(String(input), base), { ...init, headers });
  cookie = sessionCookieOf(response.headers.getSetCookie()) ?? cookie;
  return response;
}

async function json<T>(path: string): Promise<T> {
  const response = await pageFetch(path);
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

/** A frame loop that never draws; its clock moves COUNTERS_EVERY_MS per reading, so counters are shown as they come. */
function restingLoop(): FrameLoop {
  let now = 0;
  return new FrameLoop({ requestFrame: () => 0, cancelFrame: () => {}, now: () => (now += COUNTERS_EVERY_MS) });
}

/** What the live page showed after one frame, and the moment of the run it showed. */
interface Seen {
  t: number;
  lastSeq: number;
  dropped: number;
  view: ReturnType<typeof pageState>;
}

/**
 * The live page at `href` (its address), on a real WebSocket, recording what it shows after every frame of
 * `run` (known once started: set `follow.run`).
 */
function livePage(href: string) {
  stubPage(href);
  (globalThis as { fetch: typeof fetch }).fetch = pageFetch as typeof fetch;
  const session = new PlaygroundSession({
    loop: restingLoop(),
    createSocket: (url) =>
      new WebSocket(url, { headers: { origin: base, ...(cookie ? { cookie } : {}) } }) as unknown as SocketLike,
  });
  sessions.push(session);
  const follow = { run: null as string | null, streamed: [] as PlaygroundEvent[], seen: [] as Seen[], highestSeq: 0 };
  session.run.onFrame((frame) => {
    // Every event of the frame: a binary frame (SPEC [W5]: the page asks for them) has its task events as columns.
    const events = allEventsOf(frame.events, frame.tasks);
    const mine = events.filter((e) => e.run === follow.run && follow.run !== null);
    follow.streamed.push(...events);
    for (const e of events) follow.highestSeq = Math.max(follow.highestSeq, e.seq);
    if (mine.length === 0 || session.run.runId !== follow.run) return;
    // At rest: every message received is listed (a replayed moment lists them too; live, they join as their dot lands).
    (session.run as RunState).landAll();
    const ofRun = follow.streamed.filter((e) => e.run === follow.run);
    follow.seen.push({
      t: ofRun.at(-1)!.t,
      lastSeq: ofRun.at(-1)!.seq,
      dropped: frame.dropped,
      view: pageState(session.run),
    });
  });
  session.start();
  return { session, follow };
}

function nonZero(record: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).filter(([, n]) => n > 0));
}

/**
 * What the page shows of a run, as plain data: its state, counts, topology, every worker with its messages, the
 * accounting and the event log said in English. Left out: the dots and bind pulses (animation), the count of
 * sampled events (a replay has all), and the lost-task lines (one per worker per frame: frames differ).
 */
function pageState(run: RunReadout) {
  return {
    runId: run.runId,
    status: run.status,
    endReason: run.endReason,
    scenario: run.scenario,
    params: run.params,
    summary: run.summary,
    lastError: run.lastError,
    notices: run.notices,
    counts: {
      sent: run.sent,
      received: nonZero(run.received),
      done: nonZero(run.doneBy),
      collected: run.collected,
      lost: run.lost,
      lostBy: nonZero(run.lostBy),
    },
    ventilator: run.ventilator,
    sink: { address: run.sinkAddress, isBound: run.isSinkBound },
    external: { peers: run.externalPeers, max: run.externalPeersMax, taken: run.externalMessages },
    endpoints: run.endpoints.map((e) => ({
      name: e.name,
      isBound: e.isBound,
      address: e.address,
      note: e.note,
      external: e.external,
      builtIn: e.builtIn,
    })),
    workers: run.workers.map((w) => ({
      id: w.id,
      endpoint: w.endpoint,
      transport: w.transport,
      mode: w.mode,
      state: w.state,
      pid: w.pid,
      link: w.link,
      view: w.view,
      address: w.address,
      isStopped: w.isStopped,
      stopReason: w.stopReason,
      count: w.count,
      done: w.done,
      lost: w.lost,
      queue: w.queue,
      messages: w.messages.map((m) => m.body),
    })),
    accounting: run.accounting,
    log: run.log
      .filter((entry) => entry.kind !== 'task:lost')
      .map((entry) => ({
        seq: entry.seq,
        t: entry.t,
        node: entry.node,
        kind: entry.kind,
        level: entry.level,
        text: say(entry.text, en, 'en'),
      })),
  };
}

/** The moments the live page showed that a replay can show exactly: no recorded event shares the moment's time beyond it. */
function exactMoments(seen: readonly Seen[], recorded: readonly PlaygroundEvent[]): Seen[] {
  return seen.filter((s) => {
    if (s.dropped > 0) return false; // counters then include events the frame left out, stamped after s.t
    const next = recorded[recorded.findIndex((e) => e.seq === s.lastSeq) + 1];
    return next === undefined || next.t > s.t;
  });
}

async function until<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every page of /api/runs/:id/events from `fromSeq` on (bounded by `maxPages`). */
async function allEvents(
  run: string,
  fromSeq: number,
  kind: 'all' | 'topology',
  maxPages = 100,
): Promise<PlaygroundEvent[]> {
  const events: PlaygroundEvent[] = [];
  let next: number | null = fromSeq;
  for (let page = 0; next !== null; page++) {
    if (page >= maxPages) throw new Error(`more than ${maxPages} pages of events`);
    const window: EventWindow = await json<EventWindow>(
      `/api/runs/${run}/events?fromSeq=${next}&limit=${MAX_EVENT_WINDOW}&kind=${kind}`,
    );
    events.push(...window.events);
    next = window.nextSeq;
  }
  return events;
}

async function recordedRun(run: string): Promise<RecordedRunDetail> {
  return until('the run to be recorded', async () => {
    const detail = await json<RecordedRunDetail>(`/api/runs/${run}`);
    return detail.status === 'ended' ? detail : null;
  });
}

async function replayOf(run: string): Promise<ReplaySession> {
  const replay = new ReplaySession(run, { loop: new FrameLoop({ requestFrame: () => 0, cancelFrame: () => {} }) });
  await replay.open();
  expect(replay.loadError).toBeNull();
  return replay;
}

describe('replay of a recorded real run', () => {
  it(
    'shows at every moment what the live page showed then (the tutorial, replayed whole)',
    { timeout: 60_000 },
    async () => {
      const { session, follow } = livePage(`${base}/`);
      await until('the live page to connect', () => (session.connection === 'connected' && session.info ? true : null));
      await session.setParams({ intervalMs: 100 });
      expect(session.error).toBeNull();
      await session.startRun();
      expect(session.error).toBeNull();
      const run = session.awaitingRun ?? session.run.runId!;
      follow.run = run;
      await until(
        'the run to end on the live page',
        () => (session.run.runId === run && session.run.status === 'ended' ? true : null),
        20_000,
      );
      session.close();

      // What the stream delivered, and the live page at the ipc bind.
      const streamed = follow.streamed.filter((e) => e.run === run);
      const ipcBound = (e: PlaygroundEvent) => e.type === 'endpoint:bound' && e.endpoint.name === 'ipc';
      const bind = streamed.find(ipcBound)!;
      expect(bind).toBeDefined();
      const detail = await recordedRun(run);
      const page = await json<EventWindow>(`/api/runs/${run}/events?fromSeq=${detail.firstSeq}&limit=5000`);
      expect(page.nextSeq).toBeNull();
      const recorded = page.events;
      expect(recorded.length).toBe(detail.eventCount);
      expect(recorded).toEqual(streamed);

      // The page itself: live after each frame, and in replay after seek(t) at the same moment.
      const replay = await replayOf(run);
      const moments = exactMoments(follow.seen, recorded);
      expect(moments.length).toBeGreaterThan(2);
      expect(
        moments.some((m) => m.lastSeq >= bind.seq && m.view.endpoints.some((e) => e.name === 'ipc' && e.isBound)),
      ).toBe(true);
      for (const moment of moments) {
        await replay.seek(moment.t);
        expect(pageState(replay.run), `t=${moment.t} (seq ${moment.lastSeq})`).toEqual(moment.view);
      }
      // The diagram as it was at the bind, not as it ended: "1", "2", "3" went to the tcp worker; the ipc worker has
      // nothing yet (every send after the bind is stamped later).
      await replay.seek(bind.t);
      const atBind = pageState(replay.run);
      expect(atBind.counts.sent).toBeGreaterThanOrEqual(3);
      expect(atBind.endpoints.find((e) => e.name === 'ipc')!.isBound).toBe(true);
      expect(atBind.workers.find((w) => w.id === 'worker-ipc')).toMatchObject({ count: 0, messages: [] });
      await replay.seek(bind.t - 0.001);
      expect(pageState(replay.run).endpoints.find((e) => e.name === 'ipc')!.isBound).toBe(false);
      replay.close();

      // The reference fold agrees with the page, and the counters the server answers for a moment with both.
      const live = foldSnapshot(streamed.filter((e) => e.t <= bind.t));
      expect(stateAt(recorded, bind.t)).toEqual(live);
      expect(live.received).toEqual(atBind.counts.received);
      const whole: LoadedWindow = { run, prologue: [], base: emptyCounts(), events: recorded, fromT: 0, toT: Infinity };
      const frame = replayFrame(whole, bind.t, 400);
      expect(frame.counters).toMatchObject({
        sent: live.sent,
        received: live.received,
        done: live.done,
        lost: live.lost,
      });
      const at = await json<RunCountersAt>(`/api/runs/${run}/counters?t=${bind.t}`);
      expect({ sent: at.sent, received: nonZero(at.received), lost: at.lost }).toEqual({
        sent: live.sent,
        received: live.received,
        lost: live.lost,
      });
      expect(at.lastSeq).toBe(recorded[countUpTo(recorded, bind.t) - 1]!.seq);
      // A window starting half-way (counters at its start + events after it) gives the same counters at the bind.
      const from = bind.t / 2;
      const half = await json<RunCountersAt>(`/api/runs/${run}/counters?t=${from}`);
      const after = await json<EventWindow>(`/api/runs/${run}/events?fromSeq=${half.lastSeq + 1}&limit=5000`);
      const window: LoadedWindow = {
        run,
        prologue: recorded.slice(0, 1),
        base: {
          ...addToCounts(emptyCounts(), []),
          sent: half.sent,
          received: half.received,
          done: half.done,
          collected: half.collected,
          lost: half.lost,
          lastSeq: half.lastSeq,
        },
        events: after.events,
        fromT: from,
        toT: detail.durationMs,
      };
      const windowed = replayFrame(window, bind.t, 400).counters;
      expect({ ...windowed, received: nonZero(windowed.received), done: nonZero(windowed.done) }).toEqual(
        frame.counters,
      );
      for (const e of recorded)
        expect(stateAt(recorded, e.t), `t=${e.t}`).toEqual(foldSnapshot(streamed.filter((s) => s.t <= e.t)));
    },
  );

  it(
    'shows a big run, window by window, as the live page showed it, a worker added deep into it included',
    { timeout: 90_000 },
    async () => {
      // 7,500 tasks, one per ms: ~22,500 events, so the page replays it by windows; the ventilator is still sending
      // when the newcomer joins (a burst would have queued the whole batch on the first two pipes already).
      cookie = null;
      const created = await pageFetch('/api/playgrounds', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scenario: 'pipeline', params: { tasks: 7500, intervalMs: 1, drainMs: 500 } }),
      });
      expect(created.status).toBe(201);
      const playground = (await created.json()) as PlaygroundInfo;
      for (const worker of playground.workers) {
        const patched = await pageFetch(`/api/playgrounds/${playground.id}/workers/${worker.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ workMs: { min: 0, max: 0 } }),
        });
        expect(patched.status).toBe(200);
      }
      const { session, follow } = livePage(`${base}/?p=${playground.id}`);
      await until('the live page to connect', () =>
        session.connection === 'connected' && session.info?.id === playground.id ? true : null,
      );
      await session.startRun();
      expect(session.error).toBeNull();
      const run = session.awaitingRun ?? session.run.runId!;
      follow.run = run;

      // Add a worker once more than a whole window of events has gone by: a replay that took its topology from the
      // run's first window would not know it.
      const startedSeq = await until(
        'run:started',
        () => follow.streamed.find((e) => e.run === run && e.type === 'run:started')?.seq ?? null,
      );
      await until(
        'a window of events',
        () => (follow.highestSeq > startedSeq + MAX_EVENT_WINDOW + 500 ? true : null),
        20_000,
      );
      await session.addWorker({ transport: 'tcp', workMs: { min: 0, max: 0 } });
      expect(session.error).toBeNull();
      await until(
        'the run to end on the live page',
        () => (session.run.runId === run && session.run.status === 'ended' ? true : null),
        40_000,
      );
      session.close();

      const detail = await recordedRun(run);
      expect(detail.eventCount).toBeGreaterThan(WHOLE_RUN_EVENTS);
      const recorded = await allEvents(run, detail.firstSeq, 'all');
      expect(recorded).toHaveLength(detail.eventCount);
      const topology = await allEvents(run, detail.firstSeq, 'topology');
      expect(topology).toEqual(recorded.filter((e) => !e.type.startsWith('task:')));
      const joined = recorded.find(
        (e): e is Extract<PlaygroundEvent, { type: 'worker:updated' }> =>
          e.type === 'worker:updated' && !playground.workers.some((w) => w.id === e.worker.id),
      )!;
      const newcomer = joined.worker.id;
      expect(joined.seq).toBeGreaterThan(detail.firstSeq + MAX_EVENT_WINDOW);
      const lastTask = recorded.findLast((e) => e.type === 'task:done' && e.worker === newcomer);
      expect(lastTask, 'the newcomer took part of the batch').toBeDefined();

      // The page itself, live and in replay, at moments spread over the run: after the join, its last task, the end.
      const replay = await replayOf(run);
      const moments = exactMoments(follow.seen, recorded);
      const afterJoin = moments.filter((m) => m.lastSeq > joined.seq);
      expect(afterJoin.length).toBeGreaterThan(0);
      const spread = moments.filter((_, i) => i % Math.max(1, Math.floor(moments.length / 6)) === 0);
      const nearLastTask = afterJoin.filter((m) => m.t <= lastTask!.t).at(-1);
      const picked = [...new Set([...spread, afterJoin[0]!, ...(nearLastTask ? [nearLastTask] : []), moments.at(-1)!])];
      for (const moment of picked) {
        await replay.seek(moment.t);
        expect(pageState(replay.run), `t=${moment.t} (seq ${moment.lastSeq})`).toEqual(moment.view);
      }
      expect(afterJoin[0]!.view.workers.map((w) => w.id)).toContain(newcomer);

      // What the page does on a jump, as pure functions: counters at a little before t, the events after them, the
      // topology prologue; the join lies before that window and is drawn all the same.
      const t = lastTask!.t;
      const from = Math.max(0, t - 500);
      const windowBase = await json<RunCountersAt>(`/api/runs/${run}/counters?t=${from}`);
      const after = await json<EventWindow>(
        `/api/runs/${run}/events?fromSeq=${windowBase.lastSeq + 1}&limit=${MAX_EVENT_WINDOW}`,
      );
      expect(
        after.events.some((e) => e.type === 'worker:updated' && e.worker.id === newcomer),
        'the join lies before the window',
      ).toBe(false);
      const window: LoadedWindow = {
        run,
        prologue: topology,
        base: {
          ...emptyCounts(),
          sent: windowBase.sent,
          received: windowBase.received,
          done: windowBase.done,
          collected: windowBase.collected,
          lost: windowBase.lost,
          lastSeq: windowBase.lastSeq,
        },
        events: after.events,
        fromT: from,
        toT: detail.durationMs,
      };
      const frame = replayFrame(window, t, 400);
      const drawn = foldSnapshot(frame.events);
      const truth = stateAt(recorded, t);
      expect(truth.workers).toContain(newcomer);
      expect({
        workers: drawn.workers,
        links: drawn.links,
        bound: drawn.bound,
        stopped: drawn.stopped,
        ventilator: drawn.ventilator,
      }).toEqual({
        workers: truth.workers,
        links: truth.links,
        bound: truth.bound,
        stopped: truth.stopped,
        ventilator: truth.ventilator,
      });
      expect({ ...frame.counters, run: undefined }).toMatchObject({
        sent: truth.sent,
        received: truth.received,
        done: truth.done,
        lost: truth.lost,
      });
      await replay.seek(t);
      expect(replay.run.workers.map((w) => w.id)).toContain(newcomer);
      replay.close();
    },
  );
});
