/**
 * The series lessons' texts in the page's language (shared/lessons/text/graph-{en,es}.ts), and what the patterns
 * page says above its diagram when the graph loaded is a lesson's start or solution rather than the series'
 * original (issue 11: the description must describe the graph actually loaded). Which one is loaded is told by the
 * graph's title (lessonGraphOf), which the page's edits keep, so it holds after a reload and after the learner's
 * own changes.
 */
import { graphLessonFor, lessonGraphOf } from '../../shared/lessons/graph-lessons.ts';
import type { GraphLessonText } from '../../shared/lessons/types.ts';
import { GRAPH_LESSON_TEXT_EN } from '../../shared/lessons/text/graph-en.ts';
import { GRAPH_LESSON_TEXT_ES } from '../../shared/lessons/text/graph-es.ts';
import type { GraphSpec } from '../../shared/protocol/index.ts';

export function graphLessonText(lessonId: string, lang: 'en' | 'es'): GraphLessonText | undefined {
  return (lang === 'es' ? GRAPH_LESSON_TEXT_ES : GRAPH_LESSON_TEXT_EN)[lessonId];
}

/** The lesson graph loaded for `scenario` (its start or its solution) and its description, or null (the original). */
export function lessonGraphShown(
  scenario: string,
  graph: Pick<GraphSpec, 'title'> | null | undefined,
  lang: 'en' | 'es',
): { which: 'start' | 'solution'; description: string } | null {
  const lesson = graphLessonFor(scenario);
  const which = lesson ? lessonGraphOf(lesson, graph) : null;
  const text = lesson ? graphLessonText(lesson.id, lang) : undefined;
  if (!which || !text) return null;
  return { which, description: text.described[which] };
}
