/**
 * Throughput over time: events counted at a fine resolution, regrouped into display buckets and scaled up to the
 * exact totals when the server sampled the events away.
 */

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

/** What the throughput series are computed from (the fields of a ChartCollector in web/lib/charts.ts). */
export interface FineCounts {
  sentFine: readonly number[];
  receivedFine: readonly number[];
  doneFine: readonly number[];
  sentSeen: number;
  receivedSeen: number;
  doneSeen: number;
  lastT: number;
  dropped: number;
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

/** Throughput series from a collector's fine counts, scaled to the exact totals when events were sampled. */
export function throughput(c: FineCounts, exact: { sent: number; received: number; done: number }): Throughput {
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
