/**
 * The state of the current run, folded from stream events. The latest `run:started` starts a fresh state;
 * counts come from the server's exact `counters` when they are about this run (task events may be sampled).
 *
 * NOTE: dots run on the run's own clock: `tick` is given the run time being drawn (the session's PlaybackClock,
 * run-clock.svelte.ts). A task sent and not received within UNCLAIMED_AFTER_MS is drawn going to the external peers.
 * At high rates only a steady sample of dots is drawn (dotSpacing), never more than MAX_CONCURRENT_DOTS.
 */
import {
  assertNever,
  type Counters,
  type EndpointInfo,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type RunEndReason,
  type RunParams,
  type RunSummary,
  type VentilatorState,
} from '../../shared/protocol/index.ts';
import {
  EXTERNAL,
  MAX_CONCURRENT_DOTS,
  SINK,
  UNCLAIMED_AFTER_MS,
  dotSpacing,
  flightDuration,
  pruneLanded,
  type Flight,
  type FlightKind,
} from './flights.ts';
import { localize, locale, t } from './i18n/index.svelte.ts';
import { accounting, describeChange, externalSource, externalTaken, nextLinkState, type Accounting } from './run-model.ts';
import type { EventsFrame } from './stream-client.svelte.ts';
import { EndpointView, MESSAGES_SHOWN, WorkerView, type ReceivedMessage } from './views.svelte.ts';

export { EndpointView, MESSAGES_SHOWN, WorkerView, type ReceivedMessage } from './views.svelte.ts';

/** Socket and endpoint events kept in the log. */
export const LOG_SIZE = 200;
/**
 * Counters reach the page at most this often while a run goes on (frames come every ~33 ms): the figures stay
 * exact, and the page re-lays out its numbers 10 times a second instead of 30.
 */
export const COUNTERS_EVERY_MS = 100;
/** options:applied notices kept. */
export const NOTICES_KEPT = 4;

/** idle: no run seen yet; running: run:started seen; ended: run:ended seen. */
export type RunStatus = 'idle' | 'running' | 'ended';

/** Colour of a log entry. */
export type LogLevel = 'info' | 'good' | 'warn' | 'error';

/** One line of the socket and endpoint event log. */
export interface LogEntry {
  seq: number;
  t: number;
  node: string;
  kind: string;
  text: string;
  level: LogLevel;
}

/** What an options:applied event said. */
export interface OptionsNotice {
  seq: number;
  node: string;
  recreated: boolean;
  note: string;
}

/** Per-frame scratch space while folding events. */
interface FrameContext {
  log: LogEntry[];
  /** task:lost events of this frame per worker ("unknown" when unsure), logged as one line each. */
  lost: Map<string, { n: number; seq: number; t: number }>;
}

/** The current run, folded from events; the latest run:started starts it afresh. */
export class RunState {
  runId = $state<string | null>(null);
  status = $state<RunStatus>('idle');
  endReason = $state<RunEndReason | null>(null);
  /** Scenario of the run (or of the playground before any run). */
  scenario = $state<string | null>(null);
  params = $state.raw<RunParams | null>(null);
  endpoints = $state.raw<EndpointView[]>([]);
  workers = $state.raw<WorkerView[]>([]);
  ventilator = $state<VentilatorState>('idle');
  sent = $state(0);
  /** Exact received / done per worker (removed workers included) from the latest counters. */
  received = $state.raw<Record<string, number>>({});
  doneBy = $state.raw<Record<string, number>>({});
  collected = $state(0);
  lost = $state(0);
  /** Lost tasks per worker ("unknown" when unsure which): live from task:lost, exact from the summary. */
  lostBy = $state.raw<Record<string, number>>({});
  sinkAddress = $state<string | null>(null);
  isSinkBound = $state(false);
  notices = $state.raw<OptionsNotice[]>([]);
  summary = $state.raw<RunSummary | null>(null);
  /** Newest first. */
  log = $state.raw<LogEntry[]>([]);
  /** Task events the server left out of frames (sampling) during this run. */
  dropped = $state(0);
  flights = $state.raw<Flight[]>([]);
  externalPeersMax = $state(0);
  /** Last node:error of the run, shown near the diagram. */
  lastError = $state.raw<{ node: string; code: string; message: string } | null>(null);

  /** Peers we do not control, over all endpoints. */
  readonly externalPeers = $derived(this.endpoints.reduce((n, e) => n + e.external, 0));
  /** Sent minus received by built-in workers: what external peers took (or what is still on its way). */
  readonly externalMessages = $derived(
    externalTaken(this.sent, { ...Object.fromEntries(this.workers.map((w) => [w.id, w.count])), ...this.received }),
  );
  /** The tutorial lists every message; the batch scenario only counts. */
  readonly keepMessages = $derived(this.scenario !== 'pipeline');
  /** Where the tasks are now: sent, in flight, at workers, done, collected, lost. */
  readonly accounting: Accounting = $derived(
    accounting({
      sent: this.sent,
      received: { ...Object.fromEntries(this.workers.map((w) => [w.id, w.count])), ...this.received },
      done: { ...Object.fromEntries(this.workers.map((w) => [w.id, w.done])), ...this.doneBy },
      collected: this.collected,
      lost: this.lost,
      queues: this.workers.map((w) => w.queue),
      isEnded: this.status === 'ended',
    }),
  );

  #sentSeen = 0;
  #collectedSeen = 0;
  #lostSeen = 0;
  #pendingSent = new Map<number, { t: number; body: string }>();
  #byId = new Map<string, WorkerView>();
  #lastDot: Record<FlightKind, number> = { task: -Infinity, result: -Infinity };
  /** The newest counters of this run not yet shown, and the task events left out since the last flush. */
  #pendingCounters: { counters: Counters; dropped: number } | null = null;
  #countersShownAt = -Infinity;
  /**
   * Received messages whose dot is still flying, in arrival order: each joins its worker's list (and counter) when
   * the run time drawn reaches its landing, as its dot arrives. Only where messages are listed (keepMessages).
   */
  #landings: { at: number; worker: WorkerView; message: ReceivedMessage }[] = [];
  /** A live run:ended held until the messages in the air have landed: the run ends on the page with its last dot. */
  #pendingEnd: Extract<PlaygroundEvent, { type: 'run:ended' }> | null = null;

  /**
   * Follows the playground's topology between runs: workers added, removed or reconfigured since. Counts and
   * states of the last run stay on the workers that are still there; during a run, events alone drive the view.
   */
  seed(info: PlaygroundInfo): void {
    if (this.status === 'running') return;
    this.scenario = info.scenario;
    if (this.runId === null) this.endpoints = info.endpoints.map((e) => new EndpointView(e));
    const isFresh = this.runId === null;
    let changed = info.workers.length !== this.workers.length;
    const next = info.workers.map((w, i) => {
      const view = this.#byId.get(w.id);
      if (!view) {
        changed = true;
        return new WorkerView(w);
      }
      view.configure(w);
      if (isFresh) {
        view.state = w.state;
        view.pid = w.pid;
      }
      if (this.workers[i] !== view) changed = true;
      return view;
    });
    if (changed) this.#setWorkers(next);
  }

  /** Forgets everything (the server's history restarted). */
  reset(info: PlaygroundInfo | null): void {
    this.runId = null;
    this.status = 'idle';
    this.endReason = null;
    this.params = null;
    this.ventilator = 'idle';
    this.sent = 0;
    this.received = {};
    this.doneBy = {};
    this.collected = 0;
    this.lost = 0;
    this.lostBy = {};
    this.sinkAddress = null;
    this.isSinkBound = false;
    this.notices = [];
    this.summary = null;
    this.log = [];
    this.dropped = 0;
    this.flights = [];
    this.externalPeersMax = 0;
    this.lastError = null;
    this.#sentSeen = 0;
    this.#collectedSeen = 0;
    this.#lostSeen = 0;
    this.#pendingSent.clear();
    this.#lastDot = { task: -Infinity, result: -Infinity };
    this.#pendingCounters = null;
    this.#countersShownAt = -Infinity;
    for (const landing of this.#landings) landing.worker.inAir = 0;
    this.#landings = [];
    this.#pendingEnd = null;
    if (info) {
      this.#setWorkers([]);
      this.seed(info);
    }
    for (const listener of this.#resetListeners) listener();
  }

  /**
   * Calls `listener` after every reset: a new run starts, the tab moves to another playground (a lesson, the
   * sandbox), or the server's history restarted. What is kept beside this state (the charts' events) must go too.
   * Returns the function that removes it.
   */
  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  readonly #resetListeners = new Set<() => void>();

  /** A worker by id (current run or topology). */
  worker(id: string): WorkerView | undefined {
    return this.#byId.get(id);
  }

  /**
   * Folds one frame into the state. History (events stamped before we connected) updates counts and links but
   * starts no animation. `now` paces the counters (COUNTERS_EVERY_MS): the wall clock live, the playhead in a replay.
   */
  applyFrame(frame: EventsFrame, now: number): void {
    this.#fold(frame, now);
    for (const listener of this.#frameListeners) listener(frame);
  }

  /**
   * Calls `listener` after every frame this state folds, live or replayed (the charts read the same events the
   * diagram does). Returns the function that removes it.
   */
  onFrame(listener: (frame: EventsFrame) => void): () => void {
    this.#frameListeners.add(listener);
    return () => this.#frameListeners.delete(listener);
  }

  readonly #frameListeners = new Set<(frame: EventsFrame) => void>();

  #fold(frame: EventsFrame, now: number): void {
    const context: FrameContext = { log: [], lost: new Map() };
    // Copied once per frame, not once per task:lost, and dropped when the summary (exact) replaces it.
    let lostBy: Record<string, number> | null = null;
    for (const event of frame.events) {
      if (event.type === 'run:started') {
        this.#start(event);
        context.log.length = 0; // entries of the previous run would be cleared anyway
        context.lost.clear();
        lostBy = null;
      }
      if (event.run !== this.runId) {
        if (event.type === 'run:ended' && this.runId === null) this.#adoptEnded(event);
        continue;
      }
      if (event.type === 'task:lost') {
        const who = event.worker ?? 'unknown';
        lostBy ??= { ...this.lostBy };
        lostBy[who] = (lostBy[who] ?? 0) + 1;
      }
      if (event.type === 'run:ended' && event.seq > frame.historyUntil && this.#landings.length > 0) {
        this.#pendingEnd = event;
        continue;
      }
      this.#apply(event, context, event.seq <= frame.historyUntil);
      if (event.type === 'run:ended') lostBy = null;
    }
    if (lostBy) this.lostBy = lostBy;
    const keep = this.keepMessages;
    for (const w of this.workers) w.flush(keep);
    const counters = frame.counters;
    if (counters.run !== null && counters.run === this.runId) {
      this.#pendingCounters = { counters, dropped: (this.#pendingCounters?.dropped ?? 0) + frame.dropped };
      if (this.status !== 'running' || now - this.#countersShownAt >= COUNTERS_EVERY_MS) this.#showCounters(now);
    } else {
      this.sent = Math.max(this.sent, this.#sentSeen);
      this.collected = Math.max(this.collected, this.#collectedSeen);
      this.lost = Math.max(this.lost, this.#lostSeen);
      for (const w of this.workers) {
        w.count = Math.max(w.count, w.seen);
        w.done = Math.max(w.done, w.doneSeen);
      }
    }
    for (const [who, lost] of context.lost) {
      const text = who === 'unknown' ? t.plural('log.lostUnknown', lost.n) : t.plural('log.lost', lost.n, { who });
      context.log.push({ seq: lost.seq, t: lost.t, node: who, kind: 'task:lost', text, level: 'error' });
    }
    if (context.log.length > 0) {
      context.log.sort((a, b) => a.seq - b.seq);
      this.log = context.log.reverse().concat(this.log).slice(0, LOG_SIZE);
    }
  }

  /**
   * Called every animation frame with the run time drawn (`at`, null before the clock can place the run) and the
   * pacing clock (`now`, as for applyFrame): lands dots, shows due counters, sends unclaimed tasks to the external
   * peers. Returns whether more frames are needed.
   */
  tick(at: number | null, now: number): boolean {
    if (this.#pendingCounters && now - this.#countersShownAt >= COUNTERS_EVERY_MS) this.#showCounters(now);
    const t = at;
    if (t === null) return false;
    let flights = this.flights;
    if (this.#pendingSent.size > 0) {
      const showExternal = this.params?.builtInWorkers === false || this.externalPeers > 0;
      const added: Flight[] = [];
      for (const [task, sent] of this.#pendingSent) {
        const due = sent.t + UNCLAIMED_AFTER_MS;
        if (due > t) continue;
        this.#pendingSent.delete(task);
        if (!showExternal || due < t - 1000) continue;
        const from = externalSource(this.endpoints, task);
        if (from === null) continue;
        const flight: Flight = {
          key: `x${task}-${this.runId ?? ''}`,
          task,
          body: sent.body,
          from,
          to: EXTERNAL,
          start: due,
          duration: this.#duration(),
        };
        if (this.#hasRoom(flights.concat(added), flight.start)) added.push(flight);
      }
      if (added.length > 0) flights = flights.concat(added);
    }
    flights = pruneLanded(flights, t);
    if (flights !== this.flights) this.flights = flights;
    if (this.#landings.length > 0) this.#land(t);
    return (
      this.flights.length > 0 ||
      this.#landings.length > 0 ||
      this.#pendingSent.size > 0 ||
      this.#pendingCounters !== null ||
      this.status === 'running'
    );
  }

  /** Lists every message still waiting for its dot to land, now. */
  landAll(): void {
    this.#land(Infinity);
  }

  /** Lists the messages whose dots have landed by run time t (the same moment the dot leaves the diagram). */
  #land(t: number): void {
    const landed = this.#landings.filter((landing) => landing.at <= t);
    if (landed.length === 0) return;
    this.#landings = this.#landings.filter((landing) => landing.at > t);
    const workers = new Set<WorkerView>();
    for (const { worker, message } of landed) {
      worker.incoming.push(message);
      worker.inAir = Math.max(0, worker.inAir - 1);
      workers.add(worker);
    }
    for (const worker of workers) worker.flush(this.keepMessages);
    if (this.#landings.length === 0 && this.#pendingEnd) {
      const context: FrameContext = { log: [], lost: new Map() };
      this.#apply(this.#pendingEnd, context, false);
      this.#pendingEnd = null;
      this.log = context.log.concat(this.log).slice(0, LOG_SIZE);
    }
  }

  /** Copies the newest exact counters into the state the page shows. */
  #showCounters(now: number): void {
    const pending = this.#pendingCounters;
    this.#pendingCounters = null;
    this.#countersShownAt = now;
    if (!pending) return;
    const { counters } = pending;
    this.sent = counters.sent;
    this.received = counters.received;
    this.doneBy = counters.done;
    this.collected = counters.collected;
    this.lost = counters.lost;
    for (const w of this.workers) {
      w.count = counters.received[w.id] ?? w.count;
      w.done = counters.done[w.id] ?? w.done;
    }
    this.dropped += pending.dropped;
  }

  /**
   * Replaces worker message lists with the complete ones from the run detail (bodies only). The newest ones whose
   * dots are still flying join the list when they land.
   */
  fillMessages(run: string, messages: Readonly<Record<string, readonly string[]>>): void {
    if (run !== this.runId) return;
    let key = -1;
    for (const w of this.workers) {
      const all = messages[w.id];
      const bodies = all?.slice(0, all.length - w.inAir);
      if (!bodies || bodies.length <= w.messages.length) continue;
      w.messages = bodies.slice(-MESSAGES_SHOWN).map((body) => ({ key: key--, task: null, body }));
    }
  }

  #setWorkers(workers: WorkerView[]): void {
    this.workers = workers;
    this.#byId = new Map(workers.map((w) => [w.id, w]));
  }

  #duration(): number {
    return flightDuration(this.params?.intervalMs ?? 1000);
  }

  #hasRoom(flights: readonly Flight[], start: number): boolean {
    let n = 0;
    for (const f of flights) if (f.start + f.duration > start) n++;
    return n < MAX_CONCURRENT_DOTS;
  }

  /** Whether a dot of this kind starting at `start` is drawn: a steady sample at high rates, a hard cap always. */
  #admit(kind: FlightKind, start: number, duration: number): boolean {
    const share = this.isSinkBound ? MAX_CONCURRENT_DOTS / 2 : MAX_CONCURRENT_DOTS;
    if (start - this.#lastDot[kind] < dotSpacing(duration, share)) return false;
    if (!this.#hasRoom(this.flights, start)) return false;
    this.#lastDot[kind] = start;
    return true;
  }

  #start(event: Extract<PlaygroundEvent, { type: 'run:started' }>): void {
    this.reset(null);
    this.runId = event.run;
    this.status = 'running';
    this.scenario = event.scenario;
    this.params = event.params;
    this.endpoints = event.endpoints.map((e) => new EndpointView(e));
    this.#setWorkers(event.workers.map((w) => new WorkerView(w)));
  }

  /** A run whose start we never saw (joined after the server dropped it): keep its result. */
  #adoptEnded(event: Extract<PlaygroundEvent, { type: 'run:ended' }>): void {
    this.runId = event.run;
    this.status = 'ended';
    this.endReason = event.reason;
    this.#takeSummary(event.summary);
  }

  #takeSummary(summary: RunSummary): void {
    this.summary = summary;
    this.sent = Math.max(this.sent, summary.sent);
    this.received = summary.received;
    this.doneBy = summary.done;
    this.collected = summary.collected;
    this.lost = summary.lost;
    this.lostBy = summary.lostBy;
    this.externalPeersMax = Math.max(this.externalPeersMax, summary.externalPeersMax);
    for (const w of this.workers) {
      w.count = Math.max(w.count, summary.received[w.id] ?? 0);
      w.done = summary.done[w.id] ?? w.done;
      w.lost = summary.lostBy[w.id] ?? 0;
    }
  }

  #apply(event: PlaygroundEvent, context: FrameContext, isCatchUp: boolean): void {
    const entry = (node: string, kind: string, text: string, level: LogLevel = 'info'): void => {
      context.log.push({ seq: event.seq, t: event.t, node, kind, text, level });
    };
    switch (event.type) {
      case 'run:started': {
        const p = event.params;
        const what =
          event.scenario === 'pipeline'
            ? t('log.runStartedPipeline', { tasks: t.plural('count.task', p.tasks), interval: p.intervalMs, sync: t(p.syncStart ? 'log.synced' : 'log.notSynced') })
            : t('log.runStartedTutorial', { interval: p.intervalMs, state: t(p.builtInWorkers ? 'log.on' : 'log.off') });
        entry('run', 'run:started', what, 'good');
        return;
      }
      case 'endpoint:bound': {
        const ep = this.#endpoint(event.endpoint);
        ep.actual = event.endpoint.actual;
        ep.setNote(event.endpoint);
        ep.isBound = true;
        if (!isCatchUp) ep.pulse++;
        const note = ep.note ? ` (${ep.note})` : '';
        entry('ventilator', 'endpoint:bound', `${event.endpoint.name} → ${event.endpoint.actual ?? '?'}${note}`, 'good');
        return;
      }
      case 'socket:event': {
        const worker = this.#byId.get(event.node);
        if (worker) worker.link = nextLinkState(worker.link, event.kind);
        const extra = event.error ? `: ${event.error}` : event.interval !== undefined ? t('log.retryIn', { ms: event.interval }) : '';
        const level: LogLevel = event.kind.endsWith(':error')
          ? 'error'
          : event.kind === 'handshake' || event.kind === 'bind'
            ? 'good'
            : event.kind === 'disconnect' || event.kind.startsWith('connect:')
              ? 'warn'
              : 'info';
        entry(event.node, event.kind, `${event.address}${extra}`, level);
        return;
      }
      case 'worker:connecting': {
        const worker = this.#byId.get(event.worker);
        if (worker) {
          worker.address = event.address;
          if (worker.link !== 'stopped' && worker.link !== 'connected') worker.link = 'connecting';
        }
        entry(event.worker, 'worker:connecting', `connect(${event.address})`);
        return;
      }
      case 'worker:stopped': {
        const worker = this.#byId.get(event.worker);
        if (worker) {
          worker.isStopped = true;
          worker.stopReason = event.reason;
          worker.link = 'stopped';
        }
        entry(event.worker, 'worker:stopped', t(event.reason === 'end-marker' ? 'log.stoppedX' : 'log.stoppedEnded'));
        return;
      }
      case 'worker:updated': {
        const info = event.worker;
        let worker = this.#byId.get(info.id);
        if (!worker) {
          worker = new WorkerView(info);
          this.#setWorkers(this.workers.concat(worker));
        } else {
          const isMoved = worker.transport !== info.transport;
          worker.configure(info);
          worker.state = info.state;
          worker.pid = info.pid;
          if (isMoved) {
            worker.link = 'connecting';
            worker.address = null;
          }
        }
        if (event.change === 'connecting' || info.state === 'starting') {
          worker.link = 'connecting';
          worker.isStopped = false;
          worker.stopReason = null;
        } else if (event.change === 'connected') {
          worker.link = 'connected';
        } else if (event.change.startsWith('resumed')) {
          worker.link = info.state === 'connected' ? 'connected' : 'connecting';
        }
        const level: LogLevel = info.state === 'killed' ? 'error' : info.state === 'hung' ? 'warn' : 'info';
        entry(info.id, 'worker:updated', describeChange(event.change, t), level);
        return;
      }
      case 'worker:removed': {
        if (this.#byId.has(event.worker)) this.#setWorkers(this.workers.filter((w) => w.id !== event.worker));
        entry(event.worker, 'worker:removed', t('log.removed'), 'warn');
        return;
      }
      case 'worker:process': {
        const worker = this.#byId.get(event.worker);
        if (worker && event.pid !== null) worker.pid = event.pid;
        const level: LogLevel =
          event.action === 'killed' ? 'error' : event.action === 'hung' ? 'warn' : event.action === 'exited' ? 'info' : 'good';
        entry(event.worker, `process:${event.action}`, event.pid === null ? event.action : `pid ${event.pid}`, level);
        return;
      }
      case 'sink:bound':
        this.sinkAddress = event.address;
        this.isSinkBound = true;
        entry('sink', 'sink:bound', event.address, 'good');
        return;
      case 'options:applied':
        this.notices = [{ seq: event.seq, node: event.node, recreated: event.recreated, note: localize({ message: event.note, text: event.noteText }) }]
          .concat(this.notices)
          .slice(0, NOTICES_KEPT);
        entry(event.node, 'options:applied', localize({ message: event.note, text: event.noteText }), event.recreated ? 'warn' : 'info');
        return;
      case 'peers:changed': {
        const ep = this.endpoints.find((e) => e.name === event.endpoint);
        if (ep) {
          ep.external = event.external;
          ep.builtIn = event.builtIn;
        }
        this.externalPeersMax = Math.max(this.externalPeersMax, this.externalPeers);
        entry('ventilator', 'peers:changed', t('log.peers', { endpoint: event.endpoint, external: event.external, builtIn: event.builtIn }));
        return;
      }
      case 'ventilator:state':
        this.ventilator = event.state;
        if (event.state === 'blocked') entry('ventilator', 'blocked', t('log.blocked'), 'warn');
        return;
      case 'task:sent':
        this.#sentSeen++;
        if (!isCatchUp && this.params?.builtInWorkers === false) this.#pendingSent.set(event.task, { t: event.t, body: event.body });
        else if (!isCatchUp && this.externalPeers > 0) this.#pendingSent.set(event.task, { t: event.t, body: event.body });
        return;
      case 'task:received': {
        this.#pendingSent.delete(event.task);
        const worker = this.#byId.get(event.worker);
        if (!worker) return;
        worker.seen++;
        const message = { key: event.seq, task: event.task, body: event.body };
        if (this.keepMessages && isCatchUp) worker.incoming.push(message);
        else if (this.keepMessages) {
          // Listed when its dot lands (drawn or sampled out, the same moment), not when the event arrives.
          this.#landings.push({ at: event.t + this.#duration(), worker, message });
          worker.inAir++;
        }
        if (!isCatchUp) {
          const duration = this.#duration();
          if (this.#admit('task', event.t, duration)) {
            const flight: Flight = {
              key: `r${event.seq}`,
              task: event.task,
              body: event.body,
              from: worker.endpoint,
              to: worker.id,
              start: event.t,
              duration,
            };
            this.flights = this.flights.concat(flight);
          }
        }
        return;
      }
      case 'task:done': {
        const worker = this.#byId.get(event.worker);
        if (worker) worker.doneSeen++;
        return;
      }
      case 'task:collected': {
        this.#collectedSeen++;
        if (!isCatchUp && this.#byId.has(event.worker)) {
          const duration = this.#duration();
          if (this.#admit('result', event.t, duration)) {
            const flight: Flight = {
              key: `c${event.seq}`,
              kind: 'result',
              task: event.task,
              body: String(event.task),
              from: event.worker,
              to: SINK,
              start: event.t,
              duration,
            };
            this.flights = this.flights.concat(flight);
          }
        }
        return;
      }
      case 'task:lost': {
        this.#lostSeen++;
        const who = event.worker ?? 'unknown';
        if (event.worker !== null) {
          const worker = this.#byId.get(event.worker);
          if (worker) worker.lost++;
        }
        const seen = context.lost.get(who);
        if (seen) seen.n++;
        else context.lost.set(who, { n: 1, seq: event.seq, t: event.t });
        return;
      }
      case 'lesson:checked':
        entry('lesson', 'lesson:checked', `${t(event.met ? 'log.goalMet' : 'log.goalNotMet')}: ${event.detail[locale.lang]}`, event.met ? 'good' : 'warn');
        return;
      case 'node:error':
        this.lastError = { node: event.node, code: event.code, message: event.message };
        entry(event.node, 'node:error', `${event.code}: ${event.message}`, 'error');
        return;
      case 'run:ended':
        this.status = 'ended';
        this.endReason = event.reason;
        this.ventilator = 'idle';
        this.#takeSummary(event.summary);
        entry('run', 'run:ended', t('log.runEnded', { reason: t(`reason.${event.reason}`), n: event.summary.sent }), event.reason === 'failed' ? 'error' : 'good');
        return;
      // A graph playground's events (issue 11, shared/protocol/graph.ts): a pipeline page never receives them,
      // and the graph page that folds them is still to come.
      case 'graph:started':
      case 'node:bound':
      case 'node:connecting':
      case 'message:sent':
      case 'message:received':
      case 'message:dropped':
      case 'socket:refused':
      case 'node:stopped':
      case 'graph:ended':
        return;
      default:
        assertNever(event);
    }
  }

  #endpoint(info: EndpointInfo): EndpointView {
    const found = this.endpoints.find((e) => e.name === info.name);
    if (found) return found;
    const created = new EndpointView(info);
    this.endpoints = this.endpoints.concat(created);
    return created;
  }
}
