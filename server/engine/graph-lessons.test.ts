/**
 * The series' lessons on the patterns page (shared/lessons/graph-lessons.ts), on real sockets: no lesson's start
 * meets its goal, every solution does, each checked from the events of a real run of the graph engine. Every
 * start and solution is a graph the HTTP API accepts (PUT /api/graphs/:id/graph), and every lesson has its texts
 * in both languages.
 */
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { GRAPH_LESSONS, graphLessonFor } from '../../shared/lessons/graph-lessons.ts';
import { GRAPH_LESSON_TEXT_EN } from '../../shared/lessons/text/graph-en.ts';
import { GRAPH_LESSON_TEXT_ES } from '../../shared/lessons/text/graph-es.ts';
import { SERIES_SCENARIOS } from '../../shared/scenarios/series.ts';
import { checkGraph } from '../../shared/scenarios/graph.ts';
import { GraphSpec } from '../../shared/protocol/index.ts';
import { graphRunHarness } from '../../test/graph-run-harness.ts';

// Each lesson's graph ends by itself: runToEnd gives it 30 s (endTimeoutMs); `until` is not used here.
const runs = graphRunHarness({ ownerPrefix: 'lesson', untilTimeoutMs: 30_000, endTimeoutMs: 30_000 });

afterEach(() => runs.cleanup());

describe('the series lessons', () => {
  it('one lesson per part (1-8), each with valid graphs and texts in English and Spanish', () => {
    expect(GRAPH_LESSONS.map((lesson) => lesson.scenario)).toEqual(SERIES_SCENARIOS.map((scenario) => scenario.id));
    for (const lesson of GRAPH_LESSONS) {
      expect(graphLessonFor(lesson.scenario)).toBe(lesson);
      for (const graph of [lesson.start, lesson.solution]) {
        expect(checkGraph(graph), lesson.id).toEqual([]);
        expect(Value.Check(GraphSpec, JSON.parse(JSON.stringify(graph))), lesson.id).toBe(true);
      }
      const en = GRAPH_LESSON_TEXT_EN[lesson.id];
      const es = GRAPH_LESSON_TEXT_ES[lesson.id];
      for (const text of [en, es]) {
        expect(text, lesson.id).toBeDefined();
        for (const field of [text!.title, text!.goal, text!.hint, text!.solution, ...text!.explanation])
          expect(field.trim().length, lesson.id).toBeGreaterThan(0);
      }
      expect(es!.goal).not.toBe(en!.goal);
    }
  });

  for (const lesson of GRAPH_LESSONS) {
    it(`${lesson.id}: the start does not meet the goal, the solution does`, async () => {
      const start = lesson.check(await runs.runToEnd(lesson.start, { scenario: lesson.scenario }));
      expect(start.met, `start: ${start.detail.en}`).toBe(false);
      const solution = lesson.check(await runs.runToEnd(lesson.solution, { scenario: lesson.scenario }));
      expect(solution.met, `solution: ${solution.detail.en}`).toBe(true);
      expect(solution.detail.es.length).toBeGreaterThan(0);
    });
  }
});
