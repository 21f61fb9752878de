/**
 * Add a worker to a running pipeline and remove another from the patterns page, and a fourth REP to the series'
 * part 3 while its client sends (issue 11), end to end in Chromium on
 * real sockets, by keyboard: a visitor slows the ventilator of `?graph=pipeline` so that its run lasts, runs it,
 * types a name in the add-a-node card (a PULL for the ventilator) and presses Enter (a name the graph has is refused, the status line says why,
 * then a new one); the new PULL appears on the diagram, the status line (a polite live region) says so and the
 * worker receives tasks. Then worker-2's Remove button takes it off the diagram while
 * the ventilator goes on sending. axe-core finds no serious or critical violation on the page with the new card.
 * Screenshot in test-results/graph-live-nodes.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphPlaygroundInfo } from '../shared/protocol/graph-stream.ts';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import { startHarness, type Harness } from './harness.ts';
import { seriousViolations } from './axe.ts';
import { recordedGraphRun } from './graph-page.ts';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
});
afterAll(async () => {
  await harness?.close();
});

const nodeOnDiagram = (page: Page, node: string) => page.locator(`[data-testid="graph-node"][data-node="${node}"]`);

const count = async (page: Page, node: string, what: 'sent' | 'received') =>
  Number(await nodeOnDiagram(page, node).getAttribute(`data-${what}`));

/** Waits (bounded) until a node's count on the diagram is above `than`. */
async function countAbove(page: Page, node: string, what: 'sent' | 'received', than: number): Promise<void> {
  await page.waitForFunction(
    ([id, attribute, n]) =>
      Number(
        document.querySelector(`[data-testid="graph-node"][data-node="${id}"]`)?.getAttribute(`data-${attribute}`) ?? 0,
      ) > Number(n),
    [node, what, String(than)] as const,
    { timeout: 30_000 },
  );
}

describe('add and remove nodes of a running graph from the page', () => {
  it('pipeline: late-worker added by keyboard receives tasks, worker-2 removed leaves the diagram, the run goes on', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=pipeline`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    const status = page.getByTestId('graph-add-node-status');
    expect(await status.getAttribute('role')).toBe('status');

    // The ventilator's 100 tasks at 300 ms each: a run of 30 s, long enough for what follows on a loaded machine
    // (set between runs, it is kept for the next run).
    const interval = page.getByRole('spinbutton', { name: /Interval between messages of ventilator/ });
    await interval.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('300');
    await page.keyboard.press('Enter');
    // Between runs no event says it: the server's graph does.
    await expect
      .poll(
        async () => {
          const [playground] = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
          const ventilator = playground?.graph.nodes.find((node) => node.id === 'ventilator');
          return ventilator?.role.kind === 'send' ? ventilator.role.intervalMs : undefined;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(300);
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await countAbove(page, 'ventilator', 'sent', 0);

    // The add-a-node card offers the ventilator first and, for a PUSH, a PULL; the name it suggests is the first
    // free "worker-N"; typed over, sent with Enter.
    expect(await page.getByTestId('graph-add-node-peer').inputValue()).toBe('ventilator');
    expect(await page.getByTestId('graph-add-node-socket').inputValue()).toBe('PULL');
    const name = page.getByRole('textbox', { name: 'Name of the new node' });
    expect(await name.inputValue()).toBe('worker-4');
    await page.getByRole('button', { name: 'Add the node', disabled: false }).waitFor({ timeout: 15_000 });
    // A name the graph has is the server's to refuse; the status line says its reason.
    await name.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('worker-1');
    await page.keyboard.press('Enter');
    await status
      .filter({ hasText: 'This graph already has a node "worker-1"; choose another name.' })
      .waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Add the node', disabled: false }).waitFor({ timeout: 15_000 });
    await name.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('late-worker');
    await page.keyboard.press('Enter');
    await status.filter({ hasText: 'late-worker (PULL) connects to ventilator.' }).waitFor({ timeout: 15_000 });
    await nodeOnDiagram(page, 'late-worker').waitFor({ timeout: 15_000 });
    await page
      .locator('[data-testid="graph-link"][data-from="ventilator"][data-to="late-worker"]')
      .waitFor({ timeout: 15_000 });
    // It takes its round-robin share of the tasks sent from now on.
    await countAbove(page, 'late-worker', 'received', 0);

    // worker-2's Remove button in the node list: it leaves the diagram, the others go on.
    await page.getByRole('button', { name: 'Remove the node worker-2 from the graph' }).click();
    await nodeOnDiagram(page, 'worker-2').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');
    const sent = await count(page, 'ventilator', 'sent');
    const late = await count(page, 'late-worker', 'received');
    await countAbove(page, 'ventilator', 'sent', sent + 2);
    await countAbove(page, 'late-worker', 'received', late);
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');

    expect(await seriousViolations(page)).toEqual([]);
    await harness.screenshot(page, 'graph-live-nodes');

    // The server's graph says the same: late-worker linked to the ventilator, worker-2 gone.
    const [playground] = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
    const ids = playground!.graph.nodes.map((node) => node.id);
    expect(ids).toContain('late-worker');
    expect(ids).not.toContain('worker-2');

    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
    expect(harness.pageErrors).toEqual([]);
  }, 90_000);

  it('part 3: a REP added from the card during a run binds, the client connects to it, and it receives requests', async () => {
    const page = await harness.newPage();
    await page.goto(`${harness.baseUrl}?graph=series-3`);
    await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    const status = page.getByTestId('graph-add-node-status');

    // The client's 100 requests 150 ms apart: a run of 15 s (kept for the next run, as any pace set between runs).
    const interval = page.getByRole('spinbutton', { name: /Interval between messages of client/ });
    await interval.focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('150');
    await page.keyboard.press('Enter');
    await expect
      .poll(
        async () => {
          // The first test's pipeline playground is this visitor's too.
          const playgrounds = await harness.api<GraphPlaygroundInfo[]>('api/graphs');
          const playground = playgrounds.find((candidate) => candidate.scenario === 'series-3');
          const client = playground?.graph.nodes.find((node) => node.id === 'client');
          return client?.role.kind === 'request' ? client.role.intervalMs : undefined;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(150);
    await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
    await page.getByTestId('graph-run').click();
    await countAbove(page, 'client', 'sent', 2);

    // The card offers what a REQ can talk to (REP, ROUTER); the client, a REP, and the name it suggests, by keyboard.
    const peer = page.getByRole('combobox', { name: 'Link it to' });
    await peer.selectOption('client');
    const socket = page.getByRole('combobox', { name: 'Socket type' });
    expect(await socket.locator('option').allTextContents()).toEqual(['REP', 'ROUTER']);
    await socket.selectOption('REP');
    const name = page.getByRole('textbox', { name: 'Name of the new node' });
    expect(await name.inputValue()).toBe('server-1');
    await page.getByRole('button', { name: 'Add the node', disabled: false }).waitFor({ timeout: 15_000 });
    await name.focus();
    await page.keyboard.press('Enter');
    // The client only connects: the new REP binds an endpoint of its own, and the client dials it.
    await status
      .filter({ hasText: 'server-1 (REP) binds an endpoint, and client connects to it.' })
      .waitFor({ timeout: 15_000 });
    await nodeOnDiagram(page, 'server-1').waitFor({ timeout: 15_000 });
    await page
      .locator('[data-testid="graph-link"][data-from="server-1"][data-to="client"]')
      .waitFor({ timeout: 15_000 });
    // It takes its round-robin share of the next requests, and the three others still take theirs.
    const before = await count(page, 'server-5000', 'received');
    await countAbove(page, 'server-1', 'received', 2);
    await countAbove(page, 'server-5000', 'received', before);
    expect(await page.locator('[data-testid="graph-state"]').getAttribute('data-state')).toBe('running');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByTestId('graph-stop').click();
    await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });

    // Its replay draws server-1 and its link from its node:added on, and not before (SPEC [G8]).
    const recorded = await recordedGraphRun(harness, 'series-3');
    expect(recorded.graph.nodes.map((node) => node.id)).not.toContain('server-1');
    const { events } = await harness.api<{ events: PlaygroundEvent[] }>(`api/runs/${recorded.id}/events?limit=5000`);
    const added = events.find((event) => event.type === 'node:added');
    expect(added).toMatchObject({ node: 'server-1', link: { from: 'server-1', to: 'client', bind: 'from' } });
    await page.goto(`${harness.baseUrl}?graph=series-3&run=${recorded.id}`);
    await page
      .locator(`[data-testid="graph-replay-position"][data-total="${recorded.eventCount}"]`)
      .waitFor({ timeout: 15_000 });
    expect(await nodeOnDiagram(page, 'server-1').count()).toBe(0);
    const scrubber = page.getByTestId('graph-replay-scrubber');
    await scrubber.fill(String(Number(await scrubber.getAttribute('max'))));
    await nodeOnDiagram(page, 'server-1').waitFor({ timeout: 10_000 });
    await page
      .locator('[data-testid="graph-link"][data-from="server-1"][data-to="client"]')
      .waitFor({ timeout: 10_000 });
    await scrubber.fill(String(added!.t / 2));
    await nodeOnDiagram(page, 'server-1').waitFor({ state: 'detached', timeout: 10_000 });
    await scrubber.fill(String(added!.t));
    await nodeOnDiagram(page, 'server-1').waitFor({ timeout: 10_000 });
    expect(harness.pageErrors).toEqual([]);
  }, 90_000);
});
