/**
 * A recorded run with a live move, replayed on the patterns page (issue 11), end to end in Chromium on real sockets:
 * the series' part 4 runs live, fan-1 is moved from tcp to ipc from the page while the narrator publishes, and the
 * run is stopped. Its replay (`?graph=series-4&run=<id>`) draws fan-1's link on tcp at the start and at a moment
 * just before the move, and on ipc from the move on and at the end (the recorded graph is the one before the move:
 * the replay applies the run's link:moved as of the moment shown, on a scrub back as well).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import { startHarness, type Harness } from './harness.ts';
import { recordedGraphRun } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const fan1Link = (page: Page) => page.locator('[data-testid="graph-link"][data-from="narrator"][data-to="fan-1"]');

/** Waits (bounded) until a node's count on the diagram is above `than`. */
async function receivedAbove(page: Page, node: string, than: number): Promise<void> {
  await page.waitForFunction(
    ([id, n]) =>
      Number(document.querySelector(`[data-testid="graph-node"][data-node="${id}"]`)?.getAttribute('data-received')) >
      Number(n),
    [node, String(than)] as const,
    { timeout: 30_000 },
  );
}

/** Moves the replay's scrubber to run time `t` and waits until fan-1's link is drawn on `transport`. */
async function scrubTo(page: Page, t: number, transport: 'tcp' | 'ipc'): Promise<void> {
  await page.getByTestId('graph-replay-scrubber').fill(String(t));
  await fan1Link(page)
    .and(page.locator(`[data-transport="${transport}"]`))
    .waitFor({ timeout: 10_000 });
}

describe('replaying a run with a move', () => {
  it("part 4 with fan-1 moved to ipc: its replay draws fan-1's link as of the moment shown", async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-4`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await receivedAbove(page, 'fan-1', 0);
    await page.getByRole('button', { name: 'Move fan-1 to the chosen transport', disabled: false }).click();
    await fan1Link(page).and(page.locator('[data-transport="ipc"]')).waitFor({ timeout: 15_000 });
    // A message over the new link, then stop.
    const received = Number(
      await page.locator('[data-testid="graph-node"][data-node="fan-1"]').getAttribute('data-received'),
    );
    await receivedAbove(page, 'fan-1', received);
    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });

    // The recording, once stored as ended (the writer stores it within a flush or two).
    const recorded = await recordedGraphRun(harness);
    // The graph recorded is the one the run started with: fan-1 on tcp.
    expect(recorded.graph.links.find((link) => link.to === 'fan-1')?.transport).toBe('tcp');
    const { events } = await harness.api<{ events: PlaygroundEvent[] }>(`api/runs/${recorded.id}/events?limit=5000`);
    const moved = events.find((event) => event.type === 'link:moved');
    expect(moved).toMatchObject({ from: 'narrator', to: 'fan-1', transport: 'ipc', previousTransport: 'tcp' });
    expect(moved!.t).toBeGreaterThan(0);

    await page.goto(`${harness.baseUrl}?graph=series-4&run=${recorded.id}`);
    await page
      .locator(`[data-testid="graph-replay-position"][data-total="${recorded.eventCount}"]`)
      .waitFor({ timeout: 15_000 });
    expect(await fan1Link(page).getAttribute('data-transport')).toBe('tcp');
    const max = Number(await page.getByTestId('graph-replay-scrubber').getAttribute('max'));
    await scrubTo(page, max, 'ipc');
    await scrubTo(page, moved!.t / 2, 'tcp');
    await scrubTo(page, moved!.t, 'ipc');
    // fan-2 never moved.
    expect(
      await page
        .locator('[data-testid="graph-link"][data-from="narrator"][data-to="fan-2"]')
        .getAttribute('data-transport'),
    ).toBe('tcp');
    expect(harness.pageErrors).toEqual([]);
  });
});
