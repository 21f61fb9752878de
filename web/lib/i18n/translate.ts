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
export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A function that gives the string for a key: the page's `t`, or translate bound to one language. */
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** `translate` bound to one language, for pure modules and tests. */
export function translatorFor(lang: Lang): Translate {
  return (key, params) => translate(lang, key, params);
}

export function translate(lang: Lang, key: MessageKey, params?: Record<string, string | number>): string {
  return format(DICTIONARIES[lang][key] ?? EN[key], params);
}

