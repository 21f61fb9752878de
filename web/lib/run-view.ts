/**
 * What the diagram and the read-only panels need of a run on screen, live or replayed: the run's state (topology,
 * counts, event log, dots), the playback clock, and what the page draws around them. Both sessions implement it:
 * PlaygroundSession (live, with the actions) and ReplaySession (a recorded run, no actions). Components that only
 * show a run take a RunView (getRunView()); components that change the playground take the live session
 * (getSession()).
 */
import type { SinkInfo } from '../../shared/protocol/index.ts';
import type { PlaybackClock } from './run-clock.svelte.ts';
import type { RunState } from './run-state.svelte.ts';

/** RunState without the calls that change it: what a component may use. */
export type RunReadout = Readonly<
  Omit<RunState, 'seed' | 'reset' | 'applyFrame' | 'tick' | 'landAll' | 'fillMessages'>
>;

/** A run on screen, read-only. */
export interface RunView {
  readonly run: RunReadout;
  /** The moment of the run the diagram draws now. */
  readonly clock: PlaybackClock;
  /** The sink of the run shown (or of the next run, live between runs). */
  readonly sink: SinkInfo | null;
  readonly showSink: boolean;
  readonly isPipeline: boolean;
  readonly showBuiltInWorkers: boolean;
  /** Whether the diagram draws the external peers' node. */
  readonly showExternal: boolean;
}
