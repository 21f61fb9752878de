/**
 * "1 task lost", "3 tareas perdidas": a count with the words the language's plural rules (Intl.PluralRules) pick
 * for it, never `n === 1`. The lessons' verdicts (pipeline and graph) say their counts with it.
 */
export function counted(lang: 'en' | 'es', n: number, one: string, other: string): string {
  return `${n} ${new Intl.PluralRules(lang).select(n) === 'one' ? one : other}`;
}
