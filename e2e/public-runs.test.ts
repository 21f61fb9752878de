/**
 * Issue 9, recorded runs and their owner, in Chromium with two browsers (two profiles, so two session cookies):
 * the history offers rename, delete and "Make public" on the visitor's own runs only; the owner publishes a run
 * and copies its permalink; a stranger opening it replays it read-only and "Run again" gives the stranger a
 * playground of its own; a private run's permalink tells the stranger it is not available.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { RecordedRunDetail } from '../shared/protocol/index.ts';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';
import { call, playgroundIdOf } from './visitors.ts';

const rowOf = (page: Page, run: string) => page.locator(`[data-testid="history-row"][data-run="${run}"]`);

describe('public runs and the history of another visitor (issue 9)', () => {
  let harness: Harness;
  let stranger: BrowserContext;

  beforeAll(async () => {
    harness = await startHarness();
    stranger = await harness.newVisitor();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'the owner publishes a run; a stranger replays its permalink read-only and runs it again in its own playground; a private run is not available',
    { timeout: 150_000 },
    async () => {
      // The owner records two runs of the tutorial (a burst: each lasts about the drain time).
      const owner = await harness.newPage();
      await owner.goto(harness.baseUrl);
      await waitConnected(owner);
      const ownerPlayground = playgroundIdOf(owner)!;
      await owner.getByTestId('preset-0').click();
      const recorded: string[] = [];
      for (let i = 0; i < 2; i++) {
        const before = (await owner.getByTestId('run-id').textContent())?.trim();
        await owner.getByTestId('run').click();
        await expect
          .poll(async () => (await owner.getByTestId('run-id').textContent())?.trim(), { timeout: 15_000 })
          .not.toBe(before);
        await waitRunEnded(owner);
        const run = (await owner.getByTestId('run-id').textContent())?.trim() ?? '';
        await expect
          .poll(async () => (await harness.api<RecordedRunDetail>(`api/runs/${run}`)).status, { timeout: 15_000 })
          .toBe('ended');
        recorded.push(run);
      }
      const [published, kept] = recorded as [string, string];

      // The owner's rows offer everything the owner may do.
      const ownRow = rowOf(owner, published);
      await owner
        .locator(`[data-testid="history-row"][data-run="${published}"][data-status="ended"]`)
        .waitFor({ timeout: 15_000 });
      expect(await ownRow.getAttribute('data-owned')).toBe('true');
      for (const action of ['rename-run', 'toggle-public', 'delete-run', 'export-json']) {
        expect(await ownRow.getByTestId(action).count(), action).toBe(1);
      }
      // Make public: the row says so, the server agrees, and its permalink is there to copy.
      expect(await ownRow.getAttribute('data-public')).toBe('false');
      expect(await ownRow.getByTestId('toggle-public').getAttribute('aria-pressed')).toBe('false');
      await ownRow.getByTestId('toggle-public').click();
      await owner
        .locator(`[data-testid="history-row"][data-run="${published}"][data-public="true"]`)
        .waitFor({ timeout: 10_000 });
      expect((await harness.api<RecordedRunDetail>(`api/runs/${published}`)).public).toBe(true);
      expect((await harness.api<RecordedRunDetail>(`api/runs/${kept}`)).public).toBe(false);
      await ownRow.getByTestId('copy-public-link').click();
      const publicLink = await ownRow.getByTestId('public-link').inputValue();
      expect(publicLink).toBe(`${harness.baseUrl}?run=${published}`);

      // The stranger opens the permalink: the replay, with nothing that would change the run.
      const page = stranger.pages()[0] ?? (await stranger.newPage());
      page.on('pageerror', (error) => harness.pageErrors.push(error.message));
      await page.goto(publicLink);
      const scrubber = page.getByTestId('replay-scrubber');
      await scrubber.waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('replay').getAttribute('data-run')).toBe(published);
      await expect.poll(() => playgroundIdOf(page), { timeout: 10_000 }).toBeTruthy();
      expect(playgroundIdOf(page)).not.toBe(ownerPlayground);
      for (const action of ['rename-run', 'toggle-public', 'delete-run', 'copy-public-link']) {
        expect(await page.getByTestId(action).count(), action).toBe(0);
      }
      expect(await rowOf(page, published).count(), 'listed for nobody else').toBe(0);
      // It replays: played for a moment, then taken to its end, where it shows the counts it ended with.
      const detail = (await call(stranger, `${harness.baseUrl}api/runs/${published}`)).body as RecordedRunDetail;
      expect(detail.owned).toBe(false);
      await page.getByTestId('replay-play').click();
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="timeline"]')?.getAttribute('data-time')) > 0,
        null,
        { timeout: 10_000 },
      );
      await scrubber.fill(String(detail.durationMs));
      await expect
        .poll(() => page.getByTestId('replay-sent').textContent(), { timeout: 10_000 })
        .toBe(String(detail.summary!.sent));
      for (const [worker, n] of Object.entries(detail.summary!.received)) {
        await expect
          .poll(() => page.getByTestId(`replay-count-${worker}`).textContent(), { timeout: 5_000 })
          .toBe(String(n));
      }
      // Over the API too, a reader of a public run may not change it.
      expect(
        (await call(stranger, `${harness.baseUrl}api/runs/${published}`, 'PATCH', { name: 'mine now' })).status,
      ).toBe(403);
      expect((await call(stranger, `${harness.baseUrl}api/runs/${published}`, 'DELETE')).status).toBe(403);

      // "Run again": a new playground, the stranger's own, running the same settings; the owner's is untouched.
      await page.getByTestId('run-again').click();
      await page.waitForURL((url) => url.searchParams.get('p') !== null && url.searchParams.get('run') === null, {
        timeout: 15_000,
      });
      await waitConnected(page);
      await page.locator('[data-testid="role"][data-role="owner"]').waitFor({ timeout: 10_000 });
      await expect
        .poll(async () => (await page.getByTestId('run-id').textContent())?.trim(), { timeout: 15_000 })
        .toMatch(/^run-/);
      const again = playgroundIdOf(page)!;
      expect(again).not.toBe(ownerPlayground);
      expect((await call(stranger, `${harness.baseUrl}api/playgrounds/${again}`)).status).toBe(200);
      expect((await call(harness.context, `${harness.baseUrl}api/playgrounds/${again}`)).status).toBe(404);
      await waitRunEnded(page);
      const strangerRun = (await page.getByTestId('run-id').textContent())?.trim() ?? '';
      expect(strangerRun).not.toBe(published);
      await expect
        .poll(
          async () =>
            ((await call(stranger, `${harness.baseUrl}api/runs/${strangerRun}`)).body as RecordedRunDetail).owned,
          { timeout: 15_000 },
        )
        .toBe(true);
      expect((await call(harness.context, `${harness.baseUrl}api/runs/${strangerRun}`)).status).toBe(404);

      // The permalink of a run its owner kept private: not available, and nothing of it shown.
      await page.goto(`${harness.baseUrl}?run=${kept}`);
      const refused = page.getByTestId('replay-error');
      await refused.waitFor({ timeout: 15_000 });
      expect(await refused.textContent()).toMatch(/not made it public/);
      expect(await page.getByTestId('replay-scrubber').count()).toBe(0);
      expect(await page.getByTestId('run-again').count()).toBe(0);

      // Made private again, the published one is no longer available either.
      await ownRow.getByTestId('toggle-public').click();
      await owner
        .locator(`[data-testid="history-row"][data-run="${published}"][data-public="false"]`)
        .waitFor({ timeout: 10_000 });
      expect((await call(stranger, `${harness.baseUrl}api/runs/${published}`)).status).toBe(404);

      // With the owner's watch link the stranger's history lists the owner's runs, without rename, publish or delete.
      await owner.getByTestId('copy-watch-link').click();
      await page.goto(await owner.getByTestId('watch-link').inputValue());
      await waitConnected(page);
      await page.locator('[data-testid="role"][data-role="watcher"]').waitFor({ timeout: 10_000 });
      for (const run of recorded) {
        const row = rowOf(page, run);
        await row.waitFor({ timeout: 10_000 });
        expect(await row.getAttribute('data-owned')).toBe('false');
        for (const action of ['rename-run', 'toggle-public', 'delete-run'])
          expect(await row.getByTestId(action).count(), action).toBe(0);
        expect(await row.getByTestId('export-json').count()).toBe(1);
      }
      expect(await rowOf(page, strangerRun).getAttribute('data-owned')).toBe('true');
      await harness.screenshot(page, 'e2e-public-runs-watcher-history');
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
