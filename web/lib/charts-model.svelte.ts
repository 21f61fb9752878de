/**
 * The live data of the charts panel. Frames are folded into a ChartCollector as they arrive (O(events) each, no
 * reactivity); the chart data derived from it is recomputed at most every REFRESH_MS in a timer, never inside the
 * animation frame, and only when something changed. Live and replay both feed RunState.applyFrame, so the model
 * listens to the frames of the run state it is given (RunState.onFrame).
 */
import { ChartCollector, histogram, throughput, total, type Histogram, type Throughput } from './charts.ts';
import type { RunState } from './run-state.svelte.ts';

/** How often (at most) the charts' data is recomputed while frames arrive: 4 times a second. */
export const REFRESH_MS = 250;

export class ChartsModel {
  readonly run: RunState;
  throughput = $state.raw<Throughput | null>(null);
  sentToReceived = $state.raw<Histogram>(histogram([]));
  receivedToDone = $state.raw<Histogram>(histogram([]));
  /** Task events were sampled during this run: latency pairs are a sample too. */
  isSampled = $state(false);

  #collector = new ChartCollector();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #shown = '';
  #pairs: unknown = null;
  #pairCounts = [0, 0];

  constructor(run: RunState) {
    this.run = run;
  }

  /** Starts listening; returns the detach function (for an $effect's cleanup). */
  attach(): () => void {
    const untap = this.run.onFrame((frame) => {
      this.#collector.add(frame);
      this.#schedule();
    });
    // A new playground (a lesson, the sandbox) starts with no run: its charts must not keep the last one's events,
    // which no frame of the new stream would replace. Shown at once, as the diagram's zeros are.
    const untapReset = this.run.onReset(() => {
      this.#collector = new ChartCollector();
      this.refresh();
    });
    this.#schedule();
    return () => {
      untap();
      untapReset();
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
    };
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.refresh();
    }, REFRESH_MS);
  }

  /** Recomputes the chart data if the events or the exact counters moved. */
  refresh(): void {
    const c = this.#collector;
    const exact = { sent: this.run.sent, received: total(this.run.received), done: total(this.run.doneBy) };
    const key = `${c.runId}:${c.version}:${exact.sent}:${exact.received}:${exact.done}`;
    if (key === this.#shown) return;
    this.#shown = key;
    this.throughput = throughput(c, exact);
    this.isSampled = c.dropped > 0;
    // Histograms are O(pairs); they only change when pairs were added (or a new run started).
    const isNew = c.pairs !== this.#pairs;
    this.#pairs = c.pairs;
    if (isNew || c.pairs.sentToReceived.length !== this.#pairCounts[0]) {
      this.sentToReceived = histogram(c.pairs.sentToReceived);
    }
    if (isNew || c.pairs.receivedToDone.length !== this.#pairCounts[1]) {
      this.receivedToDone = histogram(c.pairs.receivedToDone);
    }
    this.#pairCounts = [c.pairs.sentToReceived.length, c.pairs.receivedToDone.length];
  }
}
