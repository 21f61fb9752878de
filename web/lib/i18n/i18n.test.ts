import { describe, expect, it } from 'vitest';
import { EN } from './en.ts';
import { ES } from './es.ts';
import { format, initialLang } from './translate.ts';

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
});
