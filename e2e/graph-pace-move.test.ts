/**
 * Slow a node and move it to another transport from the patterns page (issue 11), end to end in Chromium on real
 * sockets, by keyboard only: a visitor runs the series' part 4 (a narrator publishing once a second to two fans),
 * types a new interval for the narrator and presses Enter, then tabs to fan-1's Move button and presses Enter. The
 * status line (a polite live region) says each, the narrator publishes at its new pace, fan-1's link on the diagram
 * says ipc and fan-1 keeps receiving. Screenshot in test-results/graph-pace-move.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import type { GraphPlaygroundInfo } from '../shared/protocol/graph-stream.ts';
import { startHarness, type Harness } from './harness.ts';
import { graphCount, waitGraphCount } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

/** Waits (30 s at the most) until a node's count on the diagram is above `than`. */
const countAbove = (page: Page, node: string, what: 'sent' | 'received', than: number) =>
  waitGraphCount(page, node, what, than + 1, 30_000);

describe('slow a node and move it from the page', () => {
  it('part 4: the narrator sped up and fan-1 moved to ipc from the keyboard; the page says so and messages keep flowing', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-4`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    const status = page.getByTestId('graph-edit-status');
    expect(await status.getAttribute('role')).toBe('status');
    // Between runs a move has nothing to move: its button says so by being disabled.
    const move = page.getByRole('button', { name: 'Move fan-1 to the chosen transport' });
    expect(await move.isDisabled()).toBe(true);
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await countAbove(page, 'narrator', 'sent', 0);

    // The narrator's interval, typed and sent with Enter.
    const interval = page.getByRole('spinbutton', { name: /Interval between messages of narrator/ });
    await interval.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('100');
    await page.keyboard.press('Enter');
    await status.filter({ hasText: 'narrator now waits 100 ms between messages.' }).waitFor({ timeout: 15_000 });
    // At its new pace (it was once a second): five more messages come quickly.
    const sent = await graphCount(page, 'narrator', 'sent');
    await countAbove(page, 'narrator', 'sent', sent + 5);

    // fan-1's transport: its select offers ipc first (it is on tcp); Tab to Move, Enter.
    const transport = page.getByRole('combobox', { name: 'Transport for the links of fan-1' });
    expect(await transport.inputValue()).toBe('ipc');
    await page.getByRole('button', { name: 'Move fan-1 to the chosen transport', disabled: false }).waitFor();
    await transport.focus();
    await page.keyboard.press('Tab');
    expect(await move.evaluate((button) => button === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await status.filter({ hasText: 'Link narrator - fan-1 moved from tcp to ipc' }).waitFor({ timeout: 15_000 });
    await page
      .locator('[data-testid="graph-link"][data-from="narrator"][data-to="fan-1"][data-transport="ipc"]')
      .waitFor({ timeout: 15_000 });
    expect(
      await page
        .locator('[data-testid="graph-link"][data-from="narrator"][data-to="fan-2"]')
        .getAttribute('data-transport'),
    ).toBe('tcp');
    // fan-1 keeps receiving over ipc.
    const fan1 = await graphCount(page, 'fan-1', 'received');
    await countAbove(page, 'fan-1', 'received', fan1);
    await harness.screenshot(page, 'graph-pace-move');
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');

    // The server's log says the same.
    const [playground] = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
    const { events } = await harness.api<{ events: PlaygroundEvent[] }>(`api/graphs/${playground!.id}/events`);
    expect(events.filter((e) => e.type === 'node:paced')).toMatchObject([
      { node: 'narrator', pace: 'interval', ms: 100 },
    ]);
    expect(events.filter((e) => e.type === 'link:moved')).toMatchObject([
      { node: 'fan-1', from: 'narrator', to: 'fan-1', transport: 'ipc', previousTransport: 'tcp' },
    ]);
    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    expect(harness.pageErrors).toEqual([]);
  });
});
