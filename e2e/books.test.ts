/**
 * Issue 10.2, end to end: three workers "as their own process", the sink on, a batch at interval 0. The page must
 * count every result the sink collected, and say "exactly once" only with the books to back it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('the books of a batch with process workers and a sink (issue 10.2)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'a learner runs 3,000 tasks through three process workers and sees every result collected',
    { timeout: 120_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('scenario-pipeline').click();
      await page.getByTestId('worker-row-worker-2').waitFor();

      // Three workers as their own process on tcp, instead of the sandbox's two in-process ones.
      await page.getByTestId('add-worker-mode').selectOption('process');
      await page.getByTestId('add-worker-transport').selectOption('tcp');
      await page.getByTestId('add-worker-work').fill('0');
      for (const id of ['worker-3', 'worker-4', 'worker-5']) {
        await page.getByTestId('add-worker').click();
        await page.getByTestId(`worker-row-${id}`).waitFor();
      }
      for (const id of ['worker-1', 'worker-2']) {
        await page.getByTestId(`worker-remove-${id}`).click();
        await page.getByTestId(`worker-row-${id}`).waitFor({ state: 'detached' });
      }
      await page.getByTestId('sink-enabled').check();
      await expect.poll(() => page.getByTestId('sink-transport').isEnabled(), { timeout: 10_000 }).toBe(true);
      await page.getByTestId('tasks').fill('3000');
      await page.getByTestId('interval').fill('0');
      await page.getByTestId('run').click();
      await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 10_000 });
      await waitRunEnded(page, 90_000);

      expect(await numberOf(page, 'summary-sent')).toBe(3000);
      expect(await numberOf(page, 'summary-done')).toBe(3000);
      expect(await numberOf(page, 'summary-collected')).toBe(3000);
      expect(await numberOf(page, 'summary-lost')).toBe(0);
      expect(await page.getByTestId('summary-text').textContent()).toContain('exactly once');
      expect(await page.getByTestId('summary-identity').textContent()).toBe('sent 3000 = collected 3000');
      await harness.screenshot(page, 'e2e-books-ended');
      await page.close();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
