/**
 * The replay's keys on both pages (learner report: on the patterns page ← → did nothing while Prev or Next had the
 * focus, where the pipeline page steps either way): a button keeps Space, not the arrows; a field keeps its keys;
 * the replay's own scrubber steps.
 */
import { describe, expect, it } from 'vitest';
import { replayKeyAction } from './replay-keys.ts';

const button = { tagName: 'BUTTON' };
describe('replayKeyAction', () => {
  it('steps with the arrows while a replay button has the focus, and on the body', () => {
    expect(replayKeyAction({ key: 'ArrowRight' }, button)).toBe('next');
    expect(replayKeyAction({ key: 'ArrowLeft' }, button)).toBe('previous');
    expect(replayKeyAction({ key: 'ArrowRight' }, { tagName: 'BODY' })).toBe('next');
    expect(replayKeyAction({ key: ' ' }, null)).toBe('toggle');
  });
  it('leaves Space to a focused button, and every key to a field', () => {
    expect(replayKeyAction({ key: ' ' }, button)).toBeNull();
    for (const tagName of ['INPUT', 'SELECT', 'TEXTAREA'])
      expect(replayKeyAction({ key: 'ArrowRight' }, { tagName })).toBeNull();
    expect(replayKeyAction({ key: 'ArrowRight' }, { tagName: 'DIV', isContentEditable: true })).toBeNull();
  });
  it('steps from its own scrubber; not with a modifier or an event already taken', () => {
    expect(replayKeyAction({ key: 'ArrowRight' }, { tagName: 'INPUT', dataset: { timeline: 'scrubber' } })).toBe(
      'next',
    );
    expect(replayKeyAction({ key: 'ArrowRight', altKey: true }, button)).toBeNull();
    expect(replayKeyAction({ key: 'ArrowRight', defaultPrevented: true }, button)).toBeNull();
  });
});
