/**
 * Add a worker to a running pipeline and remove another from the patterns page (issue 11), end to end in Chromium on
 * real sockets, by keyboard: a visitor slows the ventilator of `?graph=pipeline` so that its run lasts, runs it,
 * types a name in the workers card and presses Enter (a name the graph has is refused, the status line says why,
 * then a new one); the new PULL appears on the diagram, the status line (a polite live region) says so and the
 * worker receives tasks. Then worker-2's Remove button takes it off the diagram while
 * the ventilator goes on sending. axe-core finds no serious or critical violation on the page with the new card.
 * Screenshot in test-results/graph-live-nodes.png.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphPlaygroundInfo } from '../shared/protocol/graph-stream.ts';
import { startHarness, type Harness } from './harness.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const nodeOnDiagram = (page: Page, node: string) => page.locator(`[data-testid="graph-node"][data-node="${node}"]`);

const count = async (page: Page, node: string, what: 'sent' | 'received') =>
  Number(await nodeOnDiagram(page, node).getAttribute(`data-${what}`));

/** Waits (bounded) until a node's count on the diagram is above `than`. */
async function countAbove(page: Page, node: string, what: 'sent' | 'received', than: number): Promise<void> {
  await page.waitForFunction(
    ([id, attribute, n]) =>
      Number(
        document.querySelector(`[data-testid="graph-node"][data-node="${id}"]`)?.getAttribute(`data-${attribute}`) ?? 0,
      ) > Number(n),
    [node, what, String(than)] as const,
    { timeout: 30_000 },
  );
}

/** The serious and critical violations axe-core finds, in words a failure can show. */
async function violations(page: Page): Promise<string[]> {
  await page.mouse.move(1, 1);
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
}

describe('add and remove nodes of a running graph from the page', () => {
  it('pipeline: late-worker added by keyboard receives tasks, worker-2 removed leaves the diagram, the run goes on', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=pipeline`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    const status = page.getByTestId('graph-workers-status');
    expect(await status.getAttribute('role')).toBe('status');

    // The ventilator's 100 tasks at 300 ms each: a run of 30 s, long enough for what follows on a loaded machine
    // (set between runs, it is kept for the next run).
    const interval = page.getByRole('spinbutton', { name: /Interval between messages of ventilator/ });
    await interval.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('300');
    await page.keyboard.press('Enter');
    // Between runs no event says it: the server's graph does.
    await expect
      .poll(
        async () => {
          const [playground] = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
          const ventilator = playground?.graph.nodes.find((node) => node.id === 'ventilator');
          return ventilator?.role.kind === 'send' ? ventilator.role.intervalMs : undefined;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(300);
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await countAbove(page, 'ventilator', 'sent', 0);

    // The workers card: the name it suggests is the first free "worker-N"; typed over, sent with Enter.
    const name = page.getByRole('textbox', { name: 'Name of the new worker' });
    expect(await name.inputValue()).toBe('worker-4');
    await page.getByRole('button', { name: 'Add a worker', disabled: false }).waitFor({ timeout: 15_000 });
    // A name the graph has is the server's to refuse; the status line says its reason.
    await name.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('worker-1');
    await page.keyboard.press('Enter');
    await status
      .filter({ hasText: 'This graph already has a node "worker-1"; choose another name.' })
      .waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Add a worker', disabled: false }).waitFor({ timeout: 15_000 });
    await name.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('late-worker');
    await page.keyboard.press('Enter');
    await status.filter({ hasText: 'late-worker connects to ventilator.' }).waitFor({ timeout: 15_000 });
    await nodeOnDiagram(page, 'late-worker').waitFor({ timeout: 15_000 });
    await page
      .locator('[data-testid="graph-link"][data-from="ventilator"][data-to="late-worker"]')
      .waitFor({ timeout: 15_000 });
    // It takes its round-robin share of the tasks sent from now on.
    await countAbove(page, 'late-worker', 'received', 0);

    // worker-2's Remove button in the node list: it leaves the diagram, the others go on.
    await page.getByRole('button', { name: 'Remove the node worker-2 from the graph' }).click();
    await nodeOnDiagram(page, 'worker-2').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');
    const sent = await count(page, 'ventilator', 'sent');
    const late = await count(page, 'late-worker', 'received');
    await countAbove(page, 'ventilator', 'sent', sent + 2);
    await countAbove(page, 'late-worker', 'received', late);
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');

    expect(await violations(page)).toEqual([]);
    await harness.screenshot(page, 'graph-live-nodes');

    // The server's graph says the same: late-worker linked to the ventilator, worker-2 gone.
    const [playground] = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
    const ids = playground!.graph.nodes.map((node) => node.id);
    expect(ids).toContain('late-worker');
    expect(ids).not.toContain('worker-2');

    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    expect(harness.pageErrors).toEqual([]);
  }, 90_000);
});
