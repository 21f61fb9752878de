/**
 * Turns a stream of events into WebSocket frames: one frame per ~33 ms, never one per ZeroMQ message.
 * At high rates task events are sampled (at most `maxTaskEventsPerFrame` per frame, fewer when the socket is
 * congested) while every other event is kept and the frame carries exact counters, so the browser is never
 * flooded and the pipeline never waits for a slow browser.
 *
 * The sample is spread over the frame's whole interval and keeps a task's events together (issue 12). A plain cap
 * kept the interval's first events only, so the page knew nothing of its last ~30 ms until the next frame (the
 * page draws an event when the run time it shows reaches the event's) and its dots came in clumps 33 ms apart.
 * Here the events held are those of the tasks (or graph messages) whose id hashes to a multiple of `stride`: every
 * kind of event of a task held is held, so the charts still pair a task's sent and received; the stride doubles
 * (a power of two: what a larger stride holds, a smaller one held too, from frame to frame) whenever
 * HOLD_FACTOR × the cap are held, and at the frame the stride doubles until the cap holds them, topped up to the
 * cap from those the last doubling let go, evenly.
 */
import type { Counters, PlaygroundEvent } from '../../shared/protocol/index.ts';

export const FRAME_INTERVAL_MS = 33;
export const MAX_TASK_EVENTS_PER_FRAME = 400;
/** How many sampled events (× the cap) a frame's interval holds before the stride doubles. */
const HOLD_FACTOR = 4;

/** A well-mixed 32-bit hash of an id: ids of one worker's tasks (every 8th with 8 workers) must not share a stride. */
function mix(id: number): number {
  let h = Math.imul(id ^ (id >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

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

/** The largest stride (2^30: a 32-bit hash's bits, with room to spare). */
const MAX_STRIDE = 2 ** 30;

/** Whether an event whose id hashes to `hash` is held at this stride (a power of two up to MAX_STRIDE). */
function isHeld(hash: number, stride: number): boolean {
  return hash % stride === 0;
}

/** The hash a sampled event is held by: of its task's id (a graph message's), else of its seq. */
function hashOf(event: PlaygroundEvent): number {
  const id = 'task' in event ? event.task : 'message' in event ? event.message : null;
  return mix(typeof id === 'number' ? id : event.seq);
}

export interface BatcherOptions<C = Counters> {
  /**
   * The frame, JSON-encoded (`frame`), and the frame itself (a shared broadcast hands it to a reader that must
   * sample its own). With `encodes: false` the frame is not encoded (`frame` is ''): the caller encodes it, as
   * JSON or as a binary task frame (live-frames.ts), only in the forms its readers take.
   */
  send: (frame: string, message: EventsFrame<C>) => void;
  /** Whether the batcher JSON-encodes each frame for `send` (default true). */
  encodes?: boolean;
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
  /** A sampled event is held when the hash of its task's id is a multiple of this (a power of two). */
  #stride = 1;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** While true (a backlog is going out first), frames wait: live events must not overtake older ones. */
  #paused = false;

  constructor(options: BatcherOptions<C>) {
    this.#options = {
      isCongested: () => false,
      encodes: true,
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

  /** The most sampled events a frame carries, from the next frame on (a hub of pages takes fewer: live-frames.ts). */
  get maxTaskEventsPerFrame(): number {
    return this.#options.maxTaskEventsPerFrame;
  }

  set maxTaskEventsPerFrame(cap: number) {
    this.#options.maxTaskEventsPerFrame = cap;
  }

  push(event: PlaygroundEvent): void {
    if (this.#closed) return;
    if (this.#options.sampledTypes.has(event.type)) {
      const hold = HOLD_FACTOR * this.#options.maxTaskEventsPerFrame;
      // Past the largest stride (one id with thousands of events) the rest of the interval is left out.
      if (!isHeld(hashOf(event), this.#stride) || this.#taskEvents >= hold) {
        this.#dropped++;
        this.#schedule();
        return;
      }
      this.#taskEvents++;
      this.#events.push(event);
      if (this.#taskEvents >= hold && this.#stride < MAX_STRIDE) this.#thin();
    } else this.#events.push(event);
    this.#schedule();
  }

  /** Doubles the stride and lets go of the held events it no longer holds; returns them. */
  #thin(): PlaygroundEvent[] {
    this.#stride *= 2;
    const sampled = this.#options.sampledTypes;
    const kept: PlaygroundEvent[] = [];
    const released: PlaygroundEvent[] = [];
    for (const event of this.#events) {
      if (sampled.has(event.type) && !isHeld(hashOf(event), this.#stride)) released.push(event);
      else kept.push(event);
    }
    this.#events = kept;
    this.#taskEvents -= released.length;
    this.#dropped += released.length;
    return released;
  }

  /** The held events with at most the cap of sampled ones: the stride doubles until they fit, then tops them up. */
  #capped(): PlaygroundEvent[] {
    const cap = this.#options.maxTaskEventsPerFrame;
    let released: PlaygroundEvent[] = [];
    while (this.#taskEvents > cap && this.#stride < MAX_STRIDE) released = this.#thin();
    if (this.#taskEvents > cap) return this.#firstOnes(cap);
    const room = cap - this.#taskEvents;
    if (room === 0 || released.length === 0) return this.#events;
    // The j-th of `room` taken from the n let go is the one at ceil((j + 1) × n / room) - 1: spread, the last one in.
    const topUp = new Set<PlaygroundEvent>();
    const n = released.length;
    for (let j = 0; j < Math.min(room, n); j++) topUp.add(released[Math.ceil(((j + 1) * n) / Math.min(room, n)) - 1]!);
    this.#dropped -= topUp.size;
    this.#taskEvents += topUp.size;
    const merged: PlaygroundEvent[] = [];
    let r = 0;
    const sortedTopUp = released.filter((event) => topUp.has(event));
    for (const event of this.#events) {
      while (r < sortedTopUp.length && sortedTopUp[r]!.seq < event.seq) merged.push(sortedTopUp[r++]!);
      merged.push(event);
    }
    while (r < sortedTopUp.length) merged.push(sortedTopUp[r++]!);
    return merged;
  }

  /** The held events with only the first `cap` sampled ones (ids the largest stride cannot split). */
  #firstOnes(cap: number): PlaygroundEvent[] {
    const sampled = this.#options.sampledTypes;
    let n = 0;
    const kept = this.#events.filter((event) => !sampled.has(event.type) || n++ < cap);
    this.#dropped += this.#events.length - kept.length;
    this.#taskEvents = cap;
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
    this.#stride = 1;
    // The pipeline's `events` message (ServerMessage), or a graph stream's with its own counters (graph-stream.ts).
    const frame: EventsFrame<C> = { type: 'events', events, dropped, counters: this.#options.counters() };
    this.#options.send(this.#options.encodes ? JSON.stringify(frame) : '', frame);
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
