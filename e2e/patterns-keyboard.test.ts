/**
 * Learner report (session 11), end to end in Chromium on real sockets: on both pages Enter on Run gives the focus to
 * Stop and Enter on Stop gives it back to Run (a disabled button dropped it to <body>); a lesson picker button's
 * accessible name holds the number it shows (WCAG 2.5.3); on the patterns page the books tell filtered copies from
 * lost ones ("Sent 40 · delivered 6 · dropped 34" called filtering by design a drop), the live region's last
 * sentence gives the run's final counts and the end in words, and in Spanish the diagram is named by the page's
 * title of the pattern; every link says which end binds. axe finds nothing serious. Screenshots:
 * test-results/patterns-part4-es.png, patterns-broker-links.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitConnected, type Harness } from './harness.ts';
import { seriousViolations } from './axe.ts';
import { graphCount, openGraph, waitGraphCount } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

/** Resolves once the focused element is the one with this test id; fails after 10 s. */
async function focusedOn(page: Page, testId: string): Promise<void> {
  await page.waitForFunction((id) => (document.activeElement as HTMLElement | null)?.dataset['testid'] === id, testId, {
    timeout: 10_000,
  });
}

describe('keyboard and words on the patterns and pipeline pages', () => {
  it('patterns page, part 4: Enter on Run, then on Stop, keeps the focus; the books and the last live sentence', async () => {
    const page = await harness.newPage();
    await openGraph(page, harness.baseUrl, 'series-4');
    await page.getByTestId('graph-run').focus();
    await page.keyboard.press('Enter');
    await focusedOn(page, 'graph-stop');
    await waitGraphCount(page, 'narrator', 'sent', 3);
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    await focusedOn(page, 'graph-run');

    // The books: what the publisher filtered out by design is not "dropped".
    const summary = (await page.getByTestId('graph-summary').textContent()) ?? '';
    expect(summary).toMatch(/^Sent \d+ · (\d+ copies \(a publisher sends one to each subscriber\) · )?delivered \d+/);
    expect(summary).not.toContain('dropped');
    expect(summary).toContain('lost ');

    // The live region's last sentence: the run's end in words and its final counts, not the last interval's.
    const received = (await Promise.all(['fan-1', 'fan-2'].map((node) => graphCount(page, node, 'received')))).reduce(
      (a, b) => a + b,
    );
    const live = page.getByTestId('graph-live');
    await page.waitForFunction(
      () => /was stopped/.test(document.querySelector('[data-testid="graph-live"]')?.textContent ?? ''),
      null,
      { timeout: 10_000 },
    );
    const sentence = (await live.textContent()) ?? '';
    if (received > 0) expect(sentence).toMatch(new RegExp(`In all, ${received} messages? received:`));

    // In Spanish: the diagram's name, the books and the run's state in the page's language.
    await page.getByTestId('lang-es').click();
    await page.waitForFunction(() => document.documentElement.lang === 'es', null, { timeout: 5000 });
    expect(await page.locator('.sr-only', { hasText: 'Diagrama de' }).textContent()).toContain(
      '«Parte 4: PUB/SUB, un narrador de fútbol»',
    );
    expect(await page.getByTestId('graph-summary').textContent()).toMatch(/^Enviados \d+ · .*entregados \d+/);
    await harness.screenshot(page, 'patterns-part4-es');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('lang-en').click(); // the choice is stored: the next test reads English
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  });

  it('patterns page, part 1: Enter on "Load the solution" keeps the focus on it while the graph loads', async () => {
    const page = await harness.newPage();
    await openGraph(page, harness.baseUrl, 'series-1');
    await page.getByTestId('graph-lesson-solution').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('graph-lesson-loaded').waitFor({ timeout: 10_000 });
    await focusedOn(page, 'graph-lesson-solution');
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  });

  it("every link says which end binds, in a narrow gap too (part 5, the zguide's broker)", async () => {
    const page = await harness.newPage();
    for (const scenario of ['series-5', 'zguide-broker']) {
      await openGraph(page, harness.baseUrl, scenario);
      await harness.screenshot(page, `patterns-links-${scenario}`);
      const labels = await page.locator('[data-testid="graph-link"] .link-label').allTextContents();
      expect(labels.length, scenario).toBeGreaterThan(0);
      for (const label of labels) expect(label, scenario).toContain('binds');
    }
    await harness.screenshot(page, 'patterns-broker-links');
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  });

  it('pipeline page: Enter on Run gives the focus to Stop, Enter on Stop back to Run; lesson buttons named by their number', async () => {
    const page = await harness.newPage();
    await page.goto(harness.baseUrl);
    await waitConnected(page);
    const pick = page.locator('[data-testid^="lesson-pick-"]').first();
    const shown = ((await pick.locator('.n').textContent()) ?? '').trim();
    expect(await pick.getAttribute('aria-label')).toMatch(new RegExp(`^Lesson ${shown}: `));

    await page.getByTestId('run').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 10_000 });
    await focusedOn(page, 'stop');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="run-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    await focusedOn(page, 'run');
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  });
});
