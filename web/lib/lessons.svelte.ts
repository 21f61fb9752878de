/**
 * The lessons as the tab sees them: the list (from the server, texts in both languages), the current lesson (the
 * playground's), the last goal check, and what the browser remembers (met lessons, lesson 2's batch times).
 */
import { createContext } from 'svelte';
import { ZGUIDE_BATCH_MS } from '../../shared/lessons/index.ts';
import {
  addBatchTime,
  batchRows,
  loadBatchTimes,
  loadProgress,
  markMet,
  type BatchRow,
  type BatchTime,
  type KeyValueStore,
} from './lesson-progress.ts';
import { locale, t } from './i18n/index.svelte.ts';
import { listLessons, type LessonInfo } from './lessons-api.ts';
import { runDisplayName, type NamedRun } from './run-names.ts';
import type { LessonChecked, PlaygroundSession } from './session.svelte.ts';

export type { LessonInfo } from './lessons-api.ts';

/** The lesson whose goal is batch time by worker count (lesson 2). */
export const BATCH_LESSON = 'divide-and-conquer';

function browserStore(): KeyValueStore | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null;
  }
}

/** Lessons, progress and goal checks for one tab. */
export class LessonController {
  lessons = $state.raw<readonly LessonInfo[]>([]);
  /** Ids of the lessons met in this browser. */
  met = $state.raw<readonly string[]>([]);
  batchTimes = $state.raw<readonly BatchTime[]>([]);
  /** The newest goal check of this playground's lesson. */
  lastCheck = $state.raw<LessonChecked | null>(null);
  /** The lesson whose hint is shown. */
  hintShownFor = $state<string | null>(null);
  /** The lesson whose solution was applied last (the panel says so until the next reset). */
  solutionShownFor = $state<string | null>(null);
  loadFailed = $state(false);

  readonly current = $derived(this.lessons.find((lesson) => lesson.id === this.currentId) ?? null);
  readonly index = $derived(this.lessons.findIndex((lesson) => lesson.id === this.currentId));
  readonly batchRows: BatchRow[] = $derived(batchRows(this.batchTimes, ZGUIDE_BATCH_MS));

  readonly #store = browserStore();
  readonly session: PlaygroundSession;

  /** The playground's lesson (null: the sandbox or a scenario). */
  get currentId(): string | null {
    return this.session.info?.lesson ?? null;
  }

  /** The goal check of the run on screen, if it is about the current lesson. */
  get check(): LessonChecked | null {
    const check = this.lastCheck;
    return check && check.lesson === this.currentId && check.run === this.session.run.runId ? check : null;
  }

  constructor(session: PlaygroundSession) {
    this.session = session;
    this.met = loadProgress(this.#store);
    this.batchTimes = loadBatchTimes(this.#store);
    session.onLessonChecked = (event) => this.#record(event);
  }

  /** Loads the lesson list (idempotent once loaded). */
  async load(): Promise<void> {
    if (this.lessons.length > 0) return;
    try {
      this.lessons = await listLessons();
      this.loadFailed = false;
    } catch {
      this.loadFailed = true;
    }
  }

  /** Opens a lesson (or the sandbox with null). */
  open(id: string | null): Promise<void> {
    this.hintShownFor = null;
    this.solutionShownFor = null;
    if (id === null) return this.session.openSandbox();
    const lesson = this.lessons.find((l) => l.id === id);
    return lesson ? this.session.openLesson(lesson.id, lesson.scenario) : Promise.resolve();
  }

  reset(): Promise<void> {
    const id = this.currentId;
    if (!id) return Promise.resolve();
    this.solutionShownFor = null;
    return this.session.applyLessonStage(id, 'start');
  }

  async showSolution(): Promise<void> {
    const id = this.currentId;
    if (!id) return;
    await this.session.applyLessonStage(id, 'solution');
    if (!this.session.error) this.solutionShownFor = id;
  }

  toggleHint(): void {
    this.hintShownFor = this.hintShownFor === this.currentId ? null : this.currentId;
  }

  isMet(id: string): boolean {
    return this.met.includes(id);
  }

  /** A recorded run's name in the page's language (a lesson run is named after its lesson); reactive. */
  runName(run: NamedRun): string {
    return runDisplayName(run, t, (id) => this.lessons.find((lesson) => lesson.id === id)?.text[locale.lang].title);
  }

  #record(event: LessonChecked): void {
    this.lastCheck = event;
    if (event.met) this.met = markMet(this.#store, this.met, event.lesson);
    const workers = event.measurements?.workers;
    const batchMs = event.measurements?.batchMs;
    if (event.lesson === BATCH_LESSON && workers !== undefined && batchMs !== undefined) {
      this.batchTimes = addBatchTime(this.#store, this.batchTimes, { run: event.run, workers, batchMs });
    }
  }
}

/** getLessons() in components; setLessons() once in App.svelte. */
export const [getLessons, setLessons] = createContext<LessonController>();
