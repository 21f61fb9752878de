/**
 * ReplaySession against a recorded run served by a fetch that answers as the history API does: it opens at the
 * run's first moment, shows any moment exactly (whole runs, and big runs window by window), plays on the page's
 * frame loop at the chosen speed, steps from event to event, and never asks the server to change anything (it is
 * a RunView, with no actions).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emptyTaskCounts, foldTaskCounts } from '../../shared/protocol/task-counts.ts';
import { PROTOCOL_VERSION, type PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { EventWindow, RecordedRunDetail, RunCountersAt } from '../../shared/protocol/history.ts';
import { FakeFetch, SteppedFrames, stubPage, tutorialRun } from '../../test/page-fakes.ts';
import { ReplaySession } from './replay-session.svelte.ts';
import { WHOLE_RUN_EVENTS } from './replay.ts';

type Ev<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

const events = tutorialRun('run-1');
const started = events[0] as Ev<'run:started'>;
const ended = events.at(-1) as Ev<'run:ended'>;

function detailOf(eventCount: number): RecordedRunDetail {
  return {
    id: 'run-1',
    name: 'The tutorial, 1',
    playground: 'pg-1',
    scenario: 'tutorial',
    startedAt: '2025-01-01T10:00:00.000Z',
    endedAt: '2025-01-01T10:00:03.000Z',
    durationMs: 3000,
    status: 'ended',
    reason: 'completed',
    summary: ended.summary,
    eventCount,
    firstSeq: 1,
    lastSeq: events.at(-1)!.seq,
    lostEvents: 0,
    workers: started.workers,
    source: 'live',
    params: started.params,
    endpoints: started.endpoints,
    protocolVersion: PROTOCOL_VERSION,
  };
}

/**
 * The history API of one recorded run, as the server answers it; `pageSize` cuts pages of events shorter than
 * asked (as a dense run's pages are cut by the limit).
 */
function serveRun(fetch: FakeFetch, eventCount = events.length, pageSize = Infinity): void {
  fetch.on('GET', '/api/runs/run-1', () => ({ body: detailOf(eventCount) }));
  fetch.on('GET', '/api/runs/run-1/events', ({ path }) => {
    const query = new URL(path, 'http://h').searchParams;
    const fromSeq = Number(query.get('fromSeq') ?? 0);
    const toSeq = Number(query.get('toSeq') ?? Infinity);
    const limit = Math.min(pageSize, Number(query.get('limit') ?? 5000));
    const matching = events.filter(
      (e) => e.seq >= fromSeq && e.seq <= toSeq && (query.get('kind') !== 'topology' || !e.type.startsWith('task:')),
    );
    const window: EventWindow = {
      run: 'run-1',
      events: matching.slice(0, limit),
      nextSeq: matching[limit]?.seq ?? null,
    };
    return { body: window };
  });
  fetch.on('GET', '/api/runs/run-1/counters', ({ path }) => {
    const t = Number(new URL(path, 'http://h').searchParams.get('t'));
    const upTo = events.filter((e) => e.t <= t);
    const { lostBy: _, ...counts } = foldTaskCounts(emptyTaskCounts(), upTo);
    const at: RunCountersAt = { run: 'run-1', t, lastSeq: upTo.at(-1)?.seq ?? 0, ...counts };
    return { body: at };
  });
}

/** What the replay shows, in plain figures. */
function shown(replay: ReplaySession) {
  const run = replay.run;
  return {
    status: run.status,
    sent: run.sent,
    lost: run.lost,
    bound: run.endpoints.filter((e) => e.isBound).map((e) => e.name),
    workers: Object.fromEntries(
      run.workers.map((w) => [
        w.id,
        { count: w.count, lost: w.lost, link: w.link, messages: w.messages.map((m) => m.body) },
      ]),
    ),
  };
}

describe('ReplaySession', () => {
  let fetch: FakeFetch;
  let frames: SteppedFrames;
  let replay: ReplaySession;

  beforeEach(() => {
    fetch = new FakeFetch();
    frames = new SteppedFrames();
    vi.stubGlobal('fetch', fetch.fetch);
    stubPage('http://127.0.0.1:8080/?run=run-1');
  });

  afterEach(() => {
    replay?.close();
    vi.unstubAllGlobals();
  });

  it('opens at the first moment and shows any moment exactly as it was', async () => {
    serveRun(fetch);
    replay = new ReplaySession('run-1', { loop: frames.loop });
    await replay.open();
    expect(replay.loadError).toBeNull();
    expect(replay.isLoading).toBe(false);
    expect(replay.duration).toBe(3000);
    expect(replay.info?.scenario).toBe('tutorial');
    expect(replay.isPipeline).toBe(false);
    expect(replay.started?.run).toBe('run-1');
    expect(shown(replay).status).toBe('running');
    expect(shown(replay).bound).toEqual([]);

    await replay.seek(1500);
    expect(replay.clock.now()).toBe(1500);
    expect(replay.current?.seq).toBe(9);
    expect(shown(replay)).toEqual({
      status: 'running',
      sent: 2,
      lost: 0,
      bound: ['tcp'],
      workers: {
        'worker-tcp': { count: 2, lost: 0, link: 'connected', messages: ['1', '2'] },
        'worker-ipc': { count: 0, lost: 0, link: 'idle', messages: [] },
      },
    });
    // Its dot still flies at 1500 (it left at 1011): drawn in the air, and listed, as the moment was.
    expect(replay.run.flights.map((f) => f.task)).toEqual([1]);

    await replay.seek(3000);
    expect(shown(replay)).toMatchObject({ status: 'ended', sent: 4, lost: 1, bound: ['tcp', 'ipc'] });
    expect(shown(replay).workers['worker-ipc']).toEqual({ count: 1, lost: 1, link: 'connected', messages: ['3'] });
    expect(replay.run.summary).toEqual(ended.summary);

    // Back in time: the state is rebuilt, not carried over.
    await replay.seek(5);
    expect(shown(replay)).toMatchObject({ status: 'running', sent: 0, bound: ['tcp'] });
  });

  it('plays on the frame loop at its speed, stops at the end, and steps from event to event', async () => {
    serveRun(fetch);
    replay = new ReplaySession('run-1', { loop: frames.loop });
    await replay.open();
    replay.setSpeed(4);
    replay.play();
    expect(replay.isPlaying).toBe(true);
    expect(frames.isScheduled).toBe(true);
    frames.frame(100);
    expect(replay.time).toBe(400);
    expect(replay.clock.now()).toBe(400);
    expect(replay.run.sent).toBe(1);
    frames.frame(300);
    expect(replay.time).toBe(1600);
    replay.pause();
    expect(replay.isPlaying).toBe(false);
    frames.frame(100);
    expect(replay.time).toBe(1600);

    replay.setSpeed(16);
    replay.play();
    while (frames.frame(100)) {
      // until the end
    }
    expect(replay.time).toBe(3000);
    expect(replay.isPlaying).toBe(false);
    expect(replay.run.status).toBe('ended');

    await replay.seek(0);
    await replay.step(1);
    expect(replay.time).toBe(1);
    await replay.step(1);
    expect(replay.time).toBe(2);
    await replay.step(-1);
    expect(replay.time).toBe(1);
  });

  it('shows a big run window by window: counters at the window start plus the events after them', async () => {
    serveRun(fetch, WHOLE_RUN_EVENTS, 6);
    replay = new ReplaySession('run-1', { loop: frames.loop });
    await replay.open();
    expect(fetch.calls.some((call) => call.path.includes('kind=topology'))).toBe(true);
    await replay.seek(2800);
    expect(fetch.calls.some((call) => call.path.startsWith('/api/runs/run-1/counters?t=2300'))).toBe(true);
    const windowed = shown(replay);
    expect(windowed).toMatchObject({ status: 'running', sent: 4, lost: 1, bound: ['tcp', 'ipc'] });
    expect(windowed.workers['worker-tcp']!.count).toBe(2);
    expect(windowed.workers['worker-ipc']!.count).toBe(1);
  });

  it('has no actions: a replay asks the server for nothing but the recorded run', async () => {
    serveRun(fetch);
    replay = new ReplaySession('run-1', { loop: frames.loop });
    await replay.open();
    await replay.seek(2000);
    replay.play();
    frames.frame(50);
    replay.close();
    for (const action of ['startRun', 'stopRun', 'addWorker', 'setParams', 'setSink', 'setOptions', 'undo'])
      expect(action in replay).toBe(false);
    expect(fetch.changes()).toEqual([]);
    expect(fetch.calls.every((call) => call.path.startsWith('/api/runs/run-1'))).toBe(true);
  });
});
