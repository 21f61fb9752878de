/**
 * The state of the current run, folded from stream events. The latest `run:started` starts a fresh state;
 * counts come from the server's exact `counters` when they are about this run (task events may be sampled).
 *
 * NOTE: dots run on the run's own clock. `offset` maps run time to the browser's performance.now() (the smallest
 * delivery delay seen) and the display runs LIVE_LAG_MS behind, so every event of a batch is known before the
 * moment it is drawn. A task sent and not received within UNCLAIMED_AFTER_MS is drawn going to the external peers.
 */
import {
  assertNever,
  type EndpointInfo,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type RunEndReason,
  type RunParams,
  type RunSummary,
  type Transport,
  type VentilatorState,
  type WorkerInfo,
} from '../../shared/protocol/index.ts';
import {
  EXTERNAL,
  MAX_CONCURRENT_DOTS,
  UNCLAIMED_AFTER_MS,
  flightDuration,
  pruneLanded,
  type Flight,
} from './flights.ts';
import { externalSource, externalTaken, nextLinkState, type LinkState } from './run-model.ts';
import type { EventsFrame } from './stream-client.svelte.ts';

/** How far (ms) the drawing runs behind the newest data, to absorb the server's batching (~33 ms). */
export const LIVE_LAG_MS = 80;
/** Received messages kept per worker for display (the newest ones); counts stay exact. */
export const MESSAGES_SHOWN = 500;
/** Socket and endpoint events kept in the log. */
export const LOG_SIZE = 200;

/** idle: no run seen yet; running: run:started seen; ended: run:ended seen. */
export type RunStatus = 'idle' | 'running' | 'ended';

/** One message a worker received, as listed in its panel. */
export interface ReceivedMessage {
  /** Unique per playground (the event's seq, or a negative index for messages from the run detail). */
  key: number;
  /** null when the body came from the run detail, which does not carry task ids. */
  task: number | null;
  body: string;
}

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

/** One endpoint of the ventilator's PUSH socket. */
export class EndpointView {
  readonly name: string;
  readonly transport: Transport;
  readonly requested: string;
  actual = $state<string | null>(null);
  note = $state<string | undefined>(undefined);
  isBound = $state(false);
  /** Increments on each live bind so the diagram can replay its bind animation. */
  pulse = $state(0);
  /** Connected peers we do not control. */
  external = $state(0);
  /** Connected built-in workers, as the ventilator's monitor counts them. */
  builtIn = $state(0);

  constructor(info: EndpointInfo) {
    this.name = info.name;
    this.transport = info.transport;
    this.requested = info.requested;
    // Known before the bind when the playground bound it in an earlier run; isBound stays false until endpoint:bound.
    this.actual = info.actual;
    this.note = info.note;
  }

  /** The address to draw: the real one once bound in this run, otherwise what will be requested. */
  get address(): string {
    return this.isBound ? (this.actual ?? this.requested) : this.requested;
  }

  /** Best guess of where a client should connect: the last real address, else the requested one. */
  get connectAddress(): string {
    return this.actual ?? this.requested;
  }
}

/** One built-in PULL worker. */
export class WorkerView {
  readonly id: string;
  readonly endpoint: string;
  readonly transport: Transport;
  count = $state(0);
  messages = $state.raw<ReceivedMessage[]>([]);
  link = $state<LinkState>('idle');
  address = $state<string | null>(null);
  isStopped = $state(false);
  stopReason = $state<'end-marker' | 'run-ended' | null>(null);
  /** task:received events seen (a floor for `count` when no counters are about this run). */
  seen = 0;
  /** Messages appended during the current frame, flushed once per frame. */
  incoming: ReceivedMessage[] = [];

  constructor(info: WorkerInfo) {
    this.id = info.id;
    this.endpoint = info.endpoint;
    this.transport = info.transport;
  }

  flush(): void {
    if (this.incoming.length === 0) return;
    const next = this.messages.concat(this.incoming);
    this.messages = next.length > MESSAGES_SHOWN ? next.slice(next.length - MESSAGES_SHOWN) : next;
    this.incoming = [];
  }
}

/** The current run, folded from events; the latest run:started starts it afresh. */
export class RunState {
  runId = $state<string | null>(null);
  status = $state<RunStatus>('idle');
  endReason = $state<RunEndReason | null>(null);
  params = $state.raw<RunParams | null>(null);
  endpoints = $state.raw<EndpointView[]>([]);
  workers = $state.raw<WorkerView[]>([]);
  ventilator = $state<VentilatorState>('idle');
  sent = $state(0);
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
    externalTaken(this.sent, Object.fromEntries(this.workers.map((w) => [w.id, w.count]))),
  );

  #offset: number | null = null;
  #sentSeen = 0;
  #pendingSent = new Map<number, { t: number; body: string }>();

  /** Shows the playground's topology before any run has been seen. */
  seed(info: PlaygroundInfo): void {
    if (this.runId !== null) return;
    this.endpoints = info.endpoints.map((e) => new EndpointView(e));
    this.workers = info.workers.map((w) => new WorkerView(w));
  }

  /** Forgets everything (the server's history restarted). */
  reset(info: PlaygroundInfo | null): void {
    this.runId = null;
    this.status = 'idle';
    this.endReason = null;
    this.params = null;
    this.ventilator = 'idle';
    this.sent = 0;
    this.summary = null;
    this.log = [];
    this.dropped = 0;
    this.flights = [];
    this.externalPeersMax = 0;
    this.lastError = null;
    this.#offset = null;
    this.#sentSeen = 0;
    this.#pendingSent.clear();
    if (info) this.seed(info);
  }

  /** Run time being drawn at local time `now` (performance.now()); null before any event of this run. */
  displayTime(now: number): number | null {
    return this.#offset === null ? null : now - this.#offset - LIVE_LAG_MS;
  }

  /**
   * Folds one frame into the state. History (events stamped before we connected) updates counts and links but
   * starts no animation.
   */
  applyFrame(frame: EventsFrame, now: number): void {
    const log: LogEntry[] = [];
    for (const event of frame.events) {
      if (event.type === 'run:started') {
        this.#start(event);
        log.length = 0; // entries of the previous run would be cleared anyway
      }
      if (event.run !== this.runId) {
        if (event.type === 'run:ended' && this.runId === null) this.#adoptEnded(event);
        continue;
      }
      const delay = now - event.t;
      if (this.#offset === null || delay < this.#offset) this.#offset = delay;
      this.#apply(event, log, event.seq <= frame.historyUntil);
    }
    for (const w of this.workers) w.flush();
    if (frame.counters.run !== null && frame.counters.run === this.runId) {
      this.sent = frame.counters.sent;
      for (const w of this.workers) w.count = frame.counters.received[w.id] ?? w.count;
      this.dropped += frame.dropped;
    } else {
      this.sent = Math.max(this.sent, this.#sentSeen);
      for (const w of this.workers) w.count = Math.max(w.count, w.seen);
    }
    if (log.length > 0) this.log = log.reverse().concat(this.log).slice(0, LOG_SIZE);
  }

  /** Called every animation frame: lands dots, sends unclaimed tasks to the external peers. True while busy. */
  tick(now: number): boolean {
    const t = this.displayTime(now);
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
    return this.flights.length > 0 || this.#pendingSent.size > 0 || this.status === 'running';
  }

  /** Replaces worker message lists with the complete ones from the run detail (bodies only). */
  fillMessages(run: string, messages: Readonly<Record<string, readonly string[]>>): void {
    if (run !== this.runId) return;
    let key = -1;
    for (const w of this.workers) {
      const bodies = messages[w.id];
      if (!bodies || bodies.length <= w.messages.length) continue;
      w.messages = bodies.slice(-MESSAGES_SHOWN).map((body) => ({ key: key--, task: null, body }));
    }
  }

  #duration(): number {
    return flightDuration(this.params?.intervalMs ?? 1000);
  }

  #hasRoom(flights: readonly Flight[], start: number): boolean {
    let n = 0;
    for (const f of flights) if (f.start + f.duration > start) n++;
    return n < MAX_CONCURRENT_DOTS;
  }

  #start(event: Extract<PlaygroundEvent, { type: 'run:started' }>): void {
    this.reset(null);
    this.runId = event.run;
    this.status = 'running';
    this.params = event.params;
    this.endpoints = event.endpoints.map((e) => new EndpointView(e));
    this.workers = event.workers.map((w) => new WorkerView(w));
  }

  /** A run whose start we never saw (joined after the server dropped it): keep its result. */
  #adoptEnded(event: Extract<PlaygroundEvent, { type: 'run:ended' }>): void {
    this.runId = event.run;
    this.status = 'ended';
    this.endReason = event.reason;
    this.summary = event.summary;
    this.sent = event.summary.sent;
    for (const w of this.workers) w.count = event.summary.received[w.id] ?? 0;
  }

  #apply(event: PlaygroundEvent, log: LogEntry[], isCatchUp: boolean): void {
    const entry = (node: string, kind: string, text: string, level: LogLevel = 'info'): void => {
      log.push({ seq: event.seq, t: event.t, node, kind, text, level });
    };
    switch (event.type) {
      case 'run:started': {
        const p = event.params;
        entry('run', 'run:started', `interval ${p.intervalMs} ms, built-in workers ${p.builtInWorkers ? 'on' : 'off'}`, 'good');
        return;
      }
      case 'endpoint:bound': {
        const ep = this.#endpoint(event.endpoint);
        ep.actual = event.endpoint.actual;
        ep.note = event.endpoint.note;
        ep.isBound = true;
        if (!isCatchUp) ep.pulse++;
        const note = event.endpoint.note ? ` (${event.endpoint.note})` : '';
        entry('ventilator', 'endpoint:bound', `${event.endpoint.name} → ${event.endpoint.actual ?? '?'}${note}`, 'good');
        return;
      }
      case 'socket:event': {
        const worker = this.workers.find((w) => w.id === event.node);
        if (worker) worker.link = nextLinkState(worker.link, event.kind);
        const extra = event.error ? `: ${event.error}` : event.interval !== undefined ? ` (retry in ${event.interval} ms)` : '';
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
        const worker = this.workers.find((w) => w.id === event.worker);
        if (worker) {
          worker.address = event.address;
          if (worker.link !== 'stopped' && worker.link !== 'connected') worker.link = 'connecting';
        }
        entry(event.worker, 'worker:connecting', `connect(${event.address})`);
        return;
      }
      case 'worker:stopped': {
        const worker = this.workers.find((w) => w.id === event.worker);
        if (worker) {
          worker.isStopped = true;
          worker.stopReason = event.reason;
          worker.link = 'stopped';
        }
        entry(event.worker, 'worker:stopped', event.reason === 'end-marker' ? 'got its "x", closed its socket' : 'the run ended');
        return;
      }
      case 'peers:changed': {
        const ep = this.endpoints.find((e) => e.name === event.endpoint);
        if (ep) {
          ep.external = event.external;
          ep.builtIn = event.builtIn;
        }
        this.externalPeersMax = Math.max(this.externalPeersMax, this.externalPeers);
        entry('ventilator', 'peers:changed', `${event.endpoint}: ${event.external} external, ${event.builtIn} built-in`);
        return;
      }
      case 'ventilator:state':
        this.ventilator = event.state;
        return;
      case 'task:sent':
        this.#sentSeen++;
        if (!isCatchUp) this.#pendingSent.set(event.task, { t: event.t, body: event.body });
        return;
      case 'task:received': {
        this.#pendingSent.delete(event.task);
        const worker = this.workers.find((w) => w.id === event.worker);
        if (!worker) return;
        worker.seen++;
        worker.incoming.push({ key: event.seq, task: event.task, body: event.body });
        if (!isCatchUp) {
          const flight: Flight = {
            key: `r${event.seq}`,
            task: event.task,
            body: event.body,
            from: worker.endpoint,
            to: worker.id,
            start: event.t,
            duration: this.#duration(),
          };
          if (this.#hasRoom(this.flights, flight.start)) this.flights = this.flights.concat(flight);
        }
        return;
      }
      case 'node:error':
        this.lastError = { node: event.node, code: event.code, message: event.message };
        entry(event.node, 'node:error', `${event.code}: ${event.message}`, 'error');
        return;
      case 'run:ended':
        this.status = 'ended';
        this.endReason = event.reason;
        this.summary = event.summary;
        this.ventilator = 'idle';
        this.sent = Math.max(this.sent, event.summary.sent);
        this.externalPeersMax = Math.max(this.externalPeersMax, event.summary.externalPeersMax);
        for (const w of this.workers) w.count = Math.max(w.count, event.summary.received[w.id] ?? 0);
        entry('run', 'run:ended', `${event.reason}: ${event.summary.sent} sent`, event.reason === 'failed' ? 'error' : 'good');
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
