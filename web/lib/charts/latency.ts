/** Per-task latency histograms: task events paired by task id, binned at a nice width. */
import type { PlaygroundEvent } from '../../../shared/protocol/index.ts';
import { median, niceStep } from './scales.ts';

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
    if (event.type === 'task:sent' || event.type === 'task:received' || event.type === 'task:done')
      this.addTask(event.type, event.task, event.t);
  }

  /** The same from a task event's fields (a binary frame's columns: charts.ts). */
  addTask(type: PlaygroundEvent['type'], task: number, t: number): void {
    switch (type) {
      case 'task:sent':
        if (!this.#received.has(task)) this.#sentAt.set(task, t);
        return;
      case 'task:received': {
        if (this.#received.has(task)) return;
        this.#received.add(task);
        this.#receivedAt.set(task, t);
        const sent = this.#sentAt.get(task);
        if (sent !== undefined) {
          this.#sentAt.delete(task);
          this.sentToReceived.push(Math.max(0, t - sent));
        }
        return;
      }
      case 'task:done': {
        const received = this.#receivedAt.get(task);
        if (received === undefined) return;
        this.#receivedAt.delete(task);
        this.receivedToDone.push(Math.max(0, t - received));
        return;
      }
      default:
        return;
    }
  }
}
