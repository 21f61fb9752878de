/**
 * The run's topology as the diagram draws it: the ventilator's endpoints and state, the built-in workers (their
 * configuration, process, link as their own socket monitor sees it), the external peers and the sink. Folded from
 * the run's events; between runs it follows the playground's configuration (seed).
 */
import type {
  EndpointInfo,
  PlaygroundEvent,
  PlaygroundInfo,
  VentilatorState,
  WorkerInfo,
} from '../../shared/protocol/index.ts';
import type { RunCounts } from './run-counts.svelte.ts';
import { nextLinkState } from './run-model.ts';
import { EndpointView, WorkerView } from './views.svelte.ts';

type Ev<K extends PlaygroundEvent['type']> = Extract<PlaygroundEvent, { type: K }>;

export class Topology {
  endpoints = $state.raw<EndpointView[]>([]);
  workers = $state.raw<WorkerView[]>([]);
  ventilator = $state<VentilatorState>('idle');
  sinkAddress = $state<string | null>(null);
  isSinkBound = $state(false);
  /** Most external peers connected at once in this run. */
  externalPeersMax = $state(0);
  /** Peers we do not control, over all endpoints. */
  readonly externalPeers = $derived(this.endpoints.reduce((n, e) => n + e.external, 0));

  #byId = new Map<string, WorkerView>();
  readonly #counts: RunCounts;

  /** Workers read their counts from `counts`. */
  constructor(counts: RunCounts) {
    this.#counts = counts;
  }

  /** A worker by id. */
  worker(id: string): WorkerView | undefined {
    return this.#byId.get(id);
  }

  /** Forgets the run's state; the workers stay unless `dropWorkers` (another playground). */
  reset(dropWorkers: boolean): void {
    this.ventilator = 'idle';
    this.sinkAddress = null;
    this.isSinkBound = false;
    this.externalPeersMax = 0;
    if (dropWorkers) this.#setWorkers([]);
  }

  /**
   * Follows the playground between runs: workers added, removed or reconfigured since. States of the last run
   * stay on the workers still there, unless no run was seen (`isFresh`: the playground's own states are shown).
   */
  seed(info: PlaygroundInfo, isFresh: boolean): void {
    if (isFresh) this.endpoints = info.endpoints.map((e) => new EndpointView(e));
    let changed = info.workers.length !== this.workers.length;
    const next = info.workers.map((w, i) => {
      const view = this.#byId.get(w.id);
      if (!view) {
        changed = true;
        return new WorkerView(w, this.#counts);
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

  /** The topology a run started with. */
  start(event: Ev<'run:started'>): void {
    this.endpoints = event.endpoints.map((e) => new EndpointView(e));
    this.#setWorkers(event.workers.map((w) => new WorkerView(w, this.#counts)));
  }

  /** Folds one event of the run (others are ignored); `isCatchUp` for history, which starts no animation. */
  apply(event: PlaygroundEvent, isCatchUp: boolean): void {
    switch (event.type) {
      case 'endpoint:bound': {
        const ep = this.#endpoint(event.endpoint);
        ep.actual = event.endpoint.actual;
        ep.setNote(event.endpoint);
        ep.isBound = true;
        if (!isCatchUp) ep.pulse++;
        return;
      }
      case 'socket:event': {
        const worker = this.#byId.get(event.node);
        if (worker) worker.link = nextLinkState(worker.link, event.kind);
        // A bound socket's "close" is its listener closing (zmq-facts: bound PUSH, `close -> end` on close): the
        // endpoint no longer takes peers. The ventilator only closes its endpoints when the run ends.
        if (event.node === 'ventilator' && event.kind === 'close') {
          const ep = this.endpoints.find((e) => e.isBound && e.actual === event.address);
          if (ep) ep.isClosed = true;
        }
        return;
      }
      case 'worker:connecting': {
        const worker = this.#byId.get(event.worker);
        if (worker) {
          worker.address = event.address;
          if (worker.link !== 'stopped' && worker.link !== 'connected') worker.link = 'connecting';
        }
        return;
      }
      case 'worker:stopped': {
        const worker = this.#byId.get(event.worker);
        if (worker) {
          worker.isStopped = true;
          worker.stopReason = event.reason;
          worker.link = 'stopped';
          // As the server has it (run-workers.ts): a stopped worker is 'stopped', a killed one stays 'killed'. No
          // worker:updated says so, and a worker left 'connected' showed a queue holding its "x" after the run.
          if (worker.state !== 'killed') worker.state = 'stopped';
        }
        return;
      }
      case 'worker:updated':
        this.#update(event.worker, event.change);
        return;
      case 'worker:removed':
        if (this.#byId.has(event.worker)) this.#setWorkers(this.workers.filter((w) => w.id !== event.worker));
        return;
      case 'worker:process': {
        const worker = this.#byId.get(event.worker);
        if (!worker) return;
        if (event.pid !== null) worker.pid = event.pid;
        // The process's fate is known from this event on, whatever follows it (the worker:updated that repeats it).
        if (event.action === 'killed') worker.state = 'killed';
        else if (event.action === 'hung') worker.state = 'hung';
        return;
      }
      case 'sink:bound':
        this.sinkAddress = event.address;
        this.isSinkBound = true;
        return;
      case 'peers:changed': {
        const ep = this.endpoints.find((e) => e.name === event.endpoint);
        if (ep) {
          ep.external = event.external;
          ep.builtIn = event.builtIn;
        }
        this.externalPeersMax = Math.max(this.externalPeersMax, this.externalPeers);
        return;
      }
      case 'ventilator:state':
        this.ventilator = event.state;
        return;
      case 'run:ended':
        this.ventilator = 'idle';
        // Every socket of the run is closed by now; inproc endpoints have no monitor to say it (zmq-facts section 5).
        for (const ep of this.endpoints) if (ep.isBound) ep.isClosed = true;
        this.externalPeersMax = Math.max(this.externalPeersMax, event.summary.externalPeersMax);
        return;
      default:
        return;
    }
  }

  /** A run whose start was never seen ended: the most external peers it had. */
  adoptEnded(event: Ev<'run:ended'>): void {
    this.externalPeersMax = Math.max(this.externalPeersMax, event.summary.externalPeersMax);
  }

  #update(info: WorkerInfo, change: string): void {
    let worker = this.#byId.get(info.id);
    if (!worker) {
      worker = new WorkerView(info, this.#counts);
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
    if (change === 'connecting' || info.state === 'starting') {
      worker.link = 'connecting';
      worker.isStopped = false;
      worker.stopReason = null;
    } else if (change === 'connected') {
      worker.link = 'connected';
    } else if (change.startsWith('resumed')) {
      worker.link = info.state === 'connected' ? 'connected' : 'connecting';
    }
  }

  #setWorkers(workers: WorkerView[]): void {
    this.workers = workers;

    this.#byId = new Map(workers.map((w) => [w.id, w]));
  }

  #endpoint(info: EndpointInfo): EndpointView {
    const found = this.endpoints.find((e) => e.name === info.name);
    if (found) return found;
    const created = new EndpointView(info);
    this.endpoints = this.endpoints.concat(created);
    return created;
  }
}
