/**
 * The free sandbox (issue 11), end to end in Chromium on real sockets: a new user opens "Free sandbox" from the
 * patterns picker, adds three REP from the palette, links the REQ client to two of them with the keyboard-usable
 * link form (the REP side binds, over tcp and ipc) and to the third by clicking two boxes on the diagram (inproc),
 * sets the client's count, runs it, and sees on the diagram and in the graph in words that the requests spread
 * evenly over the three. axe-core finds no serious or critical violation, before and after the run, in English
 * and in Spanish. Screenshots: test-results/sandbox-req-three-rep.png, sandbox-editor.png.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_DIR, startHarness, type Harness } from './harness.ts';
import { seriousViolations } from './axe.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const node = (page: Page, id: string) => page.locator(`[data-testid="graph-node"][data-node="${id}"]`);

describe('the free sandbox', () => {
  it('builds a REQ-to-three-REP graph and runs it: the requests spread evenly over the three', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-1`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    // The picker lists the sandbox; picking it opens a playground of the visitor's own with one REQ client.
    await page.getByTestId('graph-picker').selectOption('sandbox');
    await page.waitForURL(/\?graph=sandbox$/, { timeout: 15_000 });
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe(
      'Free sandbox: build your own graph',
    );
    await node(page, 'client').waitFor({ timeout: 10_000 });

    // Three REP from the palette: each is an echo server by default.
    for (let n = 1; n <= 3; n++) {
      await page.getByRole('button', { name: 'Add a REP socket' }).click();
      await node(page, `rep-${n}`).waitFor({ timeout: 10_000 });
    }
    const rep1Form = page.locator('[data-testid="sandbox-node"][data-node="rep-1"]');
    expect(await rep1Form.getByTestId('sandbox-node-role').inputValue()).toBe('echo');

    // The links: client to each REP, the REP binds, one transport each.
    const form = page.getByTestId('sandbox-link-form');
    for (const [rep, transport] of [
      ['rep-1', 'tcp'],
      ['rep-2', 'ipc'],
    ] as const) {
      await form.getByTestId('sandbox-link-from').selectOption('client');
      await form.getByTestId('sandbox-link-to').selectOption(rep);
      await form.getByLabel('Which side binds').selectOption('to');
      await form.getByLabel('Transport').selectOption(transport);
      await form.getByRole('button', { name: 'Add link' }).click();
      await page
        .locator(`[data-testid="graph-link"][data-from="client"][data-to="${rep}"]`)
        .waitFor({ timeout: 10_000 });
    }
    // The third by pointer: two boxes clicked on the diagram, linked with the form's bind side and transport.
    await form.getByLabel('Transport').selectOption('inproc');
    await node(page, 'client').click();
    expect(await page.getByTestId('sandbox-pick').textContent()).toContain('client picked');
    await node(page, 'rep-3').click();
    await page.locator('[data-testid="graph-link"][data-from="client"][data-to="rep-3"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('sandbox-link').count()).toBe(3);
    // A link ZeroMQ would refuse is told before asking: two REP may not talk.
    await form.getByTestId('sandbox-link-from').selectOption('rep-1');
    await form.getByTestId('sandbox-link-to').selectOption('rep-2');
    expect(await form.getByRole('status').textContent()).toContain('A REP may not talk to a REP');
    expect(await form.getByRole('button', { name: 'Add link' }).isDisabled()).toBe(true);

    // The client's role: 15 requests, 20 ms apart (typed, then Enter applies it).
    const client = page.locator('[data-testid="sandbox-node"][data-node="client"]');
    await client.getByLabel('How many').fill('15');
    await client.getByLabel('Every (ms)').fill('20');
    await client.getByLabel('Every (ms)').press('Enter');
    // Applied once the server took it: the Apply button is disabled again, and the field shows the server's value.
    await page.waitForFunction(
      () =>
        (
          document.querySelector(
            '[data-testid="sandbox-node"][data-node="client"] button[type="submit"]',
          ) as HTMLButtonElement | null
        )?.disabled === true,
      undefined,
      { timeout: 10_000 },
    );
    expect(await client.getByLabel('How many').inputValue()).toBe('15');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByTestId('graph-run').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 30_000 });
    const received = async (id: string) => Number(await node(page, id).getAttribute('data-received'));
    expect([await received('rep-1'), await received('rep-2'), await received('rep-3')]).toEqual([5, 5, 5]);
    expect(await received('client')).toBe(15);
    const twin = page.getByTestId('graph-twin');
    for (const rep of ['rep-1', 'rep-2', 'rep-3'])
      expect(await twin.locator(`li[data-node="${rep}"]`).textContent()).toContain('sent 5, received 5');
    expect(await page.getByTestId('graph-summary').textContent()).toContain('30');
    const shot = await harness.screenshot(page, 'sandbox-req-three-rep');
    expect(shot).toMatch(/sandbox-req-three-rep\.png$/);
    await page.getByTestId('sandbox').screenshot({ path: path.join(RESULTS_DIR, 'sandbox-editor.png') });
    expect(await seriousViolations(page)).toEqual([]);
    // In Spanish too: the editor's words switch, and axe finds nothing serious either.
    await page.getByRole('button', { name: 'Español' }).click();
    expect(await page.locator('#sandbox-title').textContent()).toBe('Construye tu propio grafo');
    expect(await page.getByRole('button', { name: 'Añadir un socket REP' }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  }, 120_000);
});
