/** English interface strings. Keys are shared with es.ts; add to both. */
export const EN = {
  'lang.name': 'English',
  'lang.switch': 'Idioma / Language',
} as const;
