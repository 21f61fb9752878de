/**
 * The patterns page's titles of its patterns, in the page's language (the scenarios' own titles are the server's
 * English): the picker's entries, the diagram's label, and the names of recorded graph runs. The server names a
 * run "<title> #n" in English and sends the parts (`defaultName`: scenario, lesson, n), as for the pipeline's runs
 * (run-names.ts); the page says the name with its own title of that scenario.
 */
import type { MessageKey, Translate } from './i18n/translate.ts';
import type { NamedRun } from './run-names.ts';

/** The picker's entry that leaves for the pipeline page. */
export const PIPELINE_PAGE = 'pipeline-page';

/**
 * The picker's entries: the series' eight parts, the zguide's patterns, the pipeline sandbox as a graph, the free
 * sandbox, and the instrumented pipeline playground (a page of its own, not a pattern of this page).
 */
export const GRAPH_PARTS: readonly { id: string; title: MessageKey }[] = [
  { id: 'series-1', title: 'graph.part1' },
  { id: 'series-2', title: 'graph.part2' },
  { id: 'series-3', title: 'graph.part3' },
  { id: 'series-4', title: 'graph.part4' },
  { id: 'series-5', title: 'graph.part5' },
  { id: 'series-6', title: 'graph.part6' },
  { id: 'series-7', title: 'graph.part7' },
  { id: 'series-8', title: 'graph.part8' },
  { id: 'zguide-broker', title: 'graph.zguideBroker' },
  { id: 'zguide-kill', title: 'graph.zguideKill' },
  { id: 'zguide-weather', title: 'graph.zguideWeather' },
  { id: 'pipeline', title: 'graph.pipeline' },
  { id: 'sandbox', title: 'graph.sandbox' },
  { id: PIPELINE_PAGE, title: 'graph.pipelinePage' },
];

/** A pattern's title in the language of `t` (undefined: a scenario this page does not know, a newer server's). */
export function graphPatternTitle(scenario: string, t: Translate): string | undefined {
  const part = scenario === PIPELINE_PAGE ? undefined : GRAPH_PARTS.find((candidate) => candidate.id === scenario);
  return part ? t(part.title) : undefined;
}

/**
 * A recorded graph run's name in the language of `t`: "<the page's title of its pattern> #n". A name someone typed
 * (or an import's) has no parts and stands as it is; so does a lesson's run or an unknown scenario's.
 */
export function graphRunName(run: NamedRun, t: Translate): string {
  const parts = run.defaultName;
  if (!parts || parts.lesson !== undefined) return run.name;
  const title = graphPatternTitle(parts.scenario, t);
  return title === undefined ? run.name : t('runName.numbered', { title, n: parts.n });
}
