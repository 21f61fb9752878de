/**
 * A run's built-in workers: one slot per worker with what the run knows of it, opening, closing and restarting its
 * handle (in this process or its own process), the live changes a learner makes (add, remove, move, signal), and
 * what each worker reports (receipts, results done, its monitor, its stop, its process's exit). The books and the
 * peer count are the run's; this part tells them what its workers did.
 *
 * Over 400 lines for a reason: a worker's life (start, reports, signals, exit, close) is one state machine over
 * its slot, and each step decides what the others will find (open, stopped, mayHaveLost, the tasks in hand).
 * Split across files, those decisions would no longer be read together.
 */
import { english, text } from '../../shared/protocol/server-text.ts';
import {
  MESSAGES_KEPT_PER_WORKER,
  type EventInput,
  type Transport,
  type WorkerInfo,
  type WorkerPatch,
  type WorkerSignal,
} from '../../shared/protocol/index.ts';
import type { MonitorEvent } from './monitor.ts';
import type { PeerCount } from './peer-count.ts';
import type { RunBooks } from './run-books.ts';
import type { RunOptions } from './run-sockets.ts';
import type { VentilatorEndpoints } from './ventilator-endpoints.ts';
import {
  ProcessWorker,
  ThreadWorker,
  startInProcessWorker,
  workersInThread,
  type WorkerHandle,
} from './worker-handle.ts';
import { TASK_RECEIVED, TASK_SENT } from './task-ledger.ts';
import { codeOf, newSlot, preview, type WorkerSlot } from './worker-slot.ts';
import type { WorkerConfig, WorkerReport } from '../workers/worker-loop.ts';
import { CodedError } from '../errors.ts';

/** What the workers need of their run. */
export interface RunWorkersContext {
  /** The run's options, read when needed: socket options change during a run. */
  options: RunOptions;
  books: RunBooks;
  peers: () => PeerCount;
  endpoints: VentilatorEndpoints;
  emit: (event: EventInput) => void;
  /** Something changed that a waiting run may be waiting for. */
  wake: () => void;
  /** Progress was made (a task received or done): the drain's patience starts again. */
  progressed: () => void;
  /** The ventilator's socket exists (an endpoint may then be bound on demand). */
  ventilatorOpen: () => boolean;
  sinkAddress: () => string | null;
  /** The run is stopping or has ended: no worker starts any more. */
  finishing: () => boolean;
  ended: () => boolean;
  /** A result held by resultAhead() is collected now. */
  collect: (worker: string, task: number) => void;
}

export class RunWorkers {
  readonly #run: RunWorkersContext;
  readonly #slots = new Map<string, WorkerSlot>();
  /** Handles we asked to close: their exit is expected, not a death to account for. */
  readonly #closing = new WeakSet<WorkerHandle>();
  /** Workers whose restart is under way (old process closing, new one not forked yet). */
  readonly #restarting = new Set<string>();
  #messagesTruncated = false;

  constructor(run: RunWorkersContext) {
    this.#run = run;
    for (const info of run.options.workers) this.#slots.set(info.id, newSlot({ ...info, state: 'idle', pid: null }));
  }

  slots(): IterableIterator<WorkerSlot> {
    return this.#slots.values();
  }

  /** The workers as they are now (removed ones excluded). */
  workers(): WorkerInfo[] {
    return [...this.#slots.values()].filter((slot) => !slot.removed).map((slot) => ({ ...slot.info }));
  }

  /** Every worker that took part, removed ones included (for summaries). */
  allWorkers(): WorkerInfo[] {
    return [...this.#slots.values()].map((slot) => ({ ...slot.info }));
  }

  /** Tasks received and done, per worker. */
  counts(): { received: Record<string, number>; done: Record<string, number> } {
    const received: Record<string, number> = {};
    const done: Record<string, number> = {};
    for (const [id, slot] of this.#slots) {
      received[id] = slot.received;
      done[id] = slot.done;
    }
    return { received, done };
  }

  messages(): { messages: Record<string, string[]>; truncated: boolean } {
    const messages: Record<string, string[]> = {};
    for (const [id, slot] of this.#slots) messages[id] = [...slot.messages];
    return { messages, truncated: this.#messagesTruncated };
  }

  /** The sink collected one of this worker's results. */
  collected(worker: string): void {
    const slot = this.#slots.get(worker);
    if (slot) slot.collected++;
  }

  /**
   * The sink got `task`'s result from `worker` before the run heard that worker receive it or finish it: true when
   * it is a worker in the in-process workers' thread, whose reports come in batches a few milliseconds late; the
   * result is then held and collected (through the run's `collect`) right after that worker's task:done. A
   * process worker's reports come over IPC and are not waited for (the ledger takes its results as they come).
   */
  resultAhead(worker: string, task: number): boolean {
    const slot = this.#slots.get(worker);
    if (!slot || !(slot.handle instanceof ThreadWorker)) return false;
    const state = this.#run.books.ledger.stateOf(task);
    if (state !== TASK_SENT && state !== TASK_RECEIVED) return false;
    slot.resultsAhead.push(task);
    return true;
  }

  /** Collects the held results whose tasks this worker has now reported done (or all of them: `all`). */
  #releaseResults(slot: WorkerSlot, all = false): void {
    const held = slot.resultsAhead;
    const ledger = this.#run.books.ledger;
    while (held.length > 0) {
      const state = ledger.stateOf(held[0]!);
      if (!all && (state === TASK_SENT || state === TASK_RECEIVED)) return;
      this.#run.collect(slot.info.id, held.shift()!);
    }
  }

  /** The transports our workers use. */
  transports(): Set<Transport> {
    return new Set([...this.#slots.values()].map((slot) => slot.info.transport));
  }

  /** Pipes the ventilator sees once every worker is connected. */
  connections(): number {
    return [...this.#slots.values()].reduce((sum, slot) => sum + slot.info.connections, 0);
  }

  /** The tutorial's workers have all stopped at their "x" (or closed). */
  allStoppedAtMarker(): boolean {
    return [...this.#slots.values()].filter((slot) => !slot.removed && slot.open).every((slot) => slot.stopped);
  }

  /**
   * A live worker of ours whose results the sink has collected before the worker's own reports of them came in: a
   * process worker reports over its IPC channel, slower than its results travel over ZeroMQ, so the books would
   * close with tasks collected and never said done.
   */
  reportsOwed(): boolean {
    return [...this.#slots.values()].some(
      (slot) => slot.open && !slot.removed && slot.info.state !== 'hung' && slot.collected > slot.done,
    );
  }

  /** A live (not hung, not killed) worker of ours holds a task, or has done tasks whose results the sink lacks. */
  ownWorkPending(): boolean {
    const live = [...this.#slots.values()].filter(
      (slot) =>
        slot.open && !slot.removed && !slot.stopped && slot.info.state !== 'hung' && slot.info.state !== 'killed',
    );
    const sinkOn = this.#run.options.sink.enabled;
    return live.some((slot) => slot.working.length > 0 || (sinkOn && slot.done !== slot.collected));
  }

  /** The one worker that could have held tasks lost in a pipe, or null when none or several could. */
  lossSuspect(): string | null {
    const suspects = [...this.#slots.values()].filter((slot) => slot.mayHaveLost).map((slot) => slot.info.id);
    return suspects.length === 1 ? suspects[0]! : null;
  }

  // ----- live topology ------------------------------------------------------------------------------------------

  add(info: WorkerInfo): void {
    const slot = newSlot({ ...info, state: 'idle', pid: null });
    this.#slots.set(info.id, slot);
    this.#emitWorker(slot, 'added');
    if (this.#run.options.params.builtInWorkers && this.#run.ventilatorOpen()) void this.#startWhenBound(slot);
  }

  async remove(id: string): Promise<void> {
    const slot = this.#slot(id);
    slot.removed = true;
    slot.mayHaveLost = true;
    // Closed first: its last reports (a receipt on the way over IPC) land before what it held is counted lost.
    await this.#closeSlot(slot);
    this.#loseWorking(slot);
    this.#run.emit({ type: 'worker:removed', worker: id });
    this.#run.wake();
  }

  update(id: string, patch: WorkerPatch): void {
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

  signal(id: string, signal: WorkerSignal): void {
    const slot = this.#slot(id);
    // One restart at a time: overlapping ones would all close the same process and race to fork the next (a
    // flood of them crashed the server on a send to a child just gone), and a signal meanwhile would reach a
    // process on its way out.
    if (this.#restarting.has(id)) throw new CodedError('PG_ERR_LIMIT', text('worker.restarting', { worker: id }));
    if (signal === 'restart') {
      this.#restarting.add(id);
      void this.#restart(slot)
        .catch((error: unknown) =>
          this.#run.emit({ type: 'node:error', node: id, code: codeOf(error), message: (error as Error).message }),
        )
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
      this.#run.emit({ type: 'worker:process', worker: id, action: 'hung', pid: handle.pid });
      this.#emitWorker(slot, 'hung (SIGSTOP)');
    } else {
      handle.signal('cont');
      slot.info.state = slot.linkedPipes > 0 ? 'connected' : 'connecting';
      this.#run.emit({ type: 'worker:process', worker: id, action: 'resumed', pid: handle.pid });
      this.#emitWorker(slot, 'resumed (SIGCONT)');
    }
  }

  /** New worker socket options: every running worker reconnects with them (what its old pipes held is lost). */
  reconnectAll(): void {
    for (const slot of this.#slots.values()) {
      if (!slot.handle || slot.removed) continue;
      slot.mayHaveLost = true;
      this.#detachPipes(slot, slot.info.transport);
      slot.handle.control({ type: 'reconnect', addresses: this.#addressesFor(slot), options: this.#workerOptions() });
    }
    const noteText = text('note.workersRecreated');
    this.#run.emit({ type: 'options:applied', node: 'workers', recreated: true, note: english(noteText), noteText });
  }

  // ----- starting and closing -----------------------------------------------------------------------------------

  /** At the start of a run: every worker whose transport the scenario has connects once its endpoint is bound. */
  startAll(): void {
    for (const slot of this.#slots.values()) {
      if (this.#run.endpoints.isKnown(slot.info.transport)) void this.#startWhenBound(slot);
    }
  }

  /** An endpoint was bound: the workers on its transport that are not running yet connect. */
  startOn(transport: Transport): void {
    for (const slot of this.#slots.values()) {
      if (slot.info.transport === transport && !slot.handle && !slot.removed) void this.#startWhenBound(slot);
    }
  }

  /** The end of a run: every worker closes; one that had not stopped by itself is reported stopped. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(
      [...this.#slots.values()].map(async (slot) => {
        if (!slot.handle) return;
        const wasStopped = slot.stopped;
        // A worker still hung when the run closes it takes what waits in its pipe with it, as a killed one does.
        if (slot.info.state === 'hung') slot.mayHaveLost = true;
        await this.#closeSlot(slot);
        if (!wasStopped && !slot.removed) this.#onWorkerStopped(slot, 'run-ended');
      }),
    );
  }

  /** The address a worker on this transport connects to, binding it first when the scenario binds on demand. */
  async #addressFor(transport: Transport): Promise<string | null> {
    const endpoints = this.#run.endpoints;
    const endpoint = endpoints.get(transport);
    if (!endpoint.actual && this.#run.options.scenario.bindOnDemand && this.#run.ventilatorOpen()) {
      await endpoints.bindOnce(endpoint.name);
    }
    return endpoints.addressOf(transport);
  }

  #addressesFor(slot: WorkerSlot): string[] {
    const address = this.#run.endpoints.addressOf(slot.info.transport);
    return address ? Array.from({ length: slot.info.connections }, () => address) : [];
  }

  #workerOptions(): WorkerConfig['options'] {
    const { worker } = this.#run.options.socketOptions;
    return {
      receiveHighWaterMark: worker.receiveHighWaterMark,
      receiveBufferSize: worker.receiveBufferSize,
      sinkImmediate: worker.sinkImmediate,
    };
  }

  async #startWhenBound(slot: WorkerSlot): Promise<void> {
    try {
      const address = await this.#addressFor(slot.info.transport);
      if (!address || slot.handle || slot.removed || this.#run.finishing()) return;
      this.#startWorker(slot, address);
    } catch (error) {
      this.#run.emit({
        type: 'node:error',
        node: slot.info.id,
        code: codeOf(error),
        message: (error as Error).message,
      });
    }
  }

  async #reconnectWhenBound(slot: WorkerSlot): Promise<void> {
    try {
      await this.#addressFor(slot.info.transport);
      slot.handle?.control({ type: 'reconnect', addresses: this.#addressesFor(slot), options: this.#workerOptions() });
      this.#run.emit({ type: 'worker:connecting', worker: slot.info.id, address: this.#addressesFor(slot)[0] ?? '' });
    } catch (error) {
      this.#run.emit({
        type: 'node:error',
        node: slot.info.id,
        code: codeOf(error),
        message: (error as Error).message,
      });
    }
  }

  #startWorker(slot: WorkerSlot, address: string): void {
    const config: WorkerConfig = {
      id: slot.info.id,
      addresses: Array.from({ length: slot.info.connections }, () => address),
      workMs: slot.info.workMs,
      endMarker: this.#run.options.scenario.endMarker,
      sinkAddress: this.#run.sinkAddress(),
      options: this.#workerOptions(),
    };
    const onReport = (report: WorkerReport) => this.#onWorkerReport(slot, report);
    slot.open = true;
    slot.stopped = false;
    slot.linkedPipes = 0;
    if (slot.info.mode === 'process') {
      const handle = new ProcessWorker(slot.info.id, config, onReport, (exit) =>
        this.#onProcessExit(slot, handle, exit.signal),
      );
      slot.handle = handle;
      slot.info.pid = handle.pid;
      slot.info.state = 'starting';
      this.#run.emit({ type: 'worker:process', worker: slot.info.id, action: 'spawned', pid: handle.pid });
    } else {
      slot.handle = startInProcessWorker(slot.info.id, config, onReport, workersInThread(this.#run.options.scenario));
      slot.info.state = 'connecting';
    }
    this.#run.emit({ type: 'worker:connecting', worker: slot.info.id, address });
    this.#emitWorker(slot, 'connecting');
    if (slot.info.transport === 'inproc') {
      // inproc has no monitor events: its pipe exists as soon as connect() returns on a bound endpoint.
      slot.linkedPipes = slot.info.connections;
      slot.info.state = 'connected';
      this.#emitWorker(slot, 'connected');
    }
    this.#run.peers().report(slot.info.endpoint);
  }

  async #restart(slot: WorkerSlot): Promise<void> {
    if (slot.removed) return;
    if (slot.handle) {
      slot.mayHaveLost = true;
      await this.#closeSlot(slot);
      this.#loseWorking(slot);
    }
    slot.info.state = 'idle';
    if (this.#run.options.params.builtInWorkers && !this.#run.ended()) await this.#startWhenBound(slot);
  }

  async #closeSlot(slot: WorkerSlot): Promise<void> {
    const handle = slot.handle;
    if (!handle) return;
    this.#closing.add(handle);
    this.#markClosed(slot);
    await handle.close();
    // Every report of the worker is in: a result still held belongs to no receipt of ours (sent by hand under
    // this worker's name); it is counted as the sink got it.
    this.#releaseResults(slot, true);
    slot.handle = null;
    slot.info.pid = null;
  }

  // ----- what workers report ------------------------------------------------------------------------------------

  #onWorkerReport(slot: WorkerSlot, report: WorkerReport): void {
    switch (report.type) {
      case 'received':
        this.#onTask(slot, report.frames);
        return;
      case 'done': {
        const task = slot.working.shift();
        if (task === undefined) return;
        slot.done++;
        this.#run.books.done(task);
        this.#run.progressed();
        this.#run.emit({ type: 'task:done', task, worker: slot.info.id });
        if (slot.resultsAhead.length > 0) this.#releaseResults(slot);
        this.#run.wake();
        return;
      }
      case 'monitor':
        this.#onWorkerMonitor(slot, report.event, report.socket);
        return;
      case 'stopped':
        if (report.reason === 'end-marker') this.#onWorkerStopped(slot, 'end-marker');
        return;
      case 'error':
        this.#run.emit({ type: 'node:error', node: slot.info.id, code: report.code, message: report.message });
        return;
    }
  }

  #onTask(slot: WorkerSlot, frames: string[]): void {
    const { task, body } = this.#run.books.receive(frames, slot.info.id);
    if (task < 0) {
      const message = `Received a message the ventilator did not send: ${preview(body)}`;
      this.#run.emit({ type: 'node:error', node: slot.info.id, code: 'PG_ERR_BAD_MESSAGE', message });
      return;
    }
    slot.received++;
    this.#run.progressed();
    if (slot.messages.length < MESSAGES_KEPT_PER_WORKER) slot.messages.push(preview(body));
    else this.#messagesTruncated = true;
    this.#run.emit({ type: 'task:received', task, worker: slot.info.id, body: preview(body) });
    const endMarker = this.#run.options.scenario.endMarker;
    if (endMarker !== null && body === endMarker) {
      // The tutorial's client stops at its "x": whatever is still queued for it is lost when it closes.
      slot.mayHaveLost = true;
      this.#run.books.ledger.done(task);
      return;
    }
    slot.working.push(task);
    this.#run.wake();
  }

  #onWorkerStopped(slot: WorkerSlot, reason: 'end-marker' | 'run-ended'): void {
    if (slot.stopped) return;
    slot.stopped = true;
    slot.info.state = slot.info.state === 'killed' ? 'killed' : 'stopped';
    this.#markClosed(slot);
    this.#run.emit({ type: 'worker:stopped', worker: slot.info.id, reason });
    this.#run.wake();
  }

  #onProcessExit(slot: WorkerSlot, handle: ProcessWorker, signal: NodeJS.Signals | null): void {
    if (slot.handle !== handle) return; // an old process of a restarted worker
    // A process we are closing may be put down after a grace period (one still starting when the run ends): that
    // is not a kill to report; #closeSlot's callers place what it held. Any other exit is a death: killed by us,
    // by someone else (kill -9, the OOM killer), or a crash. Its task in hand and its queue go with it.
    const died = handle.killRequested || !this.#closing.has(handle);
    const killed = died && signal !== null;
    this.#run.emit({
      type: 'worker:process',
      worker: slot.info.id,
      action: killed ? 'killed' : 'exited',
      pid: handle.pid,
    });
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
    this.#run.wake();
  }

  /** Tasks a worker held (received, not done) are lost with it, exactly. */
  #loseWorking(slot: WorkerSlot): void {
    for (const task of slot.working.splice(0)) this.#run.books.loseTask(task, slot.info.id);
  }

  #onWorkerMonitor(slot: WorkerSlot, event: MonitorEvent, socket: 'tasks' | 'results'): void {
    const node = socket === 'tasks' ? slot.info.id : `${slot.info.id}:results`;
    this.#run.emit({ type: 'socket:event', node, ...event });
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
    this.#run.peers().report(slot.info.endpoint);
  }

  /** The worker's pipes on `endpoint` are gone (socket closed or moved): the ventilator will see them leave. */
  #detachPipes(slot: WorkerSlot, endpoint: string): void {
    const peers = this.#run.peers();
    peers.pipesClosed(endpoint, slot.linkedPipes);
    slot.linkedPipes = slot.info.transport === 'inproc' ? slot.info.connections : 0;
    peers.report(endpoint);
    if (endpoint !== slot.info.endpoint) peers.report(slot.info.endpoint);
  }

  #markClosed(slot: WorkerSlot): void {
    if (!slot.open) return;
    this.#detachPipes(slot, slot.info.endpoint);
    slot.open = false;
    slot.linkedPipes = 0;
    this.#run.peers().report(slot.info.endpoint);
  }

  #slot(id: string): WorkerSlot {
    const slot = this.#slots.get(id);
    if (!slot || slot.removed) {
      throw new CodedError('PG_ERR_NOT_FOUND', text('worker.unknownInRun', { worker: id.slice(0, 64) }));
    }
    return slot;
  }

  #emitWorker(slot: WorkerSlot, change: string): void {
    this.#run.emit({ type: 'worker:updated', worker: { ...slot.info }, change });
  }
}
