/**
 * Recorder: records every event of one playground's RunLog, without anyone asking and without slowing the
 * pipeline down.
 *
 * - The log listener is on the per-message path. For a channel with a writer thread (`channel.packed`) it packs the
 *   event into the buffer's columns as it arrives (a task event into typed arrays, no object kept; another event as
 *   its JSON text: packed.ts, EventPacker); for an inline channel it keeps the event. Then it arms a flush. It never
 *   touches SQLite.
 * - A flush runs from a timer (every `flushMs`, 100 ms) or from setImmediate once `batchSize` (5,000) events wait,
 *   and hands the buffer as it is to a WriteChannel, which writes it in transactions of at most 5,000 events
 *   (RunWriter): in a worker thread for a file store (the packed arrays are transferred, not copied), inline for
 *   ":memory:" (channel.ts).
 * - Memory is bounded. Every flush empties the buffer, unless the writer already has `maxInFlight` events it has
 *   not written yet; then the buffer waits. Either way the buffer stops at `maxBuffered` (200,000) events: more
 *   are dropped and counted against their run (run:started and run:ended are always kept), and that run ends up
 *   "incomplete" with `lostEvents` > 0. So the recorder holds at most maxBuffered + maxInFlight events.
 * - A write error never reaches the pipeline: the channel counts it, keeps it as `lastError`, reports it to its
 *   `onError` (the app logs it), and the next flush carries on. Runs that lost events become "incomplete".
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { EventPacker, type EventBatch } from './packed.ts';
import type { EventListener } from './run-log.ts';
import { InlineChannel, type RecordingStats, type WriteChannel, type ChannelOptions } from './channel.ts';
import { RunStore } from './store.ts';
import { BATCH_SIZE } from './writer.ts';

export { RecordingStats } from './channel.ts';

export const FLUSH_MS = 100;
/** Events that trigger a flush at once (the writer's largest transaction, too). */
export { BATCH_SIZE };
export const MAX_BUFFERED = 200_000;
/** Events handed to the channel and not yet written, above which flushes wait (the writer is behind). */
export const MAX_IN_FLIGHT = 200_000;

/** What a recorder needs of a playground (a Playground fits; a GraphPlayground through graphRecordable). */
export interface Recordable {
  readonly id: string;
  readonly scenario: { readonly id: string; readonly title: string };
  readonly log: { subscribe(listener: EventListener): () => void };
  /** The visitor whose runs these are (see server/pipeline/access.ts). */
  readonly owner?: string | null;
}

export interface RecorderOptions extends ChannelOptions {
  flushMs?: number;
  batchSize?: number;
  maxBuffered?: number;
  maxInFlight?: number;
}

export class Recorder {
  readonly #channel: WriteChannel;
  /** The recorder made its channel (from a RunStore) and closes it with itself. */
  readonly #ownsChannel: boolean;
  readonly #playground: Recordable;
  readonly #flushMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #maxInFlight: number;
  /** The buffer for a channel that takes packed batches: events since the last flush, packed as they arrived. */
  readonly #packer: EventPacker | null;
  /** The buffer for any other channel: the events since the last flush. */
  #events: PlaygroundEvent[] = [];
  /** Wall-clock ms of run:started / run:ended events by seq, taken when they were logged. */
  #wallClock: [number, number][] = [];
  /** Events dropped by the buffer cap, per live run id, not yet reported to the writer. */
  readonly #overflow = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #unsubscribe: (() => void) | null;
  #closing: Promise<void> | null = null;

  /** With a RunStore, the recorder writes inline through its own channel; servers share one channel (channelFor). */
  constructor(target: RunStore | WriteChannel, playground: Recordable, options: RecorderOptions = {}) {
    this.#ownsChannel = target instanceof RunStore;
    this.#channel = target instanceof RunStore ? new InlineChannel(target, options) : target;
    this.#playground = playground;
    this.#flushMs = options.flushMs ?? FLUSH_MS;
    this.#batchSize = options.batchSize ?? BATCH_SIZE;
    this.#maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
    this.#maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
    this.#packer = this.#channel.packed === true ? new EventPacker() : null;
    this.#unsubscribe = playground.log.subscribe(this.#onEvent);
  }

  get stats(): RecordingStats {
    return this.#channel.stats;
  }

  /** Events waiting for the next flush. */
  get buffered(): number {
    return this.#packer !== null ? this.#packer.count : this.#events.length;
  }

  /** The per-message path: O(1), no I/O, no allocation for a task event (but now and then a larger array). */
  readonly #onEvent = (event: PlaygroundEvent): void => {
    const type = event.type;
    const packer = this.#packer;
    const buffered = packer !== null ? packer.count : this.#events.length;
    // A run's start and end (a pipeline's or a graph's) are always kept, with the wall clock of their moment.
    if (type === 'run:started' || type === 'run:ended' || type === 'graph:started' || type === 'graph:ended') {
      this.#wallClock.push([event.seq, Date.now()]);
    } else if (buffered >= this.#maxBuffered) {
      this.#overflow.set(event.run, (this.#overflow.get(event.run) ?? 0) + 1);
      this.#channel.stats.droppedEvents++;
      return;
    }
    if (packer !== null) packer.add(event);
    else this.#events.push(event);
    if (buffered + 1 >= this.#batchSize) {
      if (this.#immediate === null) this.#immediate = setImmediate(this.#flushSoon);
    } else if (this.#timer === null) {
      this.#timer = setTimeout(this.#flushSoon, this.#flushMs);
      this.#timer.unref();
    }
  };

  readonly #flushSoon = (): void => {
    this.flush();
  };

  /** Hands everything buffered to the channel (which, inline, has written it when this returns). Never throws. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    if (this.buffered === 0 && this.#overflow.size === 0) return;
    if (this.#channel.inFlight >= this.#maxInFlight && !this.#closing) {
      // The writer is behind: keep the events here (the buffer cap still holds) and look again soon.
      this.#timer = setTimeout(this.#flushSoon, this.#flushMs);
      this.#timer.unref();
      return;
    }
    let events: EventBatch;
    let count: number;
    if (this.#packer !== null) {
      events = this.#packer.take();
      count = events.count;
    } else {
      events = this.#events;
      count = this.#events.length;
      this.#events = [];
    }
    const wallClock = this.#wallClock;
    const overflow = [...this.#overflow];
    this.#wallClock = [];
    this.#overflow.clear();
    try {
      this.#channel.write(
        { id: this.#playground.id, title: this.#playground.scenario.title, owner: this.#playground.owner ?? null },
        events,
        wallClock,
        overflow,
      );
    } catch (error) {
      // Channels do not throw; should one, the pipeline must still not see it.
      this.#channel.stats.writeErrors++;
      this.#channel.stats.droppedEvents += count;
      this.#channel.stats.lastError = { message: (error as Error).message, at: new Date().toISOString() };
    }
  }

  /** Flushes, then resolves once everything of this recorder so far is written. */
  async flushed(): Promise<void> {
    this.flush();
    await this.#channel.flushed();
  }

  /**
   * Stops listening, flushes what is left and waits until it is written. A run of this playground that never
   * ended is marked incomplete (normally the playground closed first, so its run:ended is stored). Idempotent.
   * With an inline channel, everything is done before this returns its promise.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#closing = Promise.resolve(); // flush now even if the writer is behind
    this.flush();
    const closed = this.#channel.closePlayground(this.#playground.id);
    this.#closing = this.#ownsChannel ? closed.then(() => this.#channel.close()) : closed;
    return this.#closing;
  }
}
