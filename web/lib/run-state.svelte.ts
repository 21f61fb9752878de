/**
 * The state of the run on screen, folded from stream events (live) or recorded ones (replay) through the same
 * `applyFrame`. The latest `run:started` starts a fresh state. It is made of parts, one per concern:
 *
 *   Topology     (topology.svelte.ts)    endpoints, workers and their links, ventilator, external peers, sink
 *   RunCounts    (run-counts.svelte.ts)  the one record of task counts every figure reads
 *   EventLog     (event-log.svelte.ts)   the socket and endpoint log, kept as keys and parameters
 *   FlightPlan   (flight-plan.svelte.ts) the dots, and the messages whose dot is still flying
 *
 * and keeps what belongs to the run itself: its id, status, parameters, summary, last error and option notices.
 * Time: `applyFrame` and `tick` take `now`, which paces the counters (the wall clock live, the playhead in a
 * replay); `tick` also takes the run time being drawn, from the session's PlaybackClock (run-clock.svelte.ts).
 */
import type {
  Counters,
  PlaygroundEvent,
  PlaygroundInfo,
  RunEndReason,
  RunParams,
  RunSummary,
  VentilatorState,
  WireServerText,
} from '../../shared/protocol/index.ts';
import {
  KIND_COLLECTED,
  KIND_LOST,
  KIND_RECEIVED,
  KIND_SENT,
  TaskRowCursor,
  forEachInOrder,
  type TaskColumns,
} from '../../shared/protocol/task-frame.ts';
import { EventLog, type LogEntry } from './event-log.svelte.ts';
import { FlightPlan } from './flight-plan.svelte.ts';
import type { Flight } from './flights.ts';
import { RunCounts } from './run-counts.svelte.ts';
import { accounting, externalTaken, type Accounting } from './run-model.ts';
import type { EventsFrame } from './stream-client.svelte.ts';
import { Topology } from './topology.svelte.ts';
import { MESSAGES_SHOWN, type EndpointView, type WorkerView } from './views.svelte.ts';

export { COUNTERS_EVERY_MS } from './run-counts.svelte.ts';
export { LOG_SIZE, type LogEntry } from './event-log.svelte.ts';
export type { LogLevel } from './log-lines.ts';
export { EndpointView, MESSAGES_SHOWN, WorkerView, type ReceivedMessage } from './views.svelte.ts';

/** options:applied notices kept. */
export const NOTICES_KEPT = 4;

/** idle: no run seen yet; running: run:started seen; ended: run:ended seen. */
export type RunStatus = 'idle' | 'running' | 'ended';

/** What an options:applied event said: the server's words, said in the page's language when shown (localize). */
export interface OptionsNotice {
  seq: number;
  node: string;
  recreated: boolean;
  message: string;
  text?: WireServerText;
}

type RunEnded = Extract<PlaygroundEvent, { type: 'run:ended' }>;

/** The current run, folded from events; the latest run:started starts it afresh. */
export class RunState {
  runId = $state<string | null>(null);
  status = $state<RunStatus>('idle');
  endReason = $state<RunEndReason | null>(null);
  /** Scenario of the run (or of the playground before any run). */
  scenario = $state<string | null>(null);
  params = $state.raw<RunParams | null>(null);
  notices = $state.raw<OptionsNotice[]>([]);
  summary = $state.raw<RunSummary | null>(null);
  /** Last node:error of the run, shown near the diagram. */
  lastError = $state.raw<{ node: string; code: string; message: string } | null>(null);

  readonly #counts = new RunCounts();
  readonly #topology = new Topology(this.#counts);
  readonly #log = new EventLog();
  readonly #flights = new FlightPlan(this.#topology);
  /** A live run:ended held until the messages in the air have landed: the run ends on the page with its last dot. */
  #pendingEnd: RunEnded | null = null;

  readonly #resetListeners = new Set<() => void>();

  readonly #frameListeners = new Set<(frame: EventsFrame) => void>();

  // ------------------------------------------------------------------ what the page reads

  get endpoints(): readonly EndpointView[] {
    return this.#topology.endpoints;
  }
  get workers(): readonly WorkerView[] {
    return this.#topology.workers;
  }
  get ventilator(): VentilatorState {
    return this.#topology.ventilator;
  }
  get sinkAddress(): string | null {
    return this.#topology.sinkAddress;
  }
  get isSinkBound(): boolean {
    return this.#topology.isSinkBound;
  }
  /** Peers we do not control, over all endpoints. */
  get externalPeers(): number {
    return this.#topology.externalPeers;
  }
  get externalPeersMax(): number {
    return this.#topology.externalPeersMax;
  }
  /** The socket and endpoint log, newest first. */
  get log(): readonly LogEntry[] {
    return this.#log.entries;
  }
  get flights(): readonly Flight[] {
    return this.#flights.flights;
  }
  get sent(): number {
    return this.#counts.shown.sent;
  }
  /** Received per worker (removed workers included). */
  get received(): Readonly<Record<string, number>> {
    return this.#counts.shown.received;
  }
  get doneBy(): Readonly<Record<string, number>> {
    return this.#counts.shown.done;
  }
  get collected(): number {
    return this.#counts.shown.collected;
  }
  get lost(): number {
    return this.#counts.shown.lost;
  }
  /** Lost tasks per worker ("unknown" when unsure which). */
  get lostBy(): Readonly<Record<string, number>> {
    return this.#counts.shown.lostBy;
  }
  /** Task events the server left out of frames (sampling) during this run. */
  get dropped(): number {
    return this.#counts.dropped;
  }

  /** Sent minus received by built-in workers: what external peers took (or what is still on its way). */
  readonly externalMessages = $derived(externalTaken(this.sent, this.received));
  /** The tutorial lists every message; the batch scenario only counts. */
  readonly keepMessages = $derived(this.scenario !== 'pipeline');
  /** Where the tasks are now: sent, in flight, at workers, done, collected, lost. */
  readonly accounting: Accounting = $derived(
    accounting({
      sent: this.sent,
      received: this.received,
      done: this.doneBy,
      collected: this.collected,
      lost: this.lost,
      queues: this.workers.map((w) => w.queue),
      isEnded: this.status === 'ended',
    }),
  );

  /** A worker by id (current run or topology). */
  worker(id: string): WorkerView | undefined {
    return this.#topology.worker(id);
  }

  // ------------------------------------------------------------------ what the sessions call

  /**
   * Follows the playground's topology between runs: workers added, removed or reconfigured since. Counts and
   * states of the last run stay on the workers that are still there; during a run, events alone drive the view.
   */
  seed(info: PlaygroundInfo): void {
    if (this.status === 'running') return;
    this.scenario = info.scenario;
    this.#topology.seed(info, this.runId === null);
  }

  /** Forgets everything; with `info`, shows that playground (another one, or the server's history restarted). */
  reset(info: PlaygroundInfo | null): void {
    this.runId = null;
    this.status = 'idle';
    this.endReason = null;
    this.params = null;
    this.notices = [];
    this.summary = null;
    this.lastError = null;
    this.#pendingEnd = null;
    this.#topology.reset(info !== null);
    this.#counts.reset();
    this.#log.clear();
    this.#flights.reset();
    if (info) this.seed(info);
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

  /**
   * Folds one frame into the state. History (events stamped before we connected) updates counts and links but
   * starts no animation. `now` paces the counters (COUNTERS_EVERY_MS): the wall clock live, the playhead in a replay.
   * A binary frame's task events are folded from its columns (#applyRow): no object is built per event, and a
   * body only for a dot or a listed message.
   */
  applyFrame(frame: EventsFrame, now: number): void {
    const tasks = frame.tasks;
    const row = tasks && tasks.count > 0 ? new TaskRowCursor(tasks) : null;
    forEachInOrder(
      frame.events,
      tasks,
      (event) => {
        if (event.type === 'run:started') this.#start(event);
        if (event.run !== this.runId) {
          if (event.type === 'run:ended' && this.runId === null) this.#adoptEnded(event);
          return;
        }
        if (event.type === 'run:ended' && event.seq > frame.historyUntil && this.#flights.hasLandings) {
          this.#pendingEnd = event;
          return;
        }
        this.#apply(event, event.seq <= frame.historyUntil);
      },
      (i) => this.#applyRow(tasks!, i, row!, frame.historyUntil),
    );
    const keep = this.keepMessages;
    for (const w of this.workers) w.flush(keep);
    const counters: Counters | null =
      frame.counters.run !== null && frame.counters.run === this.runId ? frame.counters : null;
    this.#counts.endFrame(counters, frame.dropped, now, this.status === 'running');
    this.#log.flush();
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

  /**
   * Called every animation frame with the run time drawn (`at`, null before the clock can place the run) and the
   * pacing clock (`now`, as for applyFrame): lands dots, shows due counters, sends unclaimed tasks to the external
   * peers. Returns whether more frames are needed.
   */
  tick(at: number | null, now: number): boolean {
    const areCountsWaiting = this.#counts.tick(now);
    if (at === null) return false;
    this.#flights.advance(at, this.runId, this.keepMessages);
    this.#endIfLanded();
    return this.#flights.isBusy || areCountsWaiting || this.status === 'running';
  }

  /** Lists every message still waiting for its dot to land, now. */
  landAll(): void {
    this.#flights.land(Infinity, this.keepMessages);
    this.#endIfLanded();
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

  // ------------------------------------------------------------------ folding

  #start(event: Extract<PlaygroundEvent, { type: 'run:started' }>): void {
    this.reset(null);
    this.runId = event.run;
    this.status = 'running';
    this.scenario = event.scenario;
    this.params = event.params;
    this.#topology.start(event);
    this.#flights.reset(event.params.intervalMs, event.params.builtInWorkers === false);
  }

  /** A run whose start we never saw (joined after the server dropped it): keep its result. */
  #adoptEnded(event: RunEnded): void {
    this.runId = event.run;
    this.#end(event);
    this.#topology.adoptEnded(event);
  }

  #end(event: RunEnded): void {
    this.status = 'ended';
    this.endReason = event.reason;
    this.summary = event.summary;
    this.#counts.final(event.summary);
  }

  /** The run ends with its last dot: a held run:ended is applied once every message in the air has landed. */
  #endIfLanded(): void {
    if (this.#flights.hasLandings || !this.#pendingEnd) return;
    this.#apply(this.#pendingEnd, false);
    this.#pendingEnd = null;
    this.#log.flush();
  }

  /**
   * Row i of a binary frame's task events: what #apply does for a task event (the topology and the log take
   * nothing from these but task:lost, which goes through #apply), read from the columns. The flight plan reads the
   * few fields it needs through the cursor, the body only for a dot or a listed message.
   */
  #applyRow(tasks: TaskColumns, i: number, row: TaskRowCursor, historyUntil: number): void {
    if (tasks.runAt(i) !== this.runId) return; // a task event neither starts nor ends a run
    const isCatchUp = tasks.seq[i]! <= historyUntil;
    const kind = tasks.kind[i]!;
    if (kind === KIND_LOST) {
      this.#apply(tasks.eventAt(i), isCatchUp); // one log line per worker and frame: rare, kept as it is
      return;
    }
    const worker = tasks.workerAt(i);
    this.#counts.countTask(tasks.typeAt(i), worker);
    if (kind === KIND_SENT) this.#flights.sent(row.at(i) as Extract<PlaygroundEvent, { type: 'task:sent' }>, isCatchUp);
    else if (kind === KIND_RECEIVED)
      this.#flights.received(
        row.at(i) as Extract<PlaygroundEvent, { type: 'task:received' }>,
        this.#topology.worker(worker!),
        this.keepMessages,
        isCatchUp,
      );
    else if (kind === KIND_COLLECTED)
      this.#flights.collected(row.at(i) as Extract<PlaygroundEvent, { type: 'task:collected' }>, isCatchUp);
  }

  #apply(event: PlaygroundEvent, isCatchUp: boolean): void {
    this.#topology.apply(event, isCatchUp);
    this.#log.add(event);
    switch (event.type) {
      case 'task:sent':
        this.#counts.count(event);
        this.#flights.sent(event, isCatchUp);
        return;
      case 'task:received':
        this.#counts.count(event);
        this.#flights.received(event, this.#topology.worker(event.worker), this.keepMessages, isCatchUp);
        return;
      case 'task:collected':
        this.#counts.count(event);
        this.#flights.collected(event, isCatchUp);
        return;
      case 'task:done':
      case 'task:lost':
        this.#counts.count(event);
        return;
      case 'options:applied': {
        const notice: OptionsNotice = {
          seq: event.seq,
          node: event.node,
          recreated: event.recreated,
          message: event.note,
          text: event.noteText,
        };
        this.notices = [notice].concat(this.notices).slice(0, NOTICES_KEPT);
        return;
      }
      case 'node:error':
        this.lastError = { node: event.node, code: event.code, message: event.message };
        return;
      case 'run:ended':
        this.#end(event);
        return;
      default:
        // The topology's events (above), lesson checks (the log only), and a graph playground's events, which a
        // pipeline page never receives.
        return;
    }
  }
}
