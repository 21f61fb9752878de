import { describe, expect, it } from 'vitest';
import { translatorFor } from './i18n/translate.ts';
import { runDisplayName } from './run-names.ts';

const titles: Record<string, Record<string, string>> = {
  en: { 'worker-dies': '6. A worker dies' },
  es: { 'worker-dies': '6. Muere un worker' },
};
const lessonTitle = (lang: 'en' | 'es') => (id: string) => titles[lang]![id];

describe("recorded run names in the page's language (issue 10.10)", () => {
  it("says the server's own name in Spanish, a lesson run after its lesson, and a typed name as typed", () => {
    const es = translatorFor('es');
    const en = translatorFor('en');
    const sandbox = {
      name: 'Ventilator, workers and sink (sandbox) #22',
      defaultName: { scenario: 'pipeline', n: 22 },
    };
    expect(runDisplayName(sandbox, es, lessonTitle('es'))).toBe('Ventilador, workers y sink (sandbox) #22');
    expect(runDisplayName(sandbox, en, lessonTitle('en'))).toBe(sandbox.name);

    const lessonRun = {
      name: '6. A worker dies #3',
      defaultName: { scenario: 'pipeline', lesson: 'worker-dies', n: 3 },
    };
    expect(runDisplayName(lessonRun, es, lessonTitle('es'))).toBe('6. Muere un worker #3');
    // Lessons not loaded yet (or unknown to this page): the stored English name stands.
    expect(runDisplayName(lessonRun, es, () => undefined)).toBe('6. A worker dies #3');

    expect(runDisplayName({ name: 'Mi prueba' }, en, lessonTitle('en'))).toBe('Mi prueba');
    expect(
      runDisplayName({ name: 'Other #1', defaultName: { scenario: 'unknown', n: 1 } }, es, lessonTitle('es')),
    ).toBe('Other #1');
  });
});
