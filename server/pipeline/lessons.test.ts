/**
 * Every lesson, headless on real sockets: its solution meets its goal and its start does not (as
 * learnGitBranching checks every level), and so does its hint, followed as a learner reads it: the change the
 * hint asks for (`hintApplied`, beside the hint) made from the start with the playground's own commands, as the
 * page's controls make it. The goal is checked by the playground itself, from the run's events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LESSONS, type HintChange } from '../../shared/lessons/index.ts';
import { LESSON_TEXT_EN } from '../../shared/lessons/text/en.ts';
import { LESSON_TEXT_ES } from '../../shared/lessons/text/es.ts';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { Playground } from './playground.ts';
import { freePort, runEnded, testPolicy, waitForEvent } from '../../test/helpers.ts';

let policy: ReturnType<typeof testPolicy>;
let playground: Playground | null = null;

beforeEach(() => {
  policy = testPolicy();
});
afterEach(async () => {
  await playground?.close();
  playground = null;
  policy.cleanup();
});

type Checked = Extract<PlaygroundEvent, { type: 'lesson:checked' }>;

/** What a learner does after reading the hint: each change with the command its control sends. */
function followHint(target: Playground, change: HintChange): void {
  if (change.params) target.updateParams(change.params);
  for (const [worker, patch] of Object.entries(change.workers ?? {})) target.updateWorker(worker, patch);
  for (const worker of change.addWorkers ?? []) target.addWorker(worker);
  if (change.sink) target.updateSink(change.sink);
  if (change.options) target.updateOptions(change.options);
}

async function runLesson(lessonId: string, stage: 'start' | 'solution' | 'hint'): Promise<Checked> {
  const lesson = LESSONS.find((candidate) => candidate.id === lessonId)!;
  const endpointOverrides: Record<string, string> =
    lesson.scenario === 'tutorial'
      ? { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` }
      : {};
  await playground?.close();
  playground = new Playground({ scenario: SCENARIOS.get(lesson.scenario)!, policy, endpointOverrides });
  if (stage === 'hint') {
    playground.applyLesson(lessonId, 'start');
    followHint(playground, lesson.hintApplied);
  } else {
    playground.applyLesson(lessonId, stage);
  }
  const run = playground.startRun();
  const checked = waitForEvent(
    playground,
    (e): e is Checked => e.type === 'lesson:checked' && e.run === run.id,
    30_000,
  );
  const ended = await runEnded(playground, run.id, 30_000);
  expect(ended.reason).toBe('completed');
  return checked;
}

/**
 * The tutorial's start is a race ZeroMQ decides, not the lesson: its burst of nine texts goes out within a few
 * milliseconds of binding ipc, and the ipc client, retrying its connect, usually joins after that and gets nothing.
 * On a loaded machine the burst can be held up long enough for the client to join in time and take its "x" (CI saw
 * it once), which meets the goal. So the tutorial's start gets three tries, and one of them must miss; any other
 * lesson's start must miss the first time.
 */
async function startThatMisses(lessonId: string): Promise<Checked> {
  const tries = lessonId === 'tutorial' ? 3 : 1;
  let start = await runLesson(lessonId, 'start');
  for (let attempt = 2; attempt <= tries && start.met; attempt++) start = await runLesson(lessonId, 'start');
  return start;
}

describe('lessons', () => {
  it('have texts in English and Spanish, complete', () => {
    for (const lesson of LESSONS) {
      for (const text of [LESSON_TEXT_EN[lesson.id], LESSON_TEXT_ES[lesson.id]]) {
        expect(text, lesson.id).toBeDefined();
        expect(text!.title.length).toBeGreaterThan(3);
        expect(text!.explanation.length).toBeGreaterThan(0);
        for (const field of [text!.goal, text!.hint, text!.solution]) expect(field.length).toBeGreaterThan(10);
      }
      expect(LESSON_TEXT_ES[lesson.id]!.goal).not.toBe(LESSON_TEXT_EN[lesson.id]!.goal);
    }
  });

  for (const lesson of LESSONS) {
    it(`${lesson.id}: the start does not meet the goal, the solution does`, async () => {
      const start = await startThatMisses(lesson.id);
      expect(start.met, start.detail.en).toBe(false);
      const solution = await runLesson(lesson.id, 'solution');
      expect(solution.met, solution.detail.en).toBe(true);
      expect(solution.detail.es.length).toBeGreaterThan(10);
    }, 60_000);

    it(`${lesson.id}: following the hint from the start meets the goal`, async () => {
      expect(Object.keys(lesson.hintApplied).length, 'a hint asks for some change').toBeGreaterThan(0);
      const followed = await runLesson(lesson.id, 'hint');
      expect(followed.met, `${LESSON_TEXT_EN[lesson.id]!.hint}\n→ ${followed.detail.en}`).toBe(true);
    }, 60_000);
  }

  it('records batch time and worker count for the divide-and-conquer table', async () => {
    const solution = await runLesson('divide-and-conquer', 'solution');
    expect(solution.measurements?.workers).toBe(4);
    // Four workers share about 5 s of work: the batch takes about a quarter of it (1018 ms in the zguide), more on
    // a busy machine, which is slower at the work too. So it is weighed against the work, not a fixed budget.
    const { batchMs, workMs } = solution.measurements!;
    expect(batchMs).toBeGreaterThan(500);
    expect(workMs).toBeGreaterThan(2 * batchMs!);
  });
});

describe('undo', () => {
  it('takes back topology and parameter changes one at a time', () => {
    playground = new Playground({ scenario: SCENARIOS.get('pipeline')!, policy });
    playground.applyLesson('fast-and-slow', 'start');
    const before = playground.info();
    expect(before.undoDepth).toBe(0);
    playground.addWorker({ transport: 'ipc' });
    playground.updateParams({ tasks: 7 });
    playground.updateWorker('worker-1', { transport: 'inproc' });
    expect(playground.info().undoDepth).toBe(3);
    playground.undo();
    expect(playground.info().workers.find((w) => w.id === 'worker-1')!.transport).toBe('tcp');
    playground.undo();
    expect(playground.params.tasks).toBe(40);
    playground.undo();
    expect(playground.info().workers).toEqual(before.workers);
    expect(() => playground!.undo()).toThrow(/Nothing to undo/);
  });
});
