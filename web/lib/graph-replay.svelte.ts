/**
 * Replaying a recorded graph run on the patterns page (`?graph=<scenario>&run=<id>`, issue 11): the run's detail
 * and its stored events (GET /api/runs/:id and /events, window by window), folded into the page's GraphSession as
 * the live stream's frames are, so the diagram, the counters, the text twin and the summary draw a moment of the
 * recording the way they draw a live run. The playhead is a ReplayClock (run time, the events' `t`); going back
 * rewinds the session and folds again from the start (a graph run is small enough: its events are messages, not a
 * batch of a million tasks).
 */
import type { PlaygroundEvent, RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import { addGraphEvent, emptyGraphCounters, type GraphCounters } from '../../shared/protocol/graph-stream.ts';
import { toErrorInfo } from './api.ts';
import type { GraphScenarioInfo, GraphSession } from './graph-session.svelte.ts';
import { ReplayClock } from './run-clock.svelte.ts';

/** Events per window request (the API's largest). */
const WINDOW = 5000;
/** A jump over more events than this keeps only the last few dots and marks (the rest would fly all at once). */
const JUMP_EVENTS = 5;
/** How close (ms) a scrubber's value must come to an event's t to show it. */
const SCRUB_TOLERANCE_MS = 0.001;
/** Replay speeds offered. */
export const GRAPH_REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8] as const;

export class GraphReplay {
  detail = $state<RecordedGraphRunDetail | null>(null);
  /** The run's events, in seq order (not deeply reactive: they never change once loaded). */
  events = $state.raw<PlaygroundEvent[]>([]);
  /** How many of them the session shows (0: none, events.length: the whole run). */
  position = $state(0);
  playing = $state(false);
  speed = $state(1);
  loading = $state(true);
  readonly clock = new ReplayClock();

  readonly #session: GraphSession;
  readonly #request: (method: string, path: string) => Promise<unknown>;
  #counters: GraphCounters = emptyGraphCounters();
  #frame: number | null = null;
  #lastWall = 0;

  constructor(session: GraphSession, request: (method: string, path: string) => Promise<unknown>) {
    this.#session = session;
    this.#request = request;
  }

  /** The timeline's length: the recorded duration, or the last event's t if that is later. */
  get durationMs(): number {
    return Math.max(this.detail?.durationMs ?? 0, this.events.at(-1)?.t ?? 0);
  }

  /** Loads run `id` and shows its first event (graph:started: the graph before anything was sent). */
  async open(id: string): Promise<void> {
    const session = this.#session;
    try {
      const detail = (await this.#request('GET', `/api/runs/${encodeURIComponent(id)}`)) as RecordedGraphRunDetail;
      if (detail.kind !== 'graph') throw new Error(`run ${id} is not a graph run: open it on the pipeline page`);
      const events: PlaygroundEvent[] = [];
      let fromSeq = 0;
      for (;;) {
        const window = (await this.#request(
          'GET',
          `/api/runs/${encodeURIComponent(id)}/events?fromSeq=${fromSeq}&limit=${WINDOW}`,
        )) as { events: PlaygroundEvent[]; nextSeq: number | null };
        events.push(...window.events);
        if (window.nextSeq === null) break;
        fromSeq = window.nextSeq;
      }
      const scenarios = (await this.#request('GET', '/api/graph-scenarios')) as GraphScenarioInfo[];
      session.scenario = scenarios.find((candidate) => candidate.id === detail.scenario) ?? null;
      session.showRecording({
        id: detail.playground,
        kind: 'graph',
        scenario: detail.scenario,
        title: detail.graph.title,
        graph: detail.graph,
        notes: [],
        allowIncompatible: false,
        activeRun: null,
        lastRun: { id: detail.id, summary: detail.graphSummary },
        lastSeq: detail.lastSeq,
        capabilities: {},
      });
      this.detail = detail;
      this.events = events;
      this.seekIndex(1);
    } catch (error) {
      session.error = toErrorInfo(error);
    } finally {
      this.loading = false;
    }
  }

  /** Shows the first `count` events (clamped to the run). */
  seekIndex(count: number): void {
    const target = Math.max(0, Math.min(Math.round(count), this.events.length));
    const session = this.#session;
    if (target < this.position) {
      session.rewind();
      this.#counters = emptyGraphCounters();
      this.position = 0;
    }
    const from = this.position;
    if (target > from) {
      const slice = this.events.slice(from, target);
      for (const event of slice) addGraphEvent(this.#counters, event);
      session.applyEvents(slice, 0, structuredClone(this.#counters));
      if (target - from > JUMP_EVENTS) {
        session.flights = session.flights.slice(-3);
        session.drops = session.drops.slice(-3);
      }
    }
    this.position = target;
    this.clock.shown = target > 0 ? this.events[target - 1]!.t : 0;
  }

  /**
   * Shows every event with t' <= t. A range input gives its value back rounded (414.36822500000017 comes back as
   * 414.368225): a microsecond's tolerance, or its end would miss the last event.
   */
  seekTime(t: number): void {
    let count = 0;
    while (count < this.events.length && this.events[count]!.t <= t + SCRUB_TOLERANCE_MS) count++;
    this.seekIndex(count);
    this.clock.shown = Math.max(0, Math.min(t, this.durationMs));
  }

  /** One event forward or back. */
  step(delta: number): void {
    this.pause();
    this.seekIndex(this.position + delta);
  }

  play(): void {
    if (this.playing || this.events.length === 0) return;
    if (this.position >= this.events.length) this.seekIndex(1);
    this.playing = true;
    this.#lastWall = performance.now();
    this.#frame = requestAnimationFrame(this.#tick);
  }

  pause(): void {
    this.playing = false;
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
  }

  close(): void {
    this.pause();
  }

  readonly #tick = (wall: number): void => {
    if (!this.playing) return;
    const elapsed = Math.max(0, wall - this.#lastWall) * this.speed;
    this.#lastWall = wall;
    this.seekTime(this.clock.shown + elapsed);
    if (this.position >= this.events.length) {
      this.pause();
      return;
    }
    this.#frame = requestAnimationFrame(this.#tick);
  };
}
