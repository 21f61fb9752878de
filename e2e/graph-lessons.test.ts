/**
 * The patterns page's lesson and code panels (issue 11), end to end in Chromium on real sockets: part 1's lesson
 * starts from a client that never sends "q" (the goal is not met), its solution meets it; meanwhile the code panel
 * writes the client's Python program with the address this run really bound, and says that a binding node's
 * program runs on a port of its own. axe-core finds no serious or critical violation.
 * Screenshot: test-results/graph-lesson-code.png.
 */
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_DIR, startHarness, type Harness } from './harness.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

describe("the patterns page's lesson and code", () => {
  it("part 1: the start misses the goal, the solution meets it, and the code names the run's real address", async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-1`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    const lesson = page.getByTestId('graph-lesson');
    await lesson.waitFor({ timeout: 10_000 });
    expect(await lesson.getAttribute('data-lesson')).toBe('series-1-sums');
    const goal = page.getByTestId('graph-lesson-goal');

    await page.getByTestId('graph-lesson-start').click();
    await page.getByTestId('graph-lesson-loaded').waitFor({ timeout: 10_000 });
    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-lesson-goal"][data-status="not-met"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('graph-lesson-detail').textContent()).toContain('never got "q"');

    // The code panel: the client's program connects where this run's server bound.
    const code = page.getByTestId('graph-code-text');
    await code.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('graph-code-node').inputValue()).toBe('client');
    expect(await code.textContent()).toMatch(/sock\.connect\("tcp:\/\/127\.0\.0\.1:\d+"\)/);
    await page.getByTestId('graph-code-lang-typescript').click();
    expect(await code.textContent()).toContain('new zmq.Request(');
    await page.getByTestId('graph-code-node').selectOption('server');
    await page.getByTestId('graph-code-standalone').waitFor({ timeout: 5_000 });
    expect(await code.textContent()).toContain('await sock.bind("tcp://127.0.0.1:5555");');

    await page.getByTestId('graph-lesson-solution').click();
    await page.getByTestId('graph-lesson-solution-text').waitFor({ timeout: 10_000 });
    expect(await goal.getAttribute('data-status')).toBe('pending');
    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-lesson-goal"][data-status="met"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('graph-lesson-detail').textContent()).toContain('stopped on "q"');
    // In Spanish: the lesson, its verdict and the program's comments.
    await page.getByRole('button', { name: 'Español' }).click();
    await page.getByRole('heading', { name: 'Lección: Parte 1: un servidor que suma y para con "q"' }).waitFor();
    expect(await page.getByTestId('graph-lesson-detail').textContent()).toContain('paró con "q"');
    expect(await code.textContent()).toContain('Independiente');
    await page.getByRole('button', { name: 'English' }).click();

    await page.mouse.move(1, 1);
    const result = await new AxeBuilder({ page })
      .include('[data-testid="graph-lesson"]')
      .include('[data-testid="graph-code-panel"]')
      .analyze();
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`)).toEqual([]);
    await lesson.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(RESULTS_DIR, 'graph-lesson-code.png'), fullPage: true });
  });
});
