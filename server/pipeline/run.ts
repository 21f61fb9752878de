/**
 * One run of a scenario on real sockets: plan endpoints, start the workers (in this process or as their own
 * processes), play the ventilator's script, apply live topology changes, drain, close everything, and report
 * every step as an event. Knows nothing of HTTP.
 *
 *   VENTILATOR -PUSH(tcp, ipc, inproc: one socket)-> WORKER x N -PUSH-> PULL- SINK (optional)
 */
import { VentilatorEndpoints } from './ventilator-endpoints.ts';
import { PeerCount } from './peer-count.ts';
import { Pace } from './pace.ts';
import { english, text } from '../../shared/protocol/server-text.ts';
import {
  MESSAGES_KEPT_PER_WORKER,
  type Counters,
  type EndpointInfo,
  type EventInput,
  type RunAccounting,
  type RunEndReason,
  type RunParams,
  type RunSummary,
  type SinkInfo,
  type SocketOptions,
  type Transport,
  type VentilatorState,
  type WorkerInfo,
  type WorkerPatch,
  type WorkerSignal,
} from '../../shared/protocol/index.ts';
import type { Scenario, Step } from '../../shared/scenarios/index.ts';
import type { ScheduledAction } from '../../shared/lessons/index.ts';
import type { EndpointPolicy, IpcClaims } from './endpoints.ts';
import type { MonitorEvent } from './monitor.ts';
import { ResultSink, Ventilator, type Frames } from './sockets.ts';
import { TASK_COLLECTED, TASK_DONE, TASK_EXTERNAL, TASK_LOST, TASK_RECEIVED, TASK_RESULT_LOST, TASK_SENT, TaskLedger } from './task-ledger.ts';
import { InProcessWorker, ProcessWorker, type WorkerHandle } from './worker-handle.ts';
import type { WorkerConfig, WorkerReport } from '../workers/worker-loop.ts';
import { CodedError } from '../errors.ts';

/** A send pending longer than this shows the ventilator as blocked. */
export const BLOCKED_AFTER_MS = 100;
/** How long a synchronised start waits for the workers before it gives up and sends anyway. */
export const WAIT_FOR_WORKERS_MS = 15_000;
/**
 * How long the end of a run waits without news while our own live workers still hold tasks or owe results. What
 * they hold will come (ZeroMQ delivers to a live peer), so a quiet spell there is a slow machine, not a loss; the
 * scenario's drainMs still decides for what only peers we cannot see could explain.
 */
export const OWN_WORK_PATIENCE_MS = 15_000;
/** Task bodies longer than this are shortened in events and summaries (the wire carries the whole body). */
export const BODY_PREVIEW_CHARS = 64;
/** Per-task task:lost events sent at the end of a run, at most; the summary counts all of them. */
export const LOST_EVENTS_MAX = 10_000;

export interface RunOptions {
  id: string;
  playgroundId: string;
  scenario: Scenario;
  /** The scenario's endpoints with their requested addresses resolved (overrides applied). */
  endpoints: EndpointInfo[];
  workers: WorkerInfo[];
  sink: SinkInfo;
  socketOptions: SocketOptions;
  params: RunParams;
  /** The playground's lesson at the start (named in run:started, so the recording is named after it). */
  lesson?: string | null;
  policy: EndpointPolicy;
  /** ipc paths other playgrounds of this server hold; a run never binds one of them. */
  claimedIpcPaths: IpcClaims;
  /** Signals the run sends to its own workers at set moments (a lesson's "chaos"). */
  actions?: readonly ScheduledAction[];
  emit: (event: EventInput) => void;
}

interface WorkerSlot {
  info: WorkerInfo;
  handle: WorkerHandle | null;
  received: number;
  done: number;
  /** Its results the sink has collected. */
  collected: number;
  messages: string[];
  /** Tasks received and not yet done, oldest first (a worker works on one at a time). */
  working: number[];
  /** Pipes this worker's own monitor saw shake hands (one per connection). */
  linkedPipes: number;
  /** connect() called and socket not closed: the ventilator may count this worker's pipes. */
  open: boolean;
  stopped: boolean;
  /** Tasks may have been lost with this worker (killed, removed, switched, or stopped at its "x"). */
  mayHaveLost: boolean;
  removed: boolean;
}

export function preview(body: string): string {
  return body.length > BODY_PREVIEW_CHARS ? `${body.slice(0, BODY_PREVIEW_CHARS - 1)}…` : body;
}

export function resolveAddress(template: string, policy: EndpointPolicy, playgroundId: string): string {
  return template.replaceAll('{runtime}', policy.runtimeDir).replaceAll('{playground}', playgroundId);
}

export class PipelineRun {
  readonly id: string;
  readonly startedAt = new Date();
  endedAt: Date | null = null;
  reason: RunEndReason | null = null;

  /** The ventilator's endpoints, as requested and (once bound) as really bound. */
  get endpoints(): EndpointInfo[] {
    return this.#endpoints.list;
  }

  readonly #options: RunOptions;
  readonly #emit: (event: EventInput) => void;
  readonly #start = performance.now();
  #ventilator: Ventilator | null = null;
  #sink: ResultSink | null = null;
  readonly #slots = new Map<string, WorkerSlot>();
  readonly #ledger = new TaskLedger();
  readonly #peers = new PeerCount(
    () => this.#slots.values(),
    (endpoint, external, builtIn) => {
      this.#emit({ type: 'peers:changed', endpoint, external, builtIn });
      this.#wake();
    },
  );
  /** plain framing: task ids sent but not yet received, per body, oldest first. */
  readonly #unreceivedByBody = new Map<string, number[]>();
  readonly #endpoints: VentilatorEndpoints;
  #sent = 0;
  #receivedTotal = 0;
  #doneTotal = 0;
  #collected = 0;
  #lost = 0;
  readonly #lostBy: Record<string, number> = {};
  /** Results done by a worker that never reached the sink, per worker (placed when the run ends). */
  readonly #resultsLostBy: Record<string, number> = {};
  /** Handles we asked to close: their exit is expected, not a death to account for. */
  readonly #closing = new WeakSet<WorkerHandle>();
  #ventilatorState: VentilatorState = 'idle';
  #sendPending = false;
  /** #sent when a pending send was seen at the last tick; -1 when none was pending. */
  #pendingSeenAtSent = -1;
  #lastProgressAt = performance.now();
  #stopRequested = false;
  #wake: () => void = () => {};
  #messagesTruncated = false;
  #done: Promise<RunEndReason> | null = null;
  #actionsPending: number;
  #endedEmitted = false;
  readonly #actionTimers = new Set<NodeJS.Timeout>();
  /** Workers whose restart is under way (old process closing, new one not forked yet). */
  readonly #restarting = new Set<string>();

  constructor(options: RunOptions) {
    this.#options = options;
    // run:ended is the last event of a run: a straggling monitor event after it is dropped, not logged.
    this.#emit = (event) => {
      if (this.#endedEmitted) return;
      if (event.type === 'run:ended') this.#endedEmitted = true;
      options.emit(event);
    };
    this.id = options.id;
    this.#endpoints = new VentilatorEndpoints(
      options.endpoints,
      {
        policy: options.policy,
        claimedIpcPaths: options.claimedIpcPaths,
        playgroundId: options.playgroundId,
        ventilator: () => this.#ventilator,
        onBound: (endpoint) => this.#onBound(endpoint),
      },
      (reason) => new CodedError('PG_ERR_VALIDATION', reason),
    );
    for (const info of options.workers) this.#slots.set(info.id, this.#newSlot({ ...info, state: 'idle', pid: null }));
    this.#actionsPending = options.actions?.length ?? 0;
  }

  /** Starts the run; the promise settles once every socket is closed and run:ended was emitted. */
  start(): Promise<RunEndReason> {
    this.#done ??= this.#execute();
    return this.#done;
  }

  /** Asks the run to stop: pending sleeps end, a blocked send is abandoned, sockets close. */
  stop(): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    // Closing the PUSH rejects a pending send (EAGAIN), which is how a blocked ventilator is interrupted.
    this.#ventilator?.close(0);
    this.#wake();
  }

  get params(): RunParams {
    return this.#options.params;
  }

  get sinkInfo(): SinkInfo {
    return { ...this.#options.sink, address: this.#sink?.address ?? null };
  }

  /** The workers of this run as they are now (removed ones excluded). */
  workers(): WorkerInfo[] {
    return [...this.#slots.values()].filter((slot) => !slot.removed).map((slot) => ({ ...slot.info }));
  }

  /** Every worker that took part, removed ones included (for summaries). */
  allWorkers(): WorkerInfo[] {
    return [...this.#slots.values()].map((slot) => ({ ...slot.info }));
  }

  summary(): RunSummary {
    const received: Record<string, number> = {};
    const done: Record<string, number> = {};
    for (const [id, slot] of this.#slots) {
      received[id] = slot.received;
      done[id] = slot.done;
    }
    return {
      sent: this.#sent,
      received,
      done,
      collected: this.#collected,
      unattributed: Math.max(0, this.#sent - this.#receivedTotal),
      lost: this.#lost,
      lostBy: { ...this.#lostBy },
      externalPeersMax: this.#peers.externalMax,
      durationMs: round(this.endedAt ? this.endedAt.getTime() - this.startedAt.getTime() : this.elapsed()),
      accounting: this.accounting(),
    };
  }

  /**
   * Where every sent task is, each counted once, read from the ledger's states (not derived from `sent`): the
   * parts add up to `sent` only if the books are right, which is what the tests check.
   */
  accounting(): RunAccounting {
    const ledger = this.#ledger;
    const count = [0, 0, 0, 0, 0, 0, 0, 0].map((_, state) => ledger.count(state));
    // A send still pending (or abandoned by a stop) is in the ledger but not yet in `sent`.
    for (let task = this.#sent; task < ledger.size; task++) count[ledger.stateOf(task)]!--;
    const sinkOn = this.#options.sink.enabled;
    return {
      collected: count[TASK_COLLECTED]!,
      processed: sinkOn ? 0 : count[TASK_DONE]!,
      resultsLost: count[TASK_RESULT_LOST]!,
      resultsLostBy: { ...this.#resultsLostBy },
      lost: count[TASK_LOST]!,
      external: count[TASK_EXTERNAL]!,
      inFlight: count[TASK_SENT]! + count[TASK_RECEIVED]! + (sinkOn ? count[TASK_DONE]! : 0),
    };
  }

  messages(): { messages: Record<string, string[]>; truncated: boolean } {
    const messages: Record<string, string[]> = {};
    for (const [id, slot] of this.#slots) messages[id] = [...slot.messages];
    return { messages, truncated: this.#messagesTruncated };
  }

  counters(): Omit<Counters, 'run'> {
    const received: Record<string, number> = {};
    const done: Record<string, number> = {};
    for (const [id, slot] of this.#slots) {
      received[id] = slot.received;
      done[id] = slot.done;
    }
    return { sent: this.#sent, received, done, collected: this.#collected, lost: this.#lost, lostBy: { ...this.#lostBy } };
  }

  elapsed(): number {
    return performance.now() - this.#start;
  }

  // ----- live topology ------------------------------------------------------------------------------------------

  /** Adds a worker to the running pipeline: it connects at once (binding its transport if needed). */
  addWorker(info: WorkerInfo): void {
    const slot = this.#newSlot({ ...info, state: 'idle', pid: null });
    this.#slots.set(info.id, slot);
    this.#emitWorker(slot, 'added');
    if (this.#options.params.builtInWorkers && this.#ventilator) void this.#startWhenBound(slot);
  }

  /** Closes a worker's sockets (or ends its process): tasks queued for it are lost, as in ZeroMQ. */
  async removeWorker(id: string): Promise<void> {
    const slot = this.#slot(id);
    slot.removed = true;
    slot.mayHaveLost = true;
    // Closed first: its last reports (a receipt on the way over IPC) land before what it held is counted lost.
    await this.#closeSlot(slot);
    this.#loseWorking(slot);
    this.#emit({ type: 'worker:removed', worker: id });
    this.#wake();
  }

  /** Moves a worker to another transport, or changes its work time, while tasks flow. */
  updateWorker(id: string, patch: WorkerPatch): void {
    const slot = this.#slot(id);
    if (patch.workMs) {
      slot.info.workMs = patch.workMs;
      slot.handle?.control({ type: 'configure', workMs: patch.workMs });
      this.#emitWorker(slot, `work time ${patch.workMs.min}-${patch.workMs.max} ms`);
    }
    if (patch.transport && patch.transport !== slot.info.transport) {
      const from = slot.info.transport;
      slot.info.transport = patch.transport;
      slot.info.endpoint = patch.transport;
      if (slot.handle) {
        // The old connection's queue goes with its socket: tasks still in it are lost.
        slot.mayHaveLost = true;
        this.#detachPipes(slot, from);
        this.#emitWorker(slot, `transport ${from} -> ${patch.transport}`);
        void this.#reconnectWhenBound(slot);
      } else {
        this.#emitWorker(slot, `transport ${from} -> ${patch.transport}`);
      }
    }
  }

  /** SIGKILL, SIGSTOP, SIGCONT or a restart for a process worker. */
  signalWorker(id: string, signal: WorkerSignal): void {
    const slot = this.#slot(id);
    // One restart at a time: overlapping ones would all close the same process and race to fork the next (a
    // flood of them crashed the server on a send to a child just gone), and a signal meanwhile would reach a
    // process on its way out.
    if (this.#restarting.has(id)) throw new CodedError('PG_ERR_LIMIT', text('worker.restarting', { worker: id }));
    if (signal === 'restart') {
      this.#restarting.add(id);
      void this.#restart(slot)
        .catch((error: unknown) => this.#emit({ type: 'node:error', node: id, code: codeOf(error), message: (error as Error).message }))
        .finally(() => this.#restarting.delete(id));
      return;
    }
    const handle = slot.handle;
    if (!(handle instanceof ProcessWorker) || handle.hasExited) {
      throw new CodedError('PG_ERR_VALIDATION', text('worker.noProcess', { worker: id }));
    }
    if (signal === 'kill') {
      slot.mayHaveLost = true;
      handle.signal('kill'); // the exit handler reports it and loses what the worker held
    } else if (signal === 'stop') {
      handle.signal('stop');
      slot.info.state = 'hung';
      this.#emit({ type: 'worker:process', worker: id, action: 'hung', pid: handle.pid });
      this.#emitWorker(slot, 'hung (SIGSTOP)');
    } else {
      handle.signal('cont');
      slot.info.state = slot.linkedPipes > 0 ? 'connected' : 'connecting';
      this.#emit({ type: 'worker:process', worker: id, action: 'resumed', pid: handle.pid });
      this.#emitWorker(slot, 'resumed (SIGCONT)');
    }
  }

  /** Socket options during a run: workers reconnect with them; the ventilator and sink keep theirs until the next run. */
  applyOptions(options: SocketOptions, changed: { ventilator: boolean; worker: boolean; sink: boolean }): void {
    this.#options.socketOptions = options;
    if (changed.worker) {
      for (const slot of this.#slots.values()) {
        if (!slot.handle || slot.removed) continue;
        slot.mayHaveLost = true;
        this.#detachPipes(slot, slot.info.transport);
        slot.handle.control({ type: 'reconnect', addresses: this.#addressesFor(slot), options: this.#workerOptions() });
      }
      const noteText = text('note.workersRecreated');
      this.#emit({ type: 'options:applied', node: 'workers', recreated: true, note: english(noteText), noteText });
    }
    for (const node of ['ventilator', 'sink'] as const) {
      if (!changed[node]) continue;
      const noteText = text('note.nextRun', { node });
      this.#emit({ type: 'options:applied', node, recreated: false, note: english(noteText), noteText });
    }
  }

  /** Schedules the actions whose moment (a number of tasks sent) has come. */
  #fireActions(): void {
    for (const action of this.#options.actions ?? []) {
      if (action.afterSent !== this.#sent) continue;
      this.#actionsPending--;
      const timer = setTimeout(() => {
        this.#actionTimers.delete(timer);
        if (this.endedAt || this.#stopRequested) return;
        try {
          this.signalWorker(action.worker, action.signal);
        } catch (error) {
          this.#emit({ type: 'node:error', node: action.worker, code: codeOf(error), message: (error as Error).message });
        }
      }, action.delayMs);
      this.#actionTimers.add(timer);
    }
  }

  // ----- the run ------------------------------------------------------------------------------------------------

  async #execute(): Promise<RunEndReason> {
    const { scenario, params } = this.#options;
    this.#emit({
      type: 'run:started',
      scenario: scenario.id,
      params,
      endpoints: this.endpoints.map((endpoint) => ({ ...endpoint })),
      workers: this.workers(),
      sink: this.sinkInfo,
      options: structuredClone(this.#options.socketOptions),
      ...(this.#options.lesson ? { lesson: this.#options.lesson } : {}),
    });
    let reason: RunEndReason = 'completed';
    const blockedWatch = setInterval(() => this.#updateBlocked(), BLOCKED_AFTER_MS / 2);
    try {
      await this.#endpoints.plan();
      this.#ventilator = this.#createVentilator();
      if (this.#options.sink.enabled) await this.#startSink();
      if (params.builtInWorkers) {
        for (const slot of this.#slots.values()) if (this.#endpoints.isKnown(slot.info.transport)) void this.#startWhenBound(slot);
      }
      this.#setVentilatorState('sending');
      // interval > 0: a rate, each send due at first + n x interval (pace.ts), not a sleep after each send.
      const pace = params.intervalMs > 0 ? new Pace(params.intervalMs) : null;
      for (const step of scenario.steps(params)) {
        if (this.#stopRequested) break;
        if (step.kind === 'send') {
          // The hot path: one await per task, as in a bare PUSH loop.
          const task = this.#sent;
          const frames = this.#framesFor(task, step.body);
          this.#ledger.sent(task); // before the send: a receipt must always find its task
          if (this.#endpoints.isBinding) await this.#endpoints.settled();
          this.#sendPending = true;
          try {
            await this.#ventilator.send(frames);
          } catch (error) {
            this.#ledger.unsent(task); // never queued: a stop closed the socket under it
            throw error;
          }
          this.#sendPending = false;
          this.#sent++;
          if (this.#actionsPending > 0) this.#fireActions();
          this.#emit({ type: 'task:sent', task, body: preview(step.body) });
          if (pace) {
            // Asked after task:sent is stamped, so the schedule counts from no earlier than that event's t.
            const due = pace.afterSend();
            const ahead = due - performance.now();
            if (ahead > 0) await this.#sleep(ahead);
          }
        } else {
          await this.#play(step);
        }
      }
      this.#setVentilatorState('idle');
      if (!this.#stopRequested) await this.#drain();
      if (this.#stopRequested) reason = 'stopped';
    } catch (error) {
      if (this.#stopRequested) {
        reason = 'stopped';
      } else {
        reason = 'failed';
        const code = codeOf(error);
        this.#emit({ type: 'node:error', node: 'ventilator', code, message: (error as Error).message });
      }
    } finally {
      clearInterval(blockedWatch);
      for (const timer of this.#actionTimers) clearTimeout(timer);
    }
    this.#setVentilatorState('idle');
    await this.#closeAll(reason === 'completed' ? this.#options.socketOptions.ventilator.linger : 0);
    // Every socket is closed and every worker's last report is in: what is not placed now never will be. A stopped
    // run leaves it in flight, as the learner cut it off.
    if (reason !== 'stopped') this.#settleBooks();
    this.endedAt = new Date();
    this.reason = reason;
    this.#emit({ type: 'run:ended', reason, summary: this.summary() });
    return reason;
  }

  async #play(step: Exclude<Step, { kind: 'send' }>): Promise<void> {
    switch (step.kind) {
      case 'bind':
        await this.#endpoints.bindOnce(step.endpoint);
        return;
      case 'bind-in-use': {
        const transports = new Set([...this.#slots.values()].map((slot) => slot.info.transport));
        // With no worker of ours, bind every endpoint so external peers can join on any transport.
        const names = this.#options.params.builtInWorkers ? transports : new Set(this.endpoints.map((e) => e.name));
        for (const endpoint of this.#endpoints.list) if (names.has(endpoint.transport)) await this.#endpoints.bindOnce(endpoint.name);
        return;
      }
      case 'wait-for-workers': {
        const pipes = [...this.#slots.values()].reduce((sum, slot) => sum + slot.info.connections, 0);
        await this.#until(() => this.#peers.ventilatorPipes() >= pipes, WAIT_FOR_WORKERS_MS);
        return;
      }
    }
  }

  #createVentilator(): Ventilator {
    const ventilator = new Ventilator((event) => this.#onVentilatorMonitor(event));
    const options = this.#options.socketOptions.ventilator;
    const socket = ventilator.socket;
    // Before any bind: HWMs and buffers of existing pipes never change afterwards (zmq-facts section 3).
    socket.sendHighWaterMark = options.sendHighWaterMark;
    if (options.sendBufferSize > 0) socket.sendBufferSize = options.sendBufferSize;
    if (options.heartbeatInterval > 0) {
      socket.heartbeatInterval = options.heartbeatInterval;
      socket.heartbeatTimeout = options.heartbeatTimeout || options.heartbeatInterval * 3;
    }
    return ventilator;
  }

  /** After each bind: the page hears of it, and built-in workers on that transport connect. */
  #onBound(endpoint: EndpointInfo): void {
    const address = endpoint.actual!;
    if (endpoint.transport === 'inproc') {
      // inproc has no monitor events at all (zmq-facts section 5): report the bind ourselves.
      this.#emit({ type: 'socket:event', node: 'ventilator', kind: 'bind', address });
    }
    this.#emit({ type: 'endpoint:bound', endpoint: { ...endpoint } });
    // A peer that was already retrying may have shaken hands before the bind returned: it counts from now.
    this.#peers.endpointBound(address, endpoint.name);
    if (this.#options.params.builtInWorkers) {
      for (const slot of this.#slots.values()) if (slot.info.transport === endpoint.transport && !slot.handle && !slot.removed) void this.#startWhenBound(slot);
    }
  }

  /** The address a worker on this transport connects to, binding it first when the scenario binds on demand. */
  async #addressFor(transport: Transport): Promise<string | null> {
    const endpoint = this.#endpoints.get(transport);
    if (!endpoint.actual && this.#options.scenario.bindOnDemand && this.#ventilator) await this.#endpoints.bindOnce(endpoint.name);
    return this.#endpoints.addressOf(transport);
  }

  #addressesFor(slot: WorkerSlot): string[] {
    const address = this.#endpoints.addressOf(slot.info.transport);
    return address ? Array.from({ length: slot.info.connections }, () => address) : [];
  }

  #workerOptions(): WorkerConfig['options'] {
    const { worker } = this.#options.socketOptions;
    return {
      receiveHighWaterMark: worker.receiveHighWaterMark,
      receiveBufferSize: worker.receiveBufferSize,
      sinkImmediate: worker.sinkImmediate,
    };
  }

  async #startWhenBound(slot: WorkerSlot): Promise<void> {
    try {
      const address = await this.#addressFor(slot.info.transport);
      if (!address || slot.handle || slot.removed || this.#stopRequested || this.endedAt) return;
      this.#startWorker(slot, address);
    } catch (error) {
      this.#emit({ type: 'node:error', node: slot.info.id, code: codeOf(error), message: (error as Error).message });
    }
  }

  async #reconnectWhenBound(slot: WorkerSlot): Promise<void> {
    try {
      await this.#addressFor(slot.info.transport);
      slot.handle?.control({ type: 'reconnect', addresses: this.#addressesFor(slot), options: this.#workerOptions() });
      this.#emit({ type: 'worker:connecting', worker: slot.info.id, address: this.#addressesFor(slot)[0] ?? '' });
    } catch (error) {
      this.#emit({ type: 'node:error', node: slot.info.id, code: codeOf(error), message: (error as Error).message });
    }
  }

  #startWorker(slot: WorkerSlot, address: string): void {
    const { scenario } = this.#options;
    const config: WorkerConfig = {
      id: slot.info.id,
      addresses: Array.from({ length: slot.info.connections }, () => address),
      workMs: slot.info.workMs,
      endMarker: scenario.endMarker,
      sinkAddress: this.#sink?.address ?? null,
      options: this.#workerOptions(),
    };
    const onReport = (report: WorkerReport) => this.#onWorkerReport(slot, report);
    slot.open = true;
    slot.stopped = false;
    slot.linkedPipes = 0;
    if (slot.info.mode === 'process') {
      const handle = new ProcessWorker(slot.info.id, config, onReport, (exit) => this.#onProcessExit(slot, handle, exit.signal));
      slot.handle = handle;
      slot.info.pid = handle.pid;
      slot.info.state = 'starting';
      this.#emit({ type: 'worker:process', worker: slot.info.id, action: 'spawned', pid: handle.pid });
    } else {
      slot.handle = new InProcessWorker(slot.info.id, config, onReport);
      slot.info.state = 'connecting';
    }
    this.#emit({ type: 'worker:connecting', worker: slot.info.id, address });
    this.#emitWorker(slot, 'connecting');
    if (slot.info.transport === 'inproc') {
      // inproc has no monitor events: its pipe exists as soon as connect() returns on a bound endpoint.
      slot.linkedPipes = slot.info.connections;
      slot.info.state = 'connected';
      this.#emitWorker(slot, 'connected');
    }
    this.#peers.report(slot.info.endpoint);
  }

  async #restart(slot: WorkerSlot): Promise<void> {
    if (slot.removed) return;
    if (slot.handle) {
      slot.mayHaveLost = true;
      await this.#closeSlot(slot);
      this.#loseWorking(slot);
    }
    slot.info.state = 'idle';
    if (this.#options.params.builtInWorkers && !this.endedAt) await this.#startWhenBound(slot);
  }

  #onWorkerReport(slot: WorkerSlot, report: WorkerReport): void {
    switch (report.type) {
      case 'received':
        this.#onTask(slot, report.frames);
        return;
      case 'done': {
        const task = slot.working.shift();
        if (task === undefined) return;
        slot.done++;
        this.#doneTotal++;
        this.#ledger.done(task);
        this.#lastProgressAt = performance.now();
        this.#emit({ type: 'task:done', task, worker: slot.info.id });
        this.#wake();
        return;
      }
      case 'monitor':
        this.#onWorkerMonitor(slot, report.event, report.socket);
        return;
      case 'stopped':
        if (report.reason === 'end-marker') this.#onWorkerStopped(slot, 'end-marker');
        return;
      case 'error':
        this.#emit({ type: 'node:error', node: slot.info.id, code: report.code, message: report.message });
        return;
    }
  }

  #onTask(slot: WorkerSlot, frames: string[]): void {
    const { framing, endMarker } = this.#options.scenario;
    let task: number;
    let body: string;
    if (framing === 'tagged') {
      task = Number(frames[0]);
      body = frames[1] ?? '';
    } else {
      body = frames[0] ?? '';
      const queue = this.#unreceivedByBody.get(body);
      task = queue?.shift() ?? -1;
      if (queue && queue.length === 0) this.#unreceivedByBody.delete(body);
    }
    if (!Number.isInteger(task) || task < 0 || !this.#ledger.received(task, slot.info.id)) {
      this.#emit({ type: 'node:error', node: slot.info.id, code: 'PG_ERR_BAD_MESSAGE', message: `Received a message the ventilator did not send: ${preview(body)}` });
      return;
    }
    slot.received++;
    this.#receivedTotal++;
    this.#lastProgressAt = performance.now();
    if (slot.messages.length < MESSAGES_KEPT_PER_WORKER) slot.messages.push(preview(body));
    else this.#messagesTruncated = true;
    this.#emit({ type: 'task:received', task, worker: slot.info.id, body: preview(body) });
    if (endMarker !== null && body === endMarker) {
      // The tutorial's client stops at its "x": whatever is still queued for it is lost when it closes.
      slot.mayHaveLost = true;
      this.#ledger.done(task);
      return;
    }
    slot.working.push(task);
    this.#wake();
  }

  #onWorkerStopped(slot: WorkerSlot, reason: 'end-marker' | 'run-ended'): void {
    if (slot.stopped) return;
    slot.stopped = true;
    slot.info.state = slot.info.state === 'killed' ? 'killed' : 'stopped';
    this.#markClosed(slot);
    this.#emit({ type: 'worker:stopped', worker: slot.info.id, reason });
    this.#wake();
  }

  #onProcessExit(slot: WorkerSlot, handle: ProcessWorker, signal: NodeJS.Signals | null): void {
    if (slot.handle !== handle) return; // an old process of a restarted worker
    // A process we are closing may be put down after a grace period (one still starting when the run ends): that
    // is not a kill to report; #closeSlot's callers place what it held. Any other exit is a death: killed by us,
    // by someone else (kill -9, the OOM killer), or a crash. Its task in hand and its queue go with it.
    const died = handle.killRequested || !this.#closing.has(handle);
    const killed = died && signal !== null;
    this.#emit({ type: 'worker:process', worker: slot.info.id, action: killed ? 'killed' : 'exited', pid: handle.pid });
    if (died) {
      slot.mayHaveLost = true;
      this.#loseWorking(slot);
      if (killed) {
        slot.info.state = 'killed';
        if (signal === 'SIGKILL') this.#emitWorker(slot, 'killed (SIGKILL)');
        else this.#emitWorker(slot, `killed (${signal})`); // a crash, or another signal from outside
      }
    }
    this.#markClosed(slot);
    this.#wake();
  }

  /** Tasks a worker held (received, not done) are lost with it, exactly. */
  #loseWorking(slot: WorkerSlot): void {
    for (const task of slot.working.splice(0)) this.#loseTask(task, slot.info.id);
  }

  #loseTask(task: number, worker: string | null): void {
    if (!this.#ledger.lost(task, worker)) return; // already placed (its result overtook the worker's reports)
    this.#lost++;
    const key = worker ?? 'unknown';
    this.#lostBy[key] = (this.#lostBy[key] ?? 0) + 1;
    if (this.#lost <= LOST_EVENTS_MAX) this.#emit({ type: 'task:lost', task, worker });
  }

  /**
   * At the end, tasks sent but never received went to a peer we do not control (when there were any) or were lost
   * in the pipe of a worker that went away. PUSH cannot say which pipe held them, so they are attributed to that
   * worker only when a single worker could have held them.
   */
  #accountForUnreceived(): void {
    const unreceived = this.#ledger.inState(TASK_SENT).filter((task) => task < this.#sent);
    if (this.#peers.externalMax > 0 || !this.#options.params.builtInWorkers) {
      for (const task of unreceived) this.#ledger.external(task);
      return;
    }
    const suspects = [...this.#slots.values()].filter((slot) => slot.mayHaveLost).map((slot) => slot.info.id);
    const worker = suspects.length === 1 ? suspects[0]! : null;
    for (const task of unreceived) this.#loseTask(task, worker);
  }

  /**
   * The end of a run that was not stopped, once every socket is closed: each task gets its final place. Unreceived
   * ones went to external peers or were lost in a pipe; one still in a worker's hands was lost with that worker
   * when it closed; with a sink, a result that never arrived was lost on the way from the worker that did it.
   */
  #settleBooks(): void {
    this.#accountForUnreceived();
    for (const task of this.#ledger.inState(TASK_RECEIVED)) this.#loseTask(task, this.#ledger.workerOf(task));
    if (!this.#options.sink.enabled) return;
    for (const task of this.#ledger.inState(TASK_DONE)) {
      const worker = this.#ledger.resultLost(task) ?? 'unknown';
      this.#resultsLostBy[worker] = (this.#resultsLostBy[worker] ?? 0) + 1;
    }
  }

  // ----- sink ---------------------------------------------------------------------------------------------------

  async #startSink(): Promise<void> {
    const { sink, playgroundId } = this.#options;
    // An ipc path is claimed like the ventilator's: never a file that is not a socket, nor another playground's.
    const fresh =
      sink.transport === 'ipc'
        ? `ipc://${await this.#endpoints.claimOwnPath('sink')}`
        : sink.transport === 'tcp'
          ? 'tcp://127.0.0.1:*'
          : `inproc://${playgroundId}-sink`;
    const options = this.#options.socketOptions.sink;
    this.#sink = await ResultSink.open({
      // The last run's tcp port again when possible: workers started by hand keep reaching it.
      requested: sink.transport === 'tcp' && sink.address?.startsWith('tcp://127.0.0.1:') ? sink.address : fresh,
      fallback: fresh,
      receiveHighWaterMark: options.receiveHighWaterMark,
      receiveBufferSize: options.receiveBufferSize,
      onMonitor: (event) => this.#emit({ type: 'socket:event', node: 'sink', ...event }),
      onResult: (worker, task) => this.#onCollected(worker, task),
      onError: (error) => this.#emit({ type: 'node:error', node: 'sink', code: codeOf(error), message: (error as Error).message }),
    });
    this.#endpoints.ipcBound(this.#sink.address);
    this.#emit({ type: 'sink:bound', address: this.#sink.address });
  }

  #onCollected(worker: string, task: number): void {
    if (!Number.isInteger(task) || !this.#ledger.collected(task)) return;
    this.#collected++;
    const slot = this.#slots.get(worker);
    if (slot) slot.collected++;
    this.#lastProgressAt = performance.now();
    this.#emit({ type: 'task:collected', task, worker });
    this.#wake();
  }

  // ----- peers and monitor --------------------------------------------------------------------------------------

  #onVentilatorMonitor(event: MonitorEvent): void {
    this.#emit({ type: 'socket:event', node: 'ventilator', ...event });
    // By address: news about an endpoint whose bind has not returned yet is held, not dropped (PeerCount).
    if (event.kind === 'handshake') this.#peers.ventilatorHandshake(event.address);
    else if (event.kind === 'disconnect') this.#peers.ventilatorDisconnect(event.address);
    else return;
    this.#wake(); // a synchronised start waits for handshakes
  }

  #onWorkerMonitor(slot: WorkerSlot, event: MonitorEvent, socket: 'tasks' | 'results'): void {
    this.#emit({ type: 'socket:event', node: socket === 'tasks' ? slot.info.id : `${slot.info.id}:results`, ...event });
    if (socket !== 'tasks' || !slot.open) return;
    if (event.kind === 'handshake') {
      slot.linkedPipes = Math.min(slot.info.connections, slot.linkedPipes + 1);
      if (slot.info.state === 'connecting' || slot.info.state === 'starting') {
        slot.info.state = 'connected';
        this.#emitWorker(slot, 'connected');
      }
    } else if (event.kind === 'disconnect') {
      slot.linkedPipes = Math.max(0, slot.linkedPipes - 1);
    } else return;
    this.#peers.report(slot.info.endpoint);
  }

  /** The worker's pipes on `endpoint` are gone (socket closed or moved): the ventilator will see them leave. */
  #detachPipes(slot: WorkerSlot, endpoint: string): void {
    this.#peers.pipesClosed(endpoint, slot.linkedPipes);
    slot.linkedPipes = slot.info.transport === 'inproc' ? slot.info.connections : 0;
    this.#peers.report(endpoint);
    if (endpoint !== slot.info.endpoint) this.#peers.report(slot.info.endpoint);
  }

  #markClosed(slot: WorkerSlot): void {
    if (!slot.open) return;
    this.#detachPipes(slot, slot.info.endpoint);
    slot.open = false;
    slot.linkedPipes = 0;
    this.#peers.report(slot.info.endpoint);
  }

  // ----- ending -------------------------------------------------------------------------------------------------

  /**
   * After the last send: wait until every task is accounted for (processed, collected when there is a sink, or
   * known lost), or the tutorial's workers stopped at their "x", and external peers have left. Gives up after
   * drainMs without progress: what is still missing then was lost or taken by peers we cannot see.
   */
  async #drain(): Promise<void> {
    const { params, scenario } = this.#options;
    const sinkOn = this.#options.sink.enabled;
    this.#lastProgressAt = performance.now();
    const settled = () => {
      if (this.#peers.external > 0) return false;
      // With no worker of ours, only a sink can tell that the batch is done: results an external worker PUSHes
      // there are the run's results like any other's. (The monitor may not even have reported that worker yet:
      // a PUSH hands out a whole batch before its handshake reaches us.)
      if (!params.builtInWorkers) return !sinkOn || this.#collected + this.#lost >= this.#sent;
      const live = [...this.#slots.values()].filter((slot) => !slot.removed && slot.open);
      if (scenario.endMarker !== null) return live.every((slot) => slot.stopped);
      const accounted = (sinkOn ? this.#collected : this.#doneTotal) + this.#lost;
      return accounted >= this.#sent;
    };
    while (!this.#stopRequested && !settled()) {
      const patience = this.#ownWorkPending() ? Math.max(params.drainMs, OWN_WORK_PATIENCE_MS) : params.drainMs;
      const left = this.#lastProgressAt + patience - performance.now();
      if (left <= 0) return;
      await this.#until(settled, left);
    }
  }

  /** A live (not hung, not killed) worker of ours holds a task, or has done tasks whose results the sink lacks. */
  #ownWorkPending(): boolean {
    const live = [...this.#slots.values()].filter(
      (slot) => slot.open && !slot.removed && !slot.stopped && slot.info.state !== 'hung' && slot.info.state !== 'killed',
    );
    const sinkOn = this.#options.sink.enabled;
    return live.some((slot) => slot.working.length > 0 || (sinkOn && slot.done > slot.collected));
  }

  #setVentilatorState(state: VentilatorState): void {
    if (state === this.#ventilatorState) return;
    this.#ventilatorState = state;
    this.#emit({ type: 'ventilator:state', state });
  }

  /**
   * Called every BLOCKED_AFTER_MS / 2. A send that was already pending at the previous tick, with no send
   * completed since, has waited at least that long: the ventilator is blocked (no peer, or every pipe full).
   * Nothing is timed per send, which keeps the per-message path free of clocks.
   */
  #updateBlocked(): void {
    if (!this.#sendPending) {
      this.#pendingSeenAtSent = -1;
      if (this.#ventilatorState === 'blocked') this.#setVentilatorState('sending');
      return;
    }
    if (this.#pendingSeenAtSent === this.#sent) this.#setVentilatorState('blocked');
    else {
      this.#pendingSeenAtSent = this.#sent;
      if (this.#ventilatorState === 'blocked') this.#setVentilatorState('sending');
    }
  }

  /** Resolves when `condition` holds (checked whenever something changes), the time is up, or stop is asked. */
  async #until(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.#stopRequested && !condition()) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = () => {};
    }
  }

  #sleep(ms: number): Promise<void> {
    return this.#until(() => false, ms);
  }

  async #closeSlot(slot: WorkerSlot): Promise<void> {
    const handle = slot.handle;
    if (!handle) return;
    this.#closing.add(handle);
    this.#markClosed(slot);
    await handle.close();
    slot.handle = null;
    slot.info.pid = null;
  }

  async #closeAll(lingerMs: number): Promise<void> {
    const ventilator = this.#ventilator;
    ventilator?.close(lingerMs);
    const slots = [...this.#slots.values()];
    await Promise.allSettled(
      slots.map(async (slot) => {
        if (!slot.handle) return;
        const wasStopped = slot.stopped;
        await this.#closeSlot(slot);
        if (!wasStopped && !slot.removed) this.#onWorkerStopped(slot, 'run-ended');
      }),
    );
    this.#sink?.close();
    // Monitors and loops end with their sockets; bounded so that one that never ends cannot hold the run open.
    await Promise.race([
      Promise.allSettled([ventilator?.monitorDone, this.#sink?.done]),
      new Promise((resolve) => setTimeout(resolve, 500)),
    ]);
    this.#endpoints.releaseIpcPaths();
  }

  // ----- helpers ------------------------------------------------------------------------------------------------

  #newSlot(info: WorkerInfo): WorkerSlot {
    return {
      info,
      handle: null,
      received: 0,
      done: 0,
      collected: 0,
      messages: [],
      working: [],
      linkedPipes: 0,
      open: false,
      stopped: false,
      mayHaveLost: false,
      removed: false,
    };
  }

  #slot(id: string): WorkerSlot {
    const slot = this.#slots.get(id);
    if (!slot || slot.removed) throw new CodedError('PG_ERR_NOT_FOUND', text('worker.unknownInRun', { worker: id.slice(0, 64) }));
    return slot;
  }

  #emitWorker(slot: WorkerSlot, change: string): void {
    this.#emit({ type: 'worker:updated', worker: { ...slot.info }, change });
  }

  /** The frames for a task; with plain framing, registers the body so a worker's receipt finds its task. */
  #framesFor(task: number, body: string): Frames {
    if (this.#options.scenario.framing === 'tagged') return [String(task), body];
    const queue = this.#unreceivedByBody.get(body);
    if (queue) queue.push(task);
    else this.#unreceivedByBody.set(body, [task]);
    return body;
  }
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? 'PG_ERR_INTERNAL';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
