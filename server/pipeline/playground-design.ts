/**
 * A playground's design: what a learner edits between runs (parameters, workers, sink, socket options, the lesson
 * in hand), the undo history of it, and how a scenario or a lesson's start or solution sets it.
 */
import { text } from '../../shared/protocol/server-text.ts';
import {
  DEFAULT_SOCKET_OPTIONS,
  type RunParams,
  type SinkInfo,
  type SocketOptions,
  type WorkerInfo,
} from '../../shared/protocol/index.ts';
import type { Scenario, WorkerSpec } from '../../shared/scenarios/index.ts';
import type { Lesson } from '../../shared/lessons/index.ts';
import { CodedError } from '../errors.ts';

/** Changes that undo can take back. */
export const UNDO_DEPTH = 50;

export interface PlaygroundDesign {
  params: RunParams;
  workers: WorkerInfo[];
  sink: SinkInfo;
  options: SocketOptions;
  lesson: Lesson | null;
  nextWorkerNumber: number;
}

/** Earlier designs, newest last, at most UNDO_DEPTH of them. */
export class UndoHistory {
  readonly #designs: PlaygroundDesign[] = [];

  get depth(): number {
    return this.#designs.length;
  }

  /** Keeps a copy of `design`, so that later edits of it do not reach the copy. */
  remember(design: PlaygroundDesign): void {
    this.#designs.push({
      params: { ...design.params },
      workers: design.workers.map((worker) => ({ ...worker })),
      sink: { ...design.sink },
      options: structuredClone(design.options),
      lesson: design.lesson,
      nextWorkerNumber: design.nextWorkerNumber,
    });
    if (this.#designs.length > UNDO_DEPTH) this.#designs.shift();
  }

  /** The last design remembered, taken out of the history; undefined when there is none. */
  takeBack(): PlaygroundDesign | undefined {
    return this.#designs.pop();
  }

  clear(): void {
    this.#designs.length = 0;
  }
}

/** A lesson's start (or solution) as a design, on the lesson's scenario. */
export function lessonDesign(scenario: Scenario, lesson: Lesson, stage: 'start' | 'solution'): PlaygroundDesign {
  const setup = lesson[stage];
  const workers = setup.workers.map((spec, index) =>
    workerFromSpec(spec, scenario.workers[index]?.id ?? `worker-${index + 1}`),
  );
  const base = structuredClone({ ...DEFAULT_SOCKET_OPTIONS, ...scenario.options });
  const patch = setup.options ?? {};
  return {
    params: { ...scenario.defaults, ...setup.params },
    workers,
    sink: { ...(setup.sink ?? scenario.sink), address: null },
    options: {
      ventilator: { ...base.ventilator, ...patch.ventilator },
      worker: { ...base.worker, ...patch.worker },
      sink: { ...base.sink, ...patch.sink },
    },
    lesson,
    nextWorkerNumber: workers.length + 1,
  };
}

/** A configured worker (idle: its sockets exist only during a run) from a scenario's or a lesson's spec. */
export function workerFromSpec(spec: WorkerSpec, id: string): WorkerInfo {
  return {
    id,
    endpoint: spec.transport,
    transport: spec.transport,
    mode: spec.mode ?? 'in-process',
    workMs: spec.workMs ?? { min: 0, max: 0 },
    connections: spec.connections ?? 1,
    state: 'idle',
    pid: null,
  };
}

export function checkRange(range: { min: number; max: number }): void {
  if (range.min > range.max) {
    throw new CodedError('PG_ERR_VALIDATION', text('worker.workRange', { min: range.min, max: range.max }));
  }
}
