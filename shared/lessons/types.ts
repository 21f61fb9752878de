import type {
  PlaygroundEvent,
  RunParams,
  RunSummary,
  SocketOptionsPatch,
  Transport,
  WorkerMode,
  WorkerSignal,
  WorkMs,
} from '../protocol/index.ts';

/** A topology and parameters to put a playground in: a lesson's start, or its solution. */
export interface LessonSetup {
  params: Partial<RunParams>;
  /** Replaces the scenario's workers; they are named worker-1, worker-2, … in this order. */
  workers: { transport: Transport; mode?: WorkerMode; workMs?: WorkMs; connections?: number }[];
  sink?: { enabled: boolean; transport: Transport };
  options?: SocketOptionsPatch;
}

/** Something the lesson does to the running pipeline by itself (the "chaos" of lesson 6). */
export interface ScheduledAction {
  /** Fires this long after the ventilator has sent `afterSent` tasks. */
  afterSent: number;
  delayMs: number;
  worker: string;
  signal: Exclude<WorkerSignal, 'restart'>;
}

/** What a goal check reads: one finished run, with every event it emitted. */
export interface RunRecord {
  params: RunParams;
  summary: RunSummary;
  events: readonly PlaygroundEvent[];
}

export interface GoalResult {
  met: boolean;
  /** Why, in both languages, with the figures that decided it. */
  detail: { en: string; es: string };
  /** Figures the page can tabulate across runs (lesson 2: batch time by worker count). */
  measurements?: Record<string, number>;
}

/**
 * A lesson is data, as the levels of the best teaching playgrounds are: where it starts, a goal checked from the
 * run's real events, and a solution that the tests run on real sockets (every solution must meet its goal, and
 * no start may meet it already). Texts live in ./text/{en,es}.ts, keyed by lesson id.
 */
export interface Lesson {
  id: string;
  scenario: 'tutorial' | 'pipeline';
  start: LessonSetup;
  solution: LessonSetup;
  actions?: ScheduledAction[];
  check(run: RunRecord): GoalResult;
}

export interface LessonText {
  title: string;
  /** Paragraphs of explanation. */
  explanation: string[];
  goal: string;
  hint: string;
  solution: string;
}
