/**
 * A playground: one scenario, its parameters, its event log and its runs, one at a time. Stamps `run` and `t`
 * on every event; the RunLog stamps `seq`. Runs headless: tests drive it without any HTTP.
 */
import { randomBytes } from 'node:crypto';
import type {
  Counters,
  EndpointInfo,
  EventInput,
  PlaygroundEvent,
  PlaygroundInfo,
  RunDetail,
  RunParams,
  RunParamsPatch,
} from '../../shared/protocol/index.ts';
import type { Scenario } from '../../shared/scenarios/index.ts';
import { RunLog } from '../recorder/run-log.ts';
import type { EndpointPolicy } from './endpoints.ts';
import { PipelineRun } from './run.ts';

/** Finished runs whose details stay in memory. */
export const RUNS_KEPT = 20;

export class PlaygroundError extends Error {
  constructor(
    readonly code: 'PG_ERR_RUN_ACTIVE' | 'PG_ERR_NO_RUN' | 'PG_ERR_NOT_FOUND',
    message: string,
  ) {
    super(message);
  }
}

export interface PlaygroundOptions {
  id?: string;
  scenario: Scenario;
  params?: RunParamsPatch;
  policy: EndpointPolicy;
  claimedIpcPaths?: Set<string>;
  /** Requested addresses by endpoint name, replacing the scenario's (checked against the policy at run time). */
  endpointOverrides?: Readonly<Record<string, string>>;
}

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export class Playground {
  readonly id: string;
  readonly scenario: Scenario;
  readonly log = new RunLog();
  params: RunParams;
  /** Wall-clock ms of the last command or subscriber, for closing idle playgrounds. */
  lastActivity = Date.now();

  readonly #policy: EndpointPolicy;
  readonly #claimedIpcPaths: Set<string>;
  readonly #runs = new Map<string, PipelineRun>();
  #active: PipelineRun | null = null;
  #endpoints: EndpointInfo[];
  readonly #infoListeners = new Set<(info: PlaygroundInfo) => void>();
  #closed = false;

  constructor(options: PlaygroundOptions) {
    this.id = options.id ?? newId('pg');
    this.scenario = options.scenario;
    this.params = { ...options.scenario.defaults, ...options.params };
    this.#policy = options.policy;
    this.#claimedIpcPaths = options.claimedIpcPaths ?? new Set();
    this.#endpoints = options.scenario.endpoints.map((spec) => ({
      name: spec.name,
      transport: spec.transport,
      requested: (options.endpointOverrides?.[spec.name] ?? spec.address).replace('{runtime}', options.policy.runtimeDir),
      actual: null,
    }));
  }

  info(): PlaygroundInfo {
    const run = this.#active ?? this.#latestRun();
    return {
      id: this.id,
      scenario: this.scenario.id,
      title: this.scenario.title,
      params: { ...this.params },
      endpoints: (run?.endpoints ?? this.#endpoints).map((endpoint) => ({ ...endpoint })),
      workers: this.scenario.workers.map((spec) => ({
        id: spec.id,
        endpoint: spec.endpoint,
        transport: this.#endpoints.find((e) => e.name === spec.endpoint)?.transport ?? 'tcp',
      })),
      activeRun: this.#active?.id ?? null,
      lastSeq: this.log.lastSeq,
    };
  }

  onInfoChanged(listener: (info: PlaygroundInfo) => void): () => void {
    this.#infoListeners.add(listener);
    return () => this.#infoListeners.delete(listener);
  }

  get activeRun(): PipelineRun | null {
    return this.#active;
  }

  updateParams(patch: RunParamsPatch): PlaygroundInfo {
    this.lastActivity = Date.now();
    if (this.#active) throw new PlaygroundError('PG_ERR_RUN_ACTIVE', 'A run is in progress; stop it or wait for it to end before changing parameters.');
    this.params = { ...this.params, ...patch };
    return this.#infoChanged();
  }

  /** Starts a run with the current parameters (optionally patched first). Returns at once with the run. */
  startRun(patch?: RunParamsPatch): PipelineRun {
    if (this.#closed) throw new PlaygroundError('PG_ERR_NOT_FOUND', 'This playground was closed.');
    if (this.#active) throw new PlaygroundError('PG_ERR_RUN_ACTIVE', `Run ${this.#active.id} is still in progress; stop it first.`);
    if (patch && Object.keys(patch).length > 0) this.params = { ...this.params, ...patch };
    this.lastActivity = Date.now();
    let run: PipelineRun | null = null;
    const id = newId('run');
    run = new PipelineRun({
      id,
      playgroundId: this.id,
      scenario: this.scenario,
      endpoints: this.#endpoints,
      params: { ...this.params },
      policy: this.#policy,
      claimedIpcPaths: this.#claimedIpcPaths,
      emit: (event) => this.#stamp(run!, event),
    });
    this.#active = run;
    this.#runs.set(id, run);
    this.#forgetOldRuns();
    this.#infoChanged();
    void run.start().finally(() => {
      if (this.#active === run) this.#active = null;
      this.#infoChanged();
    });
    return run;
  }

  stopRun(): PipelineRun {
    this.lastActivity = Date.now();
    const run = this.#active;
    if (!run) throw new PlaygroundError('PG_ERR_NO_RUN', 'No run is in progress.');
    run.stop();
    return run;
  }

  run(id: string): PipelineRun | undefined {
    return this.#runs.get(id);
  }

  runs(): PipelineRun[] {
    return [...this.#runs.values()];
  }

  runDetail(id: string): RunDetail {
    const run = this.#runs.get(id);
    if (!run) throw new PlaygroundError('PG_ERR_NOT_FOUND', `No run "${id}" in playground ${this.id} (only the last ${RUNS_KEPT} are kept in memory).`);
    const { messages, truncated } = run.messages();
    return {
      id: run.id,
      playground: this.id,
      scenario: this.scenario.id,
      params: run.params,
      endpoints: run.endpoints.map((endpoint) => ({ ...endpoint })),
      workers: run.workers,
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
    const run = this.#active ?? this.#latestRun();
    if (!run) return { run: null, sent: 0, received: {} };
    return { run: run.id, ...run.counters() };
  }

  /** Resolves when the active run (if any) has ended. */
  async settled(): Promise<void> {
    await this.#active?.start();
  }

  /** Stops the active run and waits until its sockets are closed and its ipc files removed. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const run = this.#active;
    if (run) {
      run.stop();
      await run.start();
    }
  }

  #stamp(run: PipelineRun, input: EventInput): PlaygroundEvent {
    // Whoever sees run:ended may start the next run at once: the playground is free from that moment.
    if (input.type === 'run:ended' && this.#active === run) this.#active = null;
    // Stamped in place, not copied: this is the per-message path, and the input object is ours alone.
    const event = input as PlaygroundEvent;
    event.run = run.id;
    event.t = Math.round(run.elapsed() * 1000) / 1000;
    return this.log.append(event);
  }

  #latestRun(): PipelineRun | null {
    let latest: PipelineRun | null = null;
    for (const run of this.#runs.values()) latest = run;
    return latest;
  }

  #forgetOldRuns(): void {
    for (const id of this.#runs.keys()) {
      if (this.#runs.size <= RUNS_KEPT) break;
      if (this.#runs.get(id) !== this.#active) this.#runs.delete(id);
    }
  }

  #infoChanged(): PlaygroundInfo {
    const info = this.info();
    for (const listener of this.#infoListeners) listener(info);
    return info;
  }
}
