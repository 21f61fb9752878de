import type { EN } from './en.ts';

/** Textos de la interfaz en español; las mismas claves que en.ts. */
export const ES: Record<keyof typeof EN, string> = {
  'lang.name': 'Español',
  'lang.switch': 'Idioma / Language',
};
