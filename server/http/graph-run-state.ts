/**
 * A recorded graph run at one moment (GraphRunStateAt, shared/protocol/graph-run-state.ts), folded from its stored
 * events read window by window through the store's event windows (never the whole run in memory): what the patterns
 * page's replay shows after a seek, and a run's books for a comparison. A graph run has no stored checkpoints (the
 * task checkpoints count task events only), so the fold keeps its own in memory for runs that no longer change:
 * a state every CHECKPOINT_EVERY events, so a seek in a run of 200,000 events folds at most that many, not the run.
 */
import {
  copyGraphRunState,
  emptyGraphRunState,
  foldGraphState,
  type GraphRunStateAt,
} from '../../shared/protocol/graph-run-state.ts';
import { MAX_EVENT_WINDOW, type PlaygroundEvent, type RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import type { EventRange, JsonWindow } from '../recorder/store-api.ts';

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

interface Checkpoints {
  /** States at count CHECKPOINT_EVERY, 2 × CHECKPOINT_EVERY, ... as far as a fold went. */
  states: GraphRunStateAt[];
}

export class GraphRunStates {
  /** Keyed by id, last seq and event count: a run that changed (an import, a deletion) is never mixed up. */
  readonly #cache = new Map<string, Checkpoints>();

  constructor(private readonly store: GraphStateSource) {}

  /** The run's state at `moment`. `run` is its detail (kind 'graph'), read by the caller with the access rules. */
  async stateAt(run: RecordedGraphRunDetail, moment: GraphStateMoment): Promise<GraphRunStateAt> {
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
