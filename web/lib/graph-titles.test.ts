/**
 * A recorded graph run is named in the page's language (learner report: a Spanish page listed "PUB/SUB: a football
 * narrator #1", where the README says runs are named in the page's language): the page's title of its pattern and
 * the run's number; a typed name, a lesson's run and an unknown scenario's keep the stored name.
 */
import { describe, expect, it } from 'vitest';
import { graphPatternTitle, graphRunName } from './graph-titles.ts';
import { translatorFor } from './i18n/translate.ts';

const es = translatorFor('es');
const en = translatorFor('en');
const stored = { name: 'PUB/SUB: a football narrator #1', defaultName: { scenario: 'series-4', n: 1 } };

describe('graph run names', () => {
  it("a run's default name in the page's language", () => {
    expect(graphRunName(stored, es)).toBe('Parte 4: PUB/SUB, un narrador de fútbol #1');
    expect(graphRunName(stored, en)).toBe('Part 4: PUB/SUB, a football narrator #1');
    expect(graphPatternTitle('zguide-weather', es)).toBe('zguide: el tiempo, filtrado por código postal');
  });
  it('a typed name, a lesson run and an unknown scenario keep the stored name', () => {
    expect(graphRunName({ name: 'mine' }, es)).toBe('mine');
    expect(graphRunName({ ...stored, defaultName: { scenario: 'series-4', lesson: 'x', n: 2 } }, es)).toBe(stored.name);
    expect(graphRunName({ ...stored, defaultName: { scenario: 'newer', n: 2 } }, es)).toBe(stored.name);
    expect(graphPatternTitle('pipeline-page', es)).toBeUndefined();
  });
});
