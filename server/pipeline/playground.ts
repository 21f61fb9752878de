/**
 * A playground: one scenario, its topology (workers, sink, socket options), its parameters, its event log and
 * its runs, one at a time. Topology changes apply to the running pipeline at once and to every later run.
 * Stamps `run` and `t` on every event; the RunLog stamps `seq`. Runs headless: tests drive it without HTTP.
 */
import { text } from '../../shared/protocol/server-text.ts';
import {
  DEFAULT_MAX_WORKERS,
  DEFAULT_SOCKET_OPTIONS,
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
import { LESSONS_BY_ID, type Lesson } from '../../shared/lessons/index.ts';
import { RunLog } from '../recorder/run-log.ts';
import { IpcClaims, checkEndpoint, probeIpcPath, type EndpointPolicy } from './endpoints.ts';
import { PipelineRun, resolveAddress } from './run.ts';
import { PlaygroundAccess, randomToken } from './access.ts';
import { CodedError } from '../errors.ts';
import {
  checkRunPayload,
  checkServerProcesses,
  checkSinkReach,
  checkTransport,
  type PlaygroundCaps,
} from './playground-checks.ts';

export type { PlaygroundCaps } from './playground-checks.ts';
import { UndoHistory, checkRange, lessonDesign, workerFromSpec, type PlaygroundDesign } from './playground-design.ts';

export { UNDO_DEPTH } from './playground-design.ts';

/** Finished runs whose details stay in memory. */
export const RUNS_KEPT = 20;
/** Socket options reach a running pipeline at most this often; changes in between are applied as one. */
export const OPTIONS_COALESCE_MS = 100;

type OptionsChanged = { ventilator: boolean; worker: boolean; sink: boolean };

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
  params: RunParams;
  /** Wall-clock ms of the last command or subscriber, for closing idle playgrounds. */
  lastActivity = Date.now();

  readonly #policy: EndpointPolicy;
  readonly #caps: PlaygroundCaps | null;
  readonly #claimedIpcPaths: IpcClaims;
  readonly #runs = new Map<string, PipelineRun>();
  #active: PipelineRun | null = null;
  readonly #endpoints: EndpointInfo[];
  #workers: WorkerInfo[];
  #sink: SinkInfo;
  #options: SocketOptions;
  #nextWorkerNumber: number;
  readonly #infoListeners = new Set<(info: PlaygroundInfo) => void>();
  readonly #presenterListeners = new Set<(state: PresenterState) => void>();
  #presenter: PresenterState = { presenting: false, lesson: null, replay: null };
  #closed = false;
  #watchers = 0;
  readonly #runFirstSeq = new Map<string, number>();
  #lesson: Lesson | null = null;
  /** Earlier topologies and parameters, newest last, for undo. */
  readonly #undo = new UndoHistory();
  /** While options were applied to `run` less than OPTIONS_COALESCE_MS ago: which nodes changed since. */
  #optionsHeld: { run: PipelineRun; changed: OptionsChanged } | null = null;

  constructor(options: PlaygroundOptions) {
    const { scenario, policy } = options;
    this.id = options.id ?? newId('pg');
    this.scenario = scenario;
    this.params = { ...scenario.defaults, ...options.params };
    this.maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
    this.access = new PlaygroundAccess(options.owner ?? null);
    this.#policy = policy;
    this.#caps = options.caps ?? null;
    this.#claimedIpcPaths = options.claimedIpcPaths ?? new IpcClaims();
    // From now on, ipc names starting with this id are this playground's: no other may bind them.
    this.#claimedIpcPaths.register(this.id);
    this.#endpoints = scenario.endpoints.map((spec) => ({
      name: spec.name,
      transport: spec.transport,
      requested: resolveAddress(options.endpointOverrides?.[spec.name] ?? spec.address, policy, this.id),
      actual: null,
    }));
    this.#workers = scenario.workers.map((spec, index) => workerFromSpec(spec, spec.id ?? `worker-${index + 1}`));
    this.#nextWorkerNumber = this.#workers.length + 1;
    this.#sink = { ...scenario.sink, address: null };
    this.#options = structuredClone({ ...DEFAULT_SOCKET_OPTIONS, ...scenario.options });
  }

  /** The visitor that created it (recorded with its runs), or null. */
  get owner(): string | null {
    return this.access.owner;
  }

  info(): PlaygroundInfo {
    const run = this.#active ?? this.#latestRun();
    return {
      id: this.id,
      scenario: this.scenario.id,
      title: this.scenario.title,
      params: { ...this.params },
      endpoints: (run?.endpoints ?? this.#endpoints).map((endpoint) => ({ ...endpoint })),
      workers: this.#active ? this.#active.workers() : this.#workers.map((worker) => ({ ...worker })),
      sink: this.#active ? this.#active.sinkInfo : { ...this.#sink },
      options: structuredClone(this.#options),
      maxWorkers: this.maxWorkers,
      lesson: this.#lesson?.id ?? null,
      undoDepth: this.#undo.depth,
      activeRun: this.#active?.id ?? null,
      lastSeq: this.log.lastSeq,
    };
  }

  /** People watching (open streams); a playground with none for a long time is closed. Returns the release. */
  watch(): () => void {
    this.#watchers++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#watchers--;
      this.lastActivity = Date.now();
    };
  }

  get watcherCount(): number {
    return this.#watchers;
  }

  onInfoChanged(listener: (info: PlaygroundInfo) => void): () => void {
    this.#infoListeners.add(listener);
    return () => this.#infoListeners.delete(listener);
  }

  /** What the watchers follow (presenter mode, SPEC [S6]); off until an owner or driver sets it. */
  get presenter(): PresenterState {
    return this.#presenter;
  }

  /** Sets the presenter state whole (already validated by the protocol schema) and tells every listener. */
  setPresenter(state: PresenterState): PresenterState {
    this.lastActivity = Date.now();
    this.#presenter = structuredClone(state);
    for (const listener of [...this.#presenterListeners]) listener(this.#presenter);
    return this.#presenter;
  }

  onPresenterChanged(listener: (state: PresenterState) => void): () => void {
    this.#presenterListeners.add(listener);
    return () => this.#presenterListeners.delete(listener);
  }

  get activeRun(): PipelineRun | null {
    return this.#active;
  }

  /** Process workers this playground runs now: those of its topology while a run is active (they live only then). */
  get runningProcessWorkers(): number {
    return this.#active ? this.#processWorkers() : 0;
  }

  #processWorkers(): number {
    return this.#workers.filter((worker) => worker.mode === 'process').length;
  }

  /** Refuses `wanted` more process workers past the server's cap (PG_ERR_LIMIT). */

  /** Refuses a batch heavier than the operator allows: tasks x payload bytes (PG_ERR_LIMIT). */

  updateParams(patch: RunParamsPatch): PlaygroundInfo {
    this.lastActivity = Date.now();
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeParams'));
    checkRunPayload(this.#caps, this.scenario, { ...this.params, ...patch });
    this.#remember();
    this.params = { ...this.params, ...patch };
    return this.#infoChanged();
  }

  // ----- topology -----------------------------------------------------------------------------------------------

  addWorker(spec: NewWorker = {}): WorkerInfo {
    this.lastActivity = Date.now();
    if (this.#workers.length >= this.maxWorkers) {
      throw new CodedError('PG_ERR_LIMIT', text('worker.limit', { max: this.maxWorkers }));
    }
    const transport = spec.transport ?? 'tcp';
    const mode = spec.mode ?? 'in-process';
    if (mode === 'process' && this.#caps) {
      if (this.#processWorkers() >= this.#caps.maxProcessWorkers) {
        throw new CodedError('PG_ERR_LIMIT', text('limit.processWorkers', { max: this.#caps.maxProcessWorkers }));
      }
      // During a run it is forked at once.
      if (this.#active) checkServerProcesses(this.#caps, this.runningProcessWorkers, 1);
    }
    checkTransport(this.#endpoints, transport, mode);
    checkSinkReach(this.#sink, mode);
    const workMs = spec.workMs ?? { min: 0, max: 0 };
    checkRange(workMs);
    this.#remember();
    let id: string;
    do id = `worker-${this.#nextWorkerNumber++}`;
    while (this.#workers.some((worker) => worker.id === id));
    const info: WorkerInfo = {
      id,
      endpoint: transport,
      transport,
      mode,
      workMs,
      connections: spec.connections ?? 1,
      state: 'idle',
      pid: null,
    };
    this.#workers.push(info);
    this.#active?.addWorker({ ...info });
    this.#infoChanged();
    return { ...info };
  }

  async removeWorker(id: string): Promise<void> {
    this.lastActivity = Date.now();
    this.#worker(id);
    this.#remember();
    this.#workers = this.#workers.filter((worker) => worker.id !== id);
    this.#infoChanged();
    await this.#active?.removeWorker(id);
    this.#infoChanged();
  }

  updateWorker(id: string, patch: WorkerPatch): WorkerInfo {
    this.lastActivity = Date.now();
    const worker = this.#worker(id);
    if (patch.transport) checkTransport(this.#endpoints, patch.transport, worker.mode);
    if (patch.workMs) checkRange(patch.workMs);
    this.#remember();
    if (patch.transport) {
      worker.transport = patch.transport;
      worker.endpoint = patch.transport;
    }
    if (patch.workMs) worker.workMs = patch.workMs;
    this.#active?.updateWorker(id, patch);
    this.#infoChanged();
    return { ...worker };
  }

  signalWorker(id: string, signal: WorkerSignal): void {
    this.lastActivity = Date.now();
    const worker = this.#worker(id);
    if (worker.mode !== 'process') {
      throw new CodedError('PG_ERR_VALIDATION', text('worker.inProcessSignal', { worker: id }));
    }
    if (!this.#active) throw new CodedError('PG_ERR_NO_RUN', text('worker.processNeedsRun'));
    this.#active.signalWorker(id, signal);
    this.#infoChanged();
  }

  updateSink(patch: SinkPatch): SinkInfo {
    this.lastActivity = Date.now();
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeSink'));
    if (patch.enabled && this.scenario.framing !== 'tagged') {
      throw new CodedError('PG_ERR_VALIDATION', text('sink.tutorial'));
    }
    const next = { ...this.#sink, ...patch };
    if (next.enabled) for (const worker of this.#workers) checkSinkReach(next, worker.mode);
    this.#remember();
    this.#sink = next;
    this.#infoChanged();
    return { ...this.#sink };
  }

  updateOptions(patch: SocketOptionsPatch): SocketOptions {
    this.lastActivity = Date.now();
    this.#remember();
    this.#options = {
      ventilator: { ...this.#options.ventilator, ...patch.ventilator },
      worker: { ...this.#options.worker, ...patch.worker },
      sink: { ...this.#options.sink, ...patch.sink },
    };
    this.#applyOptionsToRun({
      ventilator: Boolean(patch.ventilator && Object.keys(patch.ventilator).length),
      worker: Boolean(patch.worker && Object.keys(patch.worker).length),
      sink: Boolean(patch.sink && Object.keys(patch.sink).length),
    });
    this.#infoChanged();
    return structuredClone(this.#options);
  }

  /**
   * Options reach the running pipeline at once, but at most once per OPTIONS_COALESCE_MS: a change of the workers'
   * options recreates every worker's socket, so a burst of updates (a slider dragged, a flooding client) is
   * applied as one, with the latest values, at the end of the interval (issue 9.8).
   */
  #applyOptionsToRun(changed: OptionsChanged): void {
    const run = this.#active;
    if (!run) return;
    if (this.#optionsHeld && this.#optionsHeld.run === run) {
      const held = this.#optionsHeld.changed;
      this.#optionsHeld.changed = {
        ventilator: held.ventilator || changed.ventilator,
        worker: held.worker || changed.worker,
        sink: held.sink || changed.sink,
      };
      return;
    }
    run.applyOptions(structuredClone(this.#options), changed);
    this.#optionsHeld = { run, changed: { ventilator: false, worker: false, sink: false } };
    const timer = setTimeout(() => {
      const held = this.#optionsHeld;
      this.#optionsHeld = null;
      if (!held || held.run !== this.#active || this.#closed) return;
      if (held.changed.ventilator || held.changed.worker || held.changed.sink) this.#applyOptionsToRun(held.changed);
    }, OPTIONS_COALESCE_MS);
    timer.unref();
  }

  // ----- lessons and undo ---------------------------------------------------------------------------------------

  /**
   * Puts the playground in a lesson's start (or solution) state and clears the undo history; the lesson's goal
   * is checked after each run.
   */
  applyLesson(lessonId: string, stage: 'start' | 'solution'): PlaygroundInfo {
    this.lastActivity = Date.now();
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeLesson'));
    const lesson = LESSONS_BY_ID.get(lessonId);
    if (!lesson)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('lesson.unknown', { lesson: lessonId.slice(0, 40), known: [...LESSONS_BY_ID.keys()].join(', ') }),
      );
    if (lesson.scenario !== this.scenario.id) {
      throw new CodedError(
        'PG_ERR_VALIDATION',
        text('lesson.otherScenario', { lesson: lesson.id, scenario: lesson.scenario }),
      );
    }
    // Opening, resetting or solving a lesson starts afresh: there is nothing before it to undo.
    this.#undo.clear();
    this.#restore(lessonDesign(this.scenario, lesson, stage));
    return this.#infoChanged();
  }

  /** Takes back the last change of topology or parameters (between runs). */
  undo(): PlaygroundInfo {
    this.lastActivity = Date.now();
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeUndo'));
    const design = this.#undo.takeBack();
    if (!design) throw new CodedError('PG_ERR_VALIDATION', text('undo.nothing'));
    this.#restore(design);
    return this.#infoChanged();
  }

  #remember(): void {
    // Changes during a run act on live sockets and cannot be taken back.
    if (this.#active) return;
    this.#undo.remember({
      params: this.params,
      workers: this.#workers,
      sink: this.#sink,
      options: this.#options,
      lesson: this.#lesson,
      nextWorkerNumber: this.#nextWorkerNumber,
    });
  }

  #restore(design: PlaygroundDesign): void {
    this.params = design.params;
    this.#workers = design.workers;
    this.#sink = design.sink;
    this.#options = design.options;
    this.#lesson = design.lesson;
    this.#nextWorkerNumber = design.nextWorkerNumber;
  }

  /**
   * Sets the address the ventilator requests for one of its endpoints, from a visitor. Stricter than the
   * operator's configuration: ipc paths must be inside the runtime folder (a configured default such as the
   * tutorial's /tmp/zmqdemo is not accepted from a visitor), must not exist unless they are a socket, must not be
   * held by another playground nor named in its namespace (`<its id>-…`), and inproc names are scoped to this
   * playground. Nothing is created or touched here; the run claims the path when it binds (IpcClaims).
   */
  async setEndpoint(name: string, address: string): Promise<EndpointInfo> {
    this.lastActivity = Date.now();
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeEndpoints'));
    const endpoint = this.#endpoints.find((candidate) => candidate.name === name);
    if (!endpoint) throw new CodedError('PG_ERR_NOT_FOUND', text('endpoint.unknown', { name: name.slice(0, 20) }));
    const visitorPolicy = { ...this.#policy, allowedIpcPaths: new Set<string>() };
    const parsed = checkEndpoint(address, visitorPolicy);
    if (parsed.transport !== endpoint.transport) {
      throw new CodedError(
        'PG_ERR_ENDPOINT',
        text('endpoint.wrongTransport', { name: endpoint.name, expected: endpoint.transport, got: parsed.transport }),
      );
    }
    let requested = address;
    if (parsed.transport === 'ipc') {
      if (this.#claimedIpcPaths.isOthers(parsed.path, this.id)) {
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcOtherPlayground', { path: parsed.path }));
      }
      const probe = await probeIpcPath(parsed.path);
      if (probe === 'not-a-socket')
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.notSocket', { path: parsed.path }));
      if (probe === 'unknown')
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcUnknown', { path: parsed.path }));
    } else if (parsed.transport === 'inproc' && !parsed.name.startsWith(`${this.id}-`)) {
      requested = `inproc://${this.id}-${parsed.name}`;
    }
    endpoint.requested = requested;
    endpoint.actual = null;
    delete endpoint.note;
    delete endpoint.noteText;
    this.#infoChanged();
    return { ...endpoint };
  }

  // ----- runs ---------------------------------------------------------------------------------------------------

  /** Starts a run with the current parameters (optionally patched first). Returns at once with the run. */
  startRun(patch?: RunParamsPatch): PipelineRun {
    if (this.#closed) throw new CodedError('PG_ERR_NOT_FOUND', text('playground.closed'));
    if (this.#active) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.stillRunning', { run: this.#active.id }));
    checkRunPayload(this.#caps, this.scenario, { ...this.params, ...patch });
    // A lesson or an undo may have brought more process workers than the playground may have now.
    const processes = this.#processWorkers();
    if (this.#caps && processes > this.#caps.maxProcessWorkers) {
      throw new CodedError('PG_ERR_LIMIT', text('limit.processWorkers', { max: this.#caps.maxProcessWorkers }));
    }
    checkServerProcesses(this.#caps, this.runningProcessWorkers, processes);
    if (patch && Object.keys(patch).length > 0) this.params = { ...this.params, ...patch };
    this.lastActivity = Date.now();
    const id = newId('run');
    const run: PipelineRun = new PipelineRun({
      id,
      playgroundId: this.id,
      scenario: this.scenario,
      endpoints: this.#endpoints,
      workers: this.#workers.map((worker) => ({ ...worker })),
      sink: { ...this.#sink },
      socketOptions: structuredClone(this.#options),
      params: { ...this.params },
      lesson: this.#lesson?.id ?? null,
      policy: this.#policy,
      claimedIpcPaths: this.#claimedIpcPaths,
      actions: this.#lesson?.actions ?? [],
      emit: (event) => this.#stamp(run, event),
    });
    this.#active = run;
    this.#runs.set(id, run);
    this.#forgetOldRuns();
    this.#infoChanged();
    void run.start().finally(() => {
      if (this.#active === run) this.#active = null;
      this.#infoChanged();
    });
    return run;
  }

  stopRun(): PipelineRun {
    this.lastActivity = Date.now();
    const run = this.#active;
    if (!run) throw new CodedError('PG_ERR_NO_RUN', text('run.none'));
    run.stop();
    return run;
  }

  run(id: string): PipelineRun | undefined {
    return this.#runs.get(id);
  }

  runs(): PipelineRun[] {
    return [...this.#runs.values()];
  }

  runDetail(id: string): RunDetail {
    const run = this.#runs.get(id);
    if (!run)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('run.unknown', { run: id.slice(0, 64), playground: this.id, kept: RUNS_KEPT }),
      );
    const { messages, truncated } = run.messages();
    return {
      id: run.id,
      playground: this.id,
      scenario: this.scenario.id,
      params: run.params,
      endpoints: run.endpoints.map((endpoint) => ({ ...endpoint })),
      workers: run.allWorkers(),
      startedAt: run.startedAt.toISOString(),
      endedAt: run.endedAt?.toISOString() ?? null,
      reason: run.reason,
      summary: run.summary(),
      messages,
      messagesTruncated: truncated,
    };
  }

  /** Exact totals of the active (or last) run, sent with every batch so sampled streams stay correct. */
  counters(): Counters {
    const run = this.#active ?? this.#latestRun();
    if (!run) return { run: null, sent: 0, received: {}, done: {}, collected: 0, lost: 0 };
    return { run: run.id, ...run.counters() };
  }

  /** Stops the active run and waits until its sockets are closed and its ipc files removed. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const run = this.#active;
    if (run) {
      run.stop();
      await run.start();
    }
    this.#claimedIpcPaths.forget(this.id);
  }

  #stamp(run: PipelineRun, input: EventInput): PlaygroundEvent {
    if (input.type === 'run:started') this.#runFirstSeq.set(run.id, this.log.lastSeq + 1);
    // A port picked by the system (*) stays this playground's for later runs, so that external peers started
    // between runs, and the code panel, keep a stable address.
    if (input.type === 'endpoint:bound') {
      const own = this.#endpoints.find((endpoint) => endpoint.name === input.endpoint.name);
      if (own?.requested.endsWith(':*') && input.endpoint.actual) own.requested = input.endpoint.actual;
    }
    if (input.type === 'sink:bound') this.#sink = { ...this.#sink, address: input.address };
    if (input.type === 'run:ended') {
      if (this.#lesson && input.reason === 'completed') this.#checkLesson(run, this.#lesson, input.summary);
      // Whoever sees run:ended may start the next run at once: the playground is free from that moment.
      if (this.#active === run) this.#active = null;
    }
    // Stamped in place, not copied: this is the per-message path, and the input object is ours alone.
    const event = input as PlaygroundEvent;
    event.run = run.id;
    event.t = Math.round(run.elapsed() * 1000) / 1000;
    return this.log.append(event);
  }

  /** The lesson's goal, checked from this run's own events (still in the log's backlog: lesson runs are small). */
  #checkLesson(run: PipelineRun, lesson: Lesson, summary: RunSummary): void {
    const firstSeq = this.#runFirstSeq.get(run.id) ?? 1;
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

  #worker(id: string): WorkerInfo {
    const worker = this.#workers.find((candidate) => candidate.id === id);
    if (!worker)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('worker.unknown', { worker: id.slice(0, 64), playground: this.id }),
      );
    return worker;
  }

  /** A process worker cannot reach an inproc sink: its results would vanish without a trace. */

  #latestRun(): PipelineRun | null {
    let latest: PipelineRun | null = null;
    for (const run of this.#runs.values()) latest = run;
    return latest;
  }

  #forgetOldRuns(): void {
    for (const id of this.#runs.keys()) {
      if (this.#runs.size <= RUNS_KEPT) break;
      if (this.#runs.get(id) !== this.#active) this.#runs.delete(id);
    }
  }

  #infoChanged(): PlaygroundInfo {
    const info = this.info();
    for (const listener of this.#infoListeners) listener(info);
    return info;
  }
}
