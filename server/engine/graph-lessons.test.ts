/**
 * The series' lessons on the patterns page (shared/lessons/graph-lessons.ts), on real sockets: no lesson's start
 * meets its goal, every solution does, and so does every start with its hint followed: the hint's steps made with
 * the same edits the server makes for the page's controls (graph-edits.ts: a pace, a subscriber's prefixes, a
 * subscriber or a node added), each checked from the events of a real run of the graph engine. Every start and
 * solution is a graph the HTTP API accepts (PUT /api/graphs/:id/graph), titled apart from the series' original (a
 * run of the original gets no verdict), and every lesson has its texts in both languages, with what the page says
 * above the diagram when its start or its solution is loaded.
 */
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GRAPH_LESSONS,
  graphLessonFor,
  lessonGraphOf,
  lessonRunOf,
  type GraphLesson,
} from '../../shared/lessons/graph-lessons.ts';
import { GRAPH_LESSON_TEXT_EN } from '../../shared/lessons/text/graph-en.ts';
import { GRAPH_LESSON_TEXT_ES } from '../../shared/lessons/text/graph-es.ts';
import { SERIES_SCENARIOS } from '../../shared/scenarios/series.ts';
import { checkGraph } from '../../shared/scenarios/graph.ts';
import { GraphSpec } from '../../shared/protocol/index.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { graphRunHarness } from '../../test/graph-run-harness.ts';
import { withLinkedNode, withPace, withSubscriber, withSubscriptions } from './graph-edits.ts';

/** The lesson's start with its hint followed, step by step, as the page's controls would edit it between runs. */
function hintFollowed(lesson: GraphLesson): GraphSpec {
  let graph = lesson.start;
  for (const step of lesson.hint ?? []) {
    if (step.control === 'pace') graph = withPace(graph, step.node, step.ms);
    else if (step.control === 'subscriptions') graph = withSubscriptions(graph, step.node, step.prefixes);
    else if (step.control === 'subscriber')
      graph = withSubscriber(graph, { id: step.id, publisher: step.publisher, subscribe: step.prefixes }).graph;
    else graph = withLinkedNode(graph, step.request).graph;
  }
  return graph;
}

// Each lesson's graph ends by itself: runToEnd gives it 30 s (endTimeoutMs); `until` is not used here.
const runs = graphRunHarness({ ownerPrefix: 'lesson', untilTimeoutMs: 30_000, endTimeoutMs: 30_000 });

afterEach(() => runs.cleanup());

describe('the series lessons', () => {
  it('one lesson per part (1-8), each with valid graphs and texts in English and Spanish', () => {
    expect(GRAPH_LESSONS.map((lesson) => lesson.scenario)).toEqual(SERIES_SCENARIOS.map((scenario) => scenario.id));
    for (const lesson of GRAPH_LESSONS) {
      expect(graphLessonFor(lesson.scenario)).toBe(lesson);
      const original = SERIES_SCENARIOS.find((scenario) => scenario.id === lesson.scenario)!.graph;
      for (const graph of [lesson.start, lesson.solution, hintFollowed(lesson)]) {
        expect(checkGraph(graph), lesson.id).toEqual([]);
        expect(Value.Check(GraphSpec, JSON.parse(JSON.stringify(graph))), lesson.id).toBe(true);
      }
      // The page tells which graph is loaded by its title: the start, the solution, or neither (the original).
      expect(lessonGraphOf(lesson, lesson.start)).toBe('start');
      expect(lessonGraphOf(lesson, lesson.solution)).toBe('solution');
      expect(lessonGraphOf(lesson, hintFollowed(lesson)), 'the edits keep the title').toBe('start');
      expect(lessonGraphOf(lesson, original), lesson.id).toBeNull();
      const en = GRAPH_LESSON_TEXT_EN[lesson.id];
      const es = GRAPH_LESSON_TEXT_ES[lesson.id];
      for (const text of [en, es]) {
        expect(text, lesson.id).toBeDefined();
        for (const field of [
          text!.title,
          text!.goal,
          text!.hint,
          text!.solution,
          ...text!.explanation,
          text!.described.start,
          text!.described.solution,
        ])
          expect(field.trim().length, lesson.id).toBeGreaterThan(0);
      }
      expect(es!.goal).not.toBe(en!.goal);
    }
  });

  it("a run of the series' original is not the lesson's: the page gives it no verdict", () => {
    for (const lesson of GRAPH_LESSONS) {
      const original = SERIES_SCENARIOS.find((scenario) => scenario.id === lesson.scenario)!.graph;
      const startedWith = (graph: GraphSpec): PlaygroundEvent[] => [
        {
          type: 'graph:started',
          seq: 1,
          run: 'r1',
          t: 0,
          scenario: lesson.scenario,
          graph,
          capabilities: {},
        } as PlaygroundEvent,
      ];
      expect(lessonRunOf(lesson, startedWith(original)), lesson.id).toBeNull();
      expect(lessonRunOf(lesson, startedWith(lesson.start)), lesson.id).toBe('start');
      expect(lessonRunOf(lesson, startedWith(lesson.solution)), lesson.id).toBe('solution');
    }
  });

  for (const lesson of GRAPH_LESSONS) {
    it(`${lesson.id}: the start does not meet the goal, the solution does${lesson.hint ? ', the start with the hint followed does' : ''}`, async () => {
      const start = lesson.check(await runs.runToEnd(lesson.start, { scenario: lesson.scenario }));
      expect(start.met, `start: ${start.detail.en}`).toBe(false);
      const solution = lesson.check(await runs.runToEnd(lesson.solution, { scenario: lesson.scenario }));
      expect(solution.met, `solution: ${solution.detail.en}`).toBe(true);
      expect(solution.detail.es.length).toBeGreaterThan(0);
      if (lesson.hint) {
        const followed = lesson.check(await runs.runToEnd(hintFollowed(lesson), { scenario: lesson.scenario }));
        expect(followed.met, `hint followed: ${followed.detail.en}`).toBe(true);
      }
    });
  }
});
