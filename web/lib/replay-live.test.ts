/**
 * Issue 4: for a REAL recorded run, the replayed state at time t equals the live state at t. The run is the
 * tutorial on real ZeroMQ sockets in an in-process server (store ':memory:'); the live state is folded from the
 * events the WebSocket stream delivered, at the moment the ipc endpoint was bound; the replay state comes from the
 * history API's events (whole, and as a big run's window: counters?t= plus the events after), through the same
 * pure functions the page uses.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.ts';
import { MAX_EVENT_WINDOW, type EventWindow, type RecordedRunDetail, type RunCountersAt } from '../../shared/protocol/history.ts';
import type { PlaygroundEvent, PlaygroundInfo, WorkerInfo } from '../../shared/protocol/index.ts';
import { StreamProbe, Visitor, freePort, testPolicy } from '../../test/helpers.ts';
import { WHOLE_RUN_EVENTS, addToCounts, countUpTo, emptyCounts, foldSnapshot, replayFrame, stateAt, type LoadedWindow } from './replay.ts';

let app: FastifyInstance;
/** The visitor whose playgrounds and runs these are. */
let owner: Visitor;
let policy: ReturnType<typeof testPolicy>;
let socket: WebSocket | null = null;

beforeAll(async () => {
  policy = testPolicy();
  app = await buildApp({
    store: ':memory:',
    policy,
    staticDir: null,
    registry: { endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` } },
  });
  await app.ready();
  owner = new Visitor(app);
});

afterAll(async () => {
  socket?.terminate();
  await app?.close();
  policy?.cleanup();
});

async function json<T>(url: string): Promise<T> {
  const response = await owner.inject(url);
  expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  return response.json<T>();
}

function nonZero(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).filter(([, n]) => n > 0));
}

/** Every page of /api/runs/:id/events from `fromSeq` on (bounded by `maxPages`). */
async function allEvents(run: string, fromSeq: number, kind: 'all' | 'topology', maxPages = 100): Promise<PlaygroundEvent[]> {
  const events: PlaygroundEvent[] = [];
  let next: number | null = fromSeq;
  for (let page = 0; next !== null; page++) {
    if (page >= maxPages) throw new Error(`more than ${maxPages} pages of events`);
    const window: EventWindow = await json<EventWindow>(`/api/runs/${run}/events?fromSeq=${next}&limit=${MAX_EVENT_WINDOW}&kind=${kind}`);
    events.push(...window.events);
    next = window.nextSeq;
  }
  return events;
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('replay of a recorded real run', () => {
  it('shows at the ipc bind exactly what the live stream showed at that moment', { timeout: 30_000 }, async () => {
    const created = await owner.inject({ method: 'POST', url: '/api/playgrounds', payload: { scenario: 'tutorial', params: { intervalMs: 100 } } });
    expect(created.statusCode).toBe(201);
    const playground = created.json<PlaygroundInfo>();
    const probe = new StreamProbe();
    socket = await owner.injectWS(`/api/playgrounds/${playground.id}/stream`, { probe });
    await probe.waitFor((m) => m.type === 'hello');
    socket.send(JSON.stringify({ type: 'subscribe', sinceSeq: playground.lastSeq }));

    const started = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/runs`, payload: {} });
    expect(started.statusCode).toBe(201);
    const run = started.json<{ run: string }>().run;

    // The live view: the streamed events of this run, folded as they arrived, captured once the ipc bind arrived.
    const ipcBound = (e: PlaygroundEvent) => e.run === run && e.type === 'endpoint:bound' && e.endpoint.name === 'ipc';
    await probe.waitFor((m) => m.type === 'events' && m.events.some(ipcBound), 15_000);
    const streamedAtBind = probe.events().filter((e) => e.run === run);
    const bind = streamedAtBind.find(ipcBound)!;
    await probe.waitFor((m) => m.type === 'events' && m.events.some((e) => e.run === run && e.type === 'run:ended'), 15_000);
    const streamed = probe.events().filter((e) => e.run === run);
    // Events stamped at the bind's t may arrive in the next frame: the live state at t includes them.
    const live = foldSnapshot(streamed.filter((e) => e.t <= bind.t));
    expect(foldSnapshot(streamedAtBind.filter((e) => e.seq <= bind.seq)).bound).toHaveProperty('ipc');
    expect(live.bound).toHaveProperty('ipc');
    expect(live.sent).toBeGreaterThanOrEqual(3); // "1", "2", "3" went out over tcp before the ipc bind

    // The replay: the recorded run, through the history API.
    const detail = await until('the run to be recorded', async () => {
      const d = await json<RecordedRunDetail>(`/api/runs/${run}`);
      return d.status === 'ended' ? d : null;
    });
    const page = await json<EventWindow>(`/api/runs/${run}/events?fromSeq=${detail.firstSeq}&limit=5000`);
    expect(page.nextSeq).toBeNull();
    const recorded = page.events;
    expect(recorded.length).toBe(detail.eventCount);

    const replayed = stateAt(recorded, bind.t);
    expect(replayed).toEqual(live);
    // The diagram as it was then, not as it ended: ipc appears at the bind and the ipc worker has nothing yet (every
    // send after the bind is stamped later). Its LINK may already read "connected": libzmq accepts the pending
    // ipc connect as soon as zmq_bind returns, and the worker's monitor can report it before the bind's promise
    // resolves, so that is not asserted.
    expect(stateAt(recorded, bind.t - 0.001).bound).not.toHaveProperty('ipc');
    expect(replayed.received['worker-ipc'] ?? 0).toBe(0);
    expect(replayed.messages['worker-ipc'] ?? []).toEqual([]);
    expect(stateAt(recorded, Infinity).received['worker-ipc']).toBeGreaterThan(0);

    // The counters the page shows at t: from the events, and from counters?t= (what a big run's window starts from).
    const whole: LoadedWindow = { run, prologue: [], base: emptyCounts(), events: recorded, fromT: 0, toT: Infinity };
    const frame = replayFrame(whole, bind.t, 400);
    expect(frame.counters).toMatchObject({ sent: live.sent, received: live.received, done: live.done, lost: live.lost });
    const at = await json<RunCountersAt>(`/api/runs/${run}/counters?t=${bind.t}`);
    // (the server lists every worker of the run, with 0 for one that has received nothing yet)
    expect({ sent: at.sent, received: nonZero(at.received), lost: at.lost }).toEqual({ sent: live.sent, received: live.received, lost: live.lost });
    expect(at.lastSeq).toBe(recorded[countUpTo(recorded, bind.t) - 1]!.seq);

    // A window starting half-way (counters at its start + events after it) gives the same counters at the bind.
    const from = bind.t / 2;
    const base = await json<RunCountersAt>(`/api/runs/${run}/counters?t=${from}`);
    const after = await json<EventWindow>(`/api/runs/${run}/events?fromSeq=${base.lastSeq + 1}&limit=5000`);
    const window: LoadedWindow = {
      run,
      prologue: recorded.slice(0, 1),
      base: { ...addToCounts(emptyCounts(), []), sent: base.sent, received: base.received, done: base.done, collected: base.collected, lost: base.lost, lastSeq: base.lastSeq },
      events: after.events,
      fromT: from,
      toT: detail.durationMs,
    };
    const windowed = replayFrame(window, bind.t, 400).counters;
    expect({ ...windowed, received: nonZero(windowed.received), done: nonZero(windowed.done) }).toEqual(frame.counters);

    // And at every event's moment, not just the bind, the recorded run replays to what was streamed.
    for (const e of recorded) expect(stateAt(recorded, e.t), `t=${e.t}`).toEqual(foldSnapshot(streamed.filter((s) => s.t <= e.t)));
  });

  it('draws a worker added deep into a big run when the timeline jumps past it', { timeout: 60_000 }, async () => {
    // 7,500 tasks, one per ms: ~22,500 events, so the page replays it by windows; the ventilator is still sending
    // when the newcomer joins (a burst would have queued the whole batch on the first two pipes already).
    const created = await owner.inject({
      method: 'POST',
      url: '/api/playgrounds',
      payload: { scenario: 'pipeline', params: { tasks: 7500, intervalMs: 1, drainMs: 500 } },
    });
    expect(created.statusCode).toBe(201);
    const playground = created.json<PlaygroundInfo>();
    for (const worker of playground.workers) {
      const patched = await owner.inject({ method: 'PATCH', url: `/api/playgrounds/${playground.id}/workers/${worker.id}`, payload: { workMs: { min: 0, max: 0 } } });
      expect(patched.statusCode).toBe(200);
    }
    const probe = new StreamProbe();
    socket = await owner.injectWS(`/api/playgrounds/${playground.id}/stream`, { probe });
    await probe.waitFor((m) => m.type === 'hello');
    socket.send(JSON.stringify({ type: 'subscribe', sinceSeq: playground.lastSeq }));
    const started = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/runs`, payload: {} });
    expect(started.statusCode).toBe(201);
    const run = started.json<{ run: string }>().run;

    // Add a worker once more than a whole window of events has gone by: a replay that took its topology from the
    // run's first window would not know it.
    const startedSeq = (await probe.waitFor((m) => m.type === 'events' && m.events.some((e) => e.run === run && e.type === 'run:started'))).type === 'events'
      ? probe.events().find((e) => e.run === run && e.type === 'run:started')!.seq
      : 0;
    await probe.waitFor((m) => m.type === 'events' && (m.events.at(-1)?.seq ?? 0) > startedSeq + MAX_EVENT_WINDOW + 500, 20_000);
    const added = await owner.inject({ method: 'POST', url: `/api/playgrounds/${playground.id}/workers`, payload: { transport: 'tcp', workMs: { min: 0, max: 0 } } });
    expect(added.statusCode, added.body).toBe(201);
    const newcomer = added.json<WorkerInfo>().id;
    await probe.waitFor((m) => m.type === 'events' && m.events.some((e) => e.run === run && e.type === 'run:ended'), 40_000);

    const detail = await until('the run to be recorded', async () => {
      const d = await json<RecordedRunDetail>(`/api/runs/${run}`);
      return d.status === 'ended' ? d : null;
    });
    expect(detail.eventCount).toBeGreaterThan(WHOLE_RUN_EVENTS);
    const recorded = await allEvents(run, detail.firstSeq, 'all');
    expect(recorded).toHaveLength(detail.eventCount);
    const topology = await allEvents(run, detail.firstSeq, 'topology');
    expect(topology).toEqual(recorded.filter((e) => !e.type.startsWith('task:')));

    const joined = recorded.find((e) => e.type === 'worker:updated' && e.worker.id === newcomer)!;
    expect(joined.seq).toBeGreaterThan(detail.firstSeq + MAX_EVENT_WINDOW);
    const lastTask = recorded.findLast((e) => e.type === 'task:done' && e.worker === newcomer);
    expect(lastTask, 'the newcomer took part of the batch').toBeDefined();

    // What the page does on a jump: counters at a little before t, the events after them, the topology prologue.
    const t = lastTask!.t;
    const from = Math.max(0, t - 500);
    const base = await json<RunCountersAt>(`/api/runs/${run}/counters?t=${from}`);
    const after = await json<EventWindow>(`/api/runs/${run}/events?fromSeq=${base.lastSeq + 1}&limit=${MAX_EVENT_WINDOW}`);
    expect(after.events.some((e) => e.type === 'worker:updated' && e.worker.id === newcomer), 'the join lies before the window').toBe(false);
    const window: LoadedWindow = {
      run,
      prologue: topology,
      base: { ...emptyCounts(), sent: base.sent, received: base.received, done: base.done, collected: base.collected, lost: base.lost, lastSeq: base.lastSeq },
      events: after.events,
      fromT: from,
      toT: detail.durationMs,
    };
    const frame = replayFrame(window, t, 400);
    const drawn = foldSnapshot(frame.events);
    const truth = stateAt(recorded, t);
    expect(truth.workers).toContain(newcomer);
    expect({ workers: drawn.workers, links: drawn.links, bound: drawn.bound, stopped: drawn.stopped, ventilator: drawn.ventilator }).toEqual({
      workers: truth.workers,
      links: truth.links,
      bound: truth.bound,
      stopped: truth.stopped,
      ventilator: truth.ventilator,
    });
    expect({ ...frame.counters, run: undefined }).toMatchObject({ sent: truth.sent, received: truth.received, done: truth.done, lost: truth.lost });
  });
});
