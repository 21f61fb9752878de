/**
 * Two recorded graph runs compared on the patterns page (issue 11), end to end in Chromium on real sockets: a
 * visitor runs the series' part 3 (one REQ, three REP servers) twice, finds both runs in the page's recorded runs,
 * ticks them and opens the comparison (`?graph=series-3&compare=<a>,<b>`, its permalink), which shows each server's
 * requests received in both runs, as their books say, in a table (axe finds no serious or critical violation). The pipeline page's history, where graph runs are
 * listed too, links the same two runs to that comparison.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedGraphRunDetail } from '../shared/protocol/index.ts';
import { startHarness, type Harness } from './harness.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const SERVERS = ['server-5000', 'server-6000', 'server-7000'];

/**
 * Runs the pattern on screen once: Run, then the new run in the page's recorded runs, stored as ended (the list is
 * read again when a run ends, and while one is being stored).
 */
async function runOnce(page: Page, before: number): Promise<void> {
  await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
  await page.getByTestId('graph-run').click();
  await page.waitForFunction(
    (count) => document.querySelectorAll('[data-testid="graph-runs-run"][data-status="ended"]').length > count,
    before,
    { timeout: 30_000 },
  );
}

describe('comparing two recorded graph runs', () => {
  it('part 3 run twice: both runs listed, ticked, compared server by server as their books say', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-3`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-runs-none').waitFor({ timeout: 15_000 });
    await runOnce(page, 0);
    await runOnce(page, 1);

    const ended = page.locator('[data-testid="graph-runs-run"][data-status="ended"]');
    expect(await ended.count()).toBe(2);
    const ids = await ended.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run')!));
    // Newest first: the second run, then the first.
    const [second, first] = ids as [string, string];
    expect(await page.getByTestId('graph-runs-compare').count()).toBe(0);
    await ended.nth(0).getByTestId('graph-runs-pick').check();
    await ended.nth(1).getByTestId('graph-runs-pick').check();
    const listAxe = await new AxeBuilder({ page }).include('[data-testid="graph-runs"]').analyze();
    expect(listAxe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.getByTestId('graph-runs-compare').click();

    // The comparison's own address: A the earlier run, B the later.
    await page.getByTestId('graph-compare').waitFor({ timeout: 15_000 });
    const url = new URL(page.url());
    expect(url.searchParams.get('graph')).toBe('series-3');
    expect(url.searchParams.get('compare')).toBe(`${first},${second}`);
    await page.locator('[data-testid="graph-compare-row"]').first().waitFor({ timeout: 15_000 });

    const books = await Promise.all(
      [first, second].map(async (id) => (await harness.api<RecordedGraphRunDetail>(`api/runs/${id}`)).graphSummary!),
    );
    for (const server of SERVERS) {
      const row = page.locator(`[data-testid="graph-compare-row"][data-node="${server}"][data-measure="received"]`);
      expect(await row.getAttribute('data-a')).toBe(String(books[0]!.nodes[server]!.received));
      expect(await row.getAttribute('data-b')).toBe(String(books[1]!.nodes[server]!.received));
      // What a reader sees (and a screen reader reads): the server's name heads its rows, the counts in the cells.
      const cells = await row.locator('td').allTextContents();
      expect(cells.map((cell) => cell.trim()).slice(0, 2)).toEqual([
        String(books[0]!.nodes[server]!.received),
        String(books[1]!.nodes[server]!.received),
      ]);
      await page.getByRole('rowheader', { name: server, exact: true }).waitFor();
    }
    // Part 3 spreads 100 requests over the three servers in both runs.
    for (const book of books) expect(SERVERS.reduce((sum, server) => sum + book.nodes[server]!.received, 0)).toBe(100);
    await harness.screenshot(page, 'graph-compare');
    const axe = await new AxeBuilder({ page }).include('[data-testid="graph-compare"]').analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`)).toEqual([]);

    // The pipeline page's history lists graph runs too: two of them ticked there link to the same comparison.
    await page.goto(harness.baseUrl);
    await page.getByTestId(`compare-${first}`).check({ timeout: 15_000 });
    await page.getByTestId(`compare-${second}`).check({ timeout: 15_000 });
    const link = page.getByTestId('compare-graph');
    expect(new URL((await link.getAttribute('href'))!, harness.baseUrl).searchParams.get('compare')).toBe(
      `${first},${second}`,
    );
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  }, 90_000);
});
