/**
 * A learner's report on the pipeline page (session 11), end to end: after the tutorial's run the worker table says
 * what the diagram and the cards say (stopped at its "x", nothing queued), the ventilator's endpoints say closed,
 * the "in-process" badge is not cut off by the transport select; a killed process worker's card says killed the
 * moment the diagram does and after the run, and the replay's timeline marks the kill.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

const WORKERS = ['worker-tcp', 'worker-ipc'] as const;

async function openTopology(page: Page): Promise<void> {
  const panel = page.getByTestId('workers-panel');
  if ((await panel.getAttribute('open')) === null) await panel.locator('summary').click();
  await page.getByTestId('worker-row-worker-tcp').waitFor();
}

/** The table's row, the card and the diagram's box of a worker, read in one go (one moment of the page). */
async function workerShown(page: Page, id: string) {
  return page.evaluate((id) => {
    const q = (s: string) => document.querySelector(`[data-testid="${s}"]`);
    return {
      row: q(`worker-state-${id}`)?.getAttribute('data-state'),
      rowText: q(`worker-state-${id}`)?.textContent?.trim(),
      queue: q(`worker-queue-${id}`)?.textContent?.trim(),
      card: q(`worker-status-${id}`)?.getAttribute('data-status'),
      cardText: q(`worker-status-${id}`)?.textContent?.trim(),
      node: q(`worker-node-${id}`)?.getAttribute('data-state'),
    };
  }, id);
}

describe('the pipeline page after a run and after a kill (learner report, session 11)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'after the tutorial at 100 ms the table agrees with the cards and the endpoints say closed',
    { timeout: 60_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('interval').fill('100');
      await page.getByTestId('run').click();
      await waitRunEnded(page);
      await openTopology(page);

      for (const id of WORKERS) {
        await expect
          .poll(() => workerShown(page, id), { timeout: 10_000 })
          .toMatchObject({
            row: 'stopped',
            rowText: 'got its "x", stopped',
            queue: '0',
            card: 'gotX',
            node: 'stopped',
          });
        // The server counts the "x" received, not done; the cell says so.
        const received = Number(await page.getByTestId(`worker-received-${id}`).textContent());
        expect(Number(await page.getByTestId(`worker-done-${id}`).textContent())).toBe(received - 1);
        expect(await page.getByTestId(`worker-done-${id}`).getAttribute('title')).toContain('"x"');
      }
      // The diagram's text twin (folded away until opened) says the same.
      await page.getByTestId('diagram-twin').locator('summary').click();
      for (const name of ['tcp', 'ipc']) {
        const endpoint = page.getByTestId(`endpoint-${name}`);
        await expect.poll(() => endpoint.getAttribute('data-closed'), { timeout: 10_000 }).toBe('true');
        expect(await endpoint.locator('.sub').textContent()).toContain('closed · the run ended');
        expect(await page.getByTestId(`twin-endpoint-${name}`).textContent()).toContain('closed · the run ended');
      }

      // The mode badge is whole: it ends inside its own cell, not under the transport select.
      const badge = (await page.getByTestId('worker-mode-worker-tcp').boundingBox())!;
      const select = (await page.getByTestId('worker-transport-worker-tcp').boundingBox())!;
      const overlaps =
        badge.x < select.x + select.width &&
        select.x < badge.x + badge.width &&
        badge.y < select.y + select.height &&
        select.y < badge.y + badge.height;
      expect(overlaps).toBe(false);
      await page.getByTestId('workers-panel').scrollIntoViewIfNeeded();
      await harness.screenshot(page, 'e2e-pipeline-ended');
      await page.close();
      expect(harness.pageErrors).toEqual([]);
    },
  );

  it(
    "a killed process worker's card says killed with the diagram, after the run and in its replay",
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await openTopology(page);
      await page.getByTestId('add-worker-mode').selectOption('process');
      await page.getByTestId('add-worker-transport').selectOption('tcp');
      const rows = page.locator('[data-testid^="worker-row-"]');
      const before = await rows.count();
      await page.getByTestId('add-worker').click();
      // The new row comes with the server's answer: wait for it (bounded) before reading the last one.
      await page.locator(`[data-testid^="worker-row-"] >> nth=${before}`).waitFor({ timeout: 10_000 });
      const id = await rows.last().evaluate((row) => row.getAttribute('data-testid')!.replace('worker-row-', ''));
      expect(WORKERS as readonly string[]).not.toContain(id);

      await page.getByTestId('interval').fill('300');
      await page.getByTestId('run').click();
      await page.locator(`[data-testid="worker-kill-${id}"]:not([disabled])`).waitFor({ timeout: 20_000 });
      await page.getByTestId(`worker-kill-${id}`).click();

      // The moment the diagram says killed, the card and the table say it too (one read of the page).
      await page.locator(`[data-testid="worker-node-${id}"][data-state="killed"]`).waitFor({ timeout: 10_000 });
      expect(await workerShown(page, id)).toMatchObject({ row: 'killed', node: 'killed', card: 'killed' });
      await harness.screenshot(page, 'e2e-pipeline-killed');

      await waitRunEnded(page, 40_000);
      expect(await workerShown(page, id)).toMatchObject({ row: 'killed', node: 'killed', card: 'killed' });
      expect((await workerShown(page, id)).cardText).toBe('killed (SIGKILL)');

      // Its replay: a tick on the timeline at the kill, and the card killed from there on.
      const runId = (await page.getByTestId('run-id').textContent())?.trim() ?? '';
      const row = page.locator(`[data-testid="history-row"][data-run="${runId}"][data-status="ended"]`);
      await row.waitFor({ timeout: 15_000 });
      await row.getByTestId('open-run').click();
      await page.getByTestId('replay-scrubber').waitFor({ timeout: 10_000 });
      const kill = page.locator('[data-testid="timeline-mark"][data-type="worker:killed"]');
      await expect.poll(() => kill.count(), { timeout: 10_000 }).toBe(1);
      await page.getByTestId('replay-speed').selectOption('16');
      await page.getByTestId('replay-play').click();
      await page.locator(`[data-testid="worker-node-${id}"][data-state="killed"]`).waitFor({ timeout: 20_000 });
      expect((await workerShown(page, id)).card).toBe('killed');
      await page.getByTestId('timeline').scrollIntoViewIfNeeded();
      await harness.screenshot(page, 'e2e-pipeline-replay-kill');
      await page.close();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
