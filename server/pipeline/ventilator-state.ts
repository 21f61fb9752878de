/**
 * The ventilator's state as the page shows it: idle, sending, or blocked (a send pending for a while: no peer, or
 * every pipe full). Nothing is timed per send, which keeps the per-message path free of clocks: the run marks a send
 * pending and done, and a tick every BLOCKED_AFTER_MS / 2 decides.
 */
import type { EventInput, VentilatorState } from '../../shared/protocol/index.ts';

/** A send pending longer than this shows the ventilator as blocked. */
export const BLOCKED_AFTER_MS = 100;

export class VentilatorStateWatch {
  /** A send was started and has not completed. */
  sendPending = false;
  readonly #sent: () => number;
  readonly #emit: (event: EventInput) => void;
  #state: VentilatorState = 'idle';
  /** The number of tasks sent when a pending send was seen at the last tick; -1 when none was pending. */
  #pendingSeenAtSent = -1;

  constructor(sent: () => number, emit: (event: EventInput) => void) {
    this.#sent = sent;
    this.#emit = emit;
  }

  set(state: VentilatorState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#emit({ type: 'ventilator:state', state });
  }

  /**
   * Called every BLOCKED_AFTER_MS / 2. A send that was already pending at the previous tick, with no send
   * completed since, has waited at least that long: the ventilator is blocked.
   */
  tick(): void {
    if (!this.sendPending) {
      this.#pendingSeenAtSent = -1;
      if (this.#state === 'blocked') this.set('sending');
      return;
    }
    if (this.#pendingSeenAtSent === this.#sent()) this.set('blocked');
    else {
      this.#pendingSeenAtSent = this.#sent();
      if (this.#state === 'blocked') this.set('sending');
    }
  }
}
