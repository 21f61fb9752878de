/**
 * The server's refusals in both languages: every key has an English and a Spanish template with the same
 * placeholders, texts nest, and a key this build does not know falls back to the English message.
 */
import { describe, expect, it } from 'vitest';
import { TEXT_KEYS, english, sayText, template, text } from './server-text.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('error texts', () => {
  it('has both languages for every key, with the same placeholders', () => {
    expect(TEXT_KEYS.length).toBeGreaterThan(60);
    for (const key of TEXT_KEYS) {
      const en = template(key, 'en');
      const es = template(key, 'es');
      expect(en.length, key).toBeGreaterThan(0);
      expect(es.length, key).toBeGreaterThan(0);
      expect(placeholders(es), key).toEqual(placeholders(en));
    }
    // Spanish, not English copied over (the few that are only a format, like "{where}: {problem}", excepted).
    const same = TEXT_KEYS.filter((key) => template(key, 'en') === template(key, 'es'));
    expect(
      same.every((key) => /^[{}\w:. ]*$/.test(template(key, 'en'))),
      same.join(', '),
    ).toBe(true);
  });

  it('fills parameters, nested texts included', () => {
    const problem = text('validation.max', { field: 'body/params/intervalMs', limit: 10000, got: '99999' });
    const refusal = text('request.invalid', { problem });
    expect(english(refusal)).toBe('Invalid request: body/params/intervalMs must be at most 10000 (got 99999).');
    expect(sayText(refusal, 'es')).toBe(
      'Petición no válida: body/params/intervalMs debe ser como mucho 10000 (se recibió 99999).',
    );
  });

  it('says nothing for a key it does not know (the page then shows the English message)', () => {
    expect(sayText({ key: 'from.a.newer.server' }, 'es')).toBeNull();
    expect(sayText({ key: 'request.invalid', params: { problem: { key: 'unknown.rule' } } }, 'es')).toBeNull();
  });
});
