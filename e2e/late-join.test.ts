/**
 * Issue 10.13, end to end: at 100 ms the tutorial splits about 9 / 3, because the ipc worker can only join once
 * the ipc endpoint is bound (after "1", "2", "3") and its handshake is done. True ZeroMQ: the run's summary says
 * so where the split is seen, in the page's language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('the tutorial summary explains a late joiner (issue 10.13)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'says that worker-ipc joined after the first messages, in English and in Spanish',
    { timeout: 60_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('worker-node-worker-tcp').waitFor();
      await page.getByTestId('interval').fill('100');
      await page.getByTestId('run').click();
      await waitRunEnded(page);

      const tcp = await numberOf(page, 'summary-worker-tcp');
      const ipc = await numberOf(page, 'summary-worker-ipc');
      expect(tcp + ipc).toBe(12);
      expect(tcp - ipc).toBeGreaterThan(1); // "1", "2", "3" could only go to the tcp worker
      expect(ipc).toBeGreaterThan(0);
      const explanation = page.getByTestId('summary-late-join');
      await explanation.waitFor({ timeout: 5_000 });
      const english = (await explanation.textContent()) ?? '';
      expect(english).toMatch(
        /^worker-ipc joined late: its handshake came after \d+ messages? had already gone to the others/,
      );
      expect(english).toContain('lesson 1');
      await explanation.scrollIntoViewIfNeeded();
      await harness.screenshot(page, 'e2e-late-join');

      await page.getByTestId('lang-es').click();
      await expect
        .poll(() => explanation.textContent(), { timeout: 5_000 })
        .toMatch(/^worker-ipc se unió tarde: su handshake llegó después de que \d+ mensajes? ya hubiera/);
      await page.getByTestId('lang-en').click();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
