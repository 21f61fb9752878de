/**
 * Screenshots of the seven lessons for the README: starts the server in-process (e2e/harness.ts), opens each lesson,
 * runs its start state once, waits for the goal to be checked and saves docs/screenshots/lesson-<n>-<id>.png
 * (1280 wide, from the lesson panel to the diagram's legend). Lessons 1 and 3 are shown in Spanish, the others in
 * English.
 *
 *   npx vite build && npx tsx e2e/lesson-screenshots.ts
 *
 * Not a test: it checks nothing beyond the goal being checked, and fails loudly if a wait times out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startHarness } from './harness.ts';

const LESSONS = [
  'tutorial',
  'divide-and-conquer',
  'slow-joiner',
  'fast-and-slow',
  'backpressure',
  'worker-dies',
  'fair-queuing',
];
const SPANISH = new Set(['tutorial', 'slow-joiner']);
const OUT = path.resolve('docs/screenshots');

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const harness = await startHarness({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await harness.newPage();
    for (const [i, id] of LESSONS.entries()) {
      const lang = SPANISH.has(id) ? 'es' : 'en';
      // The interface language is remembered in the browser: set it before the page starts.
      await page.goto(harness.baseUrl);
      await page.evaluate((l) => window.localStorage.setItem('zmq-playground.lang', l), lang);
      await page.goto(`${harness.baseUrl}?lesson=${id}`);
      await page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
      await page.locator(`[data-testid="lesson-panel"][data-lesson="${id}"]`).waitFor({ timeout: 15_000 });
      await page.getByTestId('run').click();
      await page
        .locator('[data-testid="lesson-goal"][data-status="met"], [data-testid="lesson-goal"][data-status="not-met"]')
        .waitFor({ timeout: 60_000 });
      // Let the last dots land and the summary settle.
      await page.waitForTimeout(800);
      // The lesson's text and goal, and the diagram with its accounting: from the lesson panel's top to the
      // diagram's legend (taller than the window: at 800 px the goal was cut off at the top).
      const panel = page.getByTestId('lesson-panel');
      const legend = page
        .getByTestId('diagram')
        .locator('xpath=ancestor::div[contains(@class,"diagram")][1]')
        .locator('ul.legend');
      const top = await panel.evaluate((element) => element.getBoundingClientRect().top + window.scrollY);
      const bottom = await legend.evaluate((element) => element.getBoundingClientRect().bottom + window.scrollY);
      const file = path.join(OUT, `lesson-${i + 1}-${id}.png`);
      await page.screenshot({
        path: file,
        fullPage: true,
        clip: { x: 0, y: Math.max(0, top - 12), width: 1280, height: bottom - top + 22 },
      });
      const status = await page.getByTestId('lesson-goal').getAttribute('data-status');
      console.log(`${file} (${lang}, goal ${status})`);
    }
    if (harness.pageErrors.length > 0) console.error('page errors:', harness.pageErrors);
  } finally {
    await harness.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
