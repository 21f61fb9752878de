/**
 * Issue 9, presenter mode, in Chromium with two browser profiles: the teacher runs the tutorial, presents, opens the
 * run from the history and moves its playhead to the end; the pupil, who opened the watch link, sees the same run
 * at the same moment (the same counts on its diagram) without touching anything, and is back on the live view
 * when the teacher closes the replay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';
import { openWatchLinkAsNewVisitor } from './visitors.ts';

/** What a replay shows: the run, the playhead and the counts on its diagram. */
async function replayShown(page: Page): Promise<{ run: string | null; time: number; counts: string[] }> {
  const replay = page.getByTestId('replay');
  if ((await replay.count()) === 0) return { run: null, time: -1, counts: [] };
  return {
    run: await replay.getAttribute('data-run'),
    time: Number(await page.getByTestId('timeline').getAttribute('data-time')),
    counts: await page.locator('[data-testid="replay-counts"] strong').allTextContents(),
  };
}

describe('presenter mode (issue 9)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'a watcher follows the teacher into a recorded run, to the same moment, and back to the live view',
    { timeout: 120_000 },
    async () => {
      // The teacher: the tutorial at the burst preset, one run recorded.
      const teacher = await harness.newPage();
      await teacher.goto(harness.baseUrl);
      await waitConnected(teacher);
      await teacher.locator('[data-testid="role"][data-role="owner"]').waitFor({ timeout: 10_000 });
      await teacher.getByTestId('preset-0').click();
      await teacher.getByTestId('run').click();
      await waitRunEnded(teacher);
      const runId = (await teacher.getByTestId('run-id').textContent())?.trim() ?? '';
      expect(runId).not.toBe('');

      // The pupil, another profile (another visitor), opens the watch link: no toggle, nobody presenting yet.
      const pupil = await openWatchLinkAsNewVisitor(harness, teacher);
      expect(await pupil.getByTestId('present-toggle').count()).toBe(0);
      expect(await pupil.getByTestId('presenter-following').count()).toBe(0);

      // The teacher presents: the pupil's page says it follows.
      await teacher.getByTestId('present-toggle').click();
      expect(await teacher.getByTestId('present-toggle').getAttribute('aria-pressed')).toBe('true');
      await pupil.getByTestId('presenter-following').waitFor({ timeout: 10_000 });

      // The teacher opens the run from the history and moves the playhead to its end (End on the timeline).
      const row = teacher.locator(`[data-testid="history-row"][data-run="${runId}"][data-status="ended"]`);
      await row.waitFor({ timeout: 15_000 });
      await row.getByTestId('open-run').click();
      const scrubber = teacher.getByTestId('replay-scrubber');
      await scrubber.waitFor({ timeout: 10_000 });
      await teacher.waitForFunction(() => document.querySelector('[data-testid="replay-loading"]') === null, null, {
        timeout: 10_000,
      });
      await scrubber.focus();
      await scrubber.press('End');
      await expect.poll(async () => (await replayShown(teacher)).time, { timeout: 10_000 }).toBeGreaterThan(0);
      const atTeacher = await replayShown(teacher);
      expect(atTeacher.run).toBe(runId);
      expect(atTeacher.counts.length).toBeGreaterThan(0);
      expect(atTeacher.counts.some((count) => Number(count) > 0)).toBe(true);

      // The pupil shows the same run at the same playhead, with the same counts on its diagram.
      await expect.poll(() => replayShown(pupil), { timeout: 15_000 }).toEqual(atTeacher);
      await harness.screenshot(pupil, 'e2e-presenter-watcher');

      // The teacher closes the replay: the pupil is back on the live view, still following.
      await teacher.getByTestId('replay-close').click();
      await pupil.getByTestId('replay').waitFor({ state: 'detached', timeout: 15_000 });
      // The live view shows "—" until its stream's backlog names the run again (a moment on a loaded machine).
      await expect
        .poll(async () => (await pupil.getByTestId('run-id').textContent())?.trim(), { timeout: 10_000 })
        .toBe(runId);
      expect(await pupil.getByTestId('presenter-following').count()).toBe(1);

      // The teacher stops presenting: the note goes.
      await teacher.getByTestId('present-toggle').click();
      await pupil.getByTestId('presenter-following').waitFor({ state: 'detached', timeout: 10_000 });
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
