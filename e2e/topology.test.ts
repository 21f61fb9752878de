/**
 * Issue 3, end to end: a new user switches to the pipeline sandbox, changes the topology, kills a process worker
 * while tasks flow, and sees the lost tasks counted apart from those in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../shared/protocol/index.ts';
import { numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('live topology in the browser (issue 3)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'a new user adds a process worker, moves another, kills the process mid-run and sees its tasks lost',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      const tutorialPlayground = new URL(page.url()).searchParams.get('p');

      // Switch to the sandbox: a new playground, and the link follows it.
      await page.getByTestId('scenario-pipeline').click();
      await page.getByTestId('tasks').waitFor();
      await page.getByTestId('worker-row-worker-2').waitFor();
      const playground = new URL(page.url()).searchParams.get('p');
      expect(playground).toBeTruthy();
      expect(playground).not.toBe(tutorialPlayground);
      await expect.poll(() => page.getByTestId('scenario-pipeline').getAttribute('aria-pressed')).toBe('true');

      // Add a slow worker that runs as its own process, on tcp.
      await page.getByTestId('add-worker-mode').selectOption('process');
      await page.getByTestId('add-worker-transport').selectOption('tcp');
      await page.getByTestId('add-worker-work').fill('400');
      await page.getByTestId('add-worker').click();
      await page.getByTestId('worker-row-worker-3').waitFor();
      expect(await page.getByTestId('worker-mode-worker-3').textContent()).toBe('process');
      expect(await page.getByTestId('worker-work-worker-3').inputValue()).toBe('400');

      // Move worker-1 from tcp to ipc; the diagram draws its link from the ipc port.
      await page.getByTestId('worker-transport-worker-1').selectOption('ipc');
      await page.locator('[data-testid="link-worker-1"][data-transport="ipc"]').waitFor();

      // Slow worker-2 down too, then a slow batch: 60 tasks, one every 50 ms.
      await page.getByTestId('worker-work-worker-2').fill('20-40');
      await page.getByTestId('worker-work-worker-2').press('Enter');
      await page.getByTestId('tasks').fill('60');
      await page.getByTestId('interval').fill('50');
      await page.getByTestId('run').click();
      await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 10_000 });

      // Once the process worker has taken a few tasks (it is busy on one, with more queued for it), kill it.
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="worker-received-worker-3"]')?.textContent) >= 2,
        null,
        {
          timeout: 30_000,
        },
      );
      expect(await page.getByTestId('worker-pid-worker-3').textContent()).toMatch(/^pid \d+$/);
      await page.getByTestId('worker-kill-worker-3').click();

      // The diagram shows it killed: red link with a cross, red node; the table says so too.
      await page.locator('[data-testid="link-worker-3"][data-state="killed"]').waitFor({ timeout: 10_000 });
      await page.getByTestId('killed-worker-3').waitFor();
      await page.locator('[data-testid="worker-node-worker-3"][data-state="killed"]').waitFor();
      await page.locator('[data-testid="worker-state-worker-3"][data-state="killed"]').waitFor();

      // Lost tasks are counted, in their own figure next to the ones in flight.
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="acct-lost"]')?.textContent) > 0,
        null,
        { timeout: 30_000 },
      );
      await harness.screenshot(page, 'e2e-topology-killed');
      await waitRunEnded(page, 40_000);
      await harness.screenshot(page, 'e2e-topology-ended');

      const sent = await numberOf(page, 'acct-sent');
      const done = await numberOf(page, 'acct-done');
      const lost = await numberOf(page, 'acct-lost');
      expect(sent).toBe(60);
      expect(lost).toBeGreaterThan(0);
      expect(done + lost).toBe(sent);
      expect(await numberOf(page, 'acct-inflight')).toBe(0);
      expect(await numberOf(page, 'worker-lost-worker-3')).toBeGreaterThan(0);
      expect(await numberOf(page, 'summary-lost')).toBe(lost);
      expect(await page.getByTestId('summary-text').textContent()).toContain('lost');

      // The page agrees with the server's record of the run.
      const runId = (await page.getByTestId('run-id').textContent())?.trim();
      const detail = await harness.api<RunDetail>(`api/playgrounds/${playground}/runs/${runId}`);
      expect(detail.summary.lost).toBe(lost);
      expect(Object.values(detail.summary.done).reduce((a, b) => a + b, 0)).toBe(done);
      expect(detail.workers.find((w) => w.id === 'worker-1')?.transport).toBe('ipc');
      expect(detail.workers.find((w) => w.id === 'worker-3')?.state).toBe('killed');
      await page.close();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
