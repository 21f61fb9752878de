/** Text shortened to fit a box of the pipeline diagram (re-exported by web/lib/layout.ts). */

/** Shortens text to at most max characters with an ellipsis in the middle (addresses keep both ends). */
export function ellipsize(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…';
  const head = Math.ceil((max - 1) / 2);
  const tail = Math.floor((max - 1) / 2);
  return `${text.slice(0, head)}…${tail > 0 ? text.slice(-tail) : ''}`;
}

/** Shortens text to at most max characters with a trailing ellipsis (message bodies read from the start). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? '…' : `${text.slice(0, max - 1)}…`;
}
