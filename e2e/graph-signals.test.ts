/**
 * Kill, hang and resume a node from the patterns page (issue 11), end to end in Chromium on real sockets: a
 * visitor runs the series' part 4 (a narrator publishing once a second to two fans), kills one fan with the
 * keyboard from the page's node list, and sees it marked killed on the list and the diagram while the narrator
 * goes on and the other fan keeps receiving; then hangs and resumes the other fan. Screenshot in
 * test-results/graph-signals.png. Then a fan made its own OS process from the same list: its pid shown in the list,
 * the graph in words and a tag on its box in the diagram, and killed from the page, the process is gone
 * (graph-process.ts).
 */
import fs from 'node:fs';
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

/** Waits (20 s at the most) until a node's count on the diagram is above `than`. */
const countAbove = (page: Page, node: string, what: 'sent' | 'received', than: number) =>
  waitGraphCount(page, node, what, than + 1, 20_000);

const control = (page: Page, node: string) => page.locator(`[data-testid="graph-node-control"][data-node="${node}"]`);

describe('kill, hang and resume a node from the page', () => {
  it('part 4: a fan killed from the keyboard is marked killed, the narrator and the other fan go on; the other hung and resumed', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-4`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    // Between runs the buttons say why they do nothing.
    const kill = page.getByRole('button', { name: 'Kill fan-1' });
    expect(await kill.isDisabled()).toBe(true);
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await countAbove(page, 'narrator', 'sent', 0);

    // The keyboard: focus the button (enabled once the page knows the run is on), press Enter.
    await page.getByRole('button', { name: 'Kill fan-1', disabled: false }).waitFor({ timeout: 15_000 });
    await kill.focus();
    await page.keyboard.press('Enter');
    await control(page, 'fan-1').and(page.locator('[data-state="killed"]')).waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="graph-node"][data-node="fan-1"][data-process="killed"]').waitFor();
    expect(await control(page, 'fan-1').textContent()).toContain('killed');
    expect(await kill.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Resume fan-1' }).isDisabled()).toBe(true);

    // The run goes on without it: the narrator publishes, fan-2 receives, fan-1 gets nothing more.
    const fan1 = await graphCount(page, 'fan-1', 'received');
    const fan2 = await graphCount(page, 'fan-2', 'received');
    const sent = await graphCount(page, 'narrator', 'sent');
    await countAbove(page, 'narrator', 'sent', sent + 2);
    await countAbove(page, 'fan-2', 'received', fan2);
    expect(await graphCount(page, 'fan-1', 'received')).toBe(fan1);

    // Hang fan-2, then resume it: the list says so each time, and the run is still on.
    await page.getByRole('button', { name: 'Hang fan-2' }).click();
    await control(page, 'fan-2').and(page.locator('[data-state="hung"]')).waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="graph-node"][data-node="fan-2"][data-process="hung"]').waitFor();
    await page.getByRole('button', { name: 'Resume fan-2' }).click();
    await control(page, 'fan-2').and(page.locator('[data-state="resumed"]')).waitFor({ timeout: 15_000 });
    await harness.screenshot(page, 'graph-signals');
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');

    // The server's log says the same, socket by socket.
    const [playground] = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
    const { events } = await harness.api<{ events: PlaygroundEvent[] }>(`api/graphs/${playground!.id}/events`);
    const processes = events.flatMap((e) => (e.type === 'node:process' ? [`${e.node} ${e.action}`] : []));
    expect(processes).toEqual(['fan-1 killed', 'fan-2 hung', 'fan-2 resumed']);
    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    expect(harness.pageErrors).toEqual([]);
  });

  it('part 4: a fan ticked "own process" runs as a real process whose pid the list and the text twin show; killed from the page, that process is gone', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-4`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    // Between runs: tick it, and the graph says so at once (the server kept the node with process: true).
    await control(page, 'fan-2').getByTestId('graph-node-process-toggle').check();
    await control(page, 'fan-2').getByTestId('graph-node-process').waitFor({ timeout: 15_000 });
    expect(await control(page, 'fan-1').getByTestId('graph-node-process').count()).toBe(0);
    await page.getByTestId('graph-run').click();
    // Once the run started its process, the list shows its pid, and so does the graph in words.
    const shown = control(page, 'fan-2').locator('[data-testid="graph-node-process"]:not([data-pid=""])');
    await shown.waitFor({ timeout: 20_000 });
    const pid = Number(await shown.getAttribute('data-pid'));
    expect(pid).toBeGreaterThan(0);
    expect(await shown.textContent()).toContain(`pid ${pid}`);
    expect(await page.locator('[data-testid="graph-twin"] li[data-node="fan-2"]').textContent()).toContain(
      `pid ${pid}`,
    );
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    expect(await control(page, 'fan-2').getByTestId('graph-node-process-toggle').isDisabled()).toBe(true);
    // The diagram marks it on its box too (a tag with its pid); the other fan, a plain node, has none.
    const box = (node: string) => page.locator(`[data-testid="graph-node"][data-node="${node}"]`);
    await box('fan-2')
      .and(page.locator(`[data-pid="${pid}"]`))
      .waitFor({ timeout: 15_000 });
    expect(await box('fan-2').getByTestId('graph-node-process-tag').textContent()).toBe(`process · pid ${pid}`);
    expect(await box('fan-1').getByTestId('graph-node-process-tag').count()).toBe(0);
    await countAbove(page, 'fan-2', 'received', 0);

    await page.getByRole('button', { name: 'Kill fan-2', disabled: false }).click();
    await control(page, 'fan-2').and(page.locator('[data-state="killed"]')).waitFor({ timeout: 15_000 });
    // SIGKILL: the process is gone (bounded: the server reaps it as soon as the kernel has).
    const deadline = Date.now() + 10_000;
    const gone = () => {
      try {
        return /\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    while (!gone() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(gone()).toBe(true);
    await countAbove(page, 'fan-1', 'received', await graphCount(page, 'fan-1', 'received'));
    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    expect(harness.pageErrors).toEqual([]);
  });
});
