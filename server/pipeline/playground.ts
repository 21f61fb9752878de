/**
 * A playground: one scenario, its topology (workers, sink, socket options), its parameters, its event log and
 * its runs, one at a time. Topology changes apply to the running pipeline at once and to every later run.
 * Stamps `run` and `t` on every event; the RunLog stamps `seq`. Runs headless: tests drive it without HTTP.
 *
 * This file is the playground's public face and its runs' lifecycle (start, stop, close, every event stamped).
 * The topology and its edits live in playground-topology.ts (with undo in playground-design.ts, the checks in
 * playground-checks.ts, options reaching a running pipeline in playground-options.ts), the runs kept and read in
 * playground-runs.ts, the watchers, info listeners and presenter state in playground-watchers.ts.
 */
import { text } from '../../shared/protocol/server-text.ts';
import {
  DEFAULT_MAX_WORKERS,
  type Counters,
  type EndpointInfo,
  type EventInput,
  type NewWorker,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type PresenterState,
  type RunDetail,
  type RunParams,
  type RunParamsPatch,
  type RunSummary,
  type SinkInfo,
  type SinkPatch,
  type SocketOptions,
  type SocketOptionsPatch,
  type WorkerInfo,
  type WorkerPatch,
  type WorkerSignal,
} from '../../shared/protocol/index.ts';
import type { Scenario } from '../../shared/scenarios/index.ts';
import type { Lesson } from '../../shared/lessons/index.ts';
import { RunLog } from '../recorder/run-log.ts';
import { IpcClaims, type EndpointPolicy } from './endpoints.ts';
import { PipelineRun } from './run.ts';
import { PlaygroundAccess, randomToken } from './access.ts';
import { CodedError } from '../errors.ts';
import { checkRunPayload, checkServerProcesses, type PlaygroundCaps } from './playground-checks.ts';
import { inProcessWorkers } from './worker-handle.ts';
import { workerThreadHost } from '../workers/worker-thread-host.ts';
import { PlaygroundTopology } from './playground-topology.ts';
import { PlaygroundRuns } from './playground-runs.ts';
import { PlaygroundWatchers } from './playground-watchers.ts';

export type { PlaygroundCaps } from './playground-checks.ts';
export { UNDO_DEPTH } from './playground-design.ts';
export { OPTIONS_COALESCE_MS } from './playground-options.ts';
export { RUNS_KEPT } from './playground-runs.ts';

export interface PlaygroundOptions {
  id?: string;
  scenario: Scenario;
  params?: RunParamsPatch;
  policy: EndpointPolicy;
  /** The server-wide ipc claims (registry.ts); a playground made alone gets its own. */
  claimedIpcPaths?: IpcClaims;
  /** Requested addresses by endpoint name, replacing the scenario's (checked against the policy at run time). */
  endpointOverrides?: Readonly<Record<string, string>>;
  maxWorkers?: number;
  /** The visitor that creates it (see access.ts); none for playgrounds made without HTTP. */
  owner?: string | null;
  /** What it may use of the server (server/limits.ts); none: only maxWorkers holds. */
  caps?: PlaygroundCaps;
}

/**
 * A fresh id: the prefix and 128 random bits in base64url ("pg-" + 22 characters). Long enough that nobody finds
 * one by guessing, short enough for ipc paths ("<runtime>/pg-<22>-vent.ipc" stays far below 107 bytes for any
 * usual runtime folder) and inproc names (64 characters); only [A-Za-z0-9_-], valid in both.
 */
export function newId(prefix: string): string {
  return `${prefix}-${randomToken(16)}`;
}

export class Playground {
  readonly id: string;
  readonly scenario: Scenario;
  readonly log = new RunLog();
  readonly maxWorkers: number;
  /** Who may watch, drive or own it. */
  readonly access: PlaygroundAccess;
  /** Wall-clock ms of the last command or subscriber, for closing idle playgrounds. */
  lastActivity = Date.now();

  readonly #policy: EndpointPolicy;
  readonly #caps: PlaygroundCaps | null;
  readonly #claimedIpcPaths: IpcClaims;
  readonly #topology: PlaygroundTopology;
  readonly #runs = new PlaygroundRuns();
  readonly #watchers: PlaygroundWatchers;
  #closed = false;

  constructor(options: PlaygroundOptions) {
    const { scenario, policy } = options;
    this.id = options.id ?? newId('pg');
    this.scenario = scenario;
    this.maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
    this.access = new PlaygroundAccess(options.owner ?? null);
    this.#policy = policy;
    this.#caps = options.caps ?? null;
    this.#claimedIpcPaths = options.claimedIpcPaths ?? new IpcClaims();
    // From now on, ipc names starting with this id are this playground's: no other may bind them.
    this.#claimedIpcPaths.register(this.id);
    this.#topology = new PlaygroundTopology(
      {
        playgroundId: this.id,
        scenario,
        maxWorkers: this.maxWorkers,
        policy,
        caps: this.#caps,
        claimedIpcPaths: this.#claimedIpcPaths,
        activeRun: () => this.#runs.active,
        closed: () => this.#closed,
        changed: () => this.#infoChanged(),
      },
      options.params,
      options.endpointOverrides,
    );
    this.#watchers = new PlaygroundWatchers(() => {
      this.lastActivity = Date.now();
    });
    // The in-process workers' thread starts now (once per process), while the visitor looks at the page, rather
    // than inside the first run: it takes a few hundred milliseconds of CPU to load.
    if (inProcessWorkers.inThread) workerThreadHost.prepare();
  }

  /** The parameters of the next run (and of the active one, which took a copy when it started). */
  get params(): RunParams {
    return this.#topology.params;
  }

  set params(params: RunParams) {
    this.#topology.params = params;
  }

  /** The visitor that created it (recorded with its runs), or null. */
  get owner(): string | null {
    return this.access.owner;
  }

  info(): PlaygroundInfo {
    const active = this.#runs.active;
    const run = this.#runs.current();
    return {
      id: this.id,
      scenario: this.scenario.id,
      title: this.scenario.title,
      params: { ...this.params },
      endpoints: (run?.endpoints ?? this.#topology.endpoints).map((endpoint) => ({ ...endpoint })),
      workers: active ? active.workers() : this.#topology.workers(),
      sink: active ? active.sinkInfo : this.#topology.sink(),
      options: this.#topology.options(),
      maxWorkers: this.maxWorkers,
      lesson: this.#topology.lesson?.id ?? null,
      undoDepth: this.#topology.undoDepth,
      activeRun: active?.id ?? null,
      lastSeq: this.log.lastSeq,
    };
  }

  // ----- watchers and presenter (playground-watchers.ts) --------------------------------------------------------

  /** People watching (open streams); a playground with none for a long time is closed. Returns the release. */
  watch(): () => void {
    return this.#watchers.watch();
  }

  get watcherCount(): number {
    return this.#watchers.count;
  }

  onInfoChanged(listener: (info: PlaygroundInfo) => void): () => void {
    return this.#watchers.onInfoChanged(listener);
  }

  /** What the watchers follow (presenter mode, SPEC [S6]); off until an owner or driver sets it. */
  get presenter(): PresenterState {
    return this.#watchers.presenter;
  }

  /** Sets the presenter state whole (already validated by the protocol schema) and tells every listener. */
  setPresenter(state: PresenterState): PresenterState {
    this.lastActivity = Date.now();
    return this.#watchers.setPresenter(state);
  }

  onPresenterChanged(listener: (state: PresenterState) => void): () => void {
    return this.#watchers.onPresenterChanged(listener);
  }

  // ----- topology, lessons and undo (playground-topology.ts) ----------------------------------------------------

  updateParams(patch: RunParamsPatch): PlaygroundInfo {
    this.lastActivity = Date.now();
    return this.#topology.updateParams(patch);
  }

  addWorker(spec: NewWorker = {}): WorkerInfo {
    this.lastActivity = Date.now();
    return this.#topology.addWorker(spec);
  }

  async removeWorker(id: string): Promise<void> {
    this.lastActivity = Date.now();
    await this.#topology.removeWorker(id);
  }

  updateWorker(id: string, patch: WorkerPatch): WorkerInfo {
    this.lastActivity = Date.now();
    return this.#topology.updateWorker(id, patch);
  }

  signalWorker(id: string, signal: WorkerSignal): void {
    this.lastActivity = Date.now();
    this.#topology.signalWorker(id, signal);
  }

  updateSink(patch: SinkPatch): SinkInfo {
    this.lastActivity = Date.now();
    return this.#topology.updateSink(patch);
  }

  /** Socket options reach the running pipeline at once, at most once per OPTIONS_COALESCE_MS. */
  updateOptions(patch: SocketOptionsPatch): SocketOptions {
    this.lastActivity = Date.now();
    return this.#topology.updateOptions(patch);
  }

  /**
   * Puts the playground in a lesson's start (or solution) state and clears the undo history; the lesson's goal
   * is checked after each run.
   */
  applyLesson(lessonId: string, stage: 'start' | 'solution'): PlaygroundInfo {
    this.lastActivity = Date.now();
    return this.#topology.applyLesson(lessonId, stage);
  }

  /** Takes back the last change of topology or parameters (between runs). */
  undo(): PlaygroundInfo {
    this.lastActivity = Date.now();
    return this.#topology.undo();
  }

  /** Sets the address the ventilator requests for one of its endpoints, from a visitor (checked strictly). */
  async setEndpoint(name: string, address: string): Promise<EndpointInfo> {
    this.lastActivity = Date.now();
    return this.#topology.setEndpoint(name, address);
  }

  // ----- runs ---------------------------------------------------------------------------------------------------

  get activeRun(): PipelineRun | null {
    return this.#runs.active;
  }

  /** Process workers this playground runs now: those of its topology while a run is active (they live only then). */
  get runningProcessWorkers(): number {
    return this.#runs.active ? this.#topology.processWorkers() : 0;
  }

  /** Starts a run with the current parameters (optionally patched first). Returns at once with the run. */
  startRun(patch?: RunParamsPatch): PipelineRun {
    if (this.#closed) throw new CodedError('PG_ERR_NOT_FOUND', text('playground.closed'));
    const active = this.#runs.active;
    if (active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.stillRunning', { run: active.id }));
    checkRunPayload(this.#caps, this.scenario, { ...this.params, ...patch });
    // A lesson or an undo may have brought more process workers than the playground may have now.
    const processes = this.#topology.processWorkers();
    if (this.#caps && processes > this.#caps.maxProcessWorkers) {
      throw new CodedError('PG_ERR_LIMIT', text('limit.processWorkers', { max: this.#caps.maxProcessWorkers }));
    }
    checkServerProcesses(this.#caps, this.runningProcessWorkers, processes);
    if (patch && Object.keys(patch).length > 0) this.params = { ...this.params, ...patch };
    this.lastActivity = Date.now();
    const lesson = this.#topology.lesson;
    const run: PipelineRun = new PipelineRun({
      id: newId('run'),
      playgroundId: this.id,
      scenario: this.scenario,
      endpoints: this.#topology.endpoints,
      workers: this.#topology.workers(),
      sink: this.#topology.sink(),
      socketOptions: this.#topology.options(),
      params: { ...this.params },
      lesson: lesson?.id ?? null,
      policy: this.#policy,
      claimedIpcPaths: this.#claimedIpcPaths,
      actions: lesson?.actions ?? [],
      emit: (event) => this.#stamp(run, event),
    });
    this.#runs.begin(run);
    this.#infoChanged();
    void run.start().finally(() => {
      this.#runs.ended(run);
      this.#infoChanged();
    });
    return run;
  }

  stopRun(): PipelineRun {
    this.lastActivity = Date.now();
    const run = this.#runs.active;
    if (!run) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
    run.stop();
    return run;
  }

  run(id: string): PipelineRun | undefined {
    return this.#runs.get(id);
  }

  runs(): PipelineRun[] {
    return this.#runs.all();
  }

  runDetail(id: string): RunDetail {
    return this.#runs.detail(id, this.id, this.scenario.id);
  }

  /** Exact totals of the active (or last) run, sent with every batch so sampled streams stay correct. */
  counters(): Counters {
    return this.#runs.counters();
  }

  /** Stops the active run and waits until its sockets are closed and its ipc files removed. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const run = this.#runs.active;
    if (run) {
      run.stop();
      await run.start();
    }
    this.#claimedIpcPaths.forget(this.id);
  }

  #stamp(run: PipelineRun, input: EventInput): PlaygroundEvent {
    if (input.type === 'run:started') this.#runs.started(run, this.log.lastSeq + 1);
    this.#topology.noteBinding(input);
    if (input.type === 'run:ended') {
      const lesson = this.#topology.lesson;
      if (lesson && input.reason === 'completed') this.#checkLesson(run, lesson, input.summary);
      // Whoever sees run:ended may start the next run at once: the playground is free from that moment.
      this.#runs.ended(run);
    }
    // Stamped in place, not copied: this is the per-message path, and the input object is ours alone.
    const event = input as PlaygroundEvent;
    event.run = run.id;
    event.t = Math.round(run.elapsed() * 1000) / 1000;
    return this.log.append(event);
  }

  /** The lesson's goal, checked from this run's own events (still in the log's backlog: lesson runs are small). */
  #checkLesson(run: PipelineRun, lesson: Lesson, summary: RunSummary): void {
    const firstSeq = this.#runs.firstSeq(run);
    const events = this.log.since(firstSeq - 1).filter((event) => event.run === run.id);
    const { met, detail, measurements } = lesson.check({ params: run.params, summary, events });
    this.#stamp(run, {
      type: 'lesson:checked',
      lesson: lesson.id,
      met,
      detail,
      ...(measurements ? { measurements } : {}),
    });
  }

  #infoChanged(): PlaygroundInfo {
    const info = this.info();
    this.#watchers.infoChanged(info);
    return info;
  }
}
