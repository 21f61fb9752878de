/**
 * The Recorder: a real tutorial run is stored exactly as its RunLog emitted it; the listener only buffers and
 * flushes come in batched transactions off the per-message path; write errors and overload are survived, counted
 * and make the run "incomplete" instead of crashing anything.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { Playground } from '../pipeline/playground.ts';
import { RunLog } from './run-log.ts';
import { Recorder, RecordingStats } from './recorder.ts';
import { RunStore } from './store.ts';
import { collect, freePort, runEnded, testPolicy } from '../../test/helpers.ts';
import { syntheticEvents, until } from '../../test/recording.ts';

let store: RunStore;
let policy: ReturnType<typeof testPolicy>;
const playgrounds: Playground[] = [];
const recorders: Recorder[] = [];

beforeEach(() => {
  store = RunStore.open(':memory:');
  policy = testPolicy();
});
afterEach(async () => {
  await Promise.all(playgrounds.splice(0).map((p) => p.close()));
  for (const recorder of recorders.splice(0)) recorder.close();
  store.close();
  policy.cleanup();
});

function recorderFor(log: RunLog, options: ConstructorParameters<typeof Recorder>[2] = {}) {
  const recorder = new Recorder(
    store,
    { id: 'pg-unit', scenario: { id: 'tutorial', title: 'The tutorial' }, log },
    { onError: () => {}, ...options },
  );
  recorders.push(recorder);
  return recorder;
}

function storedEvents(id: string): PlaygroundEvent[] {
  const events: PlaygroundEvent[] = [];
  let fromSeq: number | null = 0;
  while (fromSeq !== null) {
    const window = store.eventWindow(id, { fromSeq, limit: 5000 });
    events.push(...window.json.map((json) => JSON.parse(json) as PlaygroundEvent));
    fromSeq = window.nextSeq;
  }
  return events;
}

describe('Recorder', () => {
  it('[R1][R3] stores exactly the events a real tutorial run logged (same seq, t, type and fields)', async () => {
    const port = await freePort();
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 0, drainMs: 300 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${port}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    });
    playgrounds.push(playground);
    const recorder = new Recorder(store, playground);
    recorders.push(recorder);
    const logged = collect(playground);
    const startedAt = Date.now();
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    // Monitor events may still follow run:ended (a late disconnect): they belong to the run and are stored too.
    const stored = await until(() => {
      const row = store.getRun(run.id);
      return row.status === 'ended' && row.eventCount === logged.length && row;
    }, 'every logged event stored');

    expect(stored).toMatchObject({
      id: run.id,
      playground: playground.id,
      scenario: 'tutorial',
      status: 'ended',
      reason: ended.reason,
      summary: ended.summary,
      // The timeline's length: the summary's duration, or the last event's t if that is later.
      durationMs: Math.max(ended.summary.durationMs, logged.at(-1)!.t),
      eventCount: logged.length,
      firstSeq: logged[0]!.seq,
      lastSeq: logged.at(-1)!.seq,
      lostEvents: 0,
      source: 'live',
    });
    expect(Date.parse(stored.startedAt)).toBeGreaterThanOrEqual(startedAt - 5);
    expect(stored.endpoints.every((e) => e.transport)).toBe(true);
    // The very objects the log handed out, field for field.
    expect(storedEvents(run.id)).toEqual(JSON.parse(JSON.stringify(logged)));
    expect(recorder.stats).toMatchObject({ recordedEvents: logged.length, writeErrors: 0, droppedEvents: 0 });
  });

  it('[R1] stores events that come after run:ended (a late monitor event) with their run', () => {
    const log = new RunLog();
    const recorder = recorderFor(log);
    const events = [...syntheticEvents('run-0000a7e0', { count: 10 })];
    for (const event of events) log.append(event);
    recorder.flush();
    expect(store.getRun('run-0000a7e0')).toMatchObject({ status: 'ended', eventCount: 10 });
    const late = { type: 'ventilator:state', state: 'idle', run: 'run-0000a7e0', t: 99 } as PlaygroundEvent;
    log.append(late);
    recorder.flush();
    expect(store.getRun('run-0000a7e0')).toMatchObject({
      status: 'ended',
      eventCount: 11,
      lastSeq: 11,
      durationMs: 99,
    });
    expect(storedEvents('run-0000a7e0').at(-1)).toEqual({ ...late, seq: 11 });
    expect(recorder.stats.droppedEvents).toBe(0);
  });

  it('only buffers in the listener; writes one transaction per flush, by timer or at 5,000 events', async () => {
    // The flush timer is a fake one, advanced by hand: which of the two flushes ran cannot depend on how long
    // this machine takes to append 5,000 events. setImmediate stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const log = new RunLog();
      const recorder = recorderFor(log, { flushMs: 200 });
      const transaction = vi.spyOn(store, 'transaction');
      const events = syntheticEvents('run-00000b0f', { count: 12_000 });
      for (let i = 0; i < 10; i++) log.append(events.next().value!);
      // Nothing written synchronously: no run row, no transaction, the events wait in the buffer.
      expect(store.listRuns().total).toBe(0);
      expect(transaction).not.toHaveBeenCalled();
      expect(recorder.buffered).toBe(10);
      vi.advanceTimersByTime(199);
      expect(recorder.buffered).toBe(10);
      vi.advanceTimersByTime(1);
      expect(recorder.buffered).toBe(0);
      // Two: the run's row has a transaction of its own, before its first batch (writer.ts: a full disk).
      expect(transaction).toHaveBeenCalledTimes(2);
      expect(store.getRun('run-00000b0f')).toMatchObject({ status: 'running', eventCount: 10 });

      // 5,000 more in one go: flushed on the next setImmediate; the timer they armed has not fired.
      for (let i = 0; i < 5000; i++) log.append(events.next().value!);
      expect(recorder.buffered).toBe(5000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(recorder.buffered).toBe(0);
      expect(transaction).toHaveBeenCalledTimes(3);
      expect(store.getRun('run-00000b0f').eventCount).toBe(5010);

      // The rest, then close(): everything is stored, the run ended.
      for (const event of events) log.append(event);
      recorder.close();
      expect(store.getRun('run-00000b0f')).toMatchObject({ status: 'ended', eventCount: 12_000, lastSeq: 12_000 });
      // 6,990 left at close: two transactions of at most 5,000.
      expect(transaction).toHaveBeenCalledTimes(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it('[R2] survives a write error: nothing thrown to the pipeline, the error counted and surfaced, the run incomplete', async () => {
    const log = new RunLog();
    const stats = new RecordingStats();
    const onError = vi.fn();
    const recorder = recorderFor(log, { stats, onError });
    const events = [...syntheticEvents('run-00000e44', { count: 40 })];
    for (const event of events.slice(0, 10)) log.append(event);
    recorder.flush();

    const insert = vi.spyOn(store, 'insertEvents').mockImplementationOnce(() => {
      throw new Error('disk I/O error');
    });
    for (const event of events.slice(10, 20)) log.append(event);
    expect(() => recorder.flush()).not.toThrow();
    expect(stats).toMatchObject({ writeErrors: 1, droppedEvents: 10 });
    expect(stats.lastError?.message).toMatch(/could not store 10 events.*disk I\/O error/);
    expect(onError).toHaveBeenCalledTimes(1);
    insert.mockRestore();

    // Recording carries on; the run that lost events ends up incomplete, saying how many it lost.
    for (const event of events.slice(20)) log.append(event);
    recorder.flush();
    expect(store.getRun('run-00000e44')).toMatchObject({
      status: 'incomplete',
      reason: 'completed',
      eventCount: 30,
      lostEvents: 10,
    });
    expect(stats.recordedEvents).toBe(30);
  });

  it('stores a run:ended whose batch failed with the next flush, so the run does not stay "running"', async () => {
    const log = new RunLog();
    const recorder = recorderFor(log);
    const events = [...syntheticEvents('run-00000e45', { count: 20 })];
    for (const event of events.slice(0, 10)) log.append(event);
    recorder.flush();
    const insert = vi.spyOn(store, 'insertEvents').mockImplementationOnce(() => {
      throw new Error('database is locked');
    });
    for (const event of events.slice(10)) log.append(event);
    recorder.flush();
    insert.mockRestore();
    // The retry comes by itself on the timer.
    const run = await until(
      () => store.getRun('run-00000e45').status !== 'running' && store.getRun('run-00000e45'),
      'the retried end',
    );
    expect(run).toMatchObject({ status: 'incomplete', reason: 'completed', eventCount: 10, lostEvents: 10 });
  });

  it('keeps memory bounded: past maxBuffered, events are dropped and counted, run:started/run:ended kept', () => {
    const log = new RunLog();
    const recorder = recorderFor(log, { maxBuffered: 100 });
    // 1,000 events in one synchronous burst: no flush can run in between.
    for (const event of syntheticEvents('run-000f1000', { count: 1000 })) log.append(event);
    expect(recorder.buffered).toBe(101); // 100 + run:ended
    expect(recorder.stats.droppedEvents).toBe(899);
    recorder.flush();
    expect(store.getRun('run-000f1000')).toMatchObject({
      status: 'incomplete',
      reason: 'completed',
      eventCount: 101,
      lostEvents: 899,
    });
  });

  it('close() flushes what is buffered and marks a run still recording incomplete', () => {
    const log = new RunLog();
    const recorder = recorderFor(log);
    for (const event of syntheticEvents('run-0000c105', { count: 50, ended: false })) log.append(event);
    recorder.close();
    expect(store.getRun('run-0000c105')).toMatchObject({ status: 'incomplete', eventCount: 50 });
    // After close the log is no longer recorded.
    log.append({ ...structuredClone([...syntheticEvents('run-0000c106', { count: 2 })][0]!) });
    expect(store.listRuns().total).toBe(1);
  });

  it('reports a closed store as a write error instead of throwing', () => {
    const log = new RunLog();
    const recorder = recorderFor(log);
    for (const event of syntheticEvents('run-0000c10e', { count: 5 })) log.append(event);
    store.close();
    expect(() => recorder.flush()).not.toThrow();
    expect(recorder.stats).toMatchObject({ writeErrors: 1, droppedEvents: 5 });
    store = RunStore.open(':memory:'); // for afterEach
  });
});
