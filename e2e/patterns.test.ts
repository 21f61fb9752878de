/**
 * The patterns page (issue 11), end to end in Chromium on real sockets: a new user opens the series' part 4 (the
 * football narrator), runs it, adds a subscriber with another filter, runs again, and sees which messages reach it
 * and that the others filter them; the series' part 3 (one REQ, three REP) runs and its requests spread evenly.
 * axe-core finds no serious or critical violation on the page. Screenshots in test-results/patterns-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandMessages } from '../shared/scenarios/graph.ts';
import { part4 } from '../shared/scenarios/series.ts';
import { startHarness, waitConnected, type Harness } from './harness.ts';
import { seriousViolations } from './axe.ts';
import { graphCount, openGraph, waitGraphCount } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const open = (page: Page, scenario: string) => openGraph(page, harness.baseUrl, scenario);

async function twinLine(page: Page, node: string): Promise<string> {
  return (await page.locator(`[data-testid="graph-twin"] li[data-node="${node}"]`).textContent()) ?? '';
}

async function stopRun(page: Page): Promise<void> {
  await page.getByTestId('graph-stop').click();
  await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
}

describe('the patterns page', () => {
  it('part 4: runs, a subscriber with another filter joins the running graph and gets only its matches, leaves, and a subscriber added between runs shows in the next run', async () => {
    // The narrator's seeded texts: the third (about 2 s in, well after every subscription has arrived) is about
    // Italy, which neither fan subscribes to. A new fan subscribing to "italia" gets it; the others' copies are
    // filtered by the publisher.
    const texts = [
      ...expandMessages((part4.graph.nodes[0]!.role as { messages: Parameters<typeof expandMessages>[0] }).messages),
    ].slice(0, 3);
    expect(texts[2]).toBe('italia corner');

    const page = await harness.newPage();
    await open(page, 'series-4');
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe(
      'Part 4: PUB/SUB, a football narrator',
    );
    expect(await page.locator('[data-testid="graph-node"]').count()).toBe(3);

    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-state"][data-state="running"]').waitFor({ timeout: 15_000 });
    await waitGraphCount(page, 'fan-2', 'received', 1); // "brasil corner", second text
    await harness.screenshot(page, 'patterns-part4-run1');

    // While the narrator publishes, a new fan with another filter joins: a real SUB connected now. It gets the
    // countries nobody else follows ("rusia corner" is the fourth text, "holanda falta" the tenth, ...), and only
    // those; the publisher filters the rest for it.
    const live = page.getByTestId('graph-add-subscriber');
    await live.locator('input[name="name"]').fill('fan-live');
    await live.locator('input[name="prefixes"]').fill('italia, rusia, holanda, portugal');
    await live.getByRole('button', { name: 'Add a subscriber' }).click();
    await page.locator('[data-testid="graph-node"][data-node="fan-live"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('graph-state').getAttribute('data-state')).toBe('running');
    expect(await page.locator('[data-testid="graph-link"][data-to="fan-live"]').count()).toBe(1);
    await waitGraphCount(page, 'fan-live', 'received', 1);
    await page.waitForFunction(
      () =>
        /\d+ filtered by the publisher/.test(
          document.querySelector('[data-testid="graph-twin"] li[data-node="fan-live"]')?.textContent ?? '',
        ),
      undefined,
      { timeout: 20_000 },
    );
    await harness.screenshot(page, 'patterns-part4-live-subscriber');
    const liveLine = await twinLine(page, 'fan-live');
    expect(liveLine).toContain('subscribes to “italia”, “rusia”, “holanda”, “portugal”');
    expect(liveLine).toMatch(/last received “(italia|rusia|holanda|portugal) /);
    // Removed while the run goes on: its box goes, the others keep receiving.
    await page.getByRole('button', { name: 'Remove fan-live' }).click();
    await page
      .locator('[data-testid="graph-node"][data-node="fan-live"]')
      .waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.getByTestId('graph-state').getAttribute('data-state')).toBe('running');
    await stopRun(page);
    expect(await twinLine(page, 'fan-1')).toContain('filtered by the publisher');

    const add = page.getByTestId('graph-add-subscriber');
    await add.locator('input[name="name"]').fill('fan-3');
    await add.locator('input[name="prefixes"]').fill('italia');
    await add.getByRole('button', { name: 'Add a subscriber' }).click();
    await page.locator('[data-testid="graph-node"][data-node="fan-3"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid="graph-link"][data-to="fan-3"]').count()).toBe(1);

    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-state"][data-state="running"]').waitFor({ timeout: 15_000 });
    await waitGraphCount(page, 'fan-3', 'received', 1);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="graph-drop"][data-reason="filtered"]').length > 0,
      undefined,
      { timeout: 10_000 },
    );
    await harness.screenshot(page, 'patterns-part4-run2');
    const fan3 = await twinLine(page, 'fan-3');
    expect(fan3).toContain('subscribes to “italia”');
    expect(fan3).toContain('last received “italia corner”');
    // The Italian text was filtered by the publisher for both other fans.
    expect(await twinLine(page, 'fan-1')).toMatch(/\d+ filtered by the publisher/);
    expect(await twinLine(page, 'fan-2')).toMatch(/\d+ filtered by the publisher/);
    expect(await twinLine(page, 'fan-2')).not.toContain('italia');

    expect(await seriousViolations(page)).toEqual([]);
    await stopRun(page);
    // Once over, the run's state says it ended and how (the connection to the server is another matter).
    expect(await page.getByTestId('graph-state').textContent()).toBe('ended: stopped');
    await harness.screenshot(page, 'patterns-part4-stopped');

    // The scenario's description follows the page's language.
    expect(await page.getByTestId('graph-description').getAttribute('lang')).toBe('en');
    await page.getByTestId('lang-es').click();
    await page.locator('[data-testid="graph-description"][lang="es"]').waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('graph-description').textContent()).toContain('El narrador publica');
    expect(await page.getByTestId('graph-state').textContent()).toBe('terminada: detenida');
    await page.getByTestId('lang-en').click();
    expect(harness.pageErrors).toEqual([]);
  });

  it('is found from the pipeline page: its header links to part 1 of the series', async () => {
    // A visitor of its own: the pipeline's playground and part 1's would count against the per-visitor limit of
    // the other tests' visitor.
    const visitor = await harness.newVisitor();
    const page = await visitor.newPage();
    await page.goto(harness.baseUrl);
    await waitConnected(page);
    const link = page.getByTestId('to-patterns');
    expect(await link.textContent()).toContain('PUB/SUB');
    await link.click();
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toMatch(/^Part 1/);
    await page.close();
  });

  it('part 3: one REQ to three REP, the requests spread evenly (34/33/33)', async () => {
    const page = await harness.newPage();
    await open(page, 'series-3');
    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('graph-summary').waitFor();
    await harness.screenshot(page, 'patterns-part3');
    const received = await Promise.all(
      ['server-5000', 'server-6000', 'server-7000'].map((node) => graphCount(page, node, 'received')),
    );
    expect(received.reduce((a, b) => a + b, 0)).toBe(100);
    for (const count of received) expect(count === 33 || count === 34, `${received}`).toBe(true);
    expect(await graphCount(page, 'client', 'received')).toBe(100);
    expect(await page.getByTestId('graph-state').textContent()).toBe('ended: ran its course');
    expect(await seriousViolations(page)).toEqual([]);
    expect(harness.pageErrors).toEqual([]);
  });

  it('uses the width of a desktop screen: the graph in words beside a narrow diagram, a wide one never widens the page', async () => {
    const page = await harness.newPage();
    await open(page, 'series-4');
    const diagram = (await page.getByTestId('graph-diagram').boundingBox())!;
    const twin = (await page.getByTestId('graph-twin').boundingBox())!;
    expect(twin.x, 'the text twin stands right of the diagram').toBeGreaterThanOrEqual(diagram.x + diagram.width);
    expect(twin.y).toBeLessThan(diagram.y + diagram.height);
    for (const scenario of ['series-5', 'series-6']) {
      await open(page, scenario);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, scenario).toBeLessThanOrEqual(0);
    }
    expect(harness.pageErrors).toEqual([]);
  });
});
