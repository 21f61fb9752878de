/**
 * Issue 5, charts, end to end: a small batch on the pipeline sandbox; the distribution chart shows each worker's
 * count equal to the page's own counters, the latency histograms are not empty, and the finished batch shows up
 * as a point of batch time against workers.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_DIR, numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('charts in the browser (issue 5)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ viewport: { width: 1280, height: 1000 } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'a small batch: per-worker bars equal the counters, latency histograms filled, batch point recorded',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('scenario-pipeline').click();
      await page.getByTestId('tasks').waitFor();
      await page.getByTestId('worker-row-worker-2').waitFor();

      await page.getByTestId('tasks').fill('40');
      // 25 ms apart: the run lasts a second, so that a page slowed down by a busy machine still shows it running.
      await page.getByTestId('interval').fill('25');
      await page.getByTestId('run').click();
      await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 10_000 });
      // Live: the bars move while the batch flows.
      await page.waitForFunction(
        () =>
          Number(document.querySelector('[data-testid="chart-dist-received-worker-1"]')?.getAttribute('data-value')) >
          0,
        null,
        {
          timeout: 20_000,
        },
      );
      await waitRunEnded(page);

      const ids = await page
        .locator('[data-testid^="worker-row-"]')
        .evaluateAll((rows) => rows.map((r) => (r.getAttribute('data-testid') ?? '').replace('worker-row-', '')));
      expect(ids.length).toBeGreaterThanOrEqual(2);
      let sum = 0;
      for (const id of ids) {
        for (const kind of ['received', 'done', 'lost'] as const) {
          const counter = await numberOf(page, `worker-${kind}-${id}`);
          await expect
            .poll(() => page.getByTestId(`chart-dist-${kind}-${id}`).getAttribute('data-value'), { timeout: 5000 })
            .toBe(String(counter));
          if (kind === 'received') sum += counter;
        }
      }
      expect(sum).toBe(40);

      // Latency histograms: every task paired (nothing sampled at this rate), medians shown.
      const sentToReceived = page.getByTestId('chart-latency-sent-received');
      const receivedToDone = page.getByTestId('chart-latency-received-done');
      await expect.poll(() => sentToReceived.getAttribute('data-count'), { timeout: 5000 }).toBe('40');
      await expect.poll(() => receivedToDone.getAttribute('data-count'), { timeout: 5000 }).toBe('40');
      expect(Number(await receivedToDone.getAttribute('data-median'))).toBeGreaterThan(0);
      expect(await page.getByTestId('chart-latency-received-done-median').textContent()).toMatch(/median [\d.]+ ms/);
      expect(await page.getByTestId('chart-throughput').getAttribute('data-sampled')).toBe('false');
      expect(await page.getByTestId('chart-rate-sent').getAttribute('points')).toBeTruthy();

      // The recorded run appears as a point of batch time against workers.
      await expect
        .poll(() => page.getByTestId('chart-batch').getAttribute('data-points'), { timeout: 10_000 })
        .toBe('1');

      await page.getByTestId('charts').scrollIntoViewIfNeeded();
      await page.getByTestId('charts').screenshot({ path: path.join(RESULTS_DIR, 'e2e-charts.png') });
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
