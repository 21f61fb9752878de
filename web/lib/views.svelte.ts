/**
 * Reactive views of the things the diagram and panels draw: the ventilator's endpoints and the workers. The run's
 * topology (topology.svelte.ts) creates and updates them from events; components only read them. A worker's
 * counts are not kept here: it reads them from the run's one record of counts (run-counts.svelte.ts).
 */
import type {
  EndpointInfo,
  Transport,
  WorkMs,
  WorkerInfo,
  WorkerMode,
  WorkerState,
} from '../../shared/protocol/index.ts';
import { localize } from './i18n/index.svelte.ts';
import type { RunCounts } from './run-counts.svelte.ts';
import { linkView, workerQueue, type LinkState, type LinkView } from './run-model.ts';

/** Received messages kept per worker for display (the newest ones); counts stay exact. */
export const MESSAGES_SHOWN = 500;

/** One message a worker received, as listed in its panel. */
export interface ReceivedMessage {
  /** Unique per playground (the event's seq, or a negative index for messages from the run detail). */
  key: number;
  /** null when the body came from the run detail, which does not carry task ids. */
  task: number | null;
  body: string;
}

/** One endpoint of the ventilator's PUSH socket. */
export class EndpointView {
  readonly name: string;
  readonly transport: Transport;
  readonly requested: string;
  actual = $state<string | null>(null);
  /** Why `actual` differs from `requested`, as the server said it (English, and as a text). */
  #note = $state.raw<Pick<EndpointInfo, 'note' | 'noteText'>>({});
  isBound = $state(false);
  /** Bound in this run, then closed (the ventilator closes its socket when the run ends): no peer can connect. */
  isClosed = $state(false);
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
    this.setNote(info);
  }

  setNote(info: Pick<EndpointInfo, 'note' | 'noteText'>): void {
    this.#note = { note: info.note, noteText: info.noteText };
  }

  /** The note in the page's language (re-read on a language switch). */
  get note(): string | undefined {
    const { note, noteText } = this.#note;
    return note === undefined ? undefined : localize({ message: note, text: noteText });
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

/** One built-in PULL worker: its configuration, state and counts. */
export class WorkerView {
  readonly id: string;
  endpoint = $state('');
  transport = $state<Transport>('tcp');
  mode = $state<WorkerMode>('in-process');
  workMs = $state.raw<WorkMs>({ min: 0, max: 0 });
  connections = $state(1);
  /** The server's view: idle, starting, connecting, connected, hung, killed, stopped. */
  state = $state<WorkerState>('idle');
  pid = $state<number | null>(null);
  /** Received tasks whose dot is still flying to this worker (tracked where messages are listed: the tutorial). */
  inAir = $state(0);
  messages = $state.raw<ReceivedMessage[]>([]);
  /** The link as the worker's own socket monitor sees it. */
  link = $state<LinkState>('idle');
  address = $state<string | null>(null);
  isStopped = $state(false);
  stopReason = $state<'end-marker' | 'run-ended' | null>(null);
  /** What the diagram draws: connecting, connected, hung, killed, stopped… */
  readonly view: LinkView = $derived(linkView(this.state, this.link, this.transport));
  /** The state badge: the server's state, except an inproc worker that connected is shown connected. */
  readonly displayState: WorkerState = $derived(
    this.state === 'connecting' && this.view === 'connected' ? 'connected' : this.state,
  );
  /** Received and not yet done (nor lost): what the worker holds now. */
  readonly queue = $derived(workerQueue(this.state, this.count, this.done, this.lost));
  /** Messages appended during the current frame, flushed once per frame. */
  incoming: ReceivedMessage[] = [];
  /**
   * Received tasks whose dot has landed: what the worker's counter shows, so it moves with its list when the dot
   * arrives. While dots fly, the received events folded (which grow with `inAir`) are the floor: the exact
   * counters lag the events by up to COUNTERS_EVERY_MS, and a task taking off must not lower the counter.
   */
  readonly landed = $derived.by(() =>
    this.inAir === 0 ? this.count : Math.max(0, Math.max(this.count, this.#counts.tallied(this.id)) - this.inAir),
  );

  readonly #counts: RunCounts;

  constructor(info: WorkerInfo, counts: RunCounts) {
    this.id = info.id;
    this.#counts = counts;
    this.configure(info);
    this.state = info.state;
    this.pid = info.pid;
  }

  /** Tasks received (exact from the server's counters, once they came). */
  get count(): number {
    return this.#counts.shown.received[this.id] ?? 0;
  }

  /** Tasks finished. */
  get done(): number {
    return this.#counts.shown.done[this.id] ?? 0;
  }

  /** Tasks lost with this worker. */
  get lost(): number {
    return this.#counts.shown.lostBy[this.id] ?? 0;
  }

  /** Takes the configuration (not the live state) from a WorkerInfo. */
  configure(info: WorkerInfo): void {
    if (this.endpoint !== info.endpoint) this.endpoint = info.endpoint;
    if (this.transport !== info.transport) this.transport = info.transport;
    if (this.mode !== info.mode) this.mode = info.mode;
    if (this.workMs.min !== info.workMs.min || this.workMs.max !== info.workMs.max) this.workMs = info.workMs;
    if (this.connections !== info.connections) this.connections = info.connections;
  }

  flush(keep: boolean): void {
    if (this.incoming.length === 0) return;
    if (keep) {
      const next = this.messages.concat(this.incoming);
      this.messages = next.length > MESSAGES_SHOWN ? next.slice(next.length - MESSAGES_SHOWN) : next;
    }
    this.incoming = [];
  }
}
