/**
 * The tutorial and the pipeline sandbox on the patterns page (issue 11), end to end in Chromium on real sockets:
 * the picker offers the series' part 7 (`?graph=series-7`), the sandbox as a graph (`?graph=pipeline`) and the
 * instrumented pipeline playground (a page of its own); each of the two patterns links to its twin on the
 * pipeline page. Part 7 runs: "1", "2", "3" reach the tcp client, the only peer until the server binds ipc. The
 * sandbox runs to its end: its sink collects all 100 results.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_TASKS } from '../shared/scenarios/pipeline-graph.ts';
import { startHarness, type Harness } from './harness.ts';
import { graphCount, openGraph, waitGraphCount } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const open = (page: Page, scenario: string) => openGraph(page, harness.baseUrl, scenario);

describe('the tutorial and the pipeline sandbox on the patterns page', () => {
  it('part 7 runs on the graph engine: 1, 2, 3 reach the tcp client; the page links to the pipeline playground', async () => {
    const page = await harness.newPage();
    await open(page, 'series-7');
    expect(await page.getByTestId('graph-picker').inputValue()).toBe('series-7');
    const twin = page.getByTestId('graph-pipeline-twin').locator('a');
    expect(await twin.getAttribute('href')).toBe('./?scenario=tutorial');
    for (const node of ['server', 'client-tcp', 'client-ipc'])
      await page.locator(`[data-testid="graph-node"][data-node="${node}"]`).waitFor();

    await page.getByTestId('graph-run').click();
    // One message a second, as the tutorial. "1" to "3" go out over tcp alone, and ipc is bound only just before
    // the fourth: the tcp client gets four before the ipc client can get one, then they alternate at best. So at
    // any moment the ipc client has at most the tcp client's count less 3 (read first: counts only grow).
    await waitGraphCount(page, 'client-tcp', 'received', 3, 30_000);
    const ipc = await graphCount(page, 'client-ipc', 'received');
    expect(ipc).toBeLessThanOrEqual((await graphCount(page, 'client-tcp', 'received')) - 3);
    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    expect(harness.pageErrors).toEqual([]);
  }, 60_000);

  it('the pipeline sandbox runs to its end on the graph engine, and the picker still leads to the pipeline page', async () => {
    const page = await harness.newPage();
    await open(page, 'pipeline');
    expect(await page.getByTestId('graph-pipeline-twin').locator('a').getAttribute('href')).toBe(
      './?scenario=pipeline',
    );
    await page.getByTestId('graph-run').click();
    await waitGraphCount(page, 'sink', 'received', PIPELINE_TASKS, 30_000);
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    const shares = await Promise.all(['worker-1', 'worker-2', 'worker-3'].map((w) => graphCount(page, w, 'received')));
    expect(shares.reduce((a, b) => a + b, 0)).toBe(PIPELINE_TASKS);

    // The picker's last entry is the instrumented pipeline playground: its own page, not a pattern of this one.
    await Promise.all([
      page.waitForURL((url) => !url.searchParams.has('graph'), { timeout: 15_000 }),
      page.getByTestId('graph-picker').selectOption('pipeline-page'),
    ]);
    expect(harness.pageErrors).toEqual([]);
  }, 60_000);
});
