/**
 * What the page's address says about the live playground, and how it changes: `?p=<id>` (the playground),
 * `?scenario=` and `?lesson=` (what to open when there is none), a shared link's `&watch=` or `&invite=` token.
 * Pure (URL in, URL out): the live session reads and writes the address through these.
 */

/** What the address asks for when the page opens. */
export interface BootRequest {
  /** A playground to show (?p=), if any. */
  playground: string | null;
  scenario: string;
  lesson: string | null;
  /** A watch or invite link's token. */
  token: string | null;
}

export function bootRequest(href: string): BootRequest {
  const query = new URL(href).searchParams;
  return {
    playground: query.get('p'),
    scenario: query.get('scenario') ?? 'tutorial',
    lesson: query.get('lesson'),
    token: query.get('invite') ?? query.get('watch'),
  };
}

/** The address without a link's token (once the session has its role, the token leaves the browser's history). */
export function withoutLinkToken(href: string): string {
  const url = new URL(href);
  url.searchParams.delete('watch');
  url.searchParams.delete('invite');
  return url.toString();
}

/** The address of playground `id` (no ?scenario= any more), or null when it is that already. */
export function addressOfPlayground(href: string, id: string): string | null {
  const url = new URL(href);
  if (url.searchParams.get('p') === id && !url.searchParams.has('scenario')) return null;
  url.searchParams.set('p', id);
  url.searchParams.delete('scenario');
  return url.toString();
}

/** The address naming the playground's lesson (so that a link opens it), or null when it does already. */
export function addressOfLesson(href: string, lesson: string | null): string | null {
  const url = new URL(href);
  if (url.searchParams.get('lesson') === lesson) return null;
  if (lesson) url.searchParams.set('lesson', lesson);
  else url.searchParams.delete('lesson');
  return url.toString();
}
