/**
 * The event log follows the page's language (issue 8): its lines are kept as message keys and parameters and said
 * when drawn, so lines already in the log are said again in the language the reader switches to (they used to
 * stay in the language they arrived in).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('the event log after a language switch', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('says the lines already listed in the new language, and back', { timeout: 60_000 }, async () => {
    const page = await harness.newPage();
    await page.goto(harness.baseUrl);
    await waitConnected(page);
    if ((await page.getByTestId('lang-en').getAttribute('aria-pressed')) !== 'true')
      await page.getByTestId('lang-en').click();
    await page.getByTestId('interval').fill('0');
    await page.getByTestId('run').click();
    await waitRunEnded(page);

    const started = page.locator('[data-testid="event-log"] tr[data-kind="run:started"] td.text');
    const ended = page.locator('[data-testid="event-log"] tr[data-kind="run:ended"] td.text');
    await expect.poll(() => started.textContent(), { timeout: 5_000 }).toBe('interval 0 ms, built-in workers on');
    await expect.poll(() => ended.textContent(), { timeout: 5_000 }).toMatch(/^completed: \d+ sent$/);

    await page.getByTestId('lang-es').click();
    await expect
      .poll(() => started.textContent(), { timeout: 5_000 })
      .toBe('intervalo 0 ms, workers integrados activados');
    await expect.poll(() => ended.textContent(), { timeout: 5_000 }).toMatch(/^completada; enviados: \d+$/);

    await page.getByTestId('lang-en').click();
    await expect.poll(() => started.textContent(), { timeout: 5_000 }).toBe('interval 0 ms, built-in workers on');
    expect(harness.pageErrors).toEqual([]);
  });
});
