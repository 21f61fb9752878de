/**
 * A playground's topology as a learner edits it: its parameters, the ventilator's endpoints, the workers, the sink,
 * the socket options and the lesson in hand, each edit checked before anything changes, remembered for undo
 * between runs and passed at once to the run in progress (if any). Knows nothing of runs' lifecycle or of who
 * watches: the playground (playground.ts) tells it which run is active and hears from it when something changed.
 */
import { text } from '../../shared/protocol/server-text.ts';
import {
  DEFAULT_SOCKET_OPTIONS,
  type EndpointInfo,
  type EventInput,
  type NewWorker,
  type PlaygroundInfo,
  type RunParams,
  type RunParamsPatch,
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
import { checkEndpoint, probeIpcPath, type EndpointPolicy, type IpcClaims } from './endpoints.ts';
import { resolveAddress, type PipelineRun } from './run.ts';
import { CodedError } from '../errors.ts';
import {
  checkRunPayload,
  checkServerProcesses,
  checkSinkReach,
  checkTransport,
  type PlaygroundCaps,
} from './playground-checks.ts';
import { UndoHistory, checkRange, lessonDesign, workerFromSpec, type PlaygroundDesign } from './playground-design.ts';
import { LiveOptions } from './playground-options.ts';

/** What the topology needs of its playground. */
export interface TopologyContext {
  readonly playgroundId: string;
  readonly scenario: Scenario;
  readonly maxWorkers: number;
  readonly policy: EndpointPolicy;
  readonly caps: PlaygroundCaps | null;
  readonly claimedIpcPaths: IpcClaims;
  /** The run in progress, which edits reach at once; null between runs. */
  activeRun(): PipelineRun | null;
  /** The playground was closed. */
  closed(): boolean;
  /** Something info() shows changed: the playground tells its listeners and returns the new info. */
  changed(): PlaygroundInfo;
}

export class PlaygroundTopology {
  params: RunParams;
  readonly #context: TopologyContext;
  readonly #endpoints: EndpointInfo[];
  #workers: WorkerInfo[];
  #sink: SinkInfo;
  #options: SocketOptions;
  #lesson: Lesson | null = null;
  #nextWorkerNumber: number;
  /** Earlier topologies and parameters, newest last, for undo. */
  readonly #undo = new UndoHistory();
  readonly #liveOptions: LiveOptions;

  constructor(
    context: TopologyContext,
    params: RunParamsPatch | undefined,
    endpointOverrides: Readonly<Record<string, string>> | undefined,
  ) {
    const { scenario, policy, playgroundId } = context;
    this.#context = context;
    this.params = { ...scenario.defaults, ...params };
    this.#endpoints = scenario.endpoints.map((spec) => ({
      name: spec.name,
      transport: spec.transport,
      requested: resolveAddress(endpointOverrides?.[spec.name] ?? spec.address, policy, playgroundId),
      actual: null,
    }));
    this.#workers = scenario.workers.map((spec, index) => workerFromSpec(spec, spec.id ?? `worker-${index + 1}`));
    this.#nextWorkerNumber = this.#workers.length + 1;
    this.#sink = { ...scenario.sink, address: null };
    this.#options = structuredClone({ ...DEFAULT_SOCKET_OPTIONS, ...scenario.options });
    this.#liveOptions = new LiveOptions({
      options: () => this.#options,
      activeRun: () => context.activeRun(),
      closed: () => context.closed(),
    });
  }

  /** The ventilator's endpoints themselves (a run is given this very list, and its binds show in it). */
  get endpoints(): EndpointInfo[] {
    return this.#endpoints;
  }

  /** Copies of the configured workers. */
  workers(): WorkerInfo[] {
    return this.#workers.map((worker) => ({ ...worker }));
  }

  sink(): SinkInfo {
    return { ...this.#sink };
  }

  options(): SocketOptions {
    return structuredClone(this.#options);
  }

  get lesson(): Lesson | null {
    return this.#lesson;
  }

  get undoDepth(): number {
    return this.#undo.depth;
  }

  processWorkers(): number {
    return this.#workers.filter((worker) => worker.mode === 'process').length;
  }

  /**
   * What a run's events teach the topology. A port picked by the system (*) stays this playground's for later
   * runs, so that external peers started between runs, and the code panel, keep a stable address.
   */
  noteBinding(input: EventInput): void {
    if (input.type === 'endpoint:bound') {
      const own = this.#endpoints.find((endpoint) => endpoint.name === input.endpoint.name);
      if (own?.requested.endsWith(':*') && input.endpoint.actual) own.requested = input.endpoint.actual;
    }
    if (input.type === 'sink:bound') this.#sink = { ...this.#sink, address: input.address };
  }

  updateParams(patch: RunParamsPatch): PlaygroundInfo {
    if (this.#context.activeRun()) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeParams'));
    checkRunPayload(this.#context.caps, this.#context.scenario, { ...this.params, ...patch });
    this.#remember();
    this.params = { ...this.params, ...patch };
    return this.#context.changed();
  }

  addWorker(spec: NewWorker): WorkerInfo {
    const { caps, maxWorkers } = this.#context;
    const active = this.#context.activeRun();
    if (this.#workers.length >= maxWorkers) {
      throw new CodedError('PG_ERR_LIMIT', text('worker.limit', { max: maxWorkers }));
    }
    const transport = spec.transport ?? 'tcp';
    const mode = spec.mode ?? 'in-process';
    if (mode === 'process' && caps) {
      if (this.processWorkers() >= caps.maxProcessWorkers) {
        throw new CodedError('PG_ERR_LIMIT', text('limit.processWorkers', { max: caps.maxProcessWorkers }));
      }
      // During a run it is forked at once (the topology's process workers are the ones running then).
      if (active) checkServerProcesses(caps, this.processWorkers(), 1);
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
    active?.addWorker({ ...info });
    this.#context.changed();
    return { ...info };
  }

  async removeWorker(id: string): Promise<void> {
    this.#worker(id);
    this.#remember();
    this.#workers = this.#workers.filter((worker) => worker.id !== id);
    this.#context.changed();
    await this.#context.activeRun()?.removeWorker(id);
    this.#context.changed();
  }

  updateWorker(id: string, patch: WorkerPatch): WorkerInfo {
    const worker = this.#worker(id);
    if (patch.transport) checkTransport(this.#endpoints, patch.transport, worker.mode);
    if (patch.workMs) checkRange(patch.workMs);
    this.#remember();
    if (patch.transport) {
      worker.transport = patch.transport;
      worker.endpoint = patch.transport;
    }
    if (patch.workMs) worker.workMs = patch.workMs;
    this.#context.activeRun()?.updateWorker(id, patch);
    this.#context.changed();
    return { ...worker };
  }

  signalWorker(id: string, signal: WorkerSignal): void {
    const worker = this.#worker(id);
    if (worker.mode !== 'process') {
      throw new CodedError('PG_ERR_VALIDATION', text('worker.inProcessSignal', { worker: id }));
    }
    const active = this.#context.activeRun();
    if (!active) throw new CodedError('PG_ERR_NO_RUN', text('worker.processNeedsRun'));
    active.signalWorker(id, signal);
    this.#context.changed();
  }

  updateSink(patch: SinkPatch): SinkInfo {
    if (this.#context.activeRun()) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeSink'));
    if (patch.enabled && this.#context.scenario.framing !== 'tagged') {
      throw new CodedError('PG_ERR_VALIDATION', text('sink.tutorial'));
    }
    const next = { ...this.#sink, ...patch };
    if (next.enabled) for (const worker of this.#workers) checkSinkReach(next, worker.mode);
    this.#remember();
    this.#sink = next;
    this.#context.changed();
    return { ...this.#sink };
  }

  updateOptions(patch: SocketOptionsPatch): SocketOptions {
    this.#remember();
    this.#options = {
      ventilator: { ...this.#options.ventilator, ...patch.ventilator },
      worker: { ...this.#options.worker, ...patch.worker },
      sink: { ...this.#options.sink, ...patch.sink },
    };
    this.#liveOptions.apply({
      ventilator: Boolean(patch.ventilator && Object.keys(patch.ventilator).length),
      worker: Boolean(patch.worker && Object.keys(patch.worker).length),
      sink: Boolean(patch.sink && Object.keys(patch.sink).length),
    });
    this.#context.changed();
    return structuredClone(this.#options);
  }

  /**
   * Puts the playground in a lesson's start (or solution) state and clears the undo history; the lesson's goal
   * is checked after each run.
   */
  applyLesson(lessonId: string, stage: 'start' | 'solution'): PlaygroundInfo {
    const { scenario } = this.#context;
    if (this.#context.activeRun()) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeLesson'));
    const lesson = LESSONS_BY_ID.get(lessonId);
    if (!lesson)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('lesson.unknown', { lesson: lessonId.slice(0, 40), known: [...LESSONS_BY_ID.keys()].join(', ') }),
      );
    if (lesson.scenario !== scenario.id) {
      throw new CodedError(
        'PG_ERR_VALIDATION',
        text('lesson.otherScenario', { lesson: lesson.id, scenario: lesson.scenario }),
      );
    }
    // Opening, resetting or solving a lesson starts afresh: there is nothing before it to undo.
    this.#undo.clear();
    this.#restore(lessonDesign(scenario, lesson, stage));
    return this.#context.changed();
  }

  /** Takes back the last change of topology or parameters (between runs). */
  undo(): PlaygroundInfo {
    if (this.#context.activeRun()) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeUndo'));
    const design = this.#undo.takeBack();
    if (!design) throw new CodedError('PG_ERR_VALIDATION', text('undo.nothing'));
    this.#restore(design);
    return this.#context.changed();
  }

  /**
   * Sets the address the ventilator requests for one of its endpoints, from a visitor. Stricter than the
   * operator's configuration: ipc paths must be inside the runtime folder (a configured default such as the
   * tutorial's /tmp/zmqdemo is not accepted from a visitor), must not exist unless they are a socket, must not be
   * held by another playground nor named in its namespace (`<its id>-…`), and inproc names are scoped to this
   * playground. Nothing is created or touched here; the run claims the path when it binds (IpcClaims).
   */
  async setEndpoint(name: string, address: string): Promise<EndpointInfo> {
    const { playgroundId } = this.#context;
    if (this.#context.activeRun()) throw new CodedError('PG_ERR_RUN_ACTIVE', text('run.activeEndpoints'));
    const endpoint = this.#endpoints.find((candidate) => candidate.name === name);
    if (!endpoint) throw new CodedError('PG_ERR_NOT_FOUND', text('endpoint.unknown', { name: name.slice(0, 20) }));
    const visitorPolicy = { ...this.#context.policy, allowedIpcPaths: new Set<string>() };
    const parsed = checkEndpoint(address, visitorPolicy);
    if (parsed.transport !== endpoint.transport) {
      throw new CodedError(
        'PG_ERR_ENDPOINT',
        text('endpoint.wrongTransport', { name: endpoint.name, expected: endpoint.transport, got: parsed.transport }),
      );
    }
    let requested = address;
    if (parsed.transport === 'ipc') {
      if (this.#context.claimedIpcPaths.isOthers(parsed.path, playgroundId)) {
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcOtherPlayground', { path: parsed.path }));
      }
      const probe = await probeIpcPath(parsed.path);
      if (probe === 'not-a-socket')
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.notSocket', { path: parsed.path }));
      if (probe === 'unknown')
        throw new CodedError('PG_ERR_ENDPOINT', text('endpoint.ipcUnknown', { path: parsed.path }));
    } else if (parsed.transport === 'inproc' && !parsed.name.startsWith(`${playgroundId}-`)) {
      requested = `inproc://${playgroundId}-${parsed.name}`;
    }
    endpoint.requested = requested;
    endpoint.actual = null;
    delete endpoint.note;
    delete endpoint.noteText;
    this.#context.changed();
    return { ...endpoint };
  }

  #remember(): void {
    // Changes during a run act on live sockets and cannot be taken back.
    if (this.#context.activeRun()) return;
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

  #worker(id: string): WorkerInfo {
    const worker = this.#workers.find((candidate) => candidate.id === id);
    if (!worker)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('worker.unknown', { worker: id.slice(0, 64), playground: this.#context.playgroundId }),
      );
    return worker;
  }
}
