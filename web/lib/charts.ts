/**
 * Pure data for the charts panel: per-worker bars, throughput over time, per-task latency histograms and batch
 * time against worker count across recorded runs. No DOM, no runes: everything here is unit-tested in node.
 *
 * Task events may be sampled by the server at high rates (frames say how many they `dropped`): bars come from the
 * exact counters, throughput is scaled up to them, and latencies are computed from the pairs that did arrive.
 */
import type { RecordedRun } from '../../shared/protocol/history.ts';
import type { PlaygroundEvent, RunParams, WorkMs } from '../../shared/protocol/index.ts';

// ---------------------------------------------------------------------------------------------------------------
// Per-worker distribution

export interface WorkerBar {
  id: string;
  received: number;
  done: number;
  lost: number;
}

/**
 * One row per worker: the listed workers in their order, then any other id the counters name (removed workers,
 * and "unknown" for lost tasks nobody can attribute).
 */
export function workerBars(
  workerIds: readonly string[],
  received: Readonly<Record<string, number>>,
  done: Readonly<Record<string, number>>,
  lostBy: Readonly<Record<string, number>>,
): WorkerBar[] {
  const ids: string[] = [...workerIds];
  const known = new Set(ids);
  for (const source of [received, done, lostBy]) {
    for (const id of Object.keys(source)) {
      if (known.has(id) || (source[id] ?? 0) === 0) continue;
      known.add(id);
      ids.push(id);
    }
  }
  return ids.map((id) => ({ id, received: received[id] ?? 0, done: done[id] ?? 0, lost: lostBy[id] ?? 0 }));
}

// ---------------------------------------------------------------------------------------------------------------
// Scales

/** A "nice" step (1, 2, 2.5 or 5 times a power of ten) so that `span` is covered in at most `maxSteps` steps. */
export function niceStep(span: number, maxSteps: number): number {
  if (!(span > 0) || maxSteps < 1) return 1;
  const raw = span / maxSteps;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * power;
    if (step >= raw - 1e-9 * raw) return step;
  }
  return 10 * power;
}

/** Axis ticks from 0 to at least `max` (a multiple of a nice step); [0, 1] when max is 0. */
export function ticks(max: number, maxTicks = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const step = niceStep(max, maxTicks);
  const top = Math.ceil(max / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput over time

/** Resolution at which events are counted (ms); display buckets are whole multiples of it. */
export const FINE_MS = 100;
/** Most buckets a throughput chart shows. */
export const MAX_RATE_BUCKETS = 40;
const BUCKET_CHOICES = [
  100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
];

/** The display bucket width (ms) for a run of `durationMs`: the smallest choice giving at most `maxBuckets`. */
export function bucketMsFor(durationMs: number, maxBuckets = MAX_RATE_BUCKETS): number {
  for (const ms of BUCKET_CHOICES) if (durationMs / ms <= maxBuckets) return ms;
  return Math.ceil(durationMs / maxBuckets / 60_000) * 60_000;
}

/** Adds one event at run time `t` to fine counts (one slot per FINE_MS). */
export function countAt(fine: number[], t: number): void {
  const slot = Math.max(0, Math.floor(t / FINE_MS));
  while (fine.length <= slot) fine.push(0);
  fine[slot]!++;
}

export interface RateBucket {
  /** Start and end of the bucket (ms of run time). */
  from: number;
  to: number;
  /** Events in the bucket (scaled when sampled). */
  count: number;
  /** Events per second. */
  perSecond: number;
}

/**
 * Fine counts regrouped into `bucketMs` buckets up to `untilMs`, each count multiplied by `scale` (exact total /
 * events seen, when events were sampled). The last bucket may be partial: its rate is over the time it covers.
 */
export function rateBuckets(fine: readonly number[], bucketMs: number, untilMs: number, scale = 1): RateBucket[] {
  const per = Math.max(1, Math.round(bucketMs / FINE_MS));
  const width = per * FINE_MS;
  const end = untilMs > 0 ? untilMs : fine.length * FINE_MS;
  const n = Math.max(1, Math.ceil(end / width));
  const out: RateBucket[] = [];
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let j = i * per; j < (i + 1) * per && j < fine.length; j++) count += fine[j]!;
    count *= scale;
    const from = i * width;
    const to = Math.min((i + 1) * width, Math.max(end, from + FINE_MS));
    out.push({ from, to, count, perSecond: (count * 1000) / Math.max(FINE_MS, to - from) });
  }
  return out;
}

/** How much to scale sampled counts: exact / seen (1 when nothing was seen or nothing is missing). */
export function samplingScale(exact: number, seen: number): number {
  return seen > 0 && exact > seen ? exact / seen : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Latency histograms

export interface HistogramBin {
  /** [from, to) in ms; the last bin also holds values equal to its `to`. */
  from: number;
  to: number;
  count: number;
}

export interface Histogram {
  bins: HistogramBin[];
  count: number;
  /** null when there are no values. */
  median: number | null;
  max: number;
}

/** The median (mean of the two middle values for an even count); null for none. O(n) on a copy. */
export function median(values: readonly number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  const a = Float64Array.from(values);
  const hi = select(a, n >> 1);
  if (n % 2 === 1) return hi;
  // The lower middle is the largest value left of position n/2 after selection.
  let lo = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (a[i]! > lo) lo = a[i]!;
  return (lo + hi) / 2;
}

/** Hoare quickselect: the k-th smallest, partially ordering `a` in place. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Bins of a nice width from 0 covering every value, at most `maxBins` of them. */
export function histogram(values: readonly number[], maxBins = 12): Histogram {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  const step = max > 0 ? niceStep(max, maxBins) : 1;
  const n = Math.max(1, Math.min(maxBins, Math.floor(max / step) + 1));
  // A value exactly on the top edge goes into the last bin rather than opening a bin of its own.
  const bins: HistogramBin[] = Array.from({ length: n }, (_, i) => ({ from: i * step, to: (i + 1) * step, count: 0 }));
  for (const v of values) {
    const i = Math.min(n - 1, Math.max(0, Math.floor(v / step)));
    bins[i]!.count++;
  }
  return { bins, count: values.length, median: median(values), max };
}

/** Latencies (ms) paired by task id from a list of events; see LatencyPairs for the rules. */
export function pairLatencies(events: readonly PlaygroundEvent[]): {
  sentToReceived: number[];
  receivedToDone: number[];
} {
  const pairs = new LatencyPairs();
  for (const event of events) pairs.add(event);
  return { sentToReceived: pairs.sentToReceived, receivedToDone: pairs.receivedToDone };
}

/**
 * Incremental pairing of task events by task id: task:sent then task:received gives one sent → received sample,
 * task:received then task:done one received → done sample. A half missing (sampled away, or a task taken by an
 * external peer) gives no sample; each task counts once (a repeated event is ignored).
 */
export class LatencyPairs {
  readonly sentToReceived: number[] = [];
  readonly receivedToDone: number[] = [];
  #sentAt = new Map<number, number>();
  #receivedAt = new Map<number, number>();
  #received = new Set<number>();

  add(event: PlaygroundEvent): void {
    switch (event.type) {
      case 'task:sent':
        if (!this.#received.has(event.task)) this.#sentAt.set(event.task, event.t);
        return;
      case 'task:received': {
        if (this.#received.has(event.task)) return;
        this.#received.add(event.task);
        this.#receivedAt.set(event.task, event.t);
        const sent = this.#sentAt.get(event.task);
        if (sent !== undefined) {
          this.#sentAt.delete(event.task);
          this.sentToReceived.push(Math.max(0, event.t - sent));
        }
        return;
      }
      case 'task:done': {
        const received = this.#receivedAt.get(event.task);
        if (received === undefined) return;
        this.#receivedAt.delete(event.task);
        this.receivedToDone.push(Math.max(0, event.t - received));
        return;
      }
      default:
        return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Everything the live charts need from the event stream, folded incrementally

/** What a frame brings (EventsFrame and replay frames both fit). */
export interface ChartFrame {
  events: readonly PlaygroundEvent[];
  dropped: number;
}

/**
 * Folds frames of one run at a time, O(events of the frame) each: fine per-100 ms counts of sent / received /
 * done and the latency pairs. A run:started starts afresh; a frame that goes back in seq (a replay seeking
 * backwards rebuilds from the start) starts the same run afresh.
 */
export class ChartCollector {
  runId: string | null = null;
  lastSeq = 0;
  lastT = 0;
  dropped = 0;
  sentSeen = 0;
  receivedSeen = 0;
  doneSeen = 0;
  sentFine: number[] = [];
  receivedFine: number[] = [];
  doneFine: number[] = [];
  pairs = new LatencyPairs();
  /** Bumped on every change: the panel recomputes only when it moved. */
  version = 0;

  add(frame: ChartFrame): void {
    const events = frame.events;
    if (events.length === 0 && frame.dropped === 0) return;
    const first = events[0];
    if (first && first.seq <= this.lastSeq && first.type !== 'run:started') this.#reset(first.run);
    for (const event of events) {
      if (event.type === 'run:started') this.#reset(event.run);
      else if (this.runId === null) this.runId = event.run;
      if (event.run !== this.runId) continue;
      this.lastSeq = event.seq;
      if (event.t > this.lastT) this.lastT = event.t;
      switch (event.type) {
        case 'task:sent':
          this.sentSeen++;
          countAt(this.sentFine, event.t);
          break;
        case 'task:received':
          this.receivedSeen++;
          countAt(this.receivedFine, event.t);
          break;
        case 'task:done':
          this.doneSeen++;
          countAt(this.doneFine, event.t);
          break;
        default:
          break;
      }
      this.pairs.add(event);
    }
    this.dropped += frame.dropped;
    this.version++;
  }

  #reset(run: string): void {
    this.runId = run;
    this.lastSeq = 0;
    this.lastT = 0;
    this.dropped = 0;
    this.sentSeen = 0;
    this.receivedSeen = 0;
    this.doneSeen = 0;
    this.sentFine = [];
    this.receivedFine = [];
    this.doneFine = [];
    this.pairs = new LatencyPairs();
  }
}

export interface Throughput {
  bucketMs: number;
  sent: RateBucket[];
  received: RateBucket[];
  done: RateBucket[];
  /** Events were sampled: the series are scaled to the exact totals. */
  isSampled: boolean;
  /** Highest rate of any series (per second). */
  peak: number;
}

/** Throughput series from a collector, scaled to the exact totals when events were sampled. */
export function throughput(
  c: Pick<
    ChartCollector,
    'sentFine' | 'receivedFine' | 'doneFine' | 'sentSeen' | 'receivedSeen' | 'doneSeen' | 'lastT' | 'dropped'
  >,
  exact: { sent: number; received: number; done: number },
): Throughput {
  const until = Math.max(c.lastT, FINE_MS);
  const bucketMs = bucketMsFor(until);
  const isSampled = c.dropped > 0;
  const scale = (e: number, seen: number) => (isSampled ? samplingScale(e, seen) : 1);
  const sent = rateBuckets(c.sentFine, bucketMs, until, scale(exact.sent, c.sentSeen));
  const received = rateBuckets(c.receivedFine, bucketMs, until, scale(exact.received, c.receivedSeen));
  const done = rateBuckets(c.doneFine, bucketMs, until, scale(exact.done, c.doneSeen));
  let peak = 0;
  for (const series of [sent, received, done]) for (const b of series) if (b.perSecond > peak) peak = b.perSecond;
  return { bucketMs, sent, received, done, isSampled, peak };
}

/** Sum of a per-worker record. */
export function total(record: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(record)) n += v;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Batch time against worker count, across recorded runs

export interface BatchPoint {
  runId: string;
  name: string;
  /** The parts of the server's own name, to say it in the page's language (web/lib/run-names.ts). */
  defaultName?: RecordedRun['defaultName'];
  /** Workers that took at least one task. */
  workers: number;
  /** The run's duration (ms). */
  ms: number;
  tasks: number;
}

/**
 * What a batch's time depends on besides how many workers share it: the tasks sent, their pacing (an interval of
 * 50 ms makes 100 tasks last 5 s whatever the workers), whether the start waits for every worker, and the work
 * each task holds. Only runs of one shape say what more workers do; mixed, "more workers" may just mean "a bigger
 * batch" and the line climbs (issue 10.12).
 */
export interface BatchShape {
  tasks: number;
  /** null: not known (a run listed by an older server). */
  intervalMs: number | null;
  syncStart: boolean | null;
  /** Each worker's work time, "1-100" when they all have the same, else the distinct ones ("0/400"). */
  work: string;
}

function workText(workMs: WorkMs): string {
  return workMs.min === workMs.max ? String(workMs.min) : `${workMs.min}-${workMs.max}`;
}

/** The shape of a batch: its tasks, parameters and workers (a recorded run, or the run on screen). */
export function shapeOf(
  tasks: number,
  params: Pick<RunParams, 'intervalMs' | 'syncStart'> | null | undefined,
  workers: readonly { workMs: WorkMs }[],
): BatchShape {
  const work = [...new Set(workers.map((w) => workText(w.workMs)))].sort(
    (a, b) => parseFloat(a) - parseFloat(b) || a.localeCompare(b),
  );
  return { tasks, intervalMs: params?.intervalMs ?? null, syncStart: params?.syncStart ?? null, work: work.join('/') };
}

export function sameShape(a: BatchShape, b: BatchShape): boolean {
  return a.tasks === b.tasks && a.intervalMs === b.intervalMs && a.syncStart === b.syncStart && a.work === b.work;
}

/** A completed pipeline run that sent tasks and that some worker took: a point of the chart. */
function isBatchPoint(run: RecordedRun): boolean {
  const s = run.summary;
  return (
    run.scenario === 'pipeline' && run.status === 'ended' && run.reason === 'completed' && s !== null && s.sent > 0
  );
}

/** A recorded run's batch shape. */
export function shapeOfRun(run: RecordedRun): BatchShape {
  return shapeOf(run.summary?.sent ?? 0, run.params, run.workers);
}

/** Which runs the chart compares: those of one shape (the default), those like the zguide's batch, or every one. */
export type BatchFilter = { kind: 'shape'; shape: BatchShape | null } | { kind: 'zguide' } | { kind: 'all' };

/**
 * The shape the chart compares by default: the run on screen's when it is a batch, else the newest recorded batch's
 * (`runs` newest first, as the history lists them); null when there is none.
 */
export function defaultShape(onScreen: BatchShape | null, runs: readonly RecordedRun[]): BatchShape | null {
  if (onScreen && onScreen.tasks > 0) return onScreen;
  const newest = runs.find(isBatchPoint);
  return newest ? shapeOfRun(newest) : null;
}

/** The zguide's divide-and-conquer batch, the one its published times are for: 100 tasks of 1-100 ms each. */
export function isZguideBatch(run: RecordedRun): boolean {
  return (
    run.summary?.sent === 100 &&
    run.workers.length > 0 &&
    run.workers.every((w) => w.workMs.min === 1 && w.workMs.max === 100)
  );
}

/**
 * One point per completed pipeline run that sent tasks: x = workers that received at least one task, y = its
 * duration. Runs still going, stopped, failed, incomplete or of the tutorial scenario are left out, and so are those
 * the filter does not keep (the chart's default: another shape than the one compared; without a filter, none).
 */
export function batchPoints(runs: readonly RecordedRun[], filter: BatchFilter = { kind: 'all' }): BatchPoint[] {
  const points: BatchPoint[] = [];
  for (const run of runs) {
    const s = run.summary;
    if (!s || !isBatchPoint(run)) continue;
    if (filter.kind === 'zguide' && !isZguideBatch(run)) continue;
    if (filter.kind === 'shape' && (filter.shape === null || !sameShape(shapeOfRun(run), filter.shape))) continue;
    const workers = Object.values(s.received).filter((n) => n > 0).length;
    if (workers === 0) continue;
    points.push({
      runId: run.id,
      name: run.name,
      ...(run.defaultName ? { defaultName: run.defaultName } : {}),
      workers,
      ms: s.durationMs,
      tasks: s.sent,
    });
  }
  return points.sort((a, b) => a.workers - b.workers || a.ms - b.ms);
}

/** The zguide's reference points, by worker count. */
export function referencePoints(reference: Readonly<Record<number, number>>): { workers: number; ms: number }[] {
  return Object.entries(reference)
    .map(([w, ms]) => ({ workers: Number(w), ms }))
    .sort((a, b) => a.workers - b.workers);
}

/** Median duration per worker count (the line through the scatter). */
export function medianByWorkers(points: readonly BatchPoint[]): { workers: number; ms: number }[] {
  const by = new Map<number, number[]>();
  for (const p of points) {
    const list = by.get(p.workers) ?? [];
    list.push(p.ms);
    by.set(p.workers, list);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([workers, list]) => ({ workers, ms: median(list)! }));
}
