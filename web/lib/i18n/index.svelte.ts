/**
 * Interface language: Spanish and English, switchable at any time, remembered in the browser, defaulting to the
 * browser's language.
 */
import { sayError, type WireErrorText } from '../../../shared/protocol/error-text.ts';
import { STORAGE_KEY, initialLang, translate, type Lang, type MessageKey } from './translate.ts';

export { format, initialLang, translate, translatorFor, type Lang, type MessageKey, type Translate } from './translate.ts';

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
  t = (key: MessageKey, params?: Record<string, string | number>): string => translate(this.lang, key, params);
}

/** The one interface language of the page. */
export const locale = new Locale();
export const t = locale.t;

/**
 * What to show for an error: the server's text in the page's language when it sent one this page knows, else
 * its message. Reading it in a template re-renders on a language switch.
 */
export function errorMessage(error: { message: string; text?: WireErrorText }): string {
  return (error.text && sayError(error.text, locale.lang)) || error.message;
}
