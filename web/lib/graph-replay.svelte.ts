/**
 * Replaying a recorded graph run on the patterns page (`?graph=<scenario>&run=<id>`, issue 11): the run's detail
 * and its stored events, folded into the page's GraphSession as the live stream's frames are, so the diagram, the
 * counters, the text twin and the summary draw a moment of the recording the way they draw a live run. The playhead
 * is a ReplayClock (run time, the events' `t`).
 *
 * A run may hold hundreds of thousands of events, so the page never holds it whole: it holds one window (at most
 * `window` events, fetched with history-api's getEvents as the pipeline's replay fetches its windows) after a base,
 * the run's state at the window's start (GraphRunStateAt). Within the window a seek folds locally (going back
 * restores the base and folds again up to the moment); playing past its end slides on to the next window; a seek
 * outside it asks the server for the state at that moment (`GET /api/runs/:id/graph-state?t=|count=`) and fetches
 * the window after it. Seeks are queued, and a scrub that a newer one overtook is skipped.
 */
import type { PlaygroundEvent, RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import {
  copyGraphRunState,
  emptyGraphRunState,
  foldGraphState,
  graphAtMoment,
  type GraphRunStateAt,
} from '../../shared/protocol/graph-run-state.ts';
import { MAX_EVENT_WINDOW } from '../../shared/protocol/history.ts';
import { toErrorInfo } from './api.ts';
import { getEvents, getGraphStateAt, type Send } from './history-api.ts';
import type { GraphScenarioInfo, GraphSession } from './graph-session.svelte.ts';
import { ReplayClock } from './run-clock.svelte.ts';

/** A jump over more events than this keeps only the last few dots and marks (the rest would fly all at once). */
const JUMP_EVENTS = 5;
/** How close (ms) a scrubber's value must come to an event's t to show it. */
const SCRUB_TOLERANCE_MS = 0.001;
/** #showLinks's key for the graph as graph:started recorded it: nothing moved, added or removed. */
const AS_RECORDED = JSON.stringify([{}, [], []]);

export interface GraphReplayOptions {
  /** Events per window (1..MAX_EVENT_WINDOW; the API's largest by default). */
  window?: number;
}

export class GraphReplay {
  detail = $state<RecordedGraphRunDetail | null>(null);
  /** How many of the run's events the session shows (0: none, total: the whole run). */
  position = $state(0);
  playing = $state(false);
  speed = $state(1);
  loading = $state(true);
  readonly clock = new ReplayClock();
  /** The most events the page has held at once (a test's proof that memory stays bounded). */
  mostHeld = 0;

  readonly #session: GraphSession;
  readonly #send: Send;
  readonly #window: number;
  /** The run's state before the window's first event. */
  #base: GraphRunStateAt = emptyGraphRunState('');
  /** The window: the events after the base, in seq order (never reactive). */
  #events: PlaygroundEvent[] = [];
  /** More events follow the window. */
  #more = false;
  /** What the session shows: the base plus the window's first #shown events. */
  #state: GraphRunStateAt = emptyGraphRunState('');
  #shown = 0;
  /** Seeks run one after another; a scrub overtaken by a newer one is skipped. */
  #queue: Promise<void> = Promise.resolve();
  #latestScrub = 0;
  /** A step of playing is queued or a window is being fetched: the next frame waits for it. */
  #advancing = false;
  #frame: number | null = null;
  #lastWall = 0;
  /** The moved links and added and removed nodes (JSON) the session's graph was last drawn with. */
  #linksShown = AS_RECORDED;

  constructor(session: GraphSession, send: Send, options: GraphReplayOptions = {}) {
    this.#session = session;
    this.#send = send;
    this.#window = Math.max(1, Math.min(MAX_EVENT_WINDOW, options.window ?? MAX_EVENT_WINDOW));
  }

  /** The run's events, all of them (the page holds a window of them). */
  get total(): number {
    return this.detail?.eventCount ?? 0;
  }

  /** Events held right now. */
  get held(): number {
    return this.#events.length;
  }

  /** The timeline's length: the recorded duration, or the last event seen if that is later. */
  get durationMs(): number {
    return Math.max(this.detail?.durationMs ?? 0, this.#state.lastT, this.#events.at(-1)?.t ?? 0);
  }

  /** Loads run `id` and shows its first event (graph:started: the graph before anything was sent). */
  async open(id: string): Promise<void> {
    const session = this.#session;
    try {
      const detail = (await this.#send('GET', `/api/runs/${encodeURIComponent(id)}`)) as RecordedGraphRunDetail;
      if (detail.kind !== 'graph') throw new Error(`run ${id} is not a graph run: open it on the pipeline page`);
      const scenarios = (await this.#send('GET', '/api/graph-scenarios')) as GraphScenarioInfo[];
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
      this.#linksShown = AS_RECORDED; // the session now draws this run's graph as recorded
      await this.#loadAfter(emptyGraphRunState(detail.id), true);
      this.#foldTo(Math.min(1, this.#events.length));
    } catch (error) {
      session.error = toErrorInfo(error);
    } finally {
      this.loading = false;
    }
  }

  /** Shows the run's first `count` events (clamped to the run). */
  seekIndex(count: number): Promise<void> {
    return this.#enqueue(() => this.#seekIndexNow(count));
  }

  /**
   * Shows every event with t' <= t. A range input gives its value back rounded (414.36822500000017 comes back as
   * 414.368225): a microsecond's tolerance, or its end would miss the last event.
   */
  seekTime(t: number): Promise<void> {
    const scrub = ++this.#latestScrub;
    return this.#enqueue(async () => {
      if (scrub !== this.#latestScrub) return; // a newer scrub is queued: this moment would only flash by
      await this.#showTime(t);
      this.clock.shown = Math.max(0, Math.min(t, this.durationMs));
    });
  }

  /** One event forward or back. */
  step(delta: number): Promise<void> {
    this.pause();
    return this.#enqueue(() => this.#seekIndexNow(this.position + delta));
  }

  play(): void {
    if (this.playing || this.total === 0) return;
    this.playing = true;
    if (this.position >= this.total) void this.seekIndex(1);
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

  /** Waits until every seek asked for so far is shown. */
  settled(): Promise<void> {
    return this.#queue;
  }

  get #id(): string {
    return this.detail?.id ?? '';
  }

  /** seekIndex's work, inside the queue. */
  async #seekIndexNow(count: number): Promise<void> {
    const target = Math.max(0, Math.min(Math.round(count), this.total));
    const inWindow = target - this.#base.count;
    if (inWindow >= 0 && inWindow <= this.#events.length) this.#foldTo(inWindow);
    else await this.#loadAfter(await getGraphStateAt(this.#id, { count: target }, this.#send), true);
    this.clock.shown = this.#state.lastT;
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(work).catch((error: unknown) => {
      this.pause();
      this.#session.error = toErrorInfo(error);
    });
    this.#queue = next;
    return next;
  }

  /** The events with t' <= t: folded from the window when it holds the moment, else from the server's state. */
  async #showTime(t: number): Promise<void> {
    const limit = t + SCRUB_TOLERANCE_MS;
    let inWindow = 0;
    while (inWindow < this.#events.length && this.#events[inWindow]!.t <= limit) inWindow++;
    const holds = this.#base.lastT <= limit && (inWindow < this.#events.length || !this.#more);
    if (holds) this.#foldTo(inWindow);
    else await this.#loadAfter(await getGraphStateAt(this.#id, { t: limit }, this.#send), true);
  }

  /**
   * Makes `base` the window's start and fetches the events after it. `restore`: the session shows the base (a
   * jump); without, the session already shows it (playing on past the window's end).
   */
  async #loadAfter(base: GraphRunStateAt, restore: boolean): Promise<void> {
    const window = await getEvents(this.#id, { fromSeq: base.lastSeq + 1, limit: this.#window }, this.#send);
    this.#base = copyGraphRunState(base);
    this.#state = base;
    this.#events = window.events;
    this.#more = window.nextSeq !== null;
    this.#shown = 0;
    this.mostHeld = Math.max(this.mostHeld, window.events.length);
    if (restore) this.#restore();
    this.position = this.#state.count;
  }

  /** The session shows #state and nothing in flight (a jump: no dot flies from the moment before). */
  #restore(): void {
    const session = this.#session;
    const state = this.#state;
    session.rewind();
    session.runState = state.runState;
    session.endReason = state.endReason;
    session.summary = state.summary;
    session.refusals = state.refusals.map((refusal) => ({ ...refusal }));
    session.lastBodies = { ...state.lastBodies };
    session.counters = structuredClone(state.counters);
    // Which nodes run as processes (their pids) and what a visitor did to them, as of the moment.
    // (fromEntries: own properties whatever the names, "__proto__" too.)
    const processes = Object.entries(state.processes ?? {});
    session.processPids = Object.fromEntries(
      processes.flatMap(([node, process]) => (process.pid !== undefined ? [[node, process.pid]] : [])),
    );
    session.nodeStates = Object.fromEntries(
      processes.flatMap(([node, process]) => (process.state !== undefined ? [[node, process.state]] : [])),
    );
    this.#showLinks();
  }

  /**
   * The session draws the graph as it was at the moment shown: the recorded graph (graph:started's, before any
   * move) with each link moved so far (link:moved) on its new transport, and the nodes added (node:added) and
   * removed (node:removed) so far, so a scrub back before a move shows the old transport again, and one before an
   * add does not draw the node. The live page needs none of this: the server sends its graph as changed by the move.
   */
  #showLinks(): void {
    const session = this.#session;
    const state = this.#state;
    // The nodes added and removed so far (node:added, node:removed) too: a scrub before an add does not draw it.
    const shown = JSON.stringify([
      state.movedLinks ?? {},
      Object.keys(state.addedNodes ?? {}),
      state.removedNodes ?? [],
    ]);
    if (!this.detail || !session.info || shown === this.#linksShown) return;
    this.#linksShown = shown;
    session.info = { ...session.info, graph: graphAtMoment(this.detail.graph, state) };
  }

  /** Shows the base and the window's first `count` events. */
  #foldTo(count: number): void {
    if (count < this.#shown) {
      this.#state = copyGraphRunState(this.#base);
      this.#shown = 0;
      this.#restore();
    }
    if (count > this.#shown) {
      const slice = this.#events.slice(this.#shown, count);
      for (const event of slice) foldGraphState(this.#state, event);
      const session = this.#session;
      session.applyEvents(slice, 0, structuredClone(this.#state.counters));
      this.#showLinks();
      if (slice.length > JUMP_EVENTS) {
        session.flights = session.flights.slice(-3);
        session.drops = session.drops.slice(-3);
      }
      this.#shown = count;
    }
    this.position = this.#state.count;
  }

  readonly #tick = (wall: number): void => {
    if (!this.playing) return;
    const elapsed = Math.max(0, wall - this.#lastWall) * this.speed;
    this.#lastWall = wall;
    if (!this.#advancing) {
      this.#advancing = true;
      void this.#advance(this.clock.shown + elapsed).finally(() => (this.#advancing = false));
    }
    this.#frame = requestAnimationFrame(this.#tick);
  };

  /** Playing: folds up to `t`, sliding on to the next window at the end of this one. */
  #advance(t: number): Promise<void> {
    return this.#enqueue(async () => {
      if (!this.playing) return;
      const limit = t + SCRUB_TOLERANCE_MS;
      let inWindow = this.#shown;
      while (inWindow < this.#events.length && this.#events[inWindow]!.t <= limit) inWindow++;
      this.#foldTo(inWindow);
      if (inWindow === this.#events.length && this.#more) {
        await this.#loadAfter(this.#state, false);
        return; // the clock stays: the next frame goes on from the new window
      }
      this.clock.shown = Math.min(t, this.durationMs);
      if (this.position >= this.total && !this.#more) this.pause();
    });
  }
}
