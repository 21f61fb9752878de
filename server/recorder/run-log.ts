/**
 * The one place where events get their playground-wide, gap-free `seq`. Keeps a bounded backlog so a tab that
 * joins (or reconnects) late catches up, and hands every event to its subscribers synchronously.
 * Memory stays flat whatever the run length: the backlog is a ring of fixed capacity.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';

export type EventListener = (event: PlaygroundEvent) => void;

/** Events kept in memory for late subscribers; older ones are only in the recorded run. */
export const DEFAULT_BACKLOG = 20_000;

export class RunLog {
  readonly #ring: (PlaygroundEvent | undefined)[];
  #seq = 0;
  readonly #listeners = new Set<EventListener>();

  constructor(capacity = DEFAULT_BACKLOG) {
    this.#ring = new Array<PlaygroundEvent | undefined>(capacity);
  }

  get lastSeq(): number {
    return this.#seq;
  }

  /** Stamps the next seq on an event (in place: this is the per-message path) and delivers it. */
  append(event: PlaygroundEvent): PlaygroundEvent {
    const stamped = event;
    stamped.seq = ++this.#seq;
    this.#ring[stamped.seq % this.#ring.length] = stamped;
    for (const listener of this.#listeners) listener(stamped);
    return stamped;
  }

  /** Events with seq > sinceSeq still in the backlog, oldest first. */
  since(sinceSeq: number): PlaygroundEvent[] {
    const first = Math.max(sinceSeq + 1, this.#seq - this.#ring.length + 1, 1);
    const events: PlaygroundEvent[] = [];
    for (let seq = first; seq <= this.#seq; seq++) {
      const event = this.#ring[seq % this.#ring.length];
      if (event?.seq === seq) events.push(event);
    }
    return events;
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }
}
