/**
 * Issue 10, moving around the page: what a learner sees after leaving a run for a lesson or another scenario.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

/** What the charts show: latency pairs, whether the throughput has a line, the per-worker received bars. */
async function chartsOf(page: Page) {
  return {
    latencyPairs: await page.getByTestId('chart-latency-sent-received').getAttribute('data-count'),
    throughputLines: await page.locator('[data-testid^="chart-rate-"]').count(),
    receivedBars: await page
      .locator('[data-testid^="chart-dist-received-"]')
      .evaluateAll((bars) => bars.map((b) => b.getAttribute('data-value'))),
  };
}

const EMPTY_CHARTS = { latencyPairs: '0', throughputLines: 0 };

/** A small batch on the sandbox, ended, with the charts showing it. */
async function runSmallBatch(page: Page): Promise<void> {
  await page.getByTestId('worker-row-worker-2').waitFor();
  await page.getByTestId('tasks').fill('40');
  await page.getByTestId('interval').fill('10');
  await page.getByTestId('run').click();
  await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 10_000 });
  await waitRunEnded(page);
  await expect
    .poll(() => page.getByTestId('chart-latency-sent-received').getAttribute('data-count'), { timeout: 5000 })
    .toBe('40');
}

describe('after switching playgrounds (issue 10)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ viewport: { width: 1280, height: 1000 } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'the charts forget the last run with the diagram: after picking a lesson, and after switching scenario',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(`${harness.baseUrl}?scenario=pipeline`);
      await waitConnected(page);
      await runSmallBatch(page);
      const sandbox = new URL(page.url()).searchParams.get('p');

      // The first lesson runs on the tutorial: a fresh playground, nothing run yet.
      await page.getByTestId('lesson-pick-tutorial').click();
      await page.waitForURL(
        (url) => url.searchParams.get('lesson') === 'tutorial' && url.searchParams.get('p') !== sandbox,
        { timeout: 10_000 },
      );
      await expect.poll(() => page.getByTestId('run-id').textContent(), { timeout: 10_000 }).toBe('—');
      expect(await numberOf(page, 'sent-count')).toBe(0);
      await expect.poll(() => chartsOf(page), { timeout: 5000 }).toMatchObject(EMPTY_CHARTS);
      expect((await chartsOf(page)).receivedBars.every((value) => value === '0')).toBe(true);

      // Back to a fresh sandbox: run there, then switch scenario to the tutorial.
      await page.getByTestId('lesson-pick-sandbox').click();
      await page.waitForURL((url) => !url.searchParams.has('lesson'), { timeout: 10_000 });
      await waitConnected(page);
      await page.getByTestId('scenario-tutorial').waitFor();
      await runSmallBatch(page);
      await page.getByTestId('scenario-tutorial').click();
      await page.getByTestId('worker-node-worker-tcp').waitFor({ timeout: 10_000 });
      await expect.poll(() => page.getByTestId('run-id').textContent(), { timeout: 10_000 }).toBe('—');
      await expect.poll(() => chartsOf(page), { timeout: 5000 }).toMatchObject(EMPTY_CHARTS);
      expect((await chartsOf(page)).receivedBars.every((value) => value === '0')).toBe(true);
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
