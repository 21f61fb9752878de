/**
 * The replay's keys, the same on both pages (the pipeline's Timeline.svelte, the patterns page's
 * GraphReplayBar.svelte): Space plays and pauses, ← → step one event, "wherever the focus is but in a field"
 * (README). A button takes Space (pressing it) but not the arrows, so ← → still step while Prev or Next has the
 * focus; a field (input, select, textarea, editable text) keeps its keys, except the replay's own scrubber.
 * Pure: the components pass the key and what had the focus.
 */

export type ReplayKeyAction = 'toggle' | 'next' | 'previous';

/** What the handler needs of a keydown event. */
export interface ReplayKey {
  key: string;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  defaultPrevented?: boolean;
}

/** What the handler needs of the element that had the focus (null: none, or not an element). */
export interface ReplayKeyTarget {
  tagName: string;
  isContentEditable?: boolean;
  /** `data-timeline="scrubber"`: the replay's own slider, whose arrows step the replay too. */
  dataset?: Readonly<Record<string, string | undefined>>;
}

/** Whether the focused element wants the key itself: a field for typing, a list for its arrows. */
function wantsKey(target: ReplayKeyTarget | null, key: string): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  if (target.dataset?.['timeline'] === 'scrubber') return false;
  if (target.tagName === 'BUTTON') return key === ' ';
  return ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** What a key does to the replay (null: nothing, leave it to the page). */
export function replayKeyAction(event: ReplayKey, target: ReplayKeyTarget | null): ReplayKeyAction | null {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || wantsKey(target, event.key))
    return null;
  if (event.key === ' ') return 'toggle';
  if (event.key === 'ArrowRight') return 'next';
  if (event.key === 'ArrowLeft') return 'previous';
  return null;
}
