/**
 * The dots of a run: which task and result flights are drawn (a steady sample at high rates, never more than
 * MAX_CONCURRENT_DOTS), tasks sent that no built-in worker claimed within UNCLAIMED_AFTER_MS (drawn going to the
 * external peers), and the received messages whose dot is still flying: each joins its worker's list when the run
 * time drawn reaches its landing, as its dot arrives (only where messages are listed, the tutorial).
 *
 * Flights are in run time (the events' `t`); the session's PlaybackClock says which run time is drawn.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
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
import { externalSource } from './run-model.ts';
import type { Topology } from './topology.svelte.ts';
import type { ReceivedMessage, WorkerView } from './views.svelte.ts';

type Ev<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

/**
 * A measuring hook (bench/page-perf.ts sets it; absent otherwise): called when a frame first draws run time `t`
 * of run `run` with every task event up to `t` folded in, with the time (performance.now()) during that frame. Event-to-pixel latency is read
 * from it.
 */
type DrawnProbe = (run: string | null, t: number, now: number) => void;

export class FlightPlan {
  flights = $state.raw<Flight[]>([]);

  readonly #topology: Topology;
  /** The run's interval (ms): a flight's duration follows it. */
  #intervalMs = 1000;
  /** Whether tasks nobody claimed are drawn going to the external peers (built-in workers off). */
  #isExternalRun = false;
  /** Tasks sent and not yet received by a built-in worker, while unclaimed tasks may go to external peers. */

  #pendingSent = new Map<number, { t: number; body: string }>();
  #lastDot: Record<FlightKind, number> = { task: -Infinity, result: -Infinity };
  /** Received messages whose dot is still flying, in arrival order. */
  #landings: { at: number; worker: WorkerView; message: ReceivedMessage }[] = [];
  /** Run time of the newest live task event folded in, and the newest run time a frame drew with it (the probe). */
  #newestEvent = -Infinity;
  #drawnUpTo = -Infinity;

  constructor(topology: Topology) {
    this.#topology = topology;
  }

  /** Whether messages are still in the air (their lists are not complete yet). */
  get hasLandings(): boolean {
    return this.#landings.length > 0;
  }

  /** Whether a frame is still needed: dots flying, messages landing, tasks that may go to external peers. */
  get isBusy(): boolean {
    return this.flights.length > 0 || this.#landings.length > 0 || this.#pendingSent.size > 0;
  }

  /** No dots (a new run, another playground); the run's interval and whether its built-in workers are off. */
  reset(intervalMs = 1000, isExternalRun = false): void {
    this.flights = [];
    this.#intervalMs = intervalMs;
    this.#isExternalRun = isExternalRun;
    this.#pendingSent.clear();
    this.#lastDot = { task: -Infinity, result: -Infinity };
    this.#newestEvent = -Infinity;
    this.#drawnUpTo = -Infinity;
    for (const landing of this.#landings) landing.worker.inAir = 0;
    this.#landings = [];
  }

  duration(): number {
    return flightDuration(this.#intervalMs);
  }

  /** A task left the ventilator: it may go to an external peer if no built-in worker receives it in time. */
  sent(event: Ev<'task:sent'>, isCatchUp: boolean): void {
    if (isCatchUp) return;
    if (event.t > this.#newestEvent) this.#newestEvent = event.t;
    if (this.#isExternalRun || this.#topology.externalPeers > 0)
      this.#pendingSent.set(event.task, { t: event.t, body: event.body });
  }

  /**
   * A task was received (by a worker on the diagram, or by one it does not know): its dot flies (if admitted) and, where messages are listed (`keep`), the
   * message joins the list when the dot lands; history joins at once.
   */
  received(event: Ev<'task:received'>, worker: WorkerView | undefined, keep: boolean, isCatchUp: boolean): void {
    this.#pendingSent.delete(event.task);
    if (!worker) return;
    if (keep) {
      // (Built only here: `event` may be a binary frame's cursor, whose body is made when read.)
      const message = { key: event.seq, task: event.task, body: event.body };
      if (isCatchUp) worker.incoming.push(message);
      else {
        // Listed when its dot lands (drawn or sampled out, the same moment), not when the event arrives.
        this.#landings.push({ at: event.t + this.duration(), worker, message });
        worker.inAir++;
      }
    }
    if (isCatchUp) return;
    if (event.t > this.#newestEvent) this.#newestEvent = event.t;
    const duration = this.duration();
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

  /** The sink collected a result from a worker on the diagram. */
  collected(event: Ev<'task:collected'>, isCatchUp: boolean): void {
    if (isCatchUp || !this.#topology.worker(event.worker)) return;
    if (event.t > this.#newestEvent) this.#newestEvent = event.t;
    const duration = this.duration();
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

  /**
   * At run time `t` being drawn: tasks unclaimed for UNCLAIMED_AFTER_MS fly to the external peers, landed dots
   * go, and the messages whose dots landed join their lists. `run` names the flights of this run.
   */
  advance(t: number, run: string | null, keep: boolean): void {
    this.#probe(t, run);
    let flights = this.flights;
    if (this.#pendingSent.size > 0) {
      const showExternal = this.#isExternalRun || this.#topology.externalPeers > 0;
      const added: Flight[] = [];
      for (const [task, sent] of this.#pendingSent) {
        const due = sent.t + UNCLAIMED_AFTER_MS;
        if (due > t) continue;
        this.#pendingSent.delete(task);
        if (!showExternal || due < t - 1000) continue;
        const from = externalSource(this.#topology.endpoints, task);
        if (from === null) continue;
        const flight: Flight = {
          key: `x${task}-${run ?? ''}`,
          task,
          body: sent.body,
          from,
          to: EXTERNAL,
          start: due,
          duration: this.duration(),
        };
        if (this.#hasRoom(flights.concat(added), flight.start)) added.push(flight);
      }
      if (added.length > 0) flights = flights.concat(added);
    }
    flights = pruneLanded(flights, t);
    if (flights !== this.flights) this.flights = flights;
    if (this.#landings.length > 0) this.land(t, keep);
  }

  /** Lists the messages whose dots have landed by run time t (the same moment the dot leaves the diagram). */
  land(t: number, keep: boolean): void {
    const landed = this.#landings.filter((landing) => landing.at <= t);
    if (landed.length === 0) return;
    this.#landings = this.#landings.filter((landing) => landing.at > t);

    const workers = new Set<WorkerView>();
    for (const { worker, message } of landed) {
      worker.incoming.push(message);
      worker.inAir = Math.max(0, worker.inAir - 1);
      workers.add(worker);
    }
    for (const worker of workers) worker.flush(keep);
  }

  #probe(t: number, run: string | null): void {
    const probe = (globalThis as { zpgDrawnProbe?: DrawnProbe }).zpgDrawnProbe;
    if (!probe) return;
    const drawn = Math.min(t, this.#newestEvent);
    if (drawn <= this.#drawnUpTo) return;
    this.#drawnUpTo = drawn;
    probe(run, drawn, performance.now());
  }

  #hasRoom(flights: readonly Flight[], start: number): boolean {
    let n = 0;
    for (const f of flights) if (f.start + f.duration > start) n++;
    return n < MAX_CONCURRENT_DOTS;
  }

  /** Whether a dot of this kind starting at `start` is drawn: a steady sample at high rates, a hard cap always. */
  #admit(kind: FlightKind, start: number, duration: number): boolean {
    const share = this.#topology.isSinkBound ? MAX_CONCURRENT_DOTS / 2 : MAX_CONCURRENT_DOTS;
    if (start - this.#lastDot[kind] < dotSpacing(duration, share)) return false;
    if (!this.#hasRoom(this.flights, start)) return false;
    this.#lastDot[kind] = start;
    return true;
  }
}
