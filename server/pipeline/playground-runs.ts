/**
 * A playground's runs: the one in progress, the last RUNS_KEPT kept in memory for their details, where each one's
 * events start in the playground's log, and what is read of them (a run's detail, the exact counters). Starting,
 * stopping and stamping a run's events stay in the playground (playground.ts), which owns the log and the topology.
 */
import { text } from '../../shared/protocol/server-text.ts';
import type { Counters, RunDetail } from '../../shared/protocol/index.ts';
import type { PipelineRun } from './run.ts';
import { CodedError } from '../errors.ts';

/** Finished runs whose details stay in memory. */
export const RUNS_KEPT = 20;

export class PlaygroundRuns {
  readonly #runs = new Map<string, PipelineRun>();
  #active: PipelineRun | null = null;
  /** The log's seq of each kept run's run:started. */
  readonly #firstSeq = new Map<string, number>();

  /** The run in progress; null between runs. */
  get active(): PipelineRun | null {
    return this.#active;
  }

  /** The run in progress, else the last one started; null before the first. */
  current(): PipelineRun | null {
    if (this.#active) return this.#active;
    let latest: PipelineRun | null = null;
    for (const run of this.#runs.values()) latest = run;
    return latest;
  }

  /** `run` is the active run from now on, kept with the others; the oldest beyond RUNS_KEPT are forgotten. */
  begin(run: PipelineRun): void {
    this.#active = run;
    this.#runs.set(run.id, run);
    for (const id of this.#runs.keys()) {
      if (this.#runs.size <= RUNS_KEPT) break;
      if (this.#runs.get(id) !== this.#active) {
        this.#runs.delete(id);
        this.#firstSeq.delete(id);
      }
    }
  }

  /** `run` ended (or says it has): the playground is free for the next one. */
  ended(run: PipelineRun): void {
    if (this.#active === run) this.#active = null;
  }

  /** `run`'s run:started gets this seq in the log. */
  started(run: PipelineRun, seq: number): void {
    this.#firstSeq.set(run.id, seq);
  }

  /** The seq of `run`'s first event in the log (1 if unknown: the whole backlog is searched). */
  firstSeq(run: PipelineRun): number {
    return this.#firstSeq.get(run.id) ?? 1;
  }

  get(id: string): PipelineRun | undefined {
    return this.#runs.get(id);
  }

  all(): PipelineRun[] {
    return [...this.#runs.values()];
  }

  detail(id: string, playgroundId: string, scenarioId: string): RunDetail {
    const run = this.#runs.get(id);
    if (!run)
      throw new CodedError(
        'PG_ERR_NOT_FOUND',
        text('run.unknown', { run: id.slice(0, 64), playground: playgroundId, kept: RUNS_KEPT }),
      );
    const { messages, truncated } = run.messages();
    return {
      id: run.id,
      playground: playgroundId,
      scenario: scenarioId,
      params: run.params,
      endpoints: run.endpoints.map((endpoint) => ({ ...endpoint })),
      workers: run.allWorkers(),
      startedAt: run.startedAt.toISOString(),
      endedAt: run.endedAt?.toISOString() ?? null,
      reason: run.reason,
      summary: run.summary(),
      messages,
      messagesTruncated: truncated,
    };
  }

  /** Exact totals of the active (or last) run, sent with every batch so sampled streams stay correct. */
  counters(): Counters {
    const run = this.current();
    if (!run) return { run: null, sent: 0, received: {}, done: {}, collected: 0, lost: 0 };
    return { run: run.id, ...run.counters() };
  }
}
