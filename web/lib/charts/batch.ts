/** Batch time against worker count, across recorded runs. */
import type { RecordedRun } from '../../../shared/protocol/history.ts';
import type { RunParams, WorkMs } from '../../../shared/protocol/index.ts';
import { median } from './scales.ts';

export interface BatchPoint {
  runId: string;
  name: string;
  /** The parts of the server's own name, to say it in the page's language (web/lib/run-names.ts). */
  defaultName?: RecordedRun['defaultName'];
  /** Workers that took at least one task. */
  workers: number;
  /** The run's duration (ms). */
  ms: number;
  tasks: number;
}

/**
 * What a batch's time depends on besides how many workers share it: the tasks sent, their pacing (an interval of
 * 50 ms makes 100 tasks last 5 s whatever the workers), whether the start waits for every worker, and the work
 * each task holds. Only runs of one shape say what more workers do; mixed, "more workers" may just mean "a bigger
 * batch" and the line climbs (issue 10.12).
 */
export interface BatchShape {
  tasks: number;
  /** null: not known (a run listed by an older server). */
  intervalMs: number | null;
  syncStart: boolean | null;
  /** Each worker's work time, "1-100" when they all have the same, else the distinct ones ("0/400"). */
  work: string;
}

function workText(workMs: WorkMs): string {
  return workMs.min === workMs.max ? String(workMs.min) : `${workMs.min}-${workMs.max}`;
}

/** The shape of a batch: its tasks, parameters and workers (a recorded run, or the run on screen). */
export function shapeOf(
  tasks: number,
  params: Pick<RunParams, 'intervalMs' | 'syncStart'> | null | undefined,
  workers: readonly { workMs: WorkMs }[],
): BatchShape {
  const work = [...new Set(workers.map((w) => workText(w.workMs)))].sort(
    (a, b) => parseFloat(a) - parseFloat(b) || a.localeCompare(b),
  );
  return { tasks, intervalMs: params?.intervalMs ?? null, syncStart: params?.syncStart ?? null, work: work.join('/') };
}

export function sameShape(a: BatchShape, b: BatchShape): boolean {
  return a.tasks === b.tasks && a.intervalMs === b.intervalMs && a.syncStart === b.syncStart && a.work === b.work;
}

/** A completed pipeline run that sent tasks and that some worker took: a point of the chart. */
function isBatchPoint(run: RecordedRun): boolean {
  const s = run.summary;
  return (
    run.scenario === 'pipeline' && run.status === 'ended' && run.reason === 'completed' && s !== null && s.sent > 0
  );
}

/** A recorded run's batch shape. */
export function shapeOfRun(run: RecordedRun): BatchShape {
  return shapeOf(run.summary?.sent ?? 0, run.params, run.workers);
}

/** Which runs the chart compares: those of one shape (the default), those like the zguide's batch, or every one. */
export type BatchFilter = { kind: 'shape'; shape: BatchShape | null } | { kind: 'zguide' } | { kind: 'all' };

/**
 * The shape the chart compares by default: the run on screen's when it is a batch, else the newest recorded batch's
 * (`runs` newest first, as the history lists them); null when there is none.
 */
export function defaultShape(onScreen: BatchShape | null, runs: readonly RecordedRun[]): BatchShape | null {
  if (onScreen && onScreen.tasks > 0) return onScreen;
  const newest = runs.find(isBatchPoint);
  return newest ? shapeOfRun(newest) : null;
}

/** The zguide's divide-and-conquer batch, the one its published times are for: 100 tasks of 1-100 ms each. */
export function isZguideBatch(run: RecordedRun): boolean {
  return (
    run.summary?.sent === 100 &&
    run.workers.length > 0 &&
    run.workers.every((w) => w.workMs.min === 1 && w.workMs.max === 100)
  );
}

/**
 * One point per completed pipeline run that sent tasks: x = workers that received at least one task, y = its
 * duration. Runs still going, stopped, failed, incomplete or of the tutorial scenario are left out, and so are those
 * the filter does not keep (the chart's default: another shape than the one compared; without a filter, none).
 */
export function batchPoints(runs: readonly RecordedRun[], filter: BatchFilter = { kind: 'all' }): BatchPoint[] {
  const points: BatchPoint[] = [];
  for (const run of runs) {
    const s = run.summary;
    if (!s || !isBatchPoint(run)) continue;
    if (filter.kind === 'zguide' && !isZguideBatch(run)) continue;
    if (filter.kind === 'shape' && (filter.shape === null || !sameShape(shapeOfRun(run), filter.shape))) continue;
    const workers = Object.values(s.received).filter((n) => n > 0).length;
    if (workers === 0) continue;
    points.push({
      runId: run.id,
      name: run.name,
      ...(run.defaultName ? { defaultName: run.defaultName } : {}),
      workers,
      ms: s.durationMs,
      tasks: s.sent,
    });
  }
  return points.sort((a, b) => a.workers - b.workers || a.ms - b.ms);
}

/** The zguide's reference points, by worker count. */
export function referencePoints(reference: Readonly<Record<number, number>>): { workers: number; ms: number }[] {
  return Object.entries(reference)
    .map(([w, ms]) => ({ workers: Number(w), ms }))
    .sort((a, b) => a.workers - b.workers);
}

/** Median duration per worker count (the line through the scatter). */
export function medianByWorkers(points: readonly BatchPoint[]): { workers: number; ms: number }[] {
  const by = new Map<number, number[]>();
  for (const p of points) {
    const list = by.get(p.workers) ?? [];
    list.push(p.ms);
    by.set(p.workers, list);
  }
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([workers, list]) => ({ workers, ms: median(list)! }));
}
