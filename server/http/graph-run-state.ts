/**
 * A recorded graph run at one moment (GraphRunStateAt, shared/protocol/graph-run-state.ts), folded from its stored
 * events read window by window through the store's event windows (never the whole run in memory): what the patterns
 * page's replay shows after a seek, and a run's books for a comparison. A graph run has no stored checkpoints (the
 * task checkpoints count task events only), so the fold keeps its own in memory for runs that no longer change:
 * a state every CHECKPOINT_EVERY events, so a seek in a run of 200,000 events folds at most that many, not the run.
 *
 * A fold from the start (a run still recorded keeps no states; a run read for the first time) reads and parses
 * every event of the run: 200,000 events hold a core for a second or more. So a fold gives the event loop back
 * after each window (other visitors' requests and runs go on meanwhile), at most FOLDS_AT_ONCE run at once (the
 * others wait their turn), one visitor may have at most FOLDS_PER_VISITOR asked and not yet answered (more is
 * PG_ERR_LIMIT), and the same state asked again while it is being folded is folded once.
 */
import {
  copyGraphRunState,
  emptyGraphRunState,
  foldGraphState,
  type GraphRunStateAt,
} from '../../shared/protocol/graph-run-state.ts';
import { MAX_EVENT_WINDOW, type PlaygroundEvent, type RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import { text } from '../../shared/protocol/server-text.ts';
import type { EventRange, JsonWindow } from '../recorder/store-api.ts';
import { CodedError } from '../errors.ts';

/** The one store read this needs (RecordingStore's eventWindow, store-api.ts; RunStore's synchronous one fits too). */
export interface GraphStateSource {
  eventWindow(id: string, range: EventRange): JsonWindow | Promise<JsonWindow>;
}

/** Where to stop: every event with t' <= t, the first `count` events, or (neither) the whole run. */
export type GraphStateMoment = { t?: number; count?: number };

/** Events between two kept states of a run. */
export const CHECKPOINT_EVERY = 5000;
/** Runs whose states are kept (the most recently read). */
const CACHED_RUNS = 16;
/** Folds in progress at once, server-wide (they take turns on the one event loop, a window at a time). */
export const FOLDS_AT_ONCE = 2;
/** States one visitor may have asked for and not yet received: a comparison asks two at once, a replay one. */
export const FOLDS_PER_VISITOR = 4;

/** Lets timers and I/O (other requests, the runs' sockets) run before the next window is read and folded. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Checkpoints {
  /** States at count CHECKPOINT_EVERY, 2 × CHECKPOINT_EVERY, ... as far as a fold went. */
  states: GraphRunStateAt[];
}

export class GraphRunStates {
  /** Keyed by id, last seq and event count: a run that changed (an import, a deletion) is never mixed up. */
  readonly #cache = new Map<string, Checkpoints>();
  /** States being folded now, by run key and moment: the same one asked again waits for it. */
  readonly #folding = new Map<string, Promise<GraphRunStateAt>>();
  /** States each visitor has asked for and not yet received. */
  readonly #asked = new Map<string, number>();
  #foldsRunning = 0;
  /** Folds waiting for one of the FOLDS_AT_ONCE turns, oldest first. */
  readonly #waiting: (() => void)[] = [];

  constructor(private readonly store: GraphStateSource) {}

  /**
   * The run's state at `moment`. `run` is its detail (kind 'graph'), read by the caller with the access rules;
   * `visitor` is who asks (its share of the folds). Throws PG_ERR_LIMIT when the visitor already waits for
   * FOLDS_PER_VISITOR states.
   */
  async stateAt(run: RecordedGraphRunDetail, moment: GraphStateMoment, visitor = ''): Promise<GraphRunStateAt> {
    const asked = this.#asked.get(visitor) ?? 0;
    if (asked >= FOLDS_PER_VISITOR)
      throw new CodedError('PG_ERR_LIMIT', text('limit.graphStates', { max: FOLDS_PER_VISITOR }));
    this.#asked.set(visitor, asked + 1);
    try {
      const key = `${run.id}\n${run.lastSeq}\n${run.eventCount}\n${run.status}\n${moment.t}\n${moment.count}`;
      let folding = this.#folding.get(key);
      if (!folding) {
        folding = this.#inTurn(() => this.#fold(run, moment)).finally(() => this.#folding.delete(key));
        this.#folding.set(key, folding);
      }
      // Each caller gets its own copy: the answer is serialised later, and a shared one must not change meanwhile.
      return copyGraphRunState(await folding);
    } finally {
      const left = this.#asked.get(visitor)! - 1;
      if (left === 0) this.#asked.delete(visitor);
      else this.#asked.set(visitor, left);
    }
  }

  /** Runs `work` once one of the FOLDS_AT_ONCE turns is free, then hands the turn on. */
  async #inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.#foldsRunning >= FOLDS_AT_ONCE) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#foldsRunning++;
    try {
      return await work();
    } finally {
      // The turn passes straight to the oldest waiting fold (the count stays), or is given back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#foldsRunning--;
    }
  }

  async #fold(run: RecordedGraphRunDetail, moment: GraphStateMoment): Promise<GraphRunStateAt> {
    const settled = run.status !== 'running';
    const key = `${run.id}\n${run.lastSeq}\n${run.eventCount}`;
    const kept = settled ? this.#remember(key) : { states: [] };
    const t = moment.t ?? Number.POSITIVE_INFINITY;
    const count = moment.count ?? Number.POSITIVE_INFINITY;
    // The newest kept state at or before the moment (its events all have t' <= its lastT).
    let from: GraphRunStateAt | undefined;
    for (const state of kept.states) if (state.count <= count && state.lastT <= t) from = state;
    const state = from ? copyGraphRunState(from) : emptyGraphRunState(run.id);
    for (;;) {
      if (state.count >= count) break;
      const window = await this.store.eventWindow(run.id, {
        fromSeq: state.lastSeq + 1,
        ...(Number.isFinite(t) ? { toT: t } : {}),
        limit: Math.min(MAX_EVENT_WINDOW, CHECKPOINT_EVERY - (state.count % CHECKPOINT_EVERY), count - state.count),
        kind: 'all',
      });
      for (const json of window.json) foldGraphState(state, JSON.parse(json) as PlaygroundEvent);
      if (settled && state.count % CHECKPOINT_EVERY === 0 && state.count / CHECKPOINT_EVERY > kept.states.length)
        kept.states.push(copyGraphRunState(state));
      if (window.nextSeq === null || window.json.length === 0) break;
      // A store that answers at once (SQLite's) would otherwise hold the event loop for the whole run.
      await yieldToEventLoop();
    }
    return state;
  }

  #remember(key: string): Checkpoints {
    const kept = this.#cache.get(key) ?? { states: [] };
    this.#cache.delete(key);
    this.#cache.set(key, kept);
    if (this.#cache.size > CACHED_RUNS) this.#cache.delete(this.#cache.keys().next().value!);
    return kept;
  }
}
