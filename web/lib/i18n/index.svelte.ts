/**
 * Interface language: Spanish and English, switchable at any time, remembered in the browser, defaulting to the
 * browser's language.
 */
import { sayText, type WireServerText } from '../../../shared/protocol/server-text.ts';
import {
  STORAGE_KEY,
  initialLang,
  translate,
  translatePlural,
  type Lang,
  type MessageKey,
  type Params,
  type PluralBase,
  type Translate,
} from './translate.ts';

export {
  format,
  initialLang,
  translate,
  translatePlural,
  translatorFor,
  type Lang,
  type MessageKey,
  type Params,
  type PluralBase,
  type Translate,
} from './translate.ts';

class Locale {
  lang = $state<Lang>('en');

  constructor() {
    if (typeof window !== 'undefined') {
      let stored: string | null = null;
      try {
        stored = window.localStorage.getItem(STORAGE_KEY);
      } catch {
        // storage may be disabled; the browser's language still applies
      }
      this.lang = initialLang(stored, window.navigator.languages ?? [window.navigator.language]);
      document.documentElement.lang = this.lang;
    }
  }

  set(lang: Lang): void {
    this.lang = lang;
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // not remembered, still switched
    }
    document.documentElement.lang = lang;
  }

  /** The string for `key` in the current language; reading it in a template re-renders on a switch. */
  t: Translate = Object.assign((key: MessageKey, params?: Params): string => translate(this.lang, key, params), {
    /** The counted phrase for n in the current language's plural form (Intl.PluralRules). */
    plural: (base: PluralBase, n: number, params?: Params): string => translatePlural(this.lang, base, n, params),
  });
}

/** The one interface language of the page. */
export const locale = new Locale();
export const t = locale.t;

/**
 * The server's words (an error, a note) in the page's language: its text when it sent one this page knows, else
 * its English message. Reading it in a template re-renders on a language switch.
 */
export function localize(error: { message: string; text?: WireServerText }): string {
  return (error.text && sayText(error.text, locale.lang)) || error.message;
}
