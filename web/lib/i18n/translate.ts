/**
 * Pure parts of the interface language (choosing, formatting, looking up); the reactive choice is in
 * index.svelte.ts. Strings live in ./en.ts and ./es.ts under the same keys; a test checks they match.
 */
import { EN } from './en.ts';
import { ES } from './es.ts';

export type Lang = 'en' | 'es';
export type MessageKey = keyof typeof EN;

const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { en: EN, es: ES };
export const STORAGE_KEY = 'zmq-playground.lang';

/** The language to start with: the remembered choice, else the browser's preference, else English. */
export function initialLang(stored: string | null, browserLanguages: readonly string[]): Lang {
  if (stored === 'en' || stored === 'es') return stored;
  for (const language of browserLanguages) {
    const base = language.toLowerCase().split('-')[0];
    if (base === 'es' || base === 'en') return base;
  }
  return 'en';
}

/** Fills {name} placeholders: format('Sent {n}', {n: 3}) -> 'Sent 3'. */
export function format(template: string, params: Params = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export type Params = Record<string, string | number>;

/** Keys that come in plural forms: `${base}.one`, `${base}.other` (and `${base}.many` where a language has it). */
export type PluralBase = { [K in MessageKey]: K extends `${infer Base}.other` ? Base : never }[MessageKey];

/**
 * A function that gives the string for a key: the page's `t`, or translate bound to one language. `plural` picks
 * the form of a counted phrase by the language's own rules (Intl.PluralRules), never by `n === 1`.
 */
export interface Translate {
  (key: MessageKey, params?: Params): string;
  /** `${base}.<category>` for n (its `.other` when the language has no string of its own for that category). */
  plural(base: PluralBase, n: number, params?: Params): string;
}

/** `translate` bound to one language, for pure modules and tests. */
export function translatorFor(lang: Lang): Translate {
  return Object.assign((key: MessageKey, params?: Params) => translate(lang, key, params), {
    plural: (base: PluralBase, n: number, params?: Params) => translatePlural(lang, base, n, params),
  });
}

const pluralRules = new Map<Lang, Intl.PluralRules>();

/** The key of the form the language's plural rules pick for n: "es" says one for 1, many for 1,000,000. */
export function pluralKey(lang: Lang, base: PluralBase, n: number): MessageKey {
  let rules = pluralRules.get(lang);
  if (!rules) {
    rules = new Intl.PluralRules(lang);
    pluralRules.set(lang, rules);
  }
  const key = `${base}.${rules.select(n)}`;
  return key in DICTIONARIES[lang] ? (key as MessageKey) : (`${base}.other` as MessageKey);
}

/** The counted phrase for n; `{n}` is n unless params give it. */
export function translatePlural(lang: Lang, base: PluralBase, n: number, params?: Params): string {
  return translate(lang, pluralKey(lang, base, n), { n, ...params });
}

export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  return format(DICTIONARIES[lang][key] ?? EN[key], params);
}
