/**
 * Recorder: stores every event of one playground's RunLog in a RunStore, without anyone asking and without slowing
 * the pipeline down.
 *
 * - The log listener is on the per-message path: it only pushes the event onto an in-memory buffer (O(1)) and
 *   arms a flush. It never touches SQLite.
 * - A flush runs from a timer (every `flushMs`, 100 ms) or from setImmediate once `batchSize` (5,000) events wait,
 *   and writes the buffered events in ONE transaction per batch. run:started creates the run row inside the same
 *   transaction as its first events; run:ended stores reason, summary, end time and the event count.
 * - Memory is bounded. Every flush empties the buffer (a failed batch is dropped, not retried), so the buffer
 *   only holds what arrives between two flushes. Should flushes not get a turn at all (a starved event loop), the
 *   buffer stops at `maxBuffered` (200,000) events: further events are dropped and counted against their run
 *   (run:started and run:ended are always kept), and that run ends up "incomplete" with `lostEvents` > 0.
 *   better-sqlite3 is synchronous, so a slow disk slows the event loop (and with it the producer) rather than
 *   letting the buffer grow.
 * - A write error never escapes: it is counted in `stats`, remembered as `lastError`, passed to `onError` (the app
 *   logs it), and the next flush carries on. Runs that lost events become "incomplete".
 */
import { randomBytes } from 'node:crypto';
import type { EventListener } from './run-log.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import type { RunStore } from './store.ts';

export const FLUSH_MS = 100;
export const BATCH_SIZE = 5000;
export const MAX_BUFFERED = 200_000;
/** Ended runs whose late events (after run:ended) are still stored. */
export const KEEP_ENDED_RUNS = 4;

/** What a recorder needs of a playground (a Playground fits). */
export interface Recordable {
  readonly id: string;
  readonly scenario: { readonly id: string; readonly title: string };
  readonly log: { subscribe(listener: EventListener): () => void };
}

/** Counters shared by every recorder of one server (GET /api/recording). */
export class RecordingStats {
  recordedEvents = 0;
  flushes = 0;
  writeErrors = 0;
  droppedEvents = 0;
  lastError: { message: string; at: string } | null = null;
}

export interface RecorderOptions {
  flushMs?: number;
  batchSize?: number;
  maxBuffered?: number;
  stats?: RecordingStats;
  onError?: (error: Error, what: string) => void;
}

type RunEnded = Extract<PlaygroundEvent, { type: 'run:ended' }>;

/** What the recorder knows of one run it is storing. */
interface RunState {
  pk: number;
  /** The id stored (the live id, unless a stored run already had it). */
  storedId: string;
  eventCount: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastT: number;
  lost: number;
  /** run:ended seen but not yet stored (its batch failed): stored by the next flush. */
  pendingEnd: RunEnded | null;
  ended: boolean;
}

export class Recorder {
  readonly stats: RecordingStats;
  readonly #store: RunStore;
  readonly #playground: Recordable;
  readonly #flushMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #onError: (error: Error, what: string) => void;
  #buffer: PlaygroundEvent[] = [];
  /** Wall-clock ms of run:started / run:ended events by seq, taken when they were logged. */
  readonly #wallClock = new Map<number, number>();
  /** Events dropped by the buffer cap, per live run id, not yet added to their run's lostEvents. */
  readonly #overflow = new Map<string, number>();
  /** By live run id: runs in progress, and the last KEEP_ENDED_RUNS ended ones. */
  readonly #runs = new Map<string, RunState>();
  /** Live ids of ended runs still in #runs, oldest first. */
  readonly #endedRuns: string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #unsubscribe: (() => void) | null;
  #closed = false;

  constructor(store: RunStore, playground: Recordable, options: RecorderOptions = {}) {
    this.#store = store;
    this.#playground = playground;
    this.#flushMs = options.flushMs ?? FLUSH_MS;
    this.#batchSize = options.batchSize ?? BATCH_SIZE;
    this.#maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
    this.stats = options.stats ?? new RecordingStats();
    this.#onError = options.onError ?? ((error, what) => console.error(`Recording: ${what}: ${error.message}`));
    this.#unsubscribe = playground.log.subscribe(this.#onEvent);
  }

  /** Events waiting for the next flush. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** The per-message path: O(1), no I/O. */
  readonly #onEvent = (event: PlaygroundEvent): void => {
    const type = event.type;
    if (type === 'run:started' || type === 'run:ended') {
      this.#wallClock.set(event.seq, Date.now());
    } else if (this.#buffer.length >= this.#maxBuffered) {
      this.#overflow.set(event.run, (this.#overflow.get(event.run) ?? 0) + 1);
      this.stats.droppedEvents++;
      return;
    }
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#batchSize) {
      this.#immediate ??= setImmediate(this.#flushSoon);
    } else if (this.#timer === null) {
      this.#timer = setTimeout(this.#flushSoon, this.#flushMs);
      this.#timer.unref();
    }
  };

  readonly #flushSoon = (): void => {
    this.flush();
  };

  /** Writes everything buffered now, in transactions of at most batchSize events. Never throws. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    const all = this.#buffer;
    this.#buffer = [];
    for (const [run, count] of this.#overflow) {
      const state = this.#runs.get(run);
      if (state) {
        state.lost += count;
        this.#overflow.delete(run);
      }
    }
    if (this.#store.closed) {
      if (all.length > 0) this.#fail(new Error('the run store is closed'), `dropping ${all.length} events`, all.length);
      return;
    }
    if (all.length === 0) {
      if (this.#hasPendingEnd()) this.#writeBatch([]);
    } else if (all.length <= this.#batchSize) {
      this.#writeBatch(all);
    } else {
      for (let start = 0; start < all.length; start += this.#batchSize) this.#writeBatch(all.slice(start, start + this.#batchSize));
    }
    this.#overflow.clear(); // what is left belongs to runs that were never stored
  }

  /**
   * Flushes what is left and stops listening. A run of this playground still not ended is marked incomplete
   * (normally the playground closed first, so its run:ended was already logged and is stored here). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.flush();
    if (this.#store.closed) return;
    for (const state of this.#runs.values()) {
      if (state.ended) continue;
      try {
        this.#store.markIncomplete(state.pk);
      } catch (error) {
        this.#fail(error as Error, `marking run ${state.storedId} incomplete`, 0);
      }
    }
    this.#runs.clear();
  }

  // -------------------------------------------------------------------------------------------------------------

  #hasPendingEnd(): boolean {
    for (const state of this.#runs.values()) if (state.pendingEnd) return true;
    return false;
  }

  #applyOverflow(): void {
    if (this.#overflow.size === 0) return;
    for (const [run, count] of this.#overflow) {
      this.stats.droppedEvents += count;
      const state = this.#runs.get(run);
      if (state) state.lost += count;
    }
    this.#overflow.clear();
  }

  /** One transaction. Changes to the in-memory run states are applied only once it has committed. */
  #writeBatch(batch: PlaygroundEvent[]): void {
    const store = this.#store;
    const created = new Map<string, RunState>();
    const touched = new Map<RunState, { count: number; firstSeq: number; lastSeq: number; lastT: number }>();
    const ends = new Map<RunState, RunEnded>();
    let unknown = 0;
    try {
      store.transaction(() => {
        for (const event of batch) {
          let state = this.#runs.get(event.run) ?? created.get(event.run);
          if (event.type === 'run:started') {
            state = this.#createRun(event);
            created.set(event.run, state);
          }
          if (!state) {
            unknown++; // its run:started was lost with a failed batch, or the run ended long ago
            continue;
          }
          const json = state.storedId === event.run ? JSON.stringify(event) : JSON.stringify({ ...event, run: state.storedId });
          store.insertEvent(state.pk, event.seq, event.t, event.type, json);
          const delta = touched.get(state);
          if (delta) {
            delta.count++;
            delta.lastSeq = event.seq;
            delta.lastT = event.t;
          } else {
            touched.set(state, { count: 1, firstSeq: event.seq, lastSeq: event.seq, lastT: event.t });
          }
          if (event.type === 'run:ended') ends.set(state, event);
        }
        for (const [state, delta] of touched) {
          store.updateProgress(state.pk, {
            eventCount: state.eventCount + delta.count,
            firstSeq: state.firstSeq ?? delta.firstSeq,
            lastSeq: delta.lastSeq,
            durationMs: delta.lastT,
            lostEvents: state.lost,
          });
        }
        for (const state of this.#runs.values()) {
          if (state.pendingEnd && !ends.has(state)) ends.set(state, state.pendingEnd);
        }
        for (const state of ends.keys()) if (state.ended) ends.delete(state); // a second run:ended changes nothing
        for (const [state, end] of ends) this.#finish(state, end);
      });
    } catch (error) {
      // Nothing of this batch is stored. Count what was lost against the runs already stored; a run:ended among
      // it is stored by the next flush, which then marks the run incomplete.
      for (const event of batch) {
        const state = this.#runs.get(event.run);
        if (state) state.lost++;
        if (event.type === 'run:ended' && state) state.pendingEnd = event;
        else if (event.type === 'run:started' || event.type === 'run:ended') this.#wallClock.delete(event.seq);
      }
      this.#fail(error as Error, `could not store ${batch.length} events of playground ${this.#playground.id}`, batch.length);
      if (this.#hasPendingEnd() && !this.#closed) {
        this.#timer ??= setTimeout(this.#flushSoon, this.#flushMs);
        this.#timer.unref();
      }
      return;
    }
    // Committed.
    for (const [id, state] of created) this.#runs.set(id, state);
    for (const [state, delta] of touched) {
      state.eventCount += delta.count;
      state.firstSeq ??= delta.firstSeq;
      state.lastSeq = delta.lastSeq;
      state.lastT = delta.lastT;
    }
    for (const [state, end] of ends) {
      state.ended = true;
      state.pendingEnd = null;
      this.#wallClock.delete(end.seq);
      // Monitor events (a late disconnect) may still come after run:ended and belong to the run: keep the last
      // few ended runs to store them, forget older ones.
      this.#endedRuns.push(end.run);
      if (this.#endedRuns.length > KEEP_ENDED_RUNS) this.#runs.delete(this.#endedRuns.shift()!);
    }
    for (const event of batch) if (event.type === 'run:started') this.#wallClock.delete(event.seq);
    this.stats.recordedEvents += batch.length - unknown;
    this.stats.droppedEvents += unknown;
    this.stats.flushes++;
  }

  #createRun(event: Extract<PlaygroundEvent, { type: 'run:started' }>): RunState {
    const store = this.#store;
    let storedId = event.run;
    // Live run ids are random; one may still match a stored run (an earlier server, an import).
    while (store.runExists(storedId)) storedId = `${event.run}-${randomBytes(2).toString('hex')}`;
    const pk = store.insertRun({
      id: storedId,
      playground: this.#playground.id,
      scenario: event.scenario,
      scenarioTitle: this.#playground.scenario.title,
      params: event.params,
      endpoints: event.endpoints,
      workers: event.workers,
      startedAt: this.#wallClock.get(event.seq) ?? Date.now(),
    });
    // Events of this run the buffer cap dropped before its row existed.
    const lost = this.#overflow.get(event.run) ?? 0;
    return { pk, storedId, eventCount: 0, firstSeq: null, lastSeq: null, lastT: 0, lost, pendingEnd: null, ended: false };
  }

  #finish(state: RunState, end: RunEnded): void {
    this.#store.finishRun(state.pk, {
      endedAt: this.#wallClock.get(end.seq) ?? Date.now(),
      reason: end.reason,
      summary: end.summary,
      lostEvents: state.lost,
    });
  }

  #fail(error: Error, what: string, dropped: number): void {
    this.stats.writeErrors++;
    this.stats.droppedEvents += dropped;
    this.stats.lastError = { message: `${what}: ${error.message}`, at: new Date().toISOString() };
    try {
      this.#onError(error, what);
    } catch {
      // a logger that throws must not take the pipeline down either
    }
  }
}
