import { describe, expect, it } from 'vitest';
import { EN } from './en.ts';
import { ES } from './es.ts';
import { format, initialLang, pluralKey, translatePlural, translatorFor } from './translate.ts';

describe('interface languages', () => {
  it('has every English key in Spanish, with the same placeholders, and no empty string', () => {
    expect(Object.keys(ES).sort()).toEqual(Object.keys(EN).sort());
    for (const key of Object.keys(EN) as (keyof typeof EN)[]) {
      const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(placeholders(ES[key]), key).toEqual(placeholders(EN[key]));
      expect(ES[key].trim().length, key).toBeGreaterThan(0);
    }
  });

  it('starts from the remembered choice, else the browser, else English', () => {
    expect(initialLang('es', ['en-US'])).toBe('es');
    expect(initialLang(null, ['es-AR', 'en'])).toBe('es');
    expect(initialLang(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(initialLang('de', ['de-DE'])).toBe('en');
  });

  it('fills placeholders', () => {
    expect(format('{n} of {total}', { n: 3, total: 12 })).toBe('3 of 12');
    expect(format('keep {missing}', {})).toBe('keep {missing}');
  });

  it("counts by each language's plural rules (Intl.PluralRules), not by n === 1", () => {
    const en = translatorFor('en');
    const es = translatorFor('es');
    expect(pluralKey('en', 'count.task', 1)).toBe('count.task.one');
    expect(pluralKey('en', 'count.task', 0)).toBe('count.task.other');
    expect(pluralKey('es', 'count.task', 1)).toBe('count.task.one');
    // Spanish has a "many" form (1,000,000 de tareas); with no string of its own it takes "other".
    expect(pluralKey('es', 'count.task', 1_000_000)).toBe('count.task.other');
    expect(es.plural('count.lost', 1)).toBe('1 perdida');
    expect(es.plural('count.lost', 2)).toBe('2 perdidas');
    expect(es.plural('count.lost', 0)).toBe('0 perdidas');
    expect(en.plural('count.task', 1)).toBe('1 task');
    expect(en.plural('count.task', 1.5)).toBe('1.5 tasks');
    expect(es.plural('vent.peers', 1, { peers: es.plural('count.worker', 1) })).toBe('asociado · 1 worker conectado');
    expect(es.plural('vent.peers', 2, { peers: '1 worker + 1 externo' })).toBe(
      'asociado · 1 worker + 1 externo conectados',
    );
    expect(en.plural('log.lost', 1, { who: 'worker-2' })).toBe('1 task lost with worker-2');
    expect(en.plural('log.lost', 3, { who: 'worker-2' })).toBe('3 tasks lost with worker-2');
    expect(es.plural('history.total', 1)).toBe('1 grabada');
    expect(translatePlural('es', 'status.badFrames', 1)).toBe('1 trama errónea descartada');
  });

  it('gives every counted phrase its "other" form in both languages', () => {
    for (const dictionary of [EN, ES] as Record<string, string>[]) {
      for (const key of Object.keys(dictionary)) {
        const form = /^(.*)\.(one|two|few|many)$/.exec(key);
        if (form) expect(dictionary[`${form[1]}.other`], key).toBeDefined();
      }
    }
  });
});
