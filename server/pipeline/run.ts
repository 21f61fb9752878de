/**
 * One run of a scenario on real sockets: plan endpoints, start the workers (in this process or as their own
 * processes), play the ventilator's script, apply live topology changes, drain, close everything, and report
 * every step as an event. Knows nothing of HTTP.
 *
 *   VENTILATOR -PUSH(tcp, ipc, inproc: one socket)-> WORKER x N -PUSH-> PULL- SINK (optional)
 *
 * The books (where every task is) live in run-books.ts, the built-in workers in run-workers.ts, the run's options
 * and its two sockets' opening in run-sockets.ts, the blocked watch in ventilator-state.ts. This file keeps the
 * ventilator's script with its hot send loop, the end of a run (drain, close, settle) and the run's public face.
 * It is a little over 400 lines because those three share the run's state (stop, progress, the waiting) and read
 * best as one story; splitting them further would pass that state around instead.
 */
import { VentilatorEndpoints } from './ventilator-endpoints.ts';
import { PeerCount } from './peer-count.ts';
import { Pace } from './pace.ts';
import { english, text } from '../../shared/protocol/server-text.ts';
import type {
  Counters,
  EndpointInfo,
  EventInput,
  RunAccounting,
  RunEndReason,
  RunParams,
  RunSummary,
  SinkInfo,
  SocketOptions,
  WorkerInfo,
  WorkerPatch,
  WorkerSignal,
} from '../../shared/protocol/index.ts';
import type { Step } from '../../shared/scenarios/index.ts';
import type { MonitorEvent } from './monitor.ts';
import type { Ventilator } from './sockets.ts';
import { openSink, openVentilator, type RunOptions, type SinkHandle } from './run-sockets.ts';
import { RunBooks } from './run-books.ts';
import { RunWorkers } from './run-workers.ts';
import { codeOf, preview } from './worker-slot.ts';
import { WakeUp } from './wake-up.ts';
import { sharedLoopTurns } from './loop-turns.ts';
import { BLOCKED_AFTER_MS, VentilatorStateWatch } from './ventilator-state.ts';
import { CodedError } from '../errors.ts';
import { workersInThread } from './worker-handle.ts';
import { workerThreadHost } from '../workers/worker-thread-host.ts';

export { LOST_EVENTS_MAX } from './run-books.ts';
export { resolveAddress, type RunOptions } from './run-sockets.ts';
export { BODY_PREVIEW_CHARS, preview } from './worker-slot.ts';

/** How long a synchronised start waits for the workers before it gives up and sends anyway. */
export const WAIT_FOR_WORKERS_MS = 15_000;
/**
 * How long the end of a run waits without news while our own live workers still hold tasks or owe results. What
 * they hold will come (ZeroMQ delivers to a live peer), so a quiet spell there is a slow machine, not a loss; the
 * scenario's drainMs still decides for what only peers we cannot see could explain.
 */
export const OWN_WORK_PATIENCE_MS = 15_000;

/** The longest a run waits for the in-process workers' thread to load before its first step (then it goes on). */
const THREAD_READY_MS = 10_000;

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
  #sink: SinkHandle | null = null;
  readonly #books: RunBooks;
  readonly #workers: RunWorkers;
  readonly #peers = new PeerCount(
    () => this.#workers.slots(),
    (endpoint, external, builtIn) => {
      this.#emit({ type: 'peers:changed', endpoint, external, builtIn });
      this.#wakeUp.wake();
    },
  );
  readonly #endpoints: VentilatorEndpoints;
  readonly #wakeUp = new WakeUp(() => this.#stopRequested);
  readonly #ventilatorState = new VentilatorStateWatch(
    () => this.#books.sent,
    (event) => this.#emit(event),
  );
  #lastProgressAt = performance.now();
  #stopRequested = false;
  #done: Promise<RunEndReason> | null = null;
  #actionsPending: number;
  #endedEmitted = false;
  readonly #actionTimers = new Set<NodeJS.Timeout>();

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
    this.#books = new RunBooks({
      sinkEnabled: options.sink.enabled,
      tagged: options.scenario.framing === 'tagged',
      emit: this.#emit,
    });
    this.#workers = new RunWorkers({
      options,
      books: this.#books,
      peers: () => this.#peers,
      endpoints: this.#endpoints,
      emit: this.#emit,
      wake: () => this.#wakeUp.wake(),
      progressed: () => (this.#lastProgressAt = performance.now()),
      ventilatorOpen: () => this.#ventilator !== null,
      sinkAddress: () => this.#sink?.address ?? null,
      finishing: () => this.#stopRequested || this.endedAt !== null,
      ended: () => this.endedAt !== null,
      collect: (worker, task) => this.#collect(worker, task),
    });
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
    this.#wakeUp.wake();
  }

  get params(): RunParams {
    return this.#options.params;
  }

  get sinkInfo(): SinkInfo {
    return { ...this.#options.sink, address: this.#sink?.address ?? null };
  }

  /** The workers of this run as they are now (removed ones excluded). */
  workers(): WorkerInfo[] {
    return this.#workers.workers();
  }

  /** Every worker that took part, removed ones included (for summaries). */
  allWorkers(): WorkerInfo[] {
    return this.#workers.allWorkers();
  }

  summary(): RunSummary {
    const books = this.#books;
    return {
      sent: books.sent,
      ...this.#workers.counts(),
      collected: books.collected,
      unattributed: Math.max(0, books.sent - books.receivedTotal),
      lost: books.lost,
      lostBy: { ...books.lostBy },
      externalPeersMax: this.#peers.externalMax,
      durationMs: round(this.endedAt ? this.endedAt.getTime() - this.startedAt.getTime() : this.elapsed()),
      accounting: this.accounting(),
    };
  }

  /** Where every sent task is, each counted once (see RunBooks.accounting). */
  accounting(): RunAccounting {
    return this.#books.accounting();
  }

  messages(): { messages: Record<string, string[]>; truncated: boolean } {
    return this.#workers.messages();
  }

  counters(): Omit<Counters, 'run'> {
    const books = this.#books;
    const { received, done } = this.#workers.counts();
    return {
      sent: books.sent,
      received,
      done,
      collected: books.collected,
      lost: books.lost,
      lostBy: { ...books.lostBy },
    };
  }

  elapsed(): number {
    return performance.now() - this.#start;
  }

  // ----- live topology ------------------------------------------------------------------------------------------

  /** Adds a worker to the running pipeline: it connects at once (binding its transport if needed). */
  addWorker(info: WorkerInfo): void {
    this.#workers.add(info);
  }

  /** Closes a worker's sockets (or ends its process): tasks queued for it are lost, as in ZeroMQ. */
  removeWorker(id: string): Promise<void> {
    return this.#workers.remove(id);
  }

  /** Moves a worker to another transport, or changes its work time, while tasks flow. */
  updateWorker(id: string, patch: WorkerPatch): void {
    this.#workers.update(id, patch);
  }

  /** SIGKILL, SIGSTOP, SIGCONT or a restart for a process worker. */
  signalWorker(id: string, signal: WorkerSignal): void {
    this.#workers.signal(id, signal);
  }

  /** Socket options during a run: workers reconnect with them; the ventilator and sink keep theirs until the next run. */
  applyOptions(options: SocketOptions, changed: { ventilator: boolean; worker: boolean; sink: boolean }): void {
    this.#options.socketOptions = options;
    if (changed.worker) this.#workers.reconnectAll();
    for (const node of ['ventilator', 'sink'] as const) {
      if (!changed[node]) continue;
      const noteText = text('note.nextRun', { node });
      this.#emit({ type: 'options:applied', node, recreated: false, note: english(noteText), noteText });
    }
  }

  /** Schedules the actions whose moment (a number of tasks sent) has come. */
  #fireActions(): void {
    for (const action of this.#options.actions ?? []) {
      if (action.afterSent !== this.#books.sent) continue;
      this.#actionsPending--;
      const timer = setTimeout(() => {
        this.#actionTimers.delete(timer);
        if (this.endedAt || this.#stopRequested) return;
        try {
          this.signalWorker(action.worker, action.signal);
        } catch (error) {
          this.#emit({
            type: 'node:error',
            node: action.worker,
            code: codeOf(error),
            message: (error as Error).message,
          });
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
    const blockedWatch = setInterval(() => this.#ventilatorState.tick(), BLOCKED_AFTER_MS / 2);
    try {
      await this.#endpoints.plan();
      // Workers and sink in their thread: it has loaded before the first step (only the first run of a process can
      // find it still loading), so they connect when asked, not after a burst has gone to the first peer.
      if (workersInThread(this.#options.scenario)) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          workerThreadHost.ready(),
          new Promise((resolve) => (timer = setTimeout(resolve, THREAD_READY_MS))),
        ]);
        clearTimeout(timer);
      }
      this.#ventilator = openVentilator(this.#options.socketOptions.ventilator, (event) =>
        this.#onVentilatorMonitor(event),
      );
      if (this.#options.sink.enabled) {
        this.#sink = await openSink(this.#options, this.#endpoints, this.#emit, (worker, task) =>
          this.#onCollected(worker, task),
        );
        this.#endpoints.ipcBound(this.#sink.address);
        this.#emit({ type: 'sink:bound', address: this.#sink.address });
      }
      if (params.builtInWorkers) {
        this.#workers.startAll();
      }
      this.#ventilatorState.set('sending');
      // interval > 0: a rate, each send due at first + n x interval (pace.ts), not a sleep after each send.
      const pace = params.intervalMs > 0 ? new Pace(params.intervalMs) : null;
      for (const step of scenario.steps(params)) {
        if (this.#stopRequested) break;
        if (step.kind === 'send') {
          // The hot path: one await per task, as in a bare PUSH loop.
          const task = this.#books.sent;
          const frames = this.#books.framesFor(task, step.body);
          this.#books.ledger.sent(task); // before the send: a receipt must always find its task
          if (this.#endpoints.isBinding) await this.#endpoints.settled();
          this.#ventilatorState.sendPending = true;
          try {
            await this.#ventilator.send(frames);
          } catch (error) {
            this.#books.ledger.unsent(task); // never queued: a stop closed the socket under it
            throw error;
          }
          this.#ventilatorState.sendPending = false;
          this.#books.sent++;
          if (this.#actionsPending > 0) this.#fireActions();
          this.#emit({ type: 'task:sent', task, body: preview(step.body) });
          if (pace) {
            // Asked after task:sent is stamped, so the schedule counts from no earlier than that event's t.
            const due = pace.afterSend();
            const ahead = due - performance.now();
            if (ahead > 0) await this.#wakeUp.sleep(ahead);
          }
          if (sharedLoopTurns.due) await sharedLoopTurns.turn();
        } else {
          await this.#play(step);
        }
      }
      this.#ventilatorState.set('idle');
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
    this.#ventilatorState.set('idle');
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
        const transports = this.#workers.transports();
        // With no worker of ours, bind every endpoint so external peers can join on any transport.
        const names: Set<string> = this.#options.params.builtInWorkers
          ? transports
          : new Set(this.endpoints.map((e) => e.name));
        for (const endpoint of this.#endpoints.list)
          if (names.has(endpoint.transport)) await this.#endpoints.bindOnce(endpoint.name);
        return;
      }
      case 'wait-for-workers': {
        const pipes = this.#workers.connections();
        await this.#wakeUp.until(() => this.#peers.ventilatorPipes() >= pipes, WAIT_FOR_WORKERS_MS);
        return;
      }
    }
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
      this.#workers.startOn(endpoint.transport);
    }
  }

  // ----- sink ---------------------------------------------------------------------------------------------------

  #onCollected(worker: string, task: number): void {
    // A worker in the workers' thread may not have told of this task yet: its result waits for its task:done.
    if (this.#workers.resultAhead(worker, task)) return;
    this.#collect(worker, task);
  }

  #collect(worker: string, task: number): void {
    if (!this.#books.collect(task)) return;
    this.#workers.collected(worker);
    this.#lastProgressAt = performance.now();
    this.#emit({ type: 'task:collected', task, worker });
    this.#wakeUp.wake();
  }

  // ----- peers and monitor --------------------------------------------------------------------------------------

  #onVentilatorMonitor(event: MonitorEvent): void {
    this.#emit({ type: 'socket:event', node: 'ventilator', ...event });
    // By address: news about an endpoint whose bind has not returned yet is held, not dropped (PeerCount).
    if (event.kind === 'handshake') this.#peers.ventilatorHandshake(event.address);
    else if (event.kind === 'disconnect') this.#peers.ventilatorDisconnect(event.address);
    else return;
    this.#wakeUp.wake(); // a synchronised start waits for handshakes
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
    const books = this.#books;
    this.#lastProgressAt = performance.now();
    const settled = () => {
      if (this.#peers.external > 0) return false;
      // With no worker of ours, only a sink can tell that the batch is done: results an external worker PUSHes
      // there are the run's results like any other's. (The monitor may not even have reported that worker yet:
      // a PUSH hands out a whole batch before its handshake reaches us.)
      if (!params.builtInWorkers) return !sinkOn || books.collected + books.lost >= books.sent;
      if (scenario.endMarker !== null) return this.#workers.allStoppedAtMarker();
      return books.allAccounted() && !(sinkOn && this.#workers.reportsOwed());
    };
    while (!this.#stopRequested && !settled()) {
      const patience = this.#workers.ownWorkPending() ? Math.max(params.drainMs, OWN_WORK_PATIENCE_MS) : params.drainMs;
      const left = this.#lastProgressAt + patience - performance.now();
      if (left <= 0) return;
      await this.#wakeUp.until(settled, left);
    }
  }

  async #closeAll(lingerMs: number): Promise<void> {
    const ventilator = this.#ventilator;
    ventilator?.close(lingerMs);
    await this.#workers.closeAll();
    this.#sink?.close();
    // Monitors and loops end with their sockets; bounded so that one that never ends cannot hold the run open.
    await Promise.race([
      Promise.allSettled([ventilator?.monitorDone, this.#sink?.done]),
      new Promise((resolve) => setTimeout(resolve, 500)),
    ]);
    this.#endpoints.releaseIpcPaths();
  }

  /**
   * The end of a run that was not stopped, once every socket is closed: each task gets its final place. Tasks sent
   * but never received went to a peer we do not control (when there were any), or were lost in the pipe of a worker
   * that went away.
   */
  #settleBooks(): void {
    const external = this.#peers.externalMax > 0 || !this.#options.params.builtInWorkers;
    this.#books.settle(
      external ? { toExternalPeers: true } : { toExternalPeers: false, suspect: this.#workers.lossSuspect() },
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
