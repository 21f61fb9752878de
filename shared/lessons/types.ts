import type {
  NewWorker,
  PlaygroundEvent,
  RunParams,
  RunParamsPatch,
  RunSummary,
  SinkPatch,
  SocketOptionsPatch,
  Transport,
  WorkerMode,
  WorkerPatch,
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

/**
 * The change a learner makes by following a lesson's hint, from the lesson's start, made with the page's own
 * controls (each field is one of the playground's commands). It is data beside the hint so that the tests can
 * follow the hint as a learner reads it and check that it reaches the goal: a hint must lead there by itself.
 */
export interface HintChange {
  params?: RunParamsPatch;
  /** Changes to the start's workers, by id. */
  workers?: Record<string, WorkerPatch>;
  /** Workers added, in this order. */
  addWorkers?: NewWorker[];
  sink?: SinkPatch;
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
 * run's real events, a hint and a solution that the tests run on real sockets (following the hint and loading the
 * solution must each meet the goal, and no start may meet it already). Texts live in ./text/{en,es}.ts, keyed by lesson id.
 */
export interface Lesson {
  id: string;
  scenario: 'tutorial' | 'pipeline';
  start: LessonSetup;
  solution: LessonSetup;
  /** What following the hint (./text/*.ts) changes; the hint's own reading, not a copy of the solution. */
  hintApplied: HintChange;
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

/**
 * A series lesson's texts on the patterns page (shared/lessons/graph-lessons.ts): the lesson's, and what the page
 * says above the diagram when the lesson's start or its solution is loaded there instead of the series' original
 * (the scenario's own description describes the original only).
 */
export interface GraphLessonText extends LessonText {
  described: { start: string; solution: string };
}
