/**
 * Issue 2, end to end: a new user opens the page, runs the tutorial at 100 ms and sees what real ZeroMQ did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { PlaygroundInfo, RunDetail } from '../shared/protocol/index.ts';
import { TUTORIAL_TEXTS } from '../shared/scenarios/index.ts';
import { numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

const WORKERS = ['worker-tcp', 'worker-ipc'] as const;
/** Everything the tutorial's ventilator sends, in order. */
const SENT = ['1', '2', '3', ...TUTORIAL_TEXTS];

async function listOf(page: Page, worker: string): Promise<string[]> {
  return page.getByTestId(`msg-${worker}`).locator('.body').allTextContents();
}

async function finalState(page: Page) {
  return {
    sent: await numberOf(page, 'sent-count'),
    counts: Object.fromEntries(
      await Promise.all(WORKERS.map(async (w) => [w, await numberOf(page, `count-${w}`)] as const)),
    ),
    lists: Object.fromEntries(await Promise.all(WORKERS.map(async (w) => [w, await listOf(page, w)] as const))),
    stopped: await Promise.all(WORKERS.map((w) => page.getByTestId(`stopped-${w}`).textContent())),
    summary: await page.getByTestId('summary-text').textContent(),
  };
}

describe('the tutorial in the browser (issue 2)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'a new user sets the interval to 100 ms, presses Run and sees both workers share every message exactly once',
    { timeout: 60_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('worker-node-worker-tcp').waitFor();

      await page.getByTestId('interval').fill('100');
      await page.getByTestId('run').click();

      // Both workers receive messages while the run goes on.
      await page.waitForFunction(
        (workers) =>
          workers.every((w) => Number(document.querySelector(`[data-testid="count-${w}"]`)?.textContent) > 0),
        WORKERS,
        { timeout: 20_000 },
      );
      await waitRunEnded(page);
      await harness.screenshot(page, 'e2e-tutorial');

      const state = await finalState(page);
      const tcp = state.lists['worker-tcp']!;
      const ipc = state.lists['worker-ipc']!;
      // ZeroMQ round-robins among connected peers: only the tcp worker is there for "1", "2", "3".
      expect(tcp.slice(0, 3)).toEqual(['1', '2', '3']);
      // Every message appears exactly once across the two lists.
      expect([...tcp, ...ipc].sort()).toEqual([...SENT].sort());
      expect(state.sent).toBe(SENT.length);
      expect(state.counts).toEqual({ 'worker-tcp': tcp.length, 'worker-ipc': ipc.length });
      // Each stopped at its "x".
      expect(tcp.at(-1)).toBe('x');
      expect(ipc.at(-1)).toBe('x');
      for (const badge of state.stopped) expect(badge).toContain('got its x');
      expect(state.summary).toContain('Every message reached exactly one worker.');

      // The page really asked for 100 ms, and the server's record of the run matches what the page shows.
      const playground = new URL(page.url()).searchParams.get('p');
      const runId = (await page.getByTestId('run-id').textContent())?.trim();
      const detail = await harness.api<RunDetail>(`api/playgrounds/${playground}/runs/${runId}`);
      expect(detail.params.intervalMs).toBe(100);
      expect(detail.messages).toEqual(state.lists);

      // A second tab on the same URL shows the same final state.
      const second = await harness.newPage();
      await second.goto(page.url());
      await waitConnected(second);
      await waitRunEnded(second);
      await second.getByTestId('msg-worker-ipc').last().waitFor();
      expect(await finalState(second)).toEqual(state);
      const info = await harness.api<PlaygroundInfo>(`api/playgrounds/${playground}`);
      expect(info.activeRun).toBeNull();
      await second.close();
      await page.close();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
