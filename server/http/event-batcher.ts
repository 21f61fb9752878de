/**
 * Turns a stream of events into WebSocket frames: one frame per ~33 ms, never one per ZeroMQ message.
 * At high rates task events are sampled (at most `maxTaskEventsPerFrame` per frame, fewer when the socket is
 * congested) while every other event is kept and the frame carries exact counters, so the browser is never
 * flooded and the pipeline never waits for a slow browser.
 *
 * The sample is spread over the frame's whole interval, each kind of event on its own (issue 12): the page draws
 * a dot for an event when the run time it shows reaches the event's, so a sample of the interval's first
 * events only (what a plain cap keeps) left the page without news of the last ~30 ms of every frame, and its
 * dots came in clumps 33 ms apart. Up to HOLD_FACTOR × the cap events are held (every `stride`-th of each kind;
 * the stride doubles when they fill up), and the frame takes the cap of them evenly.
 */
import type { Counters, PlaygroundEvent } from '../../shared/protocol/index.ts';

export const FRAME_INTERVAL_MS = 33;
export const MAX_TASK_EVENTS_PER_FRAME = 400;
/** How many sampled events (× the cap) a frame's interval holds before it keeps every other one of each kind. */
const HOLD_FACTOR = 4;

/** The per-task events that may be sampled out at high rates; everything else (task:lost included) always goes. */
export const SAMPLED_TYPES: ReadonlySet<PlaygroundEvent['type']> = new Set([
  'task:sent',
  'task:received',
  'task:done',
  'task:collected',
]);

/** The frame a batcher sends, before it is encoded. */
export interface EventsFrame<C = Counters> {
  type: 'events';
  events: PlaygroundEvent[];
  dropped: number;
  counters: C;
}

export interface BatcherOptions<C = Counters> {
  /** The encoded frame, and the frame itself (a shared broadcast hands it to a reader that must sample its own). */
  send: (frame: string, message: EventsFrame<C>) => void;
  /** The exact totals each frame carries (the pipeline's Counters; a graph playground's GraphCounters). */
  counters: () => C;
  /** True when the socket already has a lot unsent; task events are then dropped (counted) for this frame. */
  isCongested?: () => boolean;
  intervalMs?: number;
  maxTaskEventsPerFrame?: number;
  /** Which events may be sampled out (the pipeline's task events by default; a graph's message events). */
  sampledTypes?: ReadonlySet<PlaygroundEvent['type']>;
}

export class EventBatcher<C = Counters> {
  readonly #options: Required<BatcherOptions<C>>;
  #events: PlaygroundEvent[] = [];
  /** Sampled events held in #events. */
  #taskEvents = 0;
  #dropped = 0;
  /** Of each sampled kind, events seen since the last frame; every `#stride`-th of them is held. */
  #seen = new Map<PlaygroundEvent['type'], number>();
  #stride = 1;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** While true (a backlog is going out first), frames wait: live events must not overtake older ones. */
  #paused = false;

  constructor(options: BatcherOptions<C>) {
    this.#options = {
      isCongested: () => false,
      sampledTypes: SAMPLED_TYPES,
      intervalMs: FRAME_INTERVAL_MS,
      maxTaskEventsPerFrame: MAX_TASK_EVENTS_PER_FRAME,
      ...options,
    };
  }

  /** The time between frames, from the next frame on (a hub stretches it for a large audience: live-frames.ts). */
  get intervalMs(): number {
    return this.#options.intervalMs;
  }

  set intervalMs(ms: number) {
    this.#options.intervalMs = ms;
  }

  push(event: PlaygroundEvent): void {
    if (this.#closed) return;
    if (this.#options.sampledTypes.has(event.type)) {
      const seen = this.#seen.get(event.type) ?? 0;
      this.#seen.set(event.type, seen + 1);
      if (seen % this.#stride !== 0) {
        this.#dropped++;
        this.#schedule();
        return;
      }
      this.#taskEvents++;
      this.#events.push(event);
      if (this.#taskEvents >= HOLD_FACTOR * this.#options.maxTaskEventsPerFrame) this.#thin();
    } else this.#events.push(event);
    this.#schedule();
  }

  /** Keeps every other held event of each sampled kind (the first one included): the stride doubles. */
  #thin(): void {
    const sampled = this.#options.sampledTypes;
    const position = new Map<PlaygroundEvent['type'], number>();
    const kept: PlaygroundEvent[] = [];
    for (const event of this.#events) {
      if (sampled.has(event.type)) {
        const k = position.get(event.type) ?? 0;
        position.set(event.type, k + 1);
        if (k % 2 === 1) continue;
      }
      kept.push(event);
    }
    const removed = this.#events.length - kept.length;
    this.#events = kept;
    this.#taskEvents -= removed;
    this.#dropped += removed;
    this.#stride *= 2;
  }

  /**
   * The held events with at most the cap of sampled ones: each kind keeps its share of the cap, taken evenly
   * over its held events (the last one included), so the frame's sample covers its whole interval.
   */
  #capped(): PlaygroundEvent[] {
    const cap = this.#options.maxTaskEventsPerFrame;
    if (this.#taskEvents <= cap) return this.#events;
    const sampled = this.#options.sampledTypes;
    const held = new Map<PlaygroundEvent['type'], number>();
    for (const event of this.#events)
      if (sampled.has(event.type)) held.set(event.type, (held.get(event.type) ?? 0) + 1);
    // Each kind's quota, in proportion (largest remainders get the few left), summing to the cap.
    const quota = new Map<PlaygroundEvent['type'], number>();
    let given = 0;
    for (const [type, n] of held) {
      const q = Math.floor((cap * n) / this.#taskEvents);
      quota.set(type, q);
      given += q;
    }
    for (const [type] of [...held].sort(
      (a, b) => ((cap * b[1]) % this.#taskEvents) - ((cap * a[1]) % this.#taskEvents),
    )) {
      if (given >= cap) break;
      quota.set(type, quota.get(type)! + 1);
      given++;
    }
    // Of a kind's n held events, the j-th of q taken is the one at ceil((j + 1) × n / q) - 1: the last is taken.
    const position = new Map<PlaygroundEvent['type'], number>();
    const taken = new Map<PlaygroundEvent['type'], number>();
    const kept: PlaygroundEvent[] = [];
    for (const event of this.#events) {
      if (!sampled.has(event.type)) {
        kept.push(event);
        continue;
      }
      const k = position.get(event.type) ?? 0;
      position.set(event.type, k + 1);
      const n = held.get(event.type)!;
      const q = quota.get(event.type)!;
      const j = taken.get(event.type) ?? 0;
      if (j < q && k === Math.ceil(((j + 1) * n) / q) - 1) {
        taken.set(event.type, j + 1);
        kept.push(event);
      }
    }
    this.#dropped += this.#events.length - kept.length;
    return kept;
  }

  /**
   * Holds frames back (events keep being gathered and sampled, so what waits stays bounded) until resume(); a
   * backlog being sent goes first.
   */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.flush();
  }

  /** Forgets what waits (a new subscription starts from its own backlog). */
  clear(): void {
    this.#events = [];
    this.#taskEvents = 0;
    this.#dropped = 0;
    this.#seen.clear();
    this.#stride = 1;
  }

  /** Sends what is buffered now, unless paused. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#closed || this.#paused || (this.#events.length === 0 && this.#dropped === 0)) return;
    let events = this.#capped();
    let dropped = this.#dropped;
    if (this.#options.isCongested()) {
      const kept = events.filter((e) => !this.#options.sampledTypes.has(e.type));
      dropped += events.length - kept.length;
      events = kept;
    }
    this.#events = [];
    this.#taskEvents = 0;
    this.#dropped = 0;
    this.#seen.clear();
    this.#stride = 1;
    // The pipeline's `events` message (ServerMessage), or a graph stream's with its own counters (graph-stream.ts).
    const frame: EventsFrame<C> = { type: 'events', events, dropped, counters: this.#options.counters() };
    this.#options.send(JSON.stringify(frame), frame);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#events = [];
  }

  #schedule(): void {
    if (this.#timer === null && !this.#paused) this.#timer = setTimeout(() => this.flush(), this.#options.intervalMs);
  }
}
