/**
 * Issue 5, end to end: a new user whose browser speaks Spanish sees the interface in Spanish, completes lesson 1
 * (the tutorial, starting as a burst) and lesson 3 (the slow joiner), and finds runnable Python code with the
 * playground's real tcp endpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { PlaygroundInfo } from '../shared/protocol/index.ts';
import { startHarness, type Harness } from './harness.ts';

/** Screenshots of lessons that belong in the README. */
// Screenshots for a person to look at; the README's own come from e2e/lesson-screenshots.ts.
const SCREENSHOTS = path.resolve('test-results');

async function waitConnected(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
}

async function goalStatus(page: Page, status: 'met' | 'not-met', timeout = 40_000): Promise<void> {
  await page.locator(`[data-testid="lesson-goal"][data-status="${status}"]`).waitFor({ timeout });
}

async function playgroundOf(harness: Harness, page: Page): Promise<PlaygroundInfo> {
  const id = new URL(page.url()).searchParams.get('p');
  return await harness.api<PlaygroundInfo>(`api/playgrounds/${id}`);
}

describe('lessons in Spanish (issue 5)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ locale: 'es-ES' });
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('a new Spanish user completes lesson 1 and lesson 3 and reads the real code', { timeout: 120_000 }, async () => {
    const page = await harness.newPage();
    await page.goto(harness.baseUrl);
    await waitConnected(page);

    // The interface speaks Spanish from the start.
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('es');
    await page.getByRole('button', { name: 'Ejecutar' }).waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('connection').textContent()).toBe('conectado');
    expect(await page.getByTestId('lang-es').getAttribute('aria-pressed')).toBe('true');

    // Lesson 1 starts as a burst: the ipc worker gets nothing, the goal is not met.
    await page.getByTestId('lesson-pick-tutorial').click();
    await page.locator('[data-testid="lesson-panel"][data-lesson="tutorial"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('lesson-title').textContent()).toContain('El tutorial');
    expect(new URL(page.url()).searchParams.get('lesson')).toBe('tutorial');
    await expect.poll(() => page.getByTestId('interval').inputValue(), { timeout: 10_000 }).toBe('0');
    await page.getByTestId('run').click();
    await goalStatus(page, 'not-met');
    expect(await page.getByTestId('lesson-goal-status').textContent()).toContain('Todavía no');
    expect(await page.getByTestId('lesson-goal-detail').textContent()).toContain('que recibieron mensajes');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'lesson-1-tutorial.png') });

    // The hint says to give the ipc client time; the learner sets the interval to 100 ms and runs again.
    await page.getByTestId('lesson-hint-toggle').click();
    expect(await page.getByTestId('lesson-hint').textContent()).toContain('Pista');
    await page.getByTestId('interval').fill('100');
    await page.getByTestId('run').click();
    await goalStatus(page, 'met');
    expect(await page.getByTestId('lesson-goal-status').textContent()).toContain('Meta cumplida');
    expect(await page.getByTestId('lesson-pick-tutorial').getAttribute('data-met')).toBe('true');

    // The code panel: Python, with the playground's real tcp endpoint.
    const tutorial = await playgroundOf(harness, page);
    const tcp = tutorial.endpoints.find((e) => e.transport === 'tcp')?.actual;
    expect(tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    await page.getByTestId('code-lang-python').click();
    await page.getByTestId('code-role-worker').click();
    await expect.poll(() => page.getByTestId('code-text').textContent(), { timeout: 5_000 }).toContain(`"${tcp}"`);
    expect(await page.getByTestId('code-text').textContent()).toContain('import zmq');
    expect(await page.getByTestId('code-command').textContent()).toBe('/usr/bin/python3 worker.py');

    // Lesson 3 runs on the pipeline: a new playground, three process workers that join late.
    await page.getByTestId('lesson-pick-slow-joiner').click();
    await page.locator('[data-testid="lesson-panel"][data-lesson="slow-joiner"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => new URL(page.url()).searchParams.get('lesson'), { timeout: 5_000 }).toBe('slow-joiner');
    expect(new URL(page.url()).searchParams.get('p')).not.toBe(tutorial.id);
    const sync = page.getByLabel('Sincronizar el inicio');
    expect(await sync.isChecked()).toBe(false);
    await page.getByTestId('run').click();
    await goalStatus(page, 'not-met', 60_000);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'lesson-3-slow-joiner.png') });

    // The fix: wait for every handshake before the first send.
    await sync.check();
    await expect.poll(async () => (await playgroundOf(harness, page)).params.syncStart, { timeout: 10_000 }).toBe(true);
    await page.getByTestId('run').click();
    await goalStatus(page, 'met', 60_000);
    expect(await page.getByTestId('lesson-goal-detail').textContent()).toContain('Reparto');
    expect(await page.getByTestId('lesson-pick-slow-joiner').getAttribute('data-met')).toBe('true');
    expect(await page.getByTestId('lesson-progress').textContent()).toContain('2 de 7');

    // The charts, when they are on the page, show the run that just ended.
    const charts = page.locator('[data-testid^="chart"]');
    if ((await charts.count()) > 0) expect(((await charts.first().textContent()) ?? '').trim()).not.toBe('');

    // Progress is remembered: a reload keeps both lessons met.
    await page.reload();
    await waitConnected(page);
    await page.locator('[data-testid="lesson-pick-tutorial"][data-met="true"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('lesson-pick-slow-joiner').getAttribute('data-met')).toBe('true');
    await page.close();
    expect(harness.pageErrors).toEqual([]);
  });

  it('explains what the server refuses in Spanish too', { timeout: 60_000 }, async () => {
    const page = await harness.newPage();
    // A permalink to a run that is not (or no longer) recorded: the server's 404, said in Spanish.
    await page.goto(`${harness.baseUrl}?run=run-0000dead`);
    const missing = page.getByTestId('replay-error');
    await missing.waitFor({ timeout: 15_000 });
    expect(await missing.textContent()).toContain('No hay ninguna ejecución grabada "run-0000dead"');
    // Nothing to run again, export or chart: only the way back.
    expect(await page.getByTestId('run-again').count()).toBe(0);
    expect(await page.getByTestId('replay-export-json').count()).toBe(0);

    // A file exported by a newer version of the playground is refused, and the reason is in Spanish.
    await page.getByTestId('replay-close').click();
    await waitConnected(page);
    const newer = path.join(SCREENSHOTS, 'newer-export.json');
    fs.writeFileSync(
      newer,
      JSON.stringify({ format: 'zmq-pipeline-playground/run', version: 99, exportedAt: '', run: {}, events: [] }),
    );
    await page.getByTestId('import-file').setInputFiles(newer);
    const message = page.getByTestId('import-message');
    await message.filter({ hasText: 'versión de formato 99' }).waitFor({ timeout: 10_000 });
    expect(await message.textContent()).toContain('más nueva que la que lee este servidor');
    await page.close();
    expect(harness.pageErrors).toEqual([]);
  });
});
