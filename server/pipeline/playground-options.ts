/**
 * How a playground's socket options reach its running pipeline: at once, but at most once per OPTIONS_COALESCE_MS.
 * A change of the workers' options recreates every worker's socket, so a burst of updates (a slider dragged, a
 * flooding client) is applied as one, with the latest values, at the end of the interval (issue 9.8). Kept apart
 * from the topology's edits because it is the one part of them that runs on a timer.
 */
import type { SocketOptions } from '../../shared/protocol/index.ts';
import type { PipelineRun } from './run.ts';

/** Socket options reach a running pipeline at most this often; changes in between are applied as one. */
export const OPTIONS_COALESCE_MS = 100;

/** Which nodes' options changed. */
export type OptionsChanged = { ventilator: boolean; worker: boolean; sink: boolean };

/** What the coalescer reads when it applies: always the values of the moment, not those of the first change. */
export interface LiveOptionsSource {
  /** The playground's socket options now. */
  options(): SocketOptions;
  /** The run in progress, which the options reach; null between runs. */
  activeRun(): PipelineRun | null;
  /** The playground was closed: nothing held is applied any more. */
  closed(): boolean;
}

export class LiveOptions {
  readonly #source: LiveOptionsSource;
  /** While options were applied to `run` less than OPTIONS_COALESCE_MS ago: which nodes changed since. */
  #held: { run: PipelineRun; changed: OptionsChanged } | null = null;

  constructor(source: LiveOptionsSource) {
    this.#source = source;
  }

  /** The options of the nodes in `changed` changed: the running pipeline gets them now or at the interval's end. */
  apply(changed: OptionsChanged): void {
    const run = this.#source.activeRun();
    if (!run) return;
    if (this.#held && this.#held.run === run) {
      const held = this.#held.changed;
      this.#held.changed = {
        ventilator: held.ventilator || changed.ventilator,
        worker: held.worker || changed.worker,
        sink: held.sink || changed.sink,
      };
      return;
    }
    run.applyOptions(structuredClone(this.#source.options()), changed);
    this.#held = { run, changed: { ventilator: false, worker: false, sink: false } };
    const timer = setTimeout(() => {
      const held = this.#held;
      this.#held = null;
      if (!held || held.run !== this.#source.activeRun() || this.#source.closed()) return;
      if (held.changed.ventilator || held.changed.worker || held.changed.sink) this.apply(held.changed);
    }, OPTIONS_COALESCE_MS);
    timer.unref();
  }
}
