/**
 * One browser tab's view of one playground: finds or creates the playground (?p=<id>), keeps the event stream
 * open, folds events into RunState, and performs the user's actions through the HTTP API. It is the live RunView
 * (run-view.ts: the run, drawn on the LiveClock) and the only holder of actions; components that change the
 * playground read it through getSession(). It is the only place that fetches or opens sockets for a playground.
 *
 * Why one file of ~500 lines: it is the live page's façade, some twenty small actions that all run through one
 * queue (#enqueue: one at a time, a failure shown, a success clearing it) plus the stream they depend on. The
 * parts that stand alone live beside it: the run (run-state.svelte.ts and its parts), the parameter drafts
 * (param-drafts.svelte.ts), the page's address (page-address.ts) and which playground to open (playground-open.ts).
 */
import {
  type NewWorker,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type RunParams,
  type RunParamsPatch,
  type ScenarioInfo,
  type SinkInfo,
  type SinkPatch,
  type SocketOptionsPatch,
  type WorkerPatch,
  type WorkerSignal,
  type WireServerText,
} from '../../shared/protocol/index.ts';
import { NOT_PRESENTING, type PresenterState } from '../../shared/protocol/index.ts';
import * as api from './api.ts';
import * as lessonsApi from './lessons-api.ts';
import { ApiError, toErrorInfo, type Role } from './api.ts';
import { pageFrameLoop, type FrameLoop } from './frame-loop.svelte.ts';
import { t } from './i18n/index.svelte.ts';
import { addressOfLesson, addressOfPlayground, bootRequest, withoutLinkToken } from './page-address.ts';
import { ParamDrafts, type NumericParam } from './param-drafts.svelte.ts';
import { openRequested } from './playground-open.ts';
import { isServerStopped, withinCheckTime } from './server-stopped.ts';
import { LiveClock } from './run-clock.svelte.ts';
import { RunState, MESSAGES_SHOWN } from './run-state.svelte.ts';
import type { RunView } from './run-view.ts';
import { StreamClient, type ConnectionStatus, type EventsFrame, type SocketLike } from './stream-client.svelte.ts';

/** A lesson:checked event, as the lesson panel receives it. */
export type LessonChecked = Extract<PlaygroundEvent, { type: 'lesson:checked' }>;

/** The HTTP action in flight, if any (actions run one at a time). */
export type PendingAction =
  'boot' | 'start' | 'stop' | 'params' | 'scenario' | 'lesson' | 'undo' | 'topology' | 'sink' | 'options' | null;

export type { NumericParam } from './param-drafts.svelte.ts';

/** Scenarios offered when the server's list cannot be read. */
const FALLBACK_SCENARIOS: readonly Pick<ScenarioInfo, 'id' | 'title'>[] = [
  { id: 'tutorial', title: 'The tutorial' },
  { id: 'pipeline', title: 'Pipeline sandbox' },
];

/** An error shown to the user: the server's code and message. */
export interface ErrorInfo {
  code: string;
  /** English (or the browser's own words for failures only it sees). */
  message: string;
  /** The server's message as a key and parameters: said in the page's language (localize). */
  text?: WireServerText;
}

/** Delay before retrying to reach the server at start-up (ms). */
const BOOT_RETRY_MS = 3000;
/** The least time between two drawn frames while the stream is sampled (ms): ~30 frames a second. */
const SAMPLED_DRAW_INTERVAL_MS = 33;

/** What a test replaces: the frame loop (the page's by default) and the WebSocket. */
export interface SessionOptions {
  loop?: FrameLoop;
  createSocket?(url: string): SocketLike;
}

/** The tab's playground: bootstrap, stream, run state and actions. */
export class PlaygroundSession implements RunView {
  info = $state.raw<PlaygroundInfo | null>(null);
  error = $state.raw<ErrorInfo | null>(null);
  pending = $state<PendingAction>('boot');
  /** Numeric parameter fields being edited. */
  readonly drafts = new ParamDrafts();
  stream = $state.raw<StreamClient | null>(null);
  /** Run id the server gave us whose run:started has not arrived yet. */
  awaitingRun = $state<string | null>(null);
  scenarios = $state.raw<readonly Pick<ScenarioInfo, 'id' | 'title'>[]>(FALLBACK_SCENARIOS);

  /**
   * This session's role in the playground: its owner, a driver (invite link) or a watcher (watch link), who sees
   * it live but no controls. Null until the playground is known.
   */
  role = $state<Role | null>(null);
  /** The owner's watch and invite links, once asked for. */
  links = $state.raw<{ watch: string; invite: string } | null>(null);
  /** What the playground's presenter shows, as the stream last said (presenter mode; presenter.svelte.ts). */
  presenter = $state.raw<PresenterState>(NOT_PRESENTING);
  /**
   * The server that held this playground has stopped (behind a proxy, its instance is down: the proxy answers 503,
   * deploy/haproxy.cfg), and the playground went with it; its recorded runs did not. Null while it runs.
   */
  serverStopped = $state.raw<{ playground: string } | null>(null);

  readonly run = new RunState();
  readonly loop: FrameLoop;
  /** The live clock: the frame's wall time minus the delivery delay and LIVE_LAG_MS. */
  readonly clock: LiveClock;
  readonly #createSocket: ((url: string) => SocketLike) | undefined;
  readonly #stopFrames: () => void;

  constructor(options: SessionOptions = {}) {
    this.loop = options.loop ?? pageFrameLoop();
    this.#createSocket = options.createSocket;
    const loop = this.loop;
    this.clock = new LiveClock(() => loop.time);
    this.#stopFrames = loop.add((now) => {
      const isBusy = this.run.tick(this.clock.at(now), now);
      // A run's end can come with a frame, or later with its last dot (RunState holds it until then).
      this.#afterRunEnded();
      return isBusy;
    });
  }

  readonly connection: ConnectionStatus = $derived(this.stream?.status ?? 'connecting');
  /** A run is under way as far as the page knows (starting, running, or the server said one is active). */
  readonly #isRunUnderWay = $derived(
    this.pending === 'start' ||
      this.run.status === 'running' ||
      (this.awaitingRun !== null && this.awaitingRun !== this.run.runId) ||
      (this.info?.activeRun != null && this.info.activeRun !== this.run.runId),
  );
  /** A run is in progress on the playground's server: never once that server stopped (it went with it). */
  readonly isRunActive = $derived(this.serverStopped === null && this.#isRunUnderWay);
  /** Parameters of what the diagram shows: the run's, or the playground's before any run. */
  readonly viewParams: RunParams | null = $derived(this.run.params ?? this.info?.params ?? null);
  readonly showBuiltInWorkers = $derived(this.viewParams?.builtInWorkers ?? true);
  readonly showExternal = $derived(
    !this.showBuiltInWorkers || this.run.externalPeers > 0 || this.run.externalPeersMax > 0,
  );
  readonly intervalDraft = $derived(this.drafts.values.intervalMs ?? null);
  /** The first invalid draft's message, for the help line under the controls. */
  readonly draftError = $derived(this.drafts.firstError);
  readonly isPipeline = $derived(this.info?.scenario === 'pipeline');
  /** Whether this session may change the playground (run, topology, options, lessons); watchers only look. */
  readonly canDrive = $derived(this.role === 'owner' || this.role === 'driver');
  /** The sink of the next run (between runs) or of the run in progress. */
  readonly sink: SinkInfo | null = $derived(this.info?.sink ?? null);
  readonly showSink = $derived(this.sink?.enabled ?? false);
  /** Transports the scenario's ventilator can bind (what a worker may use). */
  readonly transports = $derived([...new Set((this.info?.endpoints ?? []).map((e) => e.transport))]);
  readonly canAddWorker = $derived((this.info?.workers.length ?? 0) < (this.info?.maxWorkers ?? 0));
  /**
   * The run badge: 'interrupted' when the playground's server stopped during a run (the run is cut short; the
   * server that restarts marks its recording incomplete), so that the page never says a run is running on a server
   * that stopped.
   */
  readonly runStateKey: 'ended' | 'running' | 'interrupted' | 'idle' = $derived(
    this.run.status === 'ended'
      ? 'ended'
      : this.#isRunUnderWay
        ? this.serverStopped === null
          ? 'running'
          : 'interrupted'
        : 'idle',
  );

  #isClosed = false;
  #isRecovering = false;
  #bootTimer: ReturnType<typeof setTimeout> | null = null;
  #filledRun: string | null = null;
  #queue: Promise<void> = Promise.resolve();

  /** Finds or creates the playground and connects (idempotent). */
  start(): void {
    if (this.#isClosed || this.info || this.#bootTimer) return;
    void this.#boot();
  }

  /** Closes the stream and the animation loop (idempotent). */
  close(): void {
    this.#isClosed = true;
    if (this.#bootTimer) clearTimeout(this.#bootTimer);
    this.#bootTimer = null;
    this.stream?.close();
    this.#stopFrames();
    this.loop.minIntervalMs = 0; // the page's loop is shared: a replay after this draws every frame
  }

  dismissError(): void {
    this.error = null;
  }

  /** What a numeric parameter field shows: the draft being typed, else the playground's value. */
  paramText(key: NumericParam): string {
    return this.drafts.text(key, this.info?.params[key]);
  }

  /** The error to show next to a numeric parameter field, if its draft is invalid. */
  paramError(key: NumericParam): string | null {
    return this.drafts.error(key);
  }

  editParam(key: NumericParam, text: string): void {
    this.drafts.edit(key, text);
  }

  /** Sends every valid draft that differs from the playground's value, in one PATCH. */
  commitParams(): Promise<void> {
    return this.#enqueue('params', async (id) => {
      await this.#sendDrafts(id, false);
    });
  }

  setIntervalMs(ms: number): Promise<void> {
    return this.setParams({ intervalMs: ms });
  }

  /** Sets parameters at once (presets, switches); drafts of the same fields are dropped. */
  setParams(patch: RunParamsPatch): Promise<void> {
    this.drafts.drop(Object.keys(patch));
    return this.#enqueue('params', async (id) => {
      const params = this.info?.params;
      const changed = Object.entries(patch).filter(([key, value]) => params?.[key as keyof RunParams] !== value);
      if (changed.length > 0) this.#setInfo(await api.patchParams(id, Object.fromEntries(changed) as RunParamsPatch));
    });
  }

  /** Opens a fresh playground of another scenario (the tab follows it: ?p= changes). */
  switchScenario(scenario: string): Promise<void> {
    return this.#enqueue('scenario', async () => {
      if (this.info?.scenario === scenario) return;
      const info = await api.createPlayground({ scenario });
      if (this.#isClosed) return;
      this.#forget();
      this.#attach(info);
    });
  }

  /**
   * Opens a lesson: a fresh playground when the lesson runs on another scenario (the tab follows it), else this
   * playground is put in the lesson's start.
   */
  openLesson(lesson: string, scenario: string): Promise<void> {
    return this.#enqueue('lesson', async (id) => {
      if (this.info?.scenario === scenario) {
        this.#setInfo(await lessonsApi.applyLesson(id, lesson, 'start'));
        return;
      }
      const info = await api.createPlayground({ lesson });
      if (this.#isClosed) return;
      this.#forget();
      this.#attach(info);
    });
  }

  /** After the playground's server stopped: a new playground of the same lesson or scenario, on a live server. */
  openNewAfterStop(): Promise<void> {
    return this.#enqueue('scenario', async () => {
      const lesson = this.info?.lesson ?? null;
      const info = await api.createPlayground(lesson ? { lesson } : { scenario: this.info?.scenario ?? 'tutorial' });
      if (this.#isClosed) return;
      this.serverStopped = null;
      this.#forget();
      this.#attach(info);
    });
  }

  /** Leaves the lessons for the free sandbox: a fresh pipeline playground. */
  openSandbox(): Promise<void> {
    return this.#enqueue('scenario', async () => {
      const info = await api.createPlayground({ scenario: 'pipeline' });
      if (this.#isClosed) return;
      this.#forget();
      this.#attach(info);
    });
  }

  /**
   * Presenter mode: a watcher follows the presenter to another playground (`moved` in its state), joining it with
   * the watch token the presenter gave.
   */
  followTo(playground: string, watchToken: string): Promise<void> {
    return this.#enqueue('scenario', async () => {
      const joined = await api.joinPlayground(playground, watchToken);
      if (this.#isClosed) return;
      this.#forget();
      this.#attach(joined.playground, joined.role);
    });
  }

  /** Presenter mode: sets what another playground this session drives shows its watchers (the class moves on). */
  async setPresenterOf(playground: string, state: PresenterState): Promise<void> {
    try {
      await api.setPresenter(playground, state);
    } catch (error) {
      this.error = toErrorInfo(error);
    }
  }

  /** Puts the playground in the lesson's start (reset) or its solution. */
  applyLessonStage(lesson: string, stage: 'start' | 'solution'): Promise<void> {
    return this.#enqueue('lesson', async (id) => {
      this.drafts.clear();
      this.#setInfo(await lessonsApi.applyLesson(id, lesson, stage));
    });
  }

  /** Takes back the last topology or parameter change (between runs). */
  undo(): Promise<void> {
    return this.#enqueue('undo', async (id) => {
      this.drafts.clear();
      this.#setInfo(await lessonsApi.undo(id));
    });
  }

  /** Called with every lesson:checked event the stream delivers (history included). */
  onLessonChecked: ((event: LessonChecked) => void) | null = null;

  #forget(): void {
    this.drafts.clear();
    this.#filledRun = null;
    this.awaitingRun = null;
  }

  addWorker(worker: NewWorker): Promise<void> {
    return this.#enqueue('topology', async (id) => {
      await api.addWorker(id, worker);
    });
  }

  removeWorker(worker: string): Promise<void> {
    return this.#enqueue('topology', async (id) => {
      await api.removeWorker(id, worker);
    });
  }

  updateWorker(worker: string, patch: WorkerPatch): Promise<void> {
    return this.#enqueue('topology', async (id) => {
      await api.updateWorker(id, worker, patch);
    });
  }

  signalWorker(worker: string, signal: WorkerSignal): Promise<void> {
    return this.#enqueue('topology', async (id) => {
      await api.signalWorker(id, worker, signal);
    });
  }

  setSink(patch: SinkPatch): Promise<void> {
    return this.#enqueue('sink', async (id) => {
      // The answer is the sink of the next run; playground:updated says the same a moment later.
      const sink = await api.patchSink(id, patch);
      if (this.info) this.info = { ...this.info, sink };
    });
  }

  setOptions(patch: SocketOptionsPatch): Promise<void> {
    return this.#enqueue('options', async (id) => {
      const options = await api.patchOptions(id, patch);
      if (this.info) this.info = { ...this.info, options };
    });
  }

  setBuiltInWorkers(isOn: boolean): Promise<void> {
    return this.#enqueue('params', async (id) => {
      if (isOn !== this.info?.params.builtInWorkers) this.#setInfo(await api.patchParams(id, { builtInWorkers: isOn }));
    });
  }

  /** Starts a run, first sending parameters still being edited (a click on Run does not wait for blur). */
  startRun(): Promise<void> {
    return this.#enqueue('start', async (id) => {
      if (this.run.status === 'running' || (this.awaitingRun !== null && this.awaitingRun !== this.run.runId)) return;
      await this.#sendDrafts(id, true);
      const run = await api.startRun(id);
      if (run !== this.run.runId) this.awaitingRun = run;
    });
  }

  /** PATCHes the valid drafts that differ; with `strict`, an invalid draft is an error instead of waiting. */
  async #sendDrafts(id: string, strict: boolean): Promise<void> {
    const { patch, valid, invalid } = this.drafts.collect(this.info?.params);
    if (strict && invalid !== null) throw new ApiError('PG_ERR_VALIDATION', invalid);
    if (Object.keys(patch).length > 0) this.#setInfo(await api.patchParams(id, patch));
    this.drafts.settle(valid);
  }

  stopRun(): Promise<void> {
    return this.#enqueue('stop', async (id) => {
      await api.stopRun(id);
    });
  }

  /**
   * Runs actions one after another, so a Run click waits for the params change its blur just triggered.
   * A failure becomes the visible error; a success clears it.
   */
  #enqueue(kind: Exclude<PendingAction, 'boot' | null>, action: (id: string) => Promise<void>): Promise<void> {
    const next = this.#queue.then(async () => {
      const id = this.info?.id;
      if (!id || this.#isClosed) return;
      this.pending = kind;
      try {
        await action(id);
        this.error = null;
      } catch (error) {
        this.error = toErrorInfo(error);
      } finally {
        this.pending = null;
      }
    });
    this.#queue = next;
    return next;
  }

  async #boot(): Promise<void> {
    this.#bootTimer = null;
    this.pending = 'boot';
    try {
      // A shared link: ?p=<id>&watch=<token> (read-only) or &invite=<token> (may drive).
      const request = bootRequest(location.href);
      void this.#loadScenarios();
      const { info, role } = await openRequested(request);
      // The session has its role now: the link's token leaves the address bar (and the browser's history).
      if (request.token) history.replaceState(history.state, '', withoutLinkToken(location.href));
      if (this.#isClosed) return;
      this.pending = null;
      this.#attach(info, role);
      if (this.error?.code === 'PG_ERR_NETWORK') this.error = null;
    } catch (error) {
      if (this.#isClosed) return;
      this.error = toErrorInfo(error);
      this.#bootTimer = setTimeout(() => void this.#boot(), BOOT_RETRY_MS);
    }
  }

  async #loadScenarios(): Promise<void> {
    try {
      const list = await api.listScenarios();
      if (list.length > 0) this.scenarios = list;
    } catch {
      // The fallback list names the same two scenarios.
    }
  }

  /** Asks for the owner's watch and invite links (once per playground). */
  async loadLinks(): Promise<{ watch: string; invite: string } | null> {
    const id = this.info?.id;
    if (!id || this.role !== 'owner') return null;
    if (this.links) return this.links;
    try {
      const links = await api.getLinks(id);
      if (this.info?.id === id) this.links = links;
      return links;
    } catch (error) {
      this.error = toErrorInfo(error);
      return null;
    }
  }

  /** Points the tab (URL, stream, state) at a playground, in which this session has `role`. */
  #attach(info: PlaygroundInfo, role: Role = 'owner'): void {
    this.role = role;
    this.links = null;
    this.presenter = NOT_PRESENTING;
    const address = addressOfPlayground(location.href, info.id);
    if (address) history.replaceState(history.state, '', address);
    this.stream?.close();
    this.run.reset(info);
    this.clock.reset();
    this.loop.minIntervalMs = 0;
    this.#setInfo(info);
    const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const stream = new StreamClient({
      url: `${protocol}//${location.host}/api/playgrounds/${encodeURIComponent(info.id)}/stream`,
      onHello: (playground, isReset) => {
        if (isReset) this.run.reset(playground);
        this.#setInfo(playground);
      },
      onEvents: (frame) => this.#onEvents(frame),
      onPlayground: (playground) => this.#setInfo(playground),
      onPresenter: (presenter) => (this.presenter = presenter),
      onServerError: (code, message, text) => {
        if (code === 'PG_ERR_NOT_FOUND') void this.#recover();
        else this.error = text ? { code, message, text } : { code, message };
      },
      onConnectFailure: (failures) => {
        if (failures >= 2) void this.#recover();
      },
      // Task events come as packed columns when a frame carries many (SPEC [W5]): cheaper to send and to fold.
      binaryFrames: true,
      createSocket: this.#createSocket,
    });
    this.stream = stream;
    stream.start();
  }

  #setInfo(info: PlaygroundInfo): void {
    this.info = info;
    this.#syncLessonParam(info.lesson);
    this.run.seed(info);
  }

  #onEvents(frame: EventsFrame): void {
    const arrivedAt = this.loop.now();
    this.run.applyFrame(frame, arrivedAt);
    // While the stream is sampled (a burst: the server left task events out) the run is drawn at ~30 frames a
    // second, until frames come whole again or the run ends (frame-loop.svelte.ts); counts stay exact either way.
    this.loop.minIntervalMs = frame.dropped > 0 && this.run.status === 'running' ? SAMPLED_DRAW_INTERVAL_MS : 0;
    this.clock.follow(this.run.runId, frame.events, arrivedAt, frame.tasks);
    const onLessonChecked = this.onLessonChecked;
    if (onLessonChecked && this.info?.lesson) {
      for (const event of frame.events) if (event.type === 'lesson:checked') onLessonChecked(event);
    }
    if (this.awaitingRun !== null && this.run.runId === this.awaitingRun) this.awaitingRun = null;
    this.#afterRunEnded();
    this.loop.wake();
  }

  #afterRunEnded(): void {
    if (this.run.status !== 'ended') return;
    const info = this.info;
    // playground:updated is about params; run starts and ends arrive as events, so keep activeRun in step here.
    if (info && info.activeRun !== null && info.activeRun === this.run.runId) this.info = { ...info, activeRun: null };
    void this.#fillMessages();
  }

  /** ?lesson=<id> names the playground's lesson, so a link opens it. */
  #syncLessonParam(lesson: string | null): void {
    const address = addressOfLesson(location.href, lesson);
    if (address) history.replaceState(history.state, '', address);
  }

  /** Sampled streams (or a late join) leave gaps in the message lists; the run detail has them all. */
  async #fillMessages(): Promise<void> {
    const id = this.info?.id;
    const run = this.run.runId;
    if (!id || !run || this.#filledRun === run || !this.run.keepMessages) return;
    // Messages whose dots are still flying are not missing: they join the list as they land.
    const isIncomplete = this.run.workers.some((w) => w.messages.length + w.inAir < Math.min(w.count, MESSAGES_SHOWN));
    if (!isIncomplete) return;
    this.#filledRun = run;
    try {
      const detail = await api.getRun(id, run);
      this.run.fillMessages(run, detail.messages);
    } catch {
      // Only a nicer list is lost; counts are exact already.
    }
  }

  /** The stream keeps failing or says the playground is gone: make sure it still exists, else start a new one. */
  async #recover(): Promise<void> {
    const id = this.info?.id;
    if (!id || this.#isRecovering || this.#isClosed) return;
    this.#isRecovering = true;
    try {
      // Bounded: while it is unanswered no other check starts (a stopped server's request may hang, not fail).
      await withinCheckTime(api.getPlayground(id));
    } catch (error) {
      if (error instanceof ApiError && error.code === 'PG_ERR_NOT_FOUND') {
        try {
          const info = await api.createPlayground({ scenario: this.info?.scenario ?? 'tutorial' });
          if (!this.#isClosed) {
            this.#attach(info);
            this.error = { code: 'PG_ERR_NOT_FOUND', message: t('error.gone', { id }) };
          }
        } catch (createError) {
          this.error = toErrorInfo(createError);
        }
      } else if (isServerStopped(error)) {
        // Nothing to reconnect to: the playground lived in that server's memory. Say so, and offer a new one.
        this.stream?.close();
        this.serverStopped = { playground: id };
      }
    } finally {
      this.#isRecovering = false;
    }
  }
}
