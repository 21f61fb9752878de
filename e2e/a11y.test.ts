/**
 * Issue 10, accessibility, end to end in Chromium, in English and in Spanish: axe-core finds no serious or critical
 * violation on the main page, a lesson, the sandbox mid-run, a replay and the history; the keyboard reaches the
 * playground past the header (skip link), keeps its place after picking a lesson, and steps a replay with ← →
 * while Prev or Next has the focus; the diagram has a text twin and a polite live region that says what happened
 * (names at the tutorial's pace, rates at a batch's, never more than one sentence every ~2 s); the header's live
 * region says a run started and ended, not every send.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

const LANGUAGES = [
  {
    lang: 'en',
    locale: 'en-US',
    received: /worker-(tcp|ipc) received “[^”]+”/,
    rate: /\d+(\.\d)? tasks a second: worker-/,
    runStarted: /^Run run-\S+ started\.$/,
    runEnded: /^Run run-\S+ ended \(stopped\): \d+ messages? sent\.$/,
  },
  {
    lang: 'es',
    locale: 'es-ES',
    received: /worker-(tcp|ipc) recibió «[^»]+»/,
    rate: /\d+(\.\d)? tareas por segundo: worker-/,
    runStarted: /^Empezó la ejecución run-\S+\.$/,
    runEnded: /^Terminó la ejecución run-\S+ \(detenida\)\. Envíos: \d+ mensajes?\.$/,
  },
] as const;

/** The serious and critical violations axe-core finds on the page as it is, in words a failure can show. */
async function violations(page: Page): Promise<string[]> {
  // The pointer rests away from every control: a hover colour is not what a reader sees.
  await page.mouse.move(1, 1);
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')} (${(n.failureSummary ?? '').split('\n')[1]?.trim() ?? ''})`).join('; ')}`,
    );
}

async function waitConnected(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
}

async function runState(page: Page, state: 'running' | 'ended', timeout = 40_000): Promise<void> {
  await page.locator(`[data-testid="run-state"][data-state="${state}"]`).waitFor({ timeout });
}

/** Starts recording, in the page, every text a live region takes (with the time), until stopped. */
async function watchLiveRegions(page: Page): Promise<void> {
  await page.evaluate(() => {
    const said: { region: string; at: number; text: string }[] = [];
    (window as unknown as { __said: typeof said }).__said = said;
    for (const region of ['diagram-live', 'header-live']) {
      const element = document.querySelector(`[data-testid="${region}"]`)!;
      new MutationObserver(() => said.push({ region, at: performance.now(), text: element.textContent ?? '' })).observe(
        element,
        {
          childList: true,
          characterData: true,
          subtree: true,
        },
      );
    }
  });
}

async function saidBy(page: Page, region: 'diagram-live' | 'header-live'): Promise<{ at: number; text: string }[]> {
  const said = await page.evaluate(
    () => (window as unknown as { __said: { region: string; at: number; text: string }[] }).__said,
  );
  // One change of text may come as several mutations (a text node replaced): keep the distinct sentences.
  return said.filter(
    (entry, i) =>
      entry.region === region &&
      entry.text !== '' &&
      said
        .slice(0, i)
        .filter((e) => e.region === region)
        .at(-1)?.text !== entry.text,
  );
}

describe.each(LANGUAGES)(
  'accessibility in $lang (issue 10)',
  ({ lang, locale, received, rate, runStarted, runEnded }) => {
    let harness: Harness;

    beforeAll(async () => {
      harness = await startHarness({ locale, viewport: { width: 1280, height: 900 } });
    });

    afterAll(async () => {
      await harness?.close();
    });

    it(
      'no serious or critical axe violation; keyboard, text twin and live regions work',
      { timeout: 180_000 },
      async () => {
        const page = await harness.newPage();
        await page.goto(harness.baseUrl);
        await waitConnected(page);
        expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);

        // The main page, as it opens.
        expect(await violations(page), 'main page').toEqual([]);

        // A skip link is the first stop of the keyboard and lands on the playground, past the header.
        await page.keyboard.press('Tab');
        expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-link');
        await page.keyboard.press('Enter');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

        // The header's live region is not the bar that counts every send.
        expect(await page.locator('[role="status"] [data-testid="sent-count"]').count()).toBe(0);

        // The tutorial at its own pace (one message a second): the diagram's live region names where each message
        // went; the header says the run started and, once stopped, that it ended, and nothing in between.
        await watchLiveRegions(page);
        await page.getByTestId('interval').fill('1000');
        await page.getByTestId('run').click();
        await expect
          .poll(async () => (await saidBy(page, 'diagram-live')).some((s) => received.test(s.text)), {
            timeout: 15_000,
          })
          .toBe(true);
        await page.getByTestId('stop').click();
        await runState(page, 'ended');
        await expect
          .poll(async () => (await saidBy(page, 'header-live')).map((s) => s.text), { timeout: 5_000 })
          .toEqual([expect.stringMatching(runStarted), expect.stringMatching(runEnded)]);

        // The text twin: every node with its state and counts, reached with the keyboard.
        await page.getByTestId('diagram-twin').locator('summary').focus();
        await page.keyboard.press('Enter');
        const tcpLine = (await page.getByTestId('twin-worker-worker-tcp').textContent()) ?? '';
        expect(tcpLine).toMatch(
          lang === 'en'
            ? /^worker-tcp \(PULL, tcp, in-process\): stopped \(run ended\) · received \d+ messages? · last: /
            : /^worker-tcp \(PULL, tcp, interno\): /,
        );
        expect(await page.getByTestId('twin-endpoint-ipc').textContent()).toContain('ipc://');
        expect(await violations(page), 'tutorial ended, text twin open').toEqual([]);

        // Picking a lesson with the keyboard keeps the focus on something sensible: the lesson's heading.
        await page.getByTestId('lesson-pick-divide-and-conquer').focus();
        await page.keyboard.press('Enter');
        await page
          .locator('[data-testid="lesson-panel"][data-lesson="divide-and-conquer"]')
          .waitFor({ timeout: 15_000 });
        await expect
          .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 5_000 })
          .toBe('lesson-title');
        expect(await violations(page), 'a lesson').toEqual([]);

        // The sandbox mid-run: a batch long enough to be seen running, one worker hung.
        await page.getByTestId('lesson-pick-sandbox').focus();
        await page.keyboard.press('Enter');
        await page.getByTestId('worker-row-worker-2').waitFor({ timeout: 15_000 });
        await expect
          .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 5_000 })
          .toBe('pipeline-title');
        await page.getByTestId('add-worker-mode').selectOption('process');
        await page.getByTestId('add-worker').click();
        await page.getByTestId('worker-row-worker-3').waitFor();
        // 15 s of sending: long enough that the hung worker is still hung after axe's scan on a loaded machine
        // (with 300 tasks the run sometimes ended before Resume could be clicked).
        await page.getByTestId('tasks').fill('1000');
        await page.getByTestId('interval').fill('15');
        await watchLiveRegions(page);
        await page.getByTestId('run').click();
        await runState(page, 'running', 15_000);
        await page.waitForFunction(
          () => Number(document.querySelector('[data-testid="worker-received-worker-3"]')?.textContent) >= 2,
          null,
          { timeout: 30_000 },
        );
        await page.getByTestId('worker-hang-worker-3').click();
        await page.locator('[data-testid="worker-node-worker-3"][data-state="hung"]').waitFor({ timeout: 10_000 });
        expect(await violations(page), 'sandbox mid-run').toEqual([]);
        await page.getByTestId('worker-resume-worker-3').click();
        await runState(page, 'ended', 60_000);
        await expect
          .poll(async () => (await saidBy(page, 'diagram-live')).some((s) => rate.test(s.text)), { timeout: 10_000 })
          .toBe(true);
        const batch = await saidBy(page, 'diagram-live');
        const gaps = batch.slice(1).map((s, i) => s.at - batch[i]!.at);
        // Never more than about one sentence every 2 s (timers fire at or after their time).
        expect(Math.min(...gaps), batch.map((s) => `${Math.round(s.at)} ${s.text}`).join('\n')).toBeGreaterThanOrEqual(
          1900,
        );

        // A replay, from the history; ← → step it while Prev or Next has the focus.
        await page.getByTestId('history-link').click();
        await page.locator('[data-testid="history-row"]').first().getByTestId('open-run').click();
        await page.getByTestId('replay-scrubber').waitFor({ timeout: 15_000 });
        await page.getByTestId('replay-prev').focus();
        const before = await page.getByTestId('replay-current').textContent();
        await page.keyboard.press('ArrowRight');
        await page.keyboard.press('ArrowRight');
        await expect.poll(() => page.getByTestId('replay-current').textContent(), { timeout: 5_000 }).not.toBe(before);
        expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('replay-prev');
        // The visible word is part of the button's name.
        expect(await page.getByTestId('replay-prev').evaluate((button) => button.textContent?.trim())).toMatch(
          lang === 'en' ? /Prev$/ : /Anterior$/,
        );
        expect(await violations(page), 'a replay').toEqual([]);

        // The history, two runs compared.
        await page.getByTestId('replay-close').click();
        await page.getByTestId('history-link').click();
        const rows = page.locator('[data-testid="history-row"]');
        await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
        for (const row of (await rows.all()).slice(0, 2)) await row.locator('input[type="checkbox"]').first().check();
        await page.getByTestId('compare').waitFor({ timeout: 10_000 });
        expect(await violations(page), 'the history').toEqual([]);
        await harness.screenshot(page, `e2e-a11y-history-${lang}`);
        expect(harness.pageErrors).toEqual([]);
      },
    );
  },
);
