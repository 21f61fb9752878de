/**
 * Turns a stream of events into WebSocket frames: one frame per ~33 ms, never one per ZeroMQ message.
 * At high rates task events are sampled (at most `maxTaskEventsPerFrame` per frame, fewer when the socket is
 * congested) while every other event is kept and the frame carries exact counters, so the browser is never
 * flooded and the pipeline never waits for a slow browser.
 */
import type { Counters, PlaygroundEvent } from '../../shared/protocol/index.ts';

export const FRAME_INTERVAL_MS = 33;
export const MAX_TASK_EVENTS_PER_FRAME = 400;

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
  #taskEvents = 0;
  #dropped = 0;
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
      if (this.#taskEvents >= this.#options.maxTaskEventsPerFrame) {
        this.#dropped++;
        this.#schedule();
        return;
      }
      this.#taskEvents++;
    }
    this.#events.push(event);
    this.#schedule();
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
  }

  /** Sends what is buffered now, unless paused. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#closed || this.#paused || (this.#events.length === 0 && this.#dropped === 0)) return;
    let events = this.#events;
    let dropped = this.#dropped;
    if (this.#options.isCongested()) {
      const kept = events.filter((e) => !this.#options.sampledTypes.has(e.type));
      dropped += events.length - kept.length;
      events = kept;
    }
    this.#events = [];
    this.#taskEvents = 0;
    this.#dropped = 0;
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
