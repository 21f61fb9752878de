/**
 * A recorded run replayed on the live page's own components. ReplaySession is a RunView (run-view.ts), as the live
 * session is, so Diagram, AccountingBar and the panels read it through the same context, unchanged; it has no
 * actions and never connects. Its RunState is fed recorded events through the same `applyFrame` the live stream
 * uses, and its PlaybackClock is the playhead (a ReplayClock) instead of the wall clock. Playing moves the
 * playhead on the page's frame loop.
 *
 *   seek(t)  -> rebuild: RunState folds every loaded event with t' <= t in one frame (exact counters; the events of
 *               the last flight duration are "news", so their dots stand where they stood at t)
 *   playing  -> each animation frame folds only the events that became due, like live frames
 *
 * Small runs (< WHOLE_RUN_EVENTS) are fetched whole; bigger ones a window at a time: exact counters at the
 * window's start (`counters?t=`) plus up to MAX_EVENT_WINDOW events after it, and every non-task event of the
 * run (`events?kind=topology`) for its topology at any moment.
 */
import { MAX_EVENT_WINDOW, type RecordedRunDetail } from '../../shared/protocol/history.ts';
import type { PlaygroundEvent, PlaygroundInfo, RunParams, SinkInfo, Transport } from '../../shared/protocol/index.ts';
import { DEFAULT_SOCKET_OPTIONS } from '../../shared/protocol/index.ts';
import { toErrorInfo } from './api.ts';
import { localize } from './i18n/index.svelte.ts';
import { flightDuration } from './flights.ts';
import { pageFrameLoop, type FrameLoop } from './frame-loop.svelte.ts';
import * as history from './history-api.ts';
import {
  SPEEDS,
  WHOLE_RUN_EVENTS,
  advance,
  covers,
  emptyCounts,
  eventAt,
  forwardFrame,
  nextEventTime,
  permalink,
  previousEventTime,
  replayFrame,
  timelineMarks,
  type Counts,
  type LoadedWindow,
  type Speed,
  type TimelineMark,
} from './replay.ts';
import { ReplayClock } from './run-clock.svelte.ts';
import { RunState } from './run-state.svelte.ts';
import type { RunView } from './run-view.ts';

type Started = Extract<PlaygroundEvent, { type: 'run:started' }>;

/** How far before the playhead a big run's window starts (so the dots in flight at the playhead are drawn). */
const WINDOW_BACK_MS = 500;
/**
 * Non-task events fetched for a big run's topology. A run has a few per connection and per ventilator state
 * change; a run that blocked and unblocked hundreds of thousands of times is drawn from its first 50,000.
 */
const MAX_TOPOLOGY_EVENTS = 50_000;

function transportOf(address: string): Transport {
  return address.startsWith('ipc:') ? 'ipc' : address.startsWith('inproc:') ? 'inproc' : 'tcp';
}

/** What a test replaces: the frame loop (the page's by default). */
export interface ReplayOptions {
  loop?: FrameLoop;
}

/** One recorded run on the timeline. */
export class ReplaySession implements RunView {
  readonly runId: string;
  readonly run = new RunState();
  /** The moment the diagram draws: the playhead, once its state is shown. */
  readonly clock = new ReplayClock();
  /** The recorded topology, params and sink as a PlaygroundInfo (null until loaded). */
  info = $state.raw<PlaygroundInfo | null>(null);
  detail = $state.raw<RecordedRunDetail | null>(null);
  /** The playhead (ms since the run started). */
  time = $state(0);
  isPlaying = $state(false);
  speed = $state<Speed>(1);
  isLoading = $state(true);
  loadError = $state<string | null>(null);
  /** The event at (or just before) the playhead: what the timeline names. */
  current = $state.raw<PlaygroundEvent | null>(null);
  /** The run's first event, with its whole topology. */
  started = $state.raw<Started | null>(null);
  /** Times of the run's non-task events, for the timeline's ticks. */
  marks = $state.raw<TimelineMark[]>([]);

  readonly duration = $derived(this.detail?.durationMs ?? 0);
  /** Parameters of the run: as recorded. */
  readonly viewParams: RunParams | null = $derived(this.run.params ?? this.info?.params ?? null);
  readonly showBuiltInWorkers = $derived(this.viewParams?.builtInWorkers ?? true);
  readonly showExternal = $derived(
    !this.showBuiltInWorkers || this.run.externalPeers > 0 || this.run.externalPeersMax > 0,
  );
  readonly isPipeline = $derived(this.info?.scenario === 'pipeline');
  readonly sink: SinkInfo | null = $derived(this.info?.sink ?? null);
  readonly showSink = $derived(this.sink?.enabled ?? false);

  #window: LoadedWindow | null = null;
  #prologue: PlaygroundEvent[] = [];
  #isWhole = false;
  #appliedSeq = 0;
  /** Removes the playing callback from the frame loop (null while paused). */
  #stopFrames: (() => void) | null = null;
  #lastFrame = 0;
  #isClosed = false;
  readonly #loop: FrameLoop;

  constructor(runId: string, options: ReplayOptions = {}) {
    this.runId = runId;
    this.#loop = options.loop ?? pageFrameLoop();
  }

  close(): void {
    this.#isClosed = true;
    this.pause();
  }

  /** Fetches the run and shows its first moment. */
  async open(): Promise<void> {
    try {
      const detail = await history.getRecordedRun(this.runId);
      if (this.#isClosed) return;
      this.detail = detail;
      if (detail.eventCount < WHOLE_RUN_EVENTS) {
        const events = await this.#fetchAll(detail.firstSeq, detail.lastSeq);
        this.#isWhole = true;
        this.#prologue = events.slice(0, 1);
        this.#window = {
          run: this.runId,
          prologue: this.#prologue,
          base: emptyCounts(),
          events,
          fromT: 0,
          toT: Infinity,
        };
        this.marks = timelineMarks(events);
      } else {
        // Every non-task event (sockets, workers, endpoints, ventilator): however far the playhead jumps, the
        // diagram is drawn from the topology as it was then, and the window adds the tasks around it.
        this.#prologue = await this.#fetchAll(detail.firstSeq, detail.lastSeq, 'topology', MAX_TOPOLOGY_EVENTS);
        this.marks = timelineMarks(this.#prologue);
        await this.#loadWindow(0);
      }
      if (this.#isClosed) return;
      const first = this.#prologue[0];
      if (first?.type === 'run:started') this.started = first;
      this.info = this.#infoOf(detail);
      this.isLoading = false;
      this.#show(0);
    } catch (error) {
      // A graph run's permalink without ?graph= (typed by hand): the patterns page replays it.
      if (error instanceof history.GraphRunError && typeof location !== 'undefined') {
        location.replace(permalink(location.href, this.runId, error.scenario));
        return;
      }
      this.isLoading = false;
      this.loadError = localize(toErrorInfo(error));
    }
  }

  /** Moves the playhead to `t` and shows the run exactly as it was then. */
  async seek(t: number): Promise<void> {
    const time = Math.min(this.duration, Math.max(0, t));
    this.time = time;
    if (!covers(this.#window, time)) await this.#loadWindow(time);
    if (this.#isClosed || this.time !== time) return;
    this.#show(time);
  }

  play(): void {
    if (this.isPlaying || this.isLoading || this.loadError) return;
    if (this.time >= this.duration) void this.seek(0);
    this.isPlaying = true;
    this.#lastFrame = this.#loop.now();
    this.#stopFrames ??= this.#loop.add((now) => this.#onFrame(now));
    this.#loop.wake();
  }

  pause(): void {
    this.#stopFrames?.();
    this.#stopFrames = null;
    if (!this.isPlaying) return;
    this.isPlaying = false;
    // Counters are throttled while playing: settle on the exact state at the playhead.
    if (covers(this.#window, this.time)) this.#show(this.time);
  }

  toggle(): void {
    if (this.isPlaying) this.pause();
    else this.play();
  }

  setSpeed(speed: number): void {
    const found = SPEEDS.find((s) => s === speed);
    if (found !== undefined) this.speed = found;
  }

  /** To the next (+1) or previous (-1) event's moment. */
  async step(direction: 1 | -1): Promise<void> {
    this.pause();
    const events = this.#window?.events ?? [];
    let target = direction > 0 ? nextEventTime(events, this.time) : previousEventTime(events, this.time);
    if (target === null && !this.#isWhole) {
      if (direction > 0) {
        await this.#loadWindow(this.time, 0);
        target = nextEventTime(this.#window?.events ?? [], this.time);
      } else {
        // The previous event lies before the loaded window: the last event strictly before the playhead.
        const at = await history.getCountersAt(this.runId, Math.max(0, this.time - 1e-6));
        if (at.lastSeq > 0 && at.t < this.time) {
          const page = await history.getEvents(this.runId, { fromSeq: at.lastSeq, toSeq: at.lastSeq, limit: 1 });
          target = page.events[0]?.t ?? null;
        }
      }
    }
    if (target === null) target = direction > 0 ? this.duration : 0;
    await this.seek(target);
  }

  /** One frame while playing: the playhead moves by the frame's time times the speed. */
  #onFrame(now: number): boolean {
    if (!this.isPlaying || this.#isClosed) return false;
    const elapsed = now - this.#lastFrame;
    this.#lastFrame = now;
    const next = advance(this.time, elapsed, this.speed, this.duration);
    if (!covers(this.#window, next)) {
      // A big run: fetch the next window, then go on.
      this.#stopFrames?.();
      this.#stopFrames = null;
      this.isPlaying = false;
      void this.seek(next).then(() => this.play());
      return false;
    }
    this.#forward(next);
    if (next >= this.duration) {
      this.pause();
      return false;
    }
    return true;
  }

  /** Folds the events that became due since the last frame, as the live stream would have delivered them. */
  #forward(time: number): void {
    const window = this.#window;
    if (!window) return;
    this.time = time;
    const frame = forwardFrame(window, this.#appliedSeq, time);
    if (frame.events.length > 0) {
      this.run.applyFrame(frame, time);
      this.#appliedSeq = frame.events.at(-1)!.seq;
    }
    this.clock.shown = time;
    this.run.tick(time, time);
    this.current = eventAt(window.events, time);
  }

  /** Rebuilds the run's state at `time` from the loaded events. */
  #show(time: number): void {
    const window = this.#window;
    if (!window) return;
    const frame = replayFrame(window, time, flightDuration(this.started?.params.intervalMs ?? 1000));
    this.run.applyFrame(frame, time);
    this.#appliedSeq = frame.events.at(-1)?.seq ?? 0;
    this.clock.shown = time;
    this.run.tick(time, time);
    // A moment picked on the timeline shows the run exactly as it was then: every message received by then is
    // listed and counted, even the ones whose dots are drawn still flying. (Playing lists them as they land.)
    this.run.landAll();
    this.current = eventAt(window.events, time);
  }

  async #fetchAll(
    fromSeq: number,
    toSeq: number,
    kind: 'all' | 'topology' = 'all',
    max = Infinity,
  ): Promise<PlaygroundEvent[]> {
    const events: PlaygroundEvent[] = [];
    let next: number | null = fromSeq;
    while (next !== null && !this.#isClosed && events.length < max) {
      const page = await history.getEvents(this.runId, { fromSeq: next, toSeq, limit: MAX_EVENT_WINDOW, kind });
      events.push(...page.events);
      next = page.nextSeq;
    }
    return events;
  }

  /**
   * Big runs: the exact counters at a little before `time` and the events after them; when that window is cut
   * (dense events) before reaching `time`, it starts at `time` itself.
   */
  async #loadWindow(time: number, backMs = WINDOW_BACK_MS): Promise<void> {
    if (this.#isWhole) return;
    await this.#loadWindowFrom(Math.max(0, time - backMs));
    if (backMs > 0 && !covers(this.#window, time)) await this.#loadWindowFrom(time);
  }

  #loadWindowFrom(from: number): Promise<void> {
    return (async () => {
      this.isLoading = true;
      try {
        const at = await history.getCountersAt(this.runId, from);
        const page = await history.getEvents(this.runId, { fromSeq: at.lastSeq + 1, limit: MAX_EVENT_WINDOW });
        let events = page.events;
        let toT = this.duration;
        if (page.nextSeq !== null && events.length > 0) {
          // Cut by the limit: events sharing the last t may continue in the next page, so stop just before it.
          const lastT = events.at(-1)!.t;
          const kept = events.filter((e) => e.t < lastT);
          if (kept.length > 0) events = kept;
          toT = kept.length > 0 ? lastT - 1e-6 : lastT;
        }
        const base: Counts = {
          sent: at.sent,
          received: { ...at.received },
          done: { ...at.done },
          collected: at.collected,
          lost: at.lost,
          lastSeq: at.lastSeq,
        };
        this.#window = {
          run: this.runId,
          prologue: this.#prologue,
          base,
          events,
          fromT: from,
          toT: Math.max(toT, from),
        };
      } catch (error) {
        this.loadError = localize(toErrorInfo(error));
      } finally {
        this.isLoading = false;
      }
    })();
  }

  /** A PlaygroundInfo for the components: the recorded topology, no actions possible. */
  #infoOf(detail: RecordedRunDetail): PlaygroundInfo {
    const events = this.#window?.events ?? [];
    const sinkBound = this.#prologue.concat(events.slice(0, 2000)).find((e) => e.type === 'sink:bound');
    return {
      id: detail.playground,
      scenario: detail.scenario,
      title: detail.name,
      params: detail.params,
      endpoints: this.started?.endpoints ?? detail.endpoints,
      workers: this.started?.workers ?? detail.workers,
      sink: {
        enabled: sinkBound !== undefined,
        transport: sinkBound?.type === 'sink:bound' ? transportOf(sinkBound.address) : 'tcp',
        address: sinkBound?.type === 'sink:bound' ? sinkBound.address : null,
      },
      options: DEFAULT_SOCKET_OPTIONS,
      maxWorkers: 0,
      lesson: null,
      undoDepth: 0,
      activeRun: null,
      lastSeq: detail.lastSeq,
    };
  }
}
