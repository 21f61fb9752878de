/**
 * A recorded graph run replayed on the patterns page (issue 11), end to end in Chromium on real sockets: the series'
 * part 1 runs live, its recording is listed in the visitor's history, and its permalink (`?graph=series-1&run=<id>`)
 * opens the replay: the first event shows the graph before anything was sent, stepping and the scrubber show the
 * run's counts at each moment, and its end shows the books the live run ended with. The pipeline page's history
 * links a graph run to the patterns page, and its `?run=<id>` permalink sends a graph run there.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';
import { recordedGraphRun } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

async function countOf(page: Page, node: string, what: 'sent' | 'received'): Promise<number> {
  return Number(await page.locator(`[data-testid="graph-node"][data-node="${node}"]`).getAttribute(`data-${what}`));
}

async function position(page: Page): Promise<number> {
  return Number(await page.getByTestId('graph-replay-position').getAttribute('data-position'));
}

/** Resolves once the replay shows event `n`; fails after 5 s. */
async function atPosition(page: Page, n: number): Promise<void> {
  await page.locator(`[data-testid="graph-replay-position"][data-position="${n}"]`).waitFor({ timeout: 5000 });
}

describe('replaying a recorded graph run', () => {
  it("part 1's run: recorded, listed, opened by its permalink, stepped and scrubbed to the live run's books", async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-1`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 30_000 });

    // The recording, once stored as ended (the writer stores it within a flush or two).
    const recorded = await recordedGraphRun(harness);
    const books = recorded.graphSummary!;
    const nodes = Object.keys(books.nodes);
    expect(nodes.length).toBeGreaterThan(1);

    await page.goto(`${harness.baseUrl}?graph=series-1&run=${recorded.id}`);
    const bar = page.getByTestId('graph-replay');
    await page
      .locator(`[data-testid="graph-replay-position"][data-total="${recorded.eventCount}"]`)
      .waitFor({ timeout: 15_000 });
    // Named in the page's language from the name's parts: the page's title of the pattern and the run's number.
    expect(await bar.getByTestId('graph-replay-name').textContent()).toBe(
      `Part 1: REQ/REP, an adding server #${recorded.defaultName?.n}`,
    );
    // The first event: the graph, nothing sent yet. The live controls are not there.
    expect(await position(page)).toBe(1);
    for (const node of nodes) expect(await countOf(page, node, 'sent')).toBe(0);
    expect(await page.getByTestId('graph-run').count()).toBe(0);
    // Nor the code panel: its addresses would be the newest live run's, not the recorded one's.
    expect(await page.getByTestId('graph-code-panel').count()).toBe(0);
    // The pipeline page's speeds, up to 16×.
    expect(await bar.getByTestId('graph-replay-speed').locator('option').allTextContents()).toContain('16×');
    // ← → step while a replay button has the focus, as on the pipeline page (learner report: after a click on
    // Next they did nothing until the focus was on the body).
    await page.getByTestId('graph-replay-next').click();
    await atPosition(page, 2);
    await page.keyboard.press('ArrowRight');
    await atPosition(page, 3);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await atPosition(page, 1);
    for (const node of nodes) expect(await countOf(page, node, 'sent')).toBe(0);

    // Stepping forward one event at a time, until something was received.
    const next = page.getByTestId('graph-replay-next');
    let received = 0;
    for (let step = 0; step < recorded.eventCount && received === 0; step++) {
      await next.click();
      received = (await Promise.all(nodes.map((node) => countOf(page, node, 'received')))).reduce((a, b) => a + b);
    }
    expect(received).toBe(1);
    const atFirstReceipt = await position(page);

    // The scrubber at the end: the books the live run ended with, per node.
    const scrubber = page.getByTestId('graph-replay-scrubber');
    await scrubber.fill((await scrubber.getAttribute('max')) ?? '0');
    await page
      .locator(`[data-testid="graph-replay-position"][data-position="${recorded.eventCount}"]`)
      .waitFor({ timeout: 5000 });
    for (const node of nodes) {
      expect(await countOf(page, node, 'sent')).toBe(books.nodes[node]!.sent);
      expect(await countOf(page, node, 'received')).toBe(books.nodes[node]!.received);
    }
    await page.getByTestId('graph-summary').waitFor();

    // Back to the start (what happened at t 0 at most), then up to one event before the first receipt: nothing
    // received yet; one more, and the first receipt is back.
    await scrubber.fill('0');
    await page.waitForFunction(
      (limit) =>
        Number(document.querySelector('[data-testid="graph-replay-position"]')?.getAttribute('data-position')) < limit,
      atFirstReceipt,
      { timeout: 5000 },
    );
    while ((await position(page)) < atFirstReceipt - 1) await next.click();
    const sum = async () =>
      (await Promise.all(nodes.map((node) => countOf(page, node, 'received')))).reduce((a, b) => a + b);
    expect(await sum()).toBe(0);
    await next.click();
    expect(await sum()).toBe(1);
    await harness.screenshot(page, 'graph-replay');

    // The pipeline page's history links the graph run to the patterns page.
    await page.goto(harness.baseUrl);
    const link = page.locator(`[data-testid="open-run"][href*="run=${recorded.id}"]`);
    await link.waitFor({ timeout: 15_000 });
    expect(await link.getAttribute('href')).toContain('graph=series-1');
    // A permalink without ?graph= (typed by hand) goes to the patterns page's replay too.
    await page.goto(`${harness.baseUrl}?run=${recorded.id}`);
    await page
      .locator(`[data-testid="graph-replay-position"][data-total="${recorded.eventCount}"]`)
      .waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).searchParams.get('graph')).toBe('series-1');
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  });
});
