/**
 * Issue 10, item 1, end to end: once a run is over and the page has shown everything, an idle page rests. For 10 s
 * it makes no HTTP request, runs no requestAnimationFrame callback and plays no endless CSS animation (a page
 * that polled the history 10-18 times a second kept half a main thread busy, and a class of 30 idle pages cost
 * the server half a core).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

/** How long the page must stay quiet: a real observation window, not a wait for something to happen. */
const IDLE_WINDOW_MS = 10_000;

/**
 * Installed before the page's own scripts: counts every requestAnimationFrame callback the page runs (Svelte's
 * and the page's frame loop both go through window.requestAnimationFrame). A string, so no bundler helper leaks
 * into the page.
 */
const COUNT_ANIMATION_FRAMES = `(() => {
  const request = window.requestAnimationFrame.bind(window);
  window.__animationFrames = 0;
  window.requestAnimationFrame = (callback) => request((now) => {
    window.__animationFrames++;
    callback(now);
  });
})()`;

interface Activity {
  frames: number;
  /** CSS animations that repeat forever and are playing now. */
  endless: string[];
}

async function activityOf(page: Page): Promise<Activity> {
  return (await page.evaluate(`({
    frames: window.__animationFrames,
    endless: document.getAnimations()
      .filter((a) => a.playState === 'running' && a.effect && a.effect.getTiming().iterations === Infinity)
      .map((a) => (a.animationName || 'animation') + ' on ' + (a.effect.target ? a.effect.target.getAttribute('class') : '?')),
  })`)) as Activity;
}

/** Every HTTP request the page makes from now on (the WebSocket's frames are not requests). */
function recordRequests(page: Page): string[] {
  const requests: string[] = [];
  page.on('request', (request) =>
    requests.push(`${request.method()} ${new URL(request.url()).pathname}${new URL(request.url()).search}`),
  );
  return requests;
}

/** A dot slot showing a task (the pool keeps its empty slots, hidden, with no task). */
const FLYING_DOT = '[data-testid="dot"][data-task]';

/** What waitSettled looks at, for its failure message. */
function settledState(dotSelector: string) {
  const rows = [...document.querySelectorAll('[data-testid="history-row"]')].map((row) => ({
    run: row.getAttribute('data-run'),
    status: row.getAttribute('data-status'),
  }));
  const run = document.querySelector('[data-testid="run-id"]')?.textContent?.trim() ?? null;
  return { rows, run, dots: document.querySelectorAll(dotSelector).length };
}

/**
 * The page has finished showing the run: the history lists it as ended (no run left being recorded, so nothing to
 * poll for) and no dot is still flying on the diagram. Polled on a timer, not on animation frames.
 */
async function waitSettled(page: Page): Promise<void> {
  const isSettled = (dotSelector: string) => {
    const rows = [...document.querySelectorAll('[data-testid="history-row"]')];
    const run = document.querySelector('[data-testid="run-id"]')?.textContent?.trim();
    const isListed = rows.some(
      (row) => row.getAttribute('data-run') === run && row.getAttribute('data-status') === 'ended',
    );
    const isRecording = rows.some((row) => row.getAttribute('data-status') === 'running');
    return isListed && !isRecording && document.querySelectorAll(dotSelector).length === 0;
  };
  try {
    await page.waitForFunction(isSettled, FLYING_DOT, { timeout: 20_000, polling: 100 });
  } catch (error) {
    const state = await page.evaluate(settledState, FLYING_DOT);
    throw new Error(`${(error as Error).message}: ${JSON.stringify(state)}`, { cause: error });
  }
}

/** Watches the page for IDLE_WINDOW_MS and returns what it did meanwhile. */
async function watchIdle(
  page: Page,
  requests: string[],
): Promise<{ requests: string[]; frames: number; endless: string[] }> {
  const before = await activityOf(page);
  const seen = requests.length;
  await page.waitForTimeout(IDLE_WINDOW_MS);
  const after = await activityOf(page);
  return { requests: requests.slice(seen), frames: after.frames - before.frames, endless: after.endless };
}

function countEach(items: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

/** Watches the page for IDLE_WINDOW_MS and expects it did nothing; closes it either way. */
async function expectIdle(page: Page, requests: string[]): Promise<void> {
  try {
    const idle = await watchIdle(page, requests);
    // Soft: one failing run reports all three.
    expect.soft(countEach(idle.requests), 'HTTP requests while idle (count of each)').toEqual({});
    expect.soft(idle.frames, 'animation frames while idle').toBe(0);
    expect.soft(idle.endless, 'endless CSS animations while idle').toEqual([]);
  } finally {
    await page.close();
  }
}

describe('an idle page rests (issue 10)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'after the tutorial ends: no request, no animation frame, no endless animation for 10 s',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.addInitScript(COUNT_ANIMATION_FRAMES);
      const requests = recordRequests(page);
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('worker-node-worker-tcp').waitFor();

      await page.getByTestId('interval').fill('100');
      await page.getByTestId('run').click();
      await waitRunEnded(page);
      await waitSettled(page);
      // The counter works: the run itself was drawn with animation frames.
      expect((await activityOf(page)).frames).toBeGreaterThan(0);

      await expectIdle(page, requests);
      expect(harness.pageErrors).toEqual([]);
    },
  );

  it(
    'after a small batch with the sink on: no request, no animation frame, no endless animation for 10 s',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.addInitScript(COUNT_ANIMATION_FRAMES);
      const requests = recordRequests(page);
      await page.goto(`${harness.baseUrl}?scenario=pipeline`);
      await waitConnected(page);
      await page.getByTestId('worker-row-worker-2').waitFor();

      await page.getByTestId('tasks').fill('40');
      await page.getByTestId('interval').fill('10');
      const sink = page.getByTestId('sink-enabled');
      if (!(await sink.isChecked())) await sink.check();
      await page.getByTestId('run').click();
      await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 10_000 });
      await waitRunEnded(page);
      await waitSettled(page);

      await expectIdle(page, requests);
      expect(harness.pageErrors).toEqual([]);
    },
  );

  it(
    'the patterns page after part 3 ends: no request, no animation frame, no endless animation for 10 s',
    { timeout: 90_000 },
    async () => {
      const page = await harness.newPage();
      await page.addInitScript(COUNT_ANIMATION_FRAMES);
      const requests = recordRequests(page);
      await page.goto(`${harness.baseUrl}?graph=series-3`);
      await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="graph-run"]:not([disabled])').waitFor({ timeout: 15_000 });
      await page.getByTestId('graph-run').click();
      await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 30_000 });
      // Settled: the run is listed as stored (the list stops asking), and no dot flies and no drop mark fades
      // (the diagram's loop wakes for those). Polled on a timer, not on animation frames.
      await page.waitForFunction(
        () => {
          const runs = [...document.querySelectorAll('[data-testid="graph-runs-run"]')];
          return (
            runs.length > 0 &&
            runs.every((run) => run.getAttribute('data-status') !== 'running') &&
            document.querySelectorAll('[data-testid="graph-dot"]').length === 0 &&
            document.querySelectorAll('[data-testid="graph-drop"]').length === 0
          );
        },
        undefined,
        { timeout: 20_000, polling: 100 },
      );
      // The counter works: the run itself was drawn with animation frames.
      expect((await activityOf(page)).frames).toBeGreaterThan(0);

      await expectIdle(page, requests);
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
