/**
 * The graph scenarios' Spanish texts (issue 11): every part of the series has its description in Spanish, with as
 * many notes as its English, and a scenario without Spanish is shown in English, marked as such.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIO_TEXTS_ES, scenarioTexts } from './scenario-texts.ts';
import { SERIES_SCENARIOS } from './series.ts';
import { pipelineGraph } from './pipeline-graph.ts';
import { ZGUIDE_SCENARIOS, ZGUIDE_TEXTS_ES } from './zguide.ts';

describe('scenario texts', () => {
  it('gives every part of the series a Spanish description and the same number of notes', () => {
    for (const scenario of SERIES_SCENARIOS) {
      const spanish = SCENARIO_TEXTS_ES[scenario.id];
      expect(spanish, scenario.id).toBeDefined();
      expect(spanish!.description.trim().length, scenario.id).toBeGreaterThan(40);
      expect(spanish!.notes?.length ?? 0, scenario.id).toBe(scenario.notes?.length ?? 0);
      expect(scenarioTexts(scenario, 'es')).toEqual({
        description: spanish!.description,
        notes: spanish!.notes ?? [],
        lang: 'es',
      });
      expect(scenarioTexts(scenario, 'en')).toEqual({
        description: scenario.description,
        notes: scenario.notes ?? [],
        lang: 'en',
      });
    }
  });

  it('gives the pipeline sandbox as a graph its Spanish too', () => {
    const texts = scenarioTexts(pipelineGraph, 'es');
    expect(texts.lang).toBe('es');
    expect(texts.description).toBe(SCENARIO_TEXTS_ES.pipeline!.description);
    expect(texts.notes.length).toBe(pipelineGraph.notes?.length ?? 0);
  });

  it("reads the zguide scenarios' Spanish from next to them", () => {
    for (const scenario of ZGUIDE_SCENARIOS) {
      const texts = scenarioTexts(scenario, 'es');
      expect(texts.lang, scenario.id).toBe('es');
      expect(texts.description).toBe(ZGUIDE_TEXTS_ES[scenario.id]!.description);
    }
  });

  it('shows a scenario with no Spanish in English, and says so', () => {
    const texts = scenarioTexts({ id: 'sandbox', description: 'My own graph.', notes: ['a note'] }, 'es');
    expect(texts).toEqual({ description: 'My own graph.', notes: ['a note'], lang: 'en' });
  });
});
