import { describe, expect, it } from 'vitest';
import type { RecordedRun } from '../../shared/protocol/history.ts';
import type { PlaygroundEvent, RunSummary } from '../../shared/protocol/index.ts';
import { ZGUIDE_BATCH_MS } from '../../shared/lessons/index.ts';
import {
  ChartCollector,
  FINE_MS,
  batchPoints,
  defaultShape,
  shapeOf,
  shapeOfRun,
  isZguideBatch,
  bucketMsFor,
  countAt,
  histogram,
  median,
  medianByWorkers,
  niceStep,
  pairLatencies,
  rateBuckets,
  referencePoints,
  samplingScale,
  throughput,
  ticks,
  workerBars,
} from './charts.ts';

let seq = 0;
const RUN = 'r1';
const sent = (task: number, t: number, run = RUN): PlaygroundEvent => ({
  type: 'task:sent',
  seq: ++seq,
  run,
  t,
  task,
  body: String(task),
});
const received = (task: number, t: number, worker = 'worker-1', run = RUN): PlaygroundEvent => ({
  type: 'task:received',
  seq: ++seq,
  run,
  t,
  task,
  worker,
  body: String(task),
});
const done = (task: number, t: number, worker = 'worker-1', run = RUN): PlaygroundEvent => ({
  type: 'task:done',
  seq: ++seq,
  run,
  t,
  task,
  worker,
});
const started = (run = RUN): PlaygroundEvent => ({
  type: 'run:started',
  seq: ++seq,
  run,
  t: 0,
  scenario: 'pipeline',
  params: { intervalMs: 0, builtInWorkers: true, tasks: 10, payloadBytes: 0, drainMs: 1000, syncStart: true },
  endpoints: [],
  workers: [],
  sink: { enabled: true, transport: 'inproc', address: null },
  options: {
    ventilator: { sendHighWaterMark: 1000, sendBufferSize: 0, linger: 1000, heartbeatInterval: 0, heartbeatTimeout: 0 },
    worker: { receiveHighWaterMark: 1000, receiveBufferSize: 0, sinkImmediate: false },
    sink: { receiveHighWaterMark: 1000, receiveBufferSize: 0 },
  },
});

describe('per-worker bars', () => {
  it('keeps the listed order, adds removed workers and unknown lost, skips zero-only extras', () => {
    const bars = workerBars(
      ['worker-1', 'worker-2'],
      { 'worker-1': 5, 'worker-2': 3, 'worker-9': 2 },
      { 'worker-1': 4, 'worker-0': 0 },
      { unknown: 1 },
    );
    expect(bars).toEqual([
      { id: 'worker-1', received: 5, done: 4, lost: 0 },
      { id: 'worker-2', received: 3, done: 0, lost: 0 },
      { id: 'worker-9', received: 2, done: 0, lost: 0 },
      { id: 'unknown', received: 0, done: 0, lost: 1 },
    ]);
  });
});

describe('scales', () => {
  it('picks nice steps and ticks that cover the maximum', () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(7, 5)).toBe(2);
    expect(niceStep(0, 5)).toBe(1);
    expect(ticks(0)).toEqual([0, 1]);
    expect(ticks(9)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ticks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(0.3).at(-1)).toBeGreaterThanOrEqual(0.3);
  });
});

describe('throughput buckets', () => {
  it('counts events per fine slot and regroups them into display buckets', () => {
    const fine: number[] = [];
    for (const t of [0, 50, 99.9, 100, 250, 999, 1000, 1999]) countAt(fine, t);
    expect(fine.slice(0, 3)).toEqual([3, 1, 1]);
    const buckets = rateBuckets(fine, 1000, 2000);
    expect(buckets.map((b) => b.count)).toEqual([6, 2]);
    expect(buckets.map((b) => b.perSecond)).toEqual([6, 2]);
    expect(buckets[1]).toMatchObject({ from: 1000, to: 2000 });
  });

  it('rates a partial last bucket over the time it covers, and scales sampled counts', () => {
    const fine: number[] = [];
    for (let i = 0; i < 10; i++) countAt(fine, 1000 + i * 10); // 10 events in [1000, 1100)
    const buckets = rateBuckets(fine, 1000, 1500, 2);
    expect(buckets).toHaveLength(2);
    expect(buckets[1]).toMatchObject({ from: 1000, to: 1500, count: 20 });
    expect(buckets[1]!.perSecond).toBeCloseTo(40);
  });

  it('chooses a bucket width giving at most 40 buckets', () => {
    expect(bucketMsFor(1000)).toBe(100);
    expect(bucketMsFor(5000)).toBe(200);
    expect(bucketMsFor(60_000)).toBe(2000);
    expect(bucketMsFor(3_600_000)).toBe(120_000);
    expect(rateBuckets([], bucketMsFor(0), 0)).toHaveLength(1);
  });

  it('scales only when events were dropped', () => {
    expect(samplingScale(100, 25)).toBe(4);
    expect(samplingScale(100, 0)).toBe(1);
    expect(samplingScale(10, 12)).toBe(1);
  });
});

describe('latency pairing', () => {
  it('pairs sent → received and received → done by task id, whatever the order of tasks', () => {
    const { sentToReceived, receivedToDone } = pairLatencies([
      sent(1, 0),
      sent(2, 10),
      received(2, 15),
      received(1, 30),
      done(1, 80),
      done(2, 40),
    ]);
    expect(sentToReceived).toEqual([5, 30]);
    expect(receivedToDone).toEqual([50, 25]);
  });

  it('gives no sample when one half is missing (sampled away or taken by an external peer)', () => {
    const { sentToReceived, receivedToDone } = pairLatencies([
      sent(1, 0), // never received: an external peer took it
      received(2, 5), // its sent was sampled away
      done(2, 9),
      done(3, 9), // its received was sampled away
      sent(4, 10),
      received(4, 12),
      received(4, 13), // a repeat is ignored
      done(4, 20),
      done(4, 21),
    ]);
    expect(sentToReceived).toEqual([2]);
    expect(receivedToDone).toEqual([4, 8]);
  });
});

describe('histograms', () => {
  it('uses nice bins from 0, counts every value once and puts the maximum in the last bin', () => {
    const h = histogram([0, 1, 9.99, 10, 19, 20, 100], 10);
    expect(h.bins[0]).toEqual({ from: 0, to: 10, count: 3 });
    expect(h.bins[1]).toEqual({ from: 10, to: 20, count: 2 });
    expect(h.bins.at(-1)).toEqual({ from: 90, to: 100, count: 1 });
    expect(h.bins).toHaveLength(10);
    expect(h.bins.reduce((n, b) => n + b.count, 0)).toBe(7);
    expect(h.count).toBe(7);
    expect(h.median).toBe(10);
    expect(h.max).toBe(100);
  });

  it('handles no values and all-zero values', () => {
    expect(histogram([])).toMatchObject({ count: 0, median: null, max: 0, bins: [{ from: 0, to: 1, count: 0 }] });
    expect(histogram([0, 0]).bins).toEqual([{ from: 0, to: 1, count: 2 }]);
  });

  it('computes medians for odd and even counts without reordering the input', () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 4, 2, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7, 7, 7, 7])).toBe(7);
    expect(median([])).toBeNull();
    const big = Array.from({ length: 10_001 }, (_, i) => (i * 7919) % 10_001);
    expect(median(big)).toBe(5000);
  });
});

describe('chart collector', () => {
  it('folds frames of a run and starts afresh on run:started', () => {
    const c = new ChartCollector();
    c.add({ events: [started(), sent(1, 10), sent(2, 120)], dropped: 0 });
    c.add({ events: [received(1, 130), done(1, 190)], dropped: 0 });
    expect(c.sentSeen).toBe(2);
    expect(c.sentFine).toEqual([1, 1]);
    expect(c.pairs.sentToReceived).toEqual([120]);
    expect(c.pairs.receivedToDone).toEqual([60]);
    expect(c.lastT).toBe(190);
    c.add({ events: [started('r2'), sent(1, 5, 'r2')], dropped: 0 });
    expect(c.runId).toBe('r2');
    expect(c.sentSeen).toBe(1);
    expect(c.pairs.sentToReceived).toEqual([]);
  });

  it('rebuilds when a frame goes back in seq (a replay seeking backwards), and ignores other runs', () => {
    const c = new ChartCollector();
    const s = started();
    const a = sent(1, 10);
    const b = received(1, 20);
    c.add({ events: [s, a, b], dropped: 0 });
    c.add({ events: [a], dropped: 0 }); // rebuilt from the playhead's window, without its run:started
    expect(c.sentSeen).toBe(1);
    expect(c.receivedSeen).toBe(0);
    c.add({ events: [sent(9, 30, 'other')], dropped: 0 });
    expect(c.sentSeen).toBe(1);
  });

  it('scales sampled throughput to the exact counters and says so', () => {
    const c = new ChartCollector();
    c.add({ events: [started(), sent(1, 10), sent(2, 20), received(1, 30)], dropped: 8 });
    const tp = throughput(c, { sent: 8, received: 4, done: 0 });
    expect(tp.isSampled).toBe(true);
    expect(tp.sent.reduce((n, b) => n + b.count, 0)).toBe(8);
    expect(tp.received.reduce((n, b) => n + b.count, 0)).toBe(4);
    expect(tp.bucketMs).toBe(FINE_MS);
    const plain = throughput(c, { sent: 2, received: 1, done: 0 });
    expect(plain.sent.reduce((n, b) => n + b.count, 0)).toBe(2); // nothing missing: no scaling
  });
});

describe('batch time against worker count', () => {
  const summary = (received: Record<string, number>, durationMs: number): RunSummary => ({
    sent: Object.values(received).reduce((a, b) => a + b, 0),
    received,
    done: received,
    collected: 0,
    unattributed: 0,
    lost: 0,
    lostBy: {},
    externalPeersMax: 0,
    durationMs,
  });
  const run = (id: string, patch: Partial<RecordedRun>): RecordedRun => ({
    id,
    name: id,
    playground: 'p',
    scenario: 'pipeline',
    startedAt: '2024-01-01T00:00:00Z',
    endedAt: '2024-01-01T00:00:01Z',
    durationMs: 1000,
    status: 'ended',
    reason: 'completed',
    summary: null,
    eventCount: 0,
    firstSeq: 0,
    lastSeq: 0,
    lostEvents: 0,
    workers: [],
    source: 'live',
    ...patch,
  });

  it('keeps completed pipeline runs, counting the workers that took tasks', () => {
    const points = batchPoints([
      run('a', { summary: summary({ 'worker-1': 100 }, 5100) }),
      run('b', { summary: summary({ 'worker-1': 50, 'worker-2': 50, 'worker-3': 0 }, 2500) }),
      run('c', { summary: summary({ 'worker-1': 40, 'worker-2': 60 }, 2300) }),
      run('tutorial', { scenario: 'tutorial', summary: summary({ 'worker-1': 3 }, 900) }),
      run('stopped', { reason: 'stopped', summary: summary({ 'worker-1': 3 }, 900) }),
      run('running', { status: 'running', reason: null, summary: null }),
      run('nobody', { summary: summary({}, 900) }),
    ]);
    expect(points.map((p) => [p.runId, p.workers, p.ms, p.tasks])).toEqual([
      ['a', 1, 5100, 100],
      ['c', 2, 2300, 100],
      ['b', 2, 2500, 100],
    ]);
    expect(medianByWorkers(points)).toEqual([
      { workers: 1, ms: 5100 },
      { workers: 2, ms: 2400 },
    ]);
  });

  it("keeps only runs like the zguide's batch when asked: 100 tasks, every worker 1-100 ms", () => {
    const worker = (workMs: { min: number; max: number }) => ({
      id: 'worker-1',
      endpoint: 'tcp',
      transport: 'tcp' as const,
      mode: 'in-process' as const,
      workMs,
      connections: 1,
      state: 'idle' as const,
      pid: null,
    });
    const like = run('like', { summary: summary({ 'worker-1': 100 }, 5100), workers: [worker({ min: 1, max: 100 })] });
    const fast = run('fast', { summary: summary({ 'worker-1': 100 }, 90), workers: [worker({ min: 0, max: 0 })] });
    const big = run('big', { summary: summary({ 'worker-1': 7500 }, 900), workers: [worker({ min: 1, max: 100 })] });
    expect(isZguideBatch(like)).toBe(true);
    expect(isZguideBatch(fast)).toBe(false);
    expect(isZguideBatch(big)).toBe(false);
    expect(batchPoints([like, fast, big]).map((p) => p.runId)).toEqual(['fast', 'big', 'like']);
    expect(batchPoints([like, fast, big], { kind: 'zguide' }).map((p) => p.runId)).toEqual(['like']);
  });

  it('compares like with like by default: runs of the shape on screen, not a bigger batch with more workers (issue 10.12)', () => {
    const worker = (id: string, min: number, max: number) => ({
      id,
      endpoint: 'tcp',
      transport: 'tcp' as const,
      mode: 'in-process' as const,
      workMs: { min, max },
      connections: 1,
      state: 'idle' as const,
      pid: null,
    });
    const workers = (n: number, min = 1, max = 100) =>
      Array.from({ length: n }, (_, i) => worker(`worker-${i + 1}`, min, max));
    const received = (n: number, tasks: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`worker-${i + 1}`, tasks / n]));
    const params = (intervalMs: number) => ({
      intervalMs,
      builtInWorkers: true,
      tasks: 100,
      payloadBytes: 16,
      drainMs: 1500,
      syncStart: true,
    });
    // Newest first, as the history lists them. The zguide's batch with 1, 2 and 4 workers, and the learner's other
    // experiments: 4 workers on 1,000 tasks, 8 workers paced at 50 ms, 2 workers of which one is slow.
    const runs = [
      run('four-big', { summary: summary(received(4, 1000), 12_800), workers: workers(4), params: params(0) }),
      run('eight-paced', { summary: summary(received(8, 100), 5_200), workers: workers(8), params: params(50) }),
      run('two-mixed', {
        summary: summary(received(2, 100), 9_000),
        workers: [worker('worker-1', 1, 100), worker('worker-2', 400, 400)],
        params: params(0),
      }),
      run('four', { summary: summary(received(4, 100), 1_300), workers: workers(4), params: params(0) }),
      run('two', { summary: summary(received(2, 100), 2_600), workers: workers(2), params: params(0) }),
      run('one', { summary: summary(received(1, 100), 5_100), workers: workers(1), params: params(0) }),
    ];
    // Mixed, the line through the medians says more workers are slower (4: 12.8 s > 2: 5.8 s)...
    const mixed = medianByWorkers(batchPoints(runs));
    expect(mixed.find((m) => m.workers === 4)!.ms).toBeGreaterThan(mixed.find((m) => m.workers === 2)!.ms);
    // ...of one shape, that they are faster.
    const onScreen = shapeOf(100, params(0), workers(2));
    expect(shapeOf(100, params(0), workers(2))).toEqual({ tasks: 100, intervalMs: 0, syncStart: true, work: '1-100' });
    const same = batchPoints(runs, { kind: 'shape', shape: defaultShape(onScreen, runs) });
    expect(same.map((p) => p.runId)).toEqual(['one', 'two', 'four']);
    expect(medianByWorkers(same).map((m) => m.ms)).toEqual([5_100, 2_600, 1_300]);
    // Nothing on screen yet (a fresh page): the newest recorded batch's shape.
    expect(defaultShape(null, runs)).toEqual({ tasks: 1000, intervalMs: 0, syncStart: true, work: '1-100' });
    expect(batchPoints(runs, { kind: 'shape', shape: defaultShape(null, runs) }).map((p) => p.runId)).toEqual([
      'four-big',
    ]);
    expect(shapeOfRun(runs[2]!).work).toBe('1-100/400');
    expect(batchPoints(runs, { kind: 'shape', shape: null })).toEqual([]);
  });

  it('lists the zguide reference points by worker count', () => {
    expect(referencePoints(ZGUIDE_BATCH_MS)).toEqual([
      { workers: 1, ms: 5034 },
      { workers: 2, ms: 2421 },
      { workers: 4, ms: 1018 },
    ]);
  });
});
