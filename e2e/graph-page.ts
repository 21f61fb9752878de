/**
 * What the e2e tests on the patterns page (`?graph=<scenario>`) share: opening a scenario, and reading or awaiting a
 * node's counts on the diagram (its box's data-sent / data-received: the stream's exact counters); the recording of
 * a graph run once stored.
 */
import type { Page } from 'playwright-core';
import type { RecordedGraphRunDetail, RunPage } from '../shared/protocol/index.ts';
import type { Harness } from './harness.ts';

/** Opens the patterns page on a scenario and waits (15 s at the most) until its stream is connected. */
export async function openGraph(page: Page, baseUrl: string, scenario: string): Promise<void> {
  await page.goto(`${baseUrl}?graph=${scenario}`);
  await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
}

/** A node's exact count on the diagram. */
export async function graphCount(page: Page, node: string, what: 'sent' | 'received'): Promise<number> {
  return Number(await page.locator(`[data-testid="graph-node"][data-node="${node}"]`).getAttribute(`data-${what}`));
}

/** Resolves once a node's count on the diagram reaches `atLeast`; fails after `timeout` ms. */
export async function waitGraphCount(
  page: Page,
  node: string,
  what: 'sent' | 'received',
  atLeast: number,
  timeout = 20_000,
): Promise<void> {
  await page.waitForFunction(
    ([id, attribute, n]) =>
      Number(
        document.querySelector(`[data-testid="graph-node"][data-node="${id}"]`)?.getAttribute(`data-${attribute}`) ?? 0,
      ) >= Number(n),
    [node, what, String(atLeast)] as const,
    { timeout },
  );
}

/**
 * The recording of a graph run (of `scenario` when given) once stored as ended, as the page's visitor sees the
 * history (the writer stores it within a flush or two); fails after 15 s.
 */
export async function recordedGraphRun(harness: Harness, scenario?: string): Promise<RecordedGraphRunDetail> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const runs = await harness.api<RunPage>('api/runs');
    const run = runs.runs.find(
      (candidate) =>
        candidate.kind === 'graph' &&
        (scenario === undefined || candidate.scenario === scenario) &&
        candidate.status === 'ended',
    );
    if (run) return await harness.api<RecordedGraphRunDetail>(`api/runs/${run.id}`);
    if (Date.now() > deadline) throw new Error('the graph run was not recorded within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
