/**
 * The name of a recorded run as the page says it. The server names runs "<title> #n" in English and sends the
 * parts (`defaultName`: scenario, lesson, n); the page puts them together in its own language. A name someone
 * typed (or an import's) has no parts and is shown exactly as it is.
 */
import type { RunDefaultName } from '../../shared/protocol/index.ts';
import type { MessageKey, Translate } from './i18n/translate.ts';

/** Scenario titles in the page's languages; the English ones are the server's (shared/scenarios). */
const SCENARIO_TITLES: Readonly<Record<string, MessageKey>> = {
  tutorial: 'runName.tutorial',
  pipeline: 'runName.pipeline',
};

export interface NamedRun {
  name: string;
  defaultName?: RunDefaultName;
}

/**
 * `run`'s name in the language of `t`. `lessonTitle` gives a lesson's title in that language (undefined while the
 * lessons are not loaded, or for a lesson this page does not know: then the stored English name stands).
 */
export function runDisplayName(run: NamedRun, t: Translate, lessonTitle: (id: string) => string | undefined): string {
  const parts = run.defaultName;
  if (!parts) return run.name;
  const key = SCENARIO_TITLES[parts.scenario];
  const title = parts.lesson !== undefined ? lessonTitle(parts.lesson) : key ? t(key) : undefined;
  return title === undefined ? run.name : t('runName.numbered', { title, n: parts.n });
}
