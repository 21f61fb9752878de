/**
 * Issue 10.9, end to end in Chromium: at 1024 px the workers' Hang/Kill/Restart/remove buttons are inside the
 * window and inside their table's visible box (they were past both); at 390 px the diagram's text is at least
 * 11 px high (it was 4-10 px: a wide drawing scaled down), and no table scrolls sideways (the code may: its lines
 * are code). Screenshots in test-results/ for a person to look at.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

/** Smallest text the diagram draws, in CSS px as rendered: font size times the drawing's scale. */
async function smallestDiagramText(page: Page): Promise<{ px: number; text: string }> {
  return await page.evaluate(() => {
    let smallest = { px: Infinity, text: '' };
    const svg = document.querySelector<SVGSVGElement>('[data-testid="diagram"]')!;
    const scale = svg.getScreenCTM()!.a;
    for (const text of svg.querySelectorAll('text')) {
      if (!text.textContent?.trim()) continue;
      const px = parseFloat(getComputedStyle(text).fontSize) * scale;
      if (px < smallest.px) smallest = { px, text: text.textContent.trim() };
    }
    for (const label of document.querySelectorAll<HTMLElement>('[data-testid="dots"] .label')) {
      if (!label.textContent?.trim()) continue;
      const px = parseFloat(getComputedStyle(label).fontSize);
      if (px < smallest.px) smallest = { px, text: label.textContent.trim() };
    }
    return smallest;
  });
}

/** Each row action: where it is, against the window and the box its table scrolls in. */
async function actionBoxes(
  page: Page,
): Promise<{ id: string; left: number; right: number; scrollLeft: number; scrollRight: number; window: number }[]> {
  return await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid="workers-panel"] td.actions button')].map((button) => {
      const box = button.getBoundingClientRect();
      const scroller = button.closest('.scroll')!.getBoundingClientRect();
      return {
        id: button.dataset['testid'] ?? '',
        left: box.left,
        right: box.right,
        scrollLeft: scroller.left,
        scrollRight: scroller.right,
        window: document.documentElement.clientWidth,
      };
    }),
  );
}

/** Elements (other than the code) whose content is wider than their box, so they scroll sideways. */
async function sidewaysScrollers(page: Page): Promise<string[]> {
  return await page.evaluate(() => {
    const found: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>('main *')) {
      if (element.closest('[data-testid="code-text"]')) continue;
      if (!/(auto|scroll)/.test(getComputedStyle(element).overflowX)) continue;
      if (element.scrollWidth > element.clientWidth + 1) {
        found.push(
          `${element.closest('[data-testid]')?.getAttribute('data-testid')}: ${element.clientWidth} < ${element.scrollWidth}`,
        );
      }
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth)
      found.push(`page: ${document.documentElement.scrollWidth}`);
    return found;
  });
}

const WIDTHS = [
  { width: 1024, locale: 'es-ES' },
  { width: 390, locale: 'en-US' },
] as const;

describe.each(WIDTHS)('the page at $width px (issue 10.9)', ({ width, locale }) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ locale, viewport: { width, height: 860 } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'keeps the row actions in view, the diagram text at 11 px or more, and tables from scrolling sideways',
    { timeout: 120_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
      await page.getByTestId('scenario-pipeline').click();
      await page.getByTestId('worker-row-worker-2').waitFor({ timeout: 15_000 });
      // A process worker (its Hang, Kill and Restart buttons), a sink, a run slow enough to act on.
      await page.getByTestId('add-worker-mode').selectOption('process');
      await page.getByTestId('add-worker').click();
      await page.getByTestId('worker-row-worker-3').waitFor();
      await page.getByTestId('sink-enabled').check();
      await page.getByTestId('tasks').fill('80');
      await page.getByTestId('interval').fill('60');
      await page.getByTestId('run').click();
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="worker-received-worker-3"]')?.textContent) >= 2,
        null,
        { timeout: 30_000 },
      );
      await page.getByTestId('worker-hang-worker-3').click();
      await page.getByTestId('worker-resume-worker-3').waitFor({ timeout: 10_000 });

      const boxes = await actionBoxes(page);
      expect(boxes.map((b) => b.id)).toEqual(
        expect.arrayContaining([
          'worker-resume-worker-3',
          'worker-kill-worker-3',
          'worker-restart-worker-3',
          'worker-remove-worker-3',
        ]),
      );
      for (const box of boxes) {
        expect(box.left, `${box.id} starts inside the window`).toBeGreaterThanOrEqual(0);
        expect(box.right, `${box.id} ends inside the window (${box.window})`).toBeLessThanOrEqual(box.window);
        expect(box.left, `${box.id} inside its table's visible box`).toBeGreaterThanOrEqual(box.scrollLeft);
        expect(box.right, `${box.id} inside its table's visible box`).toBeLessThanOrEqual(box.scrollRight);
      }

      const smallest = await smallestDiagramText(page);
      expect(smallest.px, `"${smallest.text}" is ${smallest.px.toFixed(1)} px`).toBeGreaterThanOrEqual(11);

      await page.locator('section.pipeline').screenshot({ path: `test-results/e2e-layout-${width}-diagram.png` });
      await page.getByTestId('workers-panel').screenshot({ path: `test-results/e2e-layout-${width}-workers.png` });
      await page.getByTestId('worker-resume-worker-3').click();
      await page.locator('[data-testid="run-state"][data-state="ended"]').waitFor({ timeout: 60_000 });

      if (width < 500) expect(await sidewaysScrollers(page)).toEqual([]);
      await page.screenshot({ path: `test-results/e2e-layout-${width}.png`, fullPage: true });
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
