/**
 * One run of a scenario on real sockets: plan endpoints, start the built-in workers, play the ventilator's
 * script, drain, close everything, and report every step as an event. Knows nothing of HTTP.
 */
import {
  MESSAGES_KEPT_PER_WORKER,
  type EndpointInfo,
  type EventInput,
  type RunEndReason,
  type RunParams,
  type RunSummary,
  type VentilatorState,
  type WorkerInfo,
} from '../../shared/protocol/index.ts';
import type { Scenario, Step } from '../../shared/scenarios/index.ts';
import {
  EndpointError,
  checkEndpoint,
  ensureRuntimeDir,
  probeIpcPath,
  removeIpcFile,
  type EndpointPolicy,
} from './endpoints.ts';
import type { MonitorEvent } from './monitor.ts';
import { InProcessWorker, Ventilator, type Frames, type Verdict } from './sockets.ts';

/** A send pending longer than this shows the ventilator as blocked. */
export const BLOCKED_AFTER_MS = 100;
/** How long a synchronised start waits for the workers before it gives up and sends anyway. */
export const WAIT_FOR_WORKERS_MS = 10_000;
/** Linger of the ventilator after a run, so external peers still get their last messages. */
export const VENTILATOR_LINGER_MS = 1000;
/** Task bodies longer than this are shortened in events and summaries (the wire carries the whole body). */
export const BODY_PREVIEW_CHARS = 64;

export interface RunOptions {
  id: string;
  playgroundId: string;
  scenario: Scenario;
  /** The scenario's endpoints with their requested addresses resolved (overrides applied). */
  endpoints: EndpointInfo[];
  params: RunParams;
  policy: EndpointPolicy;
  /** ipc paths other playgrounds of this server hold; a run never binds one of them. */
  claimedIpcPaths: Set<string>;
  emit: (event: EventInput) => void;
}

interface WorkerState {
  info: WorkerInfo;
  worker: InProcessWorker | null;
  /** Settles when the worker's receive loop has ended and its stop was reported. */
  loop: Promise<void> | null;
  received: number;
  messages: string[];
  /** idle: not started; connecting: connect() called, no handshake yet; linked: handshake seen; closed. */
  phase: 'idle' | 'connecting' | 'linked' | 'closed';
  stopped: boolean;
}

export function preview(body: string): string {
  return body.length > BODY_PREVIEW_CHARS ? `${body.slice(0, BODY_PREVIEW_CHARS - 1)}…` : body;
}

export class PipelineRun {
  readonly id: string;
  readonly startedAt = new Date();
  readonly endpoints: EndpointInfo[];
  readonly workers: WorkerInfo[];
  endedAt: Date | null = null;
  reason: RunEndReason | null = null;

  readonly #options: RunOptions;
  readonly #emit: (event: EventInput) => void;
  readonly #start = performance.now();
  #ventilator: Ventilator | null = null;
  readonly #workerStates = new Map<string, WorkerState>();
  /** Endpoint name by the address the ventilator really bound (monitor events name the local address). */
  readonly #endpointByAddress = new Map<string, string>();
  readonly #ventilatorPeers = new Map<string, number>();
  readonly #reportedPeers = new Map<string, string>();
  readonly #closedWorkersNotYetDisconnected = new Map<string, number>();
  /** plain framing: task ids sent but not yet received, per body, oldest first. */
  readonly #unreceivedByBody = new Map<string, number[]>();
  readonly #ipcFilesBound: string[] = [];
  /** Addresses decided before binding (ipc, inproc), so workers can connect early. */
  readonly #plannedAddress = new Map<string, string>();
  #sent = 0;
  #receivedTotal = 0;
  #externalPeersMax = 0;
  #ventilatorState: VentilatorState = 'idle';
  #sendPending = false;
  /** #sent when a pending send was seen at the last tick; -1 when none was pending. */
  #pendingSeenAtSent = -1;
  #stopRequested = false;
  #wake: () => void = () => {};
  #messagesTruncated = false;
  #done: Promise<RunEndReason> | null = null;

  constructor(options: RunOptions) {
    this.#options = options;
    this.#emit = options.emit;
    this.id = options.id;
    const { scenario } = options;
    this.endpoints = options.endpoints.map((endpoint) => ({ ...endpoint, actual: null }));
    this.workers = scenario.workers.map((spec) => ({
      id: spec.id,
      endpoint: spec.endpoint,
      transport: this.#endpoint(spec.endpoint).transport,
    }));
    for (const info of this.workers) {
      this.#workerStates.set(info.id, { info, worker: null, loop: null, received: 0, messages: [], phase: 'idle', stopped: false });
    }
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

  get isActive(): boolean {
    return this.endedAt === null;
  }

  summary(): RunSummary {
    const received: Record<string, number> = {};
    for (const [id, state] of this.#workerStates) received[id] = state.received;
    return {
      sent: this.#sent,
      received,
      unattributed: Math.max(0, this.#sent - this.#receivedTotal),
      externalPeersMax: this.#externalPeersMax,
      durationMs: round((this.endedAt ? this.endedAt.getTime() - this.startedAt.getTime() : this.elapsed())),
    };
  }

  messages(): { messages: Record<string, string[]>; truncated: boolean } {
    const messages: Record<string, string[]> = {};
    for (const [id, state] of this.#workerStates) messages[id] = [...state.messages];
    return { messages, truncated: this.#messagesTruncated };
  }

  counters(): { sent: number; received: Record<string, number> } {
    const received: Record<string, number> = {};
    for (const [id, state] of this.#workerStates) received[id] = state.received;
    return { sent: this.#sent, received };
  }

  elapsed(): number {
    return performance.now() - this.#start;
  }

  // -------------------------------------------------------------------------------------------------------------

  async #execute(): Promise<RunEndReason> {
    const { scenario, params } = this.#options;
    this.#emit({ type: 'run:started', scenario: scenario.id, params, endpoints: this.endpoints, workers: this.workers });
    let reason: RunEndReason = 'completed';
    const blockedWatch = setInterval(() => this.#updateBlocked(), BLOCKED_AFTER_MS / 2);
    try {
      await this.#planEndpoints();
      this.#ventilator = new Ventilator((event) => this.#onVentilatorMonitor(event));
      if (params.builtInWorkers) this.#startWorkers((endpoint) => endpoint.transport !== 'tcp');
      this.#setVentilatorState('sending');
      const { intervalMs } = params;
      for (const step of scenario.steps(params)) {
        if (this.#stopRequested) break;
        if (step.kind === 'send') {
          // The hot path: one await per task, as in a bare PUSH loop.
          const task = this.#sent;
          this.#sendPending = true;
          await this.#ventilator.send(this.#framesFor(task, step.body));
          this.#sendPending = false;
          this.#sent++;
          this.#emit({ type: 'task:sent', task, body: preview(step.body) });
          if (intervalMs > 0) await this.#sleep(intervalMs);
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
        const code = error instanceof EndpointError ? error.code : ((error as { code?: string }).code ?? 'PG_ERR_INTERNAL');
        this.#emit({ type: 'node:error', node: 'ventilator', code, message: (error as Error).message });
      }
    } finally {
      clearInterval(blockedWatch);
    }
    this.#setVentilatorState('idle');
    await this.#closeAll(reason === 'completed' ? VENTILATOR_LINGER_MS : 0);
    this.endedAt = new Date();
    this.reason = reason;
    this.#emit({ type: 'run:ended', reason, summary: this.summary() });
    return reason;
  }

  async #play(step: Exclude<Step, { kind: 'send' }>): Promise<void> {
    switch (step.kind) {
      case 'bind':
        await this.#bind(step.endpoint);
        return;
      case 'wait-for-workers':
        await this.#until(() => this.#ventilatorPeerTotal() >= this.#workerStates.size, WAIT_FOR_WORKERS_MS);
        return;
    }
  }

  #endpoint(name: string): EndpointInfo {
    const endpoint = this.endpoints.find((candidate) => candidate.name === name);
    if (!endpoint) throw new Error(`Scenario ${this.#options.scenario.id} names unknown endpoint "${name}"`);
    return endpoint;
  }

  /**
   * Checks every requested address and picks the ipc paths now, before any worker connects: a worker may connect
   * to an ipc endpoint long before the ventilator binds it (the tutorial's ipc client does). A tcp port is only
   * known to be free once bound, so tcp workers connect after the bind.
   */
  async #planEndpoints(): Promise<void> {
    const { policy, claimedIpcPaths, playgroundId } = this.#options;
    for (const endpoint of this.endpoints) {
      const parsed = checkEndpoint(endpoint.requested, policy);
      if (parsed.transport === 'ipc') {
        ensureRuntimeDir(policy);
        let file = parsed.path;
        const probe = claimedIpcPaths.has(file) ? 'claimed' : await probeIpcPath(file);
        if (probe !== 'free' && probe !== 'stale-socket') {
          file = `${policy.runtimeDir}/${playgroundId}-${endpoint.name}.ipc`;
          endpoint.note = {
            claimed: `${parsed.path} is used by another playground on this server`,
            'live-socket': `${parsed.path} is in use by another program`,
            'not-a-socket': `${parsed.path} exists and is not a socket, so it was left alone`,
          }[probe] + `; bound ${file} instead.`;
          checkEndpoint(`ipc://${file}`, policy);
        }
        claimedIpcPaths.add(file);
        this.#ipcFilesBound.push(file);
        endpoint.actual = null;
        this.#plannedAddress.set(endpoint.name, `ipc://${file}`);
      } else if (parsed.transport === 'inproc') {
        // inproc names are per process; scoping them by playground keeps two playgrounds apart.
        this.#plannedAddress.set(endpoint.name, `inproc://${playgroundId}-${parsed.name}`);
      }
    }
  }

  async #bind(name: string): Promise<void> {
    const endpoint = this.#endpoint(name);
    const ventilator = this.#ventilator!;
    let address = this.#plannedAddress.get(name) ?? endpoint.requested;
    try {
      address = await ventilator.bind(address);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (endpoint.transport !== 'tcp' || code !== 'EADDRINUSE') throw error;
      const requestedPort = endpoint.requested.split(':').pop();
      address = await ventilator.bind('tcp://127.0.0.1:*');
      endpoint.note = `port ${requestedPort} is in use by another program; bound a free port instead.`;
    }
    endpoint.actual = address;
    this.#endpointByAddress.set(address, name);
    this.#emit({ type: 'endpoint:bound', endpoint: { ...endpoint } });
    if (this.#options.params.builtInWorkers) this.#startWorkers((candidate) => candidate.name === name);
  }

  #startWorkers(which: (endpoint: EndpointInfo) => boolean): void {
    for (const state of this.#workerStates.values()) {
      const endpoint = this.#endpoint(state.info.endpoint);
      if (state.worker || !which(endpoint)) continue;
      const address = endpoint.actual ?? this.#plannedAddress.get(endpoint.name);
      if (!address) continue;
      const worker = new InProcessWorker(state.info.id, address, (event) => this.#onWorkerMonitor(state, event));
      state.worker = worker;
      state.phase = 'connecting';
      this.#emit({ type: 'worker:connecting', worker: state.info.id, address });
      state.loop = worker
        .start((frames) => this.#onTask(state, frames))
        .catch((error: Error) => {
          this.#emit({ type: 'node:error', node: state.info.id, code: codeOf(error), message: error.message });
        })
        .finally(() => {
          this.#onWorkerClosed(state);
          this.#onWorkerStopped(state, 'run-ended');
        });
    }
  }

  /** The frames for a task; with plain framing, registers the body so a worker's receipt finds its task. */
  #framesFor(task: number, body: string): Frames {
    if (this.#options.scenario.framing === 'tagged') return [String(task), body];
    const queue = this.#unreceivedByBody.get(body);
    if (queue) queue.push(task);
    else this.#unreceivedByBody.set(body, [task]);
    return body;
  }

  #onTask(state: WorkerState, frames: Buffer[]): Verdict {
    const { framing, endMarker } = this.#options.scenario;
    let task: number;
    let body: string;
    if (framing === 'tagged') {
      task = Number(frames[0]?.toString());
      body = frames[1]?.toString() ?? '';
    } else {
      body = frames[0]?.toString() ?? '';
      const queue = this.#unreceivedByBody.get(body);
      task = queue?.shift() ?? -1;
      if (queue && queue.length === 0) this.#unreceivedByBody.delete(body);
    }
    if (!Number.isInteger(task) || task < 0) {
      this.#emit({ type: 'node:error', node: state.info.id, code: 'PG_ERR_BAD_MESSAGE', message: `Received a message the ventilator did not send: ${preview(body)}` });
      return 'continue';
    }
    state.received++;
    this.#receivedTotal++;
    if (state.messages.length < MESSAGES_KEPT_PER_WORKER) state.messages.push(preview(body));
    else this.#messagesTruncated = true;
    this.#emit({ type: 'task:received', task, worker: state.info.id, body: preview(body) });
    if (endMarker !== null && body === endMarker) {
      this.#onWorkerStopped(state, 'end-marker');
      return 'stop';
    }
    this.#wake();
    return 'continue';
  }

  #onWorkerStopped(state: WorkerState, reason: 'end-marker' | 'run-ended'): void {
    if (state.stopped) return;
    state.stopped = true;
    this.#emit({ type: 'worker:stopped', worker: state.info.id, reason });
    this.#wake();
  }

  #onVentilatorMonitor(event: MonitorEvent): void {
    this.#emit({ type: 'socket:event', node: 'ventilator', ...event });
    const name = this.#endpointByAddress.get(event.address);
    if (!name) return;
    const peers = this.#ventilatorPeers.get(name) ?? 0;
    this.#wake(); // a synchronised start waits for handshakes
    if (event.kind === 'handshake') this.#ventilatorPeers.set(name, peers + 1);
    else if (event.kind === 'disconnect') {
      this.#ventilatorPeers.set(name, Math.max(0, peers - 1));
      const owed = this.#closedWorkersNotYetDisconnected.get(name) ?? 0;
      if (owed > 0) this.#closedWorkersNotYetDisconnected.set(name, owed - 1);
    } else return;
    this.#reportPeers(name);
  }

  #onWorkerMonitor(state: WorkerState, event: MonitorEvent): void {
    this.#emit({ type: 'socket:event', node: state.info.id, ...event });
    if (state.phase === 'closed') return;
    if (event.kind === 'handshake') state.phase = 'linked';
    else if (event.kind === 'disconnect') state.phase = 'connecting'; // ZeroMQ reconnects on its own
    else return;
    this.#reportPeers(state.info.endpoint);
  }

  #onWorkerClosed(state: WorkerState): void {
    const name = state.info.endpoint;
    if (state.phase === 'linked') {
      // The ventilator will see this peer's disconnect a little later; until then it is still ours.
      this.#closedWorkersNotYetDisconnected.set(name, (this.#closedWorkersNotYetDisconnected.get(name) ?? 0) + 1);
    }
    state.phase = 'closed';
    this.#reportPeers(name);
  }

  /**
   * External peers on an endpoint = the ventilator's live handshakes minus our own workers that are, or may be,
   * among them. Monitor events of the two sides arrive in either order, so a worker counts as ours from its
   * connect() until the ventilator has seen it leave: the count may lag a real external peer briefly, but it
   * never shows a peer that is not there.
   */
  #reportPeers(name: string): void {
    let builtIn = 0;
    let ours = this.#closedWorkersNotYetDisconnected.get(name) ?? 0;
    for (const state of this.#workerStates.values()) {
      if (state.info.endpoint !== name) continue;
      if (state.phase === 'linked') builtIn++;
      if (state.phase === 'linked' || state.phase === 'connecting') ours++;
    }
    const external = Math.max(0, (this.#ventilatorPeers.get(name) ?? 0) - ours);
    const key = `${external}/${builtIn}`;
    if (this.#reportedPeers.get(name) === key) return;
    this.#reportedPeers.set(name, key);
    this.#externalPeersMax = Math.max(this.#externalPeersMax, this.#externalNow());
    this.#emit({ type: 'peers:changed', endpoint: name, external, builtIn });
    this.#wake();
  }

  #externalNow(): number {
    let total = 0;
    for (const key of this.#reportedPeers.values()) total += Number(key.split('/')[0]);
    return total;
  }

  #ventilatorPeerTotal(): number {
    let total = 0;
    for (const peers of this.#ventilatorPeers.values()) total += peers;
    return total;
  }

  /**
   * After the last send: wait until the built-in workers are done (stopped at their end marker, or every task
   * received) and external peers have left, or until drainMs has passed.
   */
  async #drain(): Promise<void> {
    const { params, scenario } = this.#options;
    await this.#until(() => {
      const workers = [...this.#workerStates.values()];
      const workersDone = !params.builtInWorkers ||
        (scenario.endMarker !== null ? workers.every((w) => w.stopped) : this.#receivedTotal >= this.#sent);
      return workersDone && this.#externalNow() === 0;
    }, params.drainMs);
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

  async #closeAll(lingerMs: number): Promise<void> {
    const ventilator = this.#ventilator;
    ventilator?.close(lingerMs);
    for (const state of this.#workerStates.values()) state.worker?.close();
    const workers = [...this.#workerStates.values()];
    const endings = [ventilator?.monitorDone, ...workers.flatMap((s) => [s.worker?.monitorDone, s.loop])];
    // Monitors and loops end with their sockets; bounded so that one that never ends cannot hold the run open.
    await Promise.race([
      Promise.allSettled(endings),
      new Promise((resolve) => setTimeout(resolve, 500)),
    ]);
    for (const file of this.#ipcFilesBound) {
      removeIpcFile(file);
      this.#options.claimedIpcPaths.delete(file);
    }
  }
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? 'PG_ERR_INTERNAL';
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
