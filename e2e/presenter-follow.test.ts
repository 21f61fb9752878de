/**
 * Issue 9, presenter mode, what the class follows besides replays (Chromium, two profiles): a teacher who reloads
 * the page is still presenting (the toggle says so), and a lesson the teacher opens is the lesson the pupils see,
 * in the same playground (the tutorial's own lesson) or in the new playground a lesson of another scenario opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, waitConnected, type Harness } from './harness.ts';
import { openWatchLinkAsNewVisitor } from './visitors.ts';

describe('presenter mode: reload and lessons (issue 9)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  const lessonShown = (page: Page) => page.locator('[data-testid="lesson-panel"]').getAttribute('data-lesson');

  it(
    'the teacher reloads and is still presenting; the pupils see each lesson the teacher opens',
    { timeout: 120_000 },
    async () => {
      const teacher = await harness.newPage();
      await teacher.goto(harness.baseUrl);
      await waitConnected(teacher);
      await teacher.locator('[data-testid="role"][data-role="owner"]').waitFor({ timeout: 10_000 });
      const pupil = await openWatchLinkAsNewVisitor(harness, teacher);

      await teacher.getByTestId('present-toggle').click();
      await pupil.getByTestId('presenter-following').waitFor({ timeout: 10_000 });

      // A reload: the page comes back presenting, and the pupil still follows.
      await teacher.reload();
      await waitConnected(teacher);
      await expect
        .poll(() => teacher.getByTestId('present-toggle').getAttribute('aria-pressed'), { timeout: 10_000 })
        .toBe('true');
      expect(await pupil.getByTestId('presenter-following').count()).toBe(1);

      // The tutorial's lesson, in the same playground: the pupil's page shows its panel.
      await teacher.getByTestId('lesson-pick-tutorial').click();
      await teacher.locator('[data-testid="lesson-panel"][data-lesson="tutorial"]').waitFor({ timeout: 10_000 });
      await expect.poll(() => lessonShown(pupil), { timeout: 15_000 }).toBe('tutorial');

      // A lesson of the pipeline: the teacher's page moves to a new playground, and the class moves with it.
      await teacher.getByTestId('lesson-pick-slow-joiner').click();
      await teacher.locator('[data-testid="lesson-panel"][data-lesson="slow-joiner"]').waitFor({ timeout: 15_000 });
      await expect.poll(() => lessonShown(pupil), { timeout: 20_000 }).toBe('slow-joiner');
      await pupil.locator('[data-testid="role"][data-role="watcher"]').waitFor({ timeout: 10_000 });
      await pupil.getByTestId('presenter-following').waitFor({ timeout: 10_000 });
      expect(await teacher.getByTestId('present-toggle').getAttribute('aria-pressed')).toBe('true');
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
