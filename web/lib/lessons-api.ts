/**
 * The lessons API: the list of lessons with their texts in both languages, putting a playground in a lesson's
 * start or solution, and undo. Failures become ApiError with the server's code and message.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { LessonText } from '../../shared/lessons/types.ts';
import { PlaygroundInfo, type PlaygroundInfo as PlaygroundInfoT } from '../../shared/protocol/index.ts';
import { ApiError, request } from './api.ts';

/** One lesson as GET /api/lessons lists it. */
export interface LessonInfo {
  id: string;
  scenario: 'tutorial' | 'pipeline';
  text: { en: LessonText; es: LessonText };
}

const isPlaygroundInfo = TypeCompiler.Compile(PlaygroundInfo);

function isLessonText(value: unknown): value is LessonText {
  const v = value as Partial<LessonText> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.title === 'string' &&
    Array.isArray(v.explanation) &&
    typeof v.goal === 'string' &&
    typeof v.hint === 'string' &&
    typeof v.solution === 'string'
  );
}

function isLessonInfo(value: unknown): value is LessonInfo {
  const v = value as Partial<LessonInfo> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    (v.scenario === 'tutorial' || v.scenario === 'pipeline') &&
    isLessonText(v.text?.en) &&
    isLessonText(v.text?.es)
  );
}

function playground(value: unknown): PlaygroundInfoT {
  if (!isPlaygroundInfo.Check(value))
    throw new ApiError('PG_ERR_BAD_RESPONSE', 'The server answered with an unexpected playground.');
  return value;
}

/** GET /api/lessons */
export async function listLessons(): Promise<LessonInfo[]> {
  const list = await request('GET', '/api/lessons');
  if (!Array.isArray(list) || !list.every(isLessonInfo)) {
    throw new ApiError('PG_ERR_BAD_RESPONSE', 'The server answered with an unexpected lesson list.');
  }
  return list;
}

/** POST /api/playgrounds/:id/lesson: the lesson's start (reset) or its solution, between runs. */
export async function applyLesson(id: string, lesson: string, stage: 'start' | 'solution'): Promise<PlaygroundInfoT> {
  return playground(await request('POST', `/api/playgrounds/${encodeURIComponent(id)}/lesson`, { lesson, stage }));
}

/** POST /api/playgrounds/:id/undo: takes back the last topology or parameter change. */
export async function undo(id: string): Promise<PlaygroundInfoT> {
  return playground(await request('POST', `/api/playgrounds/${encodeURIComponent(id)}/undo`));
}
