/**
 * Issue 10, item 11: a message joins its worker's list, and its counter, when its dot lands on the worker, not
 * when the event reaches the page (which is up to a flight plus the drawing's lag earlier).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberOf, startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

const WORKERS = ['worker-tcp', 'worker-ipc'] as const;

/**
 * Installed before the page's scripts: after every DOM change (Svelte applies one frame's updates together), checks
 * each worker panel. A listed message whose dot is still flying to that worker, or a counter that differs from
 * the list, is recorded as a violation. A string, so no bundler helper leaks into the page.
 */
const WATCH_LANDINGS = `(() => {
  window.__landing = { checks: 0, violations: [] };
  const check = () => {
    for (const worker of ${JSON.stringify(WORKERS)}) {
      const panel = document.querySelector('[data-testid="worker-' + worker + '"]');
      if (!panel) continue;
      window.__landing.checks++;
      const listed = [...panel.querySelectorAll('[data-testid="msg-' + worker + '"] .task')].map((task) => task.textContent.replace('#', ''));
      const flying = new Set([...document.querySelectorAll('[data-testid="dot"][data-task][data-worker="' + worker + '"]')].map((dot) => dot.getAttribute('data-task')));
      for (const task of listed) if (flying.has(task)) window.__landing.violations.push(worker + ': task ' + task + ' listed while its dot flies');
      const count = Number(panel.querySelector('[data-testid="count-' + worker + '"]')?.textContent);
      const items = panel.querySelectorAll('[data-testid="msg-' + worker + '"]').length;
      if (count !== items) window.__landing.violations.push(worker + ': counter ' + count + ' with ' + items + ' listed');
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-task'] });
})()`;

describe('messages land with their dots (issue 10)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'in the tutorial at 200 ms, no message is listed or counted while its dot is still flying to the worker',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.addInitScript(WATCH_LANDINGS);
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('worker-node-worker-tcp').waitFor();

      await page.getByTestId('interval').fill('200');
      await page.getByTestId('run').click();
      await waitRunEnded(page);
      // The run ends on the page with its last dot: by then every message is listed and counted.
      expect(await page.locator('[data-testid="dot"][data-task]').count()).toBe(0);
      let listed = 0;
      for (const worker of WORKERS) {
        const count = await numberOf(page, `count-${worker}`);
        expect(await page.getByTestId(`msg-${worker}`).count()).toBe(count);
        listed += count;
      }
      expect(listed).toBe(await numberOf(page, 'sent-count'));

      const landing = (await page.evaluate('window.__landing')) as { checks: number; violations: string[] };
      expect(landing.checks).toBeGreaterThan(0);
      expect([...new Set(landing.violations)].slice(0, 10)).toEqual([]);
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
