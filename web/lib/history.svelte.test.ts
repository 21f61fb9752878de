/**
 * HistoryController's list against a scripted server: it reloads when the live stream says a run started or
 * ended, and it finds a run the stream announced before the writer thread had stored its row (the list once
 * stayed one run short until the page was reloaded), with a bounded number of looks, then rests.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RecordedRun } from '../../shared/protocol/history.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { HistoryController } from './history.svelte.ts';
import type { PlaygroundSession } from './session.svelte.ts';
import type { EventsFrame } from './stream-client.svelte.ts';

function recorded(id: string, status: RecordedRun['status']): RecordedRun {
  return {
    id,
    name: `run ${id}`,
    playground: 'pg-test',
    scenario: 'tutorial',
    startedAt: '2026-11-29T00:00:00.000Z',
    endedAt: status === 'running' ? null : '2026-11-29T00:00:01.000Z',
    durationMs: 1000,
    status,
    reason: status === 'running' ? null : 'completed',
    summary: null,
    eventCount: 0,
    firstSeq: 0,
    lastSeq: 0,
    lostEvents: 0,
    workers: [],
    source: 'live',
  };
}

/** What the fake server lists, changed by the test; every GET /api/runs is counted. */
let stored: RecordedRun[];
let listCalls: number;
let frameListener: ((frame: EventsFrame) => void) | null;

function liveSession(): PlaygroundSession {
  const run = {
    onFrame(listener: (frame: EventsFrame) => void) {
      frameListener = listener;
      return () => (frameListener = null);
    },
  };
  return { run } as unknown as PlaygroundSession;
}

function announce(type: 'run:started' | 'run:ended', run: string, seq: number): void {
  const event = { type, run, seq, t: 0 } as unknown as PlaygroundEvent;
  frameListener?.({ events: [event], dropped: 0, counters: {} as EventsFrame['counters'], historyUntil: 0 });
}

describe('HistoryController list', () => {
  let history: HistoryController;

  beforeEach(() => {
    vi.useFakeTimers();
    stored = [];
    listCalls = 0;
    vi.stubGlobal('location', { href: 'http://127.0.0.1/' });
    vi.stubGlobal('window', { addEventListener() {}, removeEventListener() {} });
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        if (!String(url).startsWith('/api/runs')) throw new Error(`unexpected request ${url}`);
        listCalls++;
        const body = JSON.stringify({ runs: stored, total: stored.length, nextBefore: null });
        return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
      }),
    );
    history = new HistoryController(liveSession());
    history.start();
  });

  afterEach(() => {
    history.close();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('shows a short run whose row was stored only after the stream said it ended', async () => {
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls).toBe(1);
    announce('run:started', 'run-a', 1);
    announce('run:ended', 'run-a', 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(history.runs).toEqual([]);

    stored = [recorded('run-a', 'ended')]; // the writer thread catches up
    await vi.advanceTimersByTimeAsync(2_000);
    expect(history.runs.map((r) => r.id)).toEqual(['run-a']);

    // Found: the page rests.
    const calls = listCalls;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(listCalls).toBe(calls);
  });

  it('gives up on a run it may never see after a few looks, then rests', async () => {
    await vi.advanceTimersByTimeAsync(0);
    announce('run:ended', 'run-never', 5);
    await vi.advanceTimersByTimeAsync(60_000);
    const calls = listCalls;
    expect(calls).toBeGreaterThan(2);
    expect(calls).toBeLessThanOrEqual(8);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(listCalls).toBe(calls);
  });

  it('follows a run being recorded until its row says it ended', async () => {
    stored = [recorded('run-b', 'running')];
    announce('run:started', 'run-b', 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(history.runs[0]?.status).toBe('running');
    stored = [recorded('run-b', 'ended')];
    await vi.advanceTimersByTimeAsync(1_500);
    expect(history.runs[0]?.status).toBe('ended');
    const calls = listCalls;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(listCalls).toBe(calls);
  });
});
