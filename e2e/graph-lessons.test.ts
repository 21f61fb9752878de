/**
 * The patterns page's lesson and code panels (issue 11), end to end in Chromium on real sockets: part 1's lesson
 * done as its hint says, with the page's own controls. A run of the series' original (what the page opens on) gets
 * no verdict, only the advice to load the start; the description above the diagram says which graph is loaded; the
 * start misses the goal (its server answers at once); the server's work time set in the pace box meets it, and
 * while that run flows the last run's verdict is gone. Meanwhile the code panel writes the client's Python program
 * with the address this run really bound, and says that a binding node's program runs on a port of its own.
 * axe-core finds no serious or critical violation. Screenshot: test-results/graph-lesson-code.png.
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
  it("part 1 as its hint says: no verdict on the original, the start misses, the pace box meets it, no stale verdict, the code names the run's real address", async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-1`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    const lesson = page.getByTestId('graph-lesson');
    await lesson.waitFor({ timeout: 10_000 });
    expect(await lesson.getAttribute('data-lesson')).toBe('series-1-sums');
    const goal = page.getByTestId('graph-lesson-goal');
    const description = page.getByTestId('graph-description');

    // The series' original, as the page opens: its description, and a run of it gets no verdict (it sends "q").
    expect(await description.getAttribute('data-lesson-graph')).toBeNull();
    expect(await description.textContent()).toContain('1000 times');
    await page.getByTestId('graph-run').click();
    await page.getByTestId('graph-lesson-not-lesson').waitFor({ timeout: 60_000 });
    expect(await goal.getAttribute('data-status')).toBe('pending');
    expect(await page.getByTestId('graph-lesson-detail').count()).toBe(0);

    await page.getByTestId('graph-lesson-start').click();
    await page.getByTestId('graph-lesson-loaded').waitFor({ timeout: 10_000 });
    // The description now says what the loaded start does.
    await page.locator('[data-testid="graph-description"][data-lesson-graph="start"]').waitFor({ timeout: 5_000 });
    expect(await description.textContent()).toContain('five sums');
    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-lesson-goal"][data-status="not-met"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('graph-lesson-detail').textContent()).toContain('the quickest after');

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

    // The hint: the server's work time in the pace box (between runs), then Run.
    const serverEdit = page.locator('[data-testid="graph-node-edit"][data-node="server"]');
    await serverEdit.getByTestId('graph-pace-input').fill('250');
    await serverEdit.getByTestId('graph-pace-set').click();
    // Run waits for the pace's answer: the button is disabled while the page waits for the server.
    await page.getByTestId('graph-run').click();
    // While it flows, the last run's "not met" is not shown: the verdict belongs to the run it was made on.
    await page.locator('[data-testid="graph-lesson-goal"][data-status="running"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('graph-lesson-detail').count()).toBe(0);
    await page.locator('[data-testid="graph-lesson-goal"][data-status="met"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('graph-lesson-detail').textContent()).toContain('stopped on "q"');
    expect(await description.getAttribute('data-lesson-graph')).toBe('start');
    // In Spanish: the lesson, its verdict and the program's comments.
    await page.getByRole('button', { name: 'Español' }).click();
    await page.getByRole('heading', { name: 'Lección: Parte 1: el cliente espera cada respuesta' }).waitFor();
    expect(await description.textContent()).toContain('El diagrama muestra el inicio de la lección');
    expect(await page.getByTestId('graph-lesson-detail').textContent()).toContain('paró con "q"');
    expect(await code.textContent()).toContain('Independiente');
    await page.getByRole('button', { name: 'English' }).click();

    // The solution, loaded: the description says so.
    await page.getByTestId('graph-lesson-solution').click();
    await page.getByTestId('graph-lesson-solution-text').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="graph-description"][data-lesson-graph="solution"]').waitFor({ timeout: 5_000 });
    expect(await goal.getAttribute('data-status')).toBe('pending');

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
