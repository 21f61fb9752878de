/**
 * Issue 10, a recorded run's permalink: copied from the history (the row's link or the address bar once it is
 * open), it is `?run=<id>` alone. It used to carry the sender's playground and the `#history` the header link had
 * left, so a tab opened on it joined the sender's playground, painted blank and then landed mid-page, on the charts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('the permalink of a recorded run (issue 10)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'is a clean ?run=<id>, opens at the top of the replay elsewhere, and closing the replay comes back to the live playground',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('interval').fill('0');
      await page.getByTestId('run').click();
      await waitRunEnded(page);
      const runId = (await page.getByTestId('run-id').textContent())?.trim() ?? '';
      const playground = new URL(page.url()).searchParams.get('p');
      expect(playground).toBeTruthy();

      // The header link scrolls to the history and leaves #history in the address.
      await page.getByTestId('history-link').click();
      await page.waitForURL((url) => url.hash === '#history', { timeout: 5000 });
      const row = page.locator(`[data-testid="history-row"][data-run="${runId}"][data-status="ended"]`);
      await row.waitFor({ timeout: 10_000 });
      const expected = `${harness.baseUrl}?run=${runId}`;

      // The row's name is a link to the permalink ("copy link" copies it), and opening it shows the permalink.
      const open = row.getByTestId('open-run');
      expect(await open.evaluate((link) => (link as HTMLAnchorElement).href)).toBe(expected);
      await open.click();
      await page.getByTestId('replay-scrubber').waitFor({ timeout: 10_000 });
      expect(page.url()).toBe(expected);

      // Opened in another tab: the replay, at the top of the page, on a playground of its own.
      const other = await harness.newPage();
      await other.goto(page.url());
      await other.getByTestId('replay-scrubber').waitFor({ timeout: 10_000 });
      await expect.poll(() => other.getByTestId('replay-name').textContent(), { timeout: 5000 }).not.toBe(runId);
      await expect.poll(() => new URL(other.url()).searchParams.get('p'), { timeout: 10_000 }).toBeTruthy();
      expect(new URL(other.url()).searchParams.get('p')).not.toBe(playground);
      expect(await other.evaluate(() => window.scrollY)).toBe(0);
      expect(
        await other.getByTestId('replay').evaluate((stage) => stage.getBoundingClientRect().top < window.innerHeight),
      ).toBe(true);

      // Back to live: the address names the live playground again, with nothing of the replay left.
      await page.getByTestId('replay-close').click();
      await page.getByTestId('run-id').waitFor({ timeout: 5000 });
      expect(page.url()).toBe(`${harness.baseUrl}?p=${playground}`);
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
