/**
 * Who is connected to the ventilator, per endpoint: our own workers' pipes, and peers we do not control (the
 * tutorial's Python clients, a learner's program) [E5].
 *
 * The ventilator's socket monitor says how many peers shook hands on each endpoint, not whose they are; each
 * worker's monitor says how many of its own pipes are up. The monitors of the two sides report in either order,
 * so a worker's pipes count as ours from connect() until the ventilator has seen them leave: the external figure
 * may lag a real external peer briefly, but it never shows a peer that is not there.
 *
 * The monitor names the local address, and which endpoint that is becomes known only when the bind returns. A peer
 * that was already retrying (the tutorial's clients are started before Run) can connect and shake hands before
 * then: zeromq.js binds on a worker thread and resolves the bind later on the event loop, while the monitor's
 * accept and handshake may be read first. Such news is held by address and counted once the bind names it.
 */
import type { Transport } from '../../shared/protocol/index.ts';

/** What the count needs to know of a built-in worker (a run's worker slot fits). */
export interface PeerSide {
  /** Its socket is open (connecting or connected). */
  open: boolean;
  /** Its pipes whose handshake its own monitor reported. */
  linkedPipes: number;
  info: { endpoint: string; transport: Transport; connections: number };
}

export class PeerCount {
  readonly #workers: () => Iterable<PeerSide>;
  readonly #onChange: (endpoint: string, external: number, builtIn: number) => void;
  /** Handshakes minus disconnects the ventilator's monitor reported, per endpoint name. */
  readonly #ventilatorPeers = new Map<string, number>();
  /** Endpoint name by the local address its bind returned. */
  readonly #endpointByAddress = new Map<string, string>();
  /** Monitor news about an address whose bind has not returned yet, in the order it came. */
  readonly #heldByAddress = new Map<string, ('handshake' | 'disconnect')[]>();
  /** Pipes of our workers that closed but whose disconnect the ventilator has not reported yet. */
  readonly #closedPipesNotYetSeen = new Map<string, number>();
  /** The last "external/builtIn" reported per endpoint, so that only changes are reported. */
  readonly #reported = new Map<string, string>();
  #externalMax = 0;

  constructor(
    workers: () => Iterable<PeerSide>,
    onChange: (endpoint: string, external: number, builtIn: number) => void,
  ) {
    this.#workers = workers;
    this.#onChange = onChange;
  }

  /** A bind of the ventilator returned: `address` (as its monitor names it) is `endpoint`. Held news counts now. */
  endpointBound(address: string, endpoint: string): void {
    this.#endpointByAddress.set(address, endpoint);
    const held = this.#heldByAddress.get(address);
    this.#heldByAddress.delete(address);
    for (const kind of held ?? []) this.#apply(kind, endpoint);
  }

  /** The ventilator's monitor: a peer shook hands on the local `address`. */
  ventilatorHandshake(address: string): void {
    this.#ventilatorEvent('handshake', address);
  }

  /** The ventilator's monitor: a peer on the local `address` went away. */
  ventilatorDisconnect(address: string): void {
    this.#ventilatorEvent('disconnect', address);
  }

  #ventilatorEvent(kind: 'handshake' | 'disconnect', address: string): void {
    const endpoint = this.#endpointByAddress.get(address);
    if (endpoint !== undefined) {
      this.#apply(kind, endpoint);
      return;
    }
    const held = this.#heldByAddress.get(address);
    if (held) held.push(kind);
    else this.#heldByAddress.set(address, [kind]);
  }

  #apply(kind: 'handshake' | 'disconnect', endpoint: string): void {
    const peers = this.#ventilatorPeers.get(endpoint) ?? 0;
    if (kind === 'handshake') {
      this.#ventilatorPeers.set(endpoint, peers + 1);
    } else {
      this.#ventilatorPeers.set(endpoint, Math.max(0, peers - 1));
      const owed = this.#closedPipesNotYetSeen.get(endpoint) ?? 0;
      if (owed > 0) this.#closedPipesNotYetSeen.set(endpoint, owed - 1);
    }
    this.report(endpoint);
  }

  /** A worker's `pipes` on `endpoint` closed (its socket closed or moved): the ventilator will see them leave. */
  pipesClosed(endpoint: string, pipes: number): void {
    // inproc pipes are never reported by any monitor: nothing to wait for.
    if (pipes > 0 && endpoint !== 'inproc')
      this.#closedPipesNotYetSeen.set(endpoint, (this.#closedPipesNotYetSeen.get(endpoint) ?? 0) + pipes);
  }

  /** Recounts `endpoint` and reports it if it changed. */
  report(endpoint: string): void {
    let builtIn = 0;
    let ours = this.#closedPipesNotYetSeen.get(endpoint) ?? 0;
    for (const worker of this.#workers()) {
      if (worker.info.endpoint !== endpoint || !worker.open) continue;
      builtIn += worker.linkedPipes;
      ours += worker.info.connections;
    }
    const external = endpoint === 'inproc' ? 0 : Math.max(0, (this.#ventilatorPeers.get(endpoint) ?? 0) - ours);
    const key = `${external}/${builtIn}`;
    if (this.#reported.get(endpoint) === key) return;
    this.#reported.set(endpoint, key);
    this.#externalMax = Math.max(this.#externalMax, this.external);
    this.#onChange(endpoint, external, builtIn);
  }

  /** External peers connected now, over every endpoint. */
  get external(): number {
    let total = 0;
    for (const key of this.#reported.values()) total += Number(key.split('/')[0]);
    return total;
  }

  /** The most external peers seen at once during the run. */
  get externalMax(): number {
    return this.#externalMax;
  }

  /** Every pipe the ventilator has: what its monitor reported, plus our inproc workers' (never reported). */
  ventilatorPipes(): number {
    let total = 0;
    for (const [endpoint, peers] of this.#ventilatorPeers) total += endpoint === 'inproc' ? 0 : peers;
    for (const worker of this.#workers())
      if (worker.open && worker.info.transport === 'inproc') total += worker.linkedPipes;
    return total;
  }
}
