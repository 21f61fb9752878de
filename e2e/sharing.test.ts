/**
 * Issue 9 in Chromium, with two browsers (two profiles, so two session cookies): a stranger sees none of the
 * owner's playgrounds or runs and cannot drive them; with the owner's watch link it sees the run live and no
 * controls; with the invite link it can drive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import type { PlaygroundInfo, RecordedRunDetail, RunPage } from '../shared/protocol/index.ts';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';
import { call, playgroundIdOf } from './visitors.ts';

describe('two visitors (issue 9)', () => {
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
    "a stranger sees nothing of the owner's; a watch link shows the run live without controls; an invite link drives",
    { timeout: 120_000 },
    async () => {
      // The owner: a tutorial of its own, slowed down so a run lasts a few seconds, and one run recorded.
      const owner = await harness.newPage();
      await owner.goto(harness.baseUrl);
      await waitConnected(owner);
      await owner.getByTestId('role').filter({ hasText: /./ }).waitFor();
      expect(await owner.getByTestId('role').getAttribute('data-role')).toBe('owner');
      const id = playgroundIdOf(owner)!;
      expect(id).toMatch(/^pg-[A-Za-z0-9_-]{22}$/);
      await owner.getByTestId('interval').fill('250');
      await owner.getByTestId('run').click();
      await waitRunEnded(owner);
      const firstRun = (await owner.getByTestId('run-id').textContent())?.trim() ?? '';
      await expect
        .poll(async () => (await harness.api<RecordedRunDetail>(`api/runs/${firstRun}`)).status, { timeout: 15_000 })
        .toBe('ended');

      // The stranger: its own playground; nothing of the owner's listed or reachable, over the API or in the page.
      const page = stranger.pages()[0] ?? (await stranger.newPage());
      page.on('pageerror', (error) => harness.pageErrors.push(error.message));
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      const own = playgroundIdOf(page)!;
      expect(own).not.toBe(id);
      const listed = (await call(stranger, `${harness.baseUrl}api/playgrounds`)).body as PlaygroundInfo[];
      expect(listed.map((p) => p.id)).toEqual([own]);
      const runs = (await call(stranger, `${harness.baseUrl}api/runs`)).body as RunPage;
      expect(runs.runs.map((r) => r.id)).not.toContain(firstRun);
      expect((await call(stranger, `${harness.baseUrl}api/runs/${firstRun}`)).status).toBe(404);
      expect((await call(stranger, `${harness.baseUrl}api/playgrounds/${id}`)).status).toBe(404);
      expect((await call(stranger, `${harness.baseUrl}api/playgrounds/${id}/runs`, 'POST', {})).status).toBe(404);
      expect((await call(stranger, `${harness.baseUrl}api/playgrounds/${id}`, 'DELETE')).status).toBe(404);
      // The owner's plain link (no token) opens a playground of the stranger's own, not the owner's.
      await page.goto(`${harness.baseUrl}?p=${id}`);
      await waitConnected(page);
      await expect.poll(() => playgroundIdOf(page), { timeout: 10_000 }).not.toBe(id);
      expect(await page.getByTestId('role').getAttribute('data-role')).toBe('owner');
      expect((await harness.api<PlaygroundInfo>(`api/playgrounds/${id}`)).activeRun).toBeNull();

      // The owner copies the watch link; the stranger opens it: the owner's playground, read-only.
      await owner.getByTestId('copy-watch-link').click();
      const watchLink = await owner.getByTestId('watch-link').inputValue();
      expect(watchLink).toMatch(new RegExp(`\\?p=${id}&watch=[A-Za-z0-9_-]{32}$`));
      await page.goto(watchLink);
      await waitConnected(page);
      await page.locator('[data-testid="role"][data-role="watcher"]').waitFor({ timeout: 10_000 });
      expect(playgroundIdOf(page)).toBe(id);
      expect(new URL(page.url()).searchParams.has('watch')).toBe(false); // the token leaves the address bar
      for (const control of [
        'run',
        'stop',
        'interval',
        'builtin-workers',
        'workers-panel',
        'copy-watch-link',
        'copy-invite-link',
      ]) {
        expect(await page.getByTestId(control).count(), control).toBe(0);
      }
      // ...and sees the owner's next run live.
      await owner.getByTestId('run').click();
      await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 15_000 });
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="count-worker-tcp"]')?.textContent) > 0,
        null,
        { timeout: 15_000 },
      );
      await waitRunEnded(page);
      await waitRunEnded(owner);
      const secondRun = (await owner.getByTestId('run-id').textContent())?.trim();
      expect((await page.getByTestId('run-id').textContent())?.trim()).toBe(secondRun);
      await harness.screenshot(page, 'e2e-sharing-watcher');
      // A watcher's own requests to drive are refused.
      const refused = await call(stranger, `${harness.baseUrl}api/playgrounds/${id}/runs`, 'POST', {});
      expect(refused).toMatchObject({ status: 403, body: { code: 'PG_ERR_FORBIDDEN' } });

      // The invite link: the stranger may drive now (but the runs stay the owner's).
      await owner.getByTestId('copy-invite-link').click();
      const inviteLink = await owner.getByTestId('invite-link').inputValue();
      await page.goto(inviteLink);
      await waitConnected(page);
      await page.locator('[data-testid="role"][data-role="driver"]').waitFor({ timeout: 10_000 });
      expect(playgroundIdOf(page)).toBe(id);
      await page.getByTestId('preset-0').click();
      await expect
        .poll(async () => (await harness.api<PlaygroundInfo>(`api/playgrounds/${id}`)).params.intervalMs, {
          timeout: 10_000,
        })
        .toBe(0);
      await page.getByTestId('run').click();
      // The owner's page sees the run the invited visitor started.
      await expect
        .poll(async () => (await owner.getByTestId('run-id').textContent())?.trim(), { timeout: 15_000 })
        .not.toBe(secondRun);
      await waitRunEnded(owner);
      await waitRunEnded(page);
      const thirdRun = (await owner.getByTestId('run-id').textContent())?.trim() ?? '';
      await expect
        .poll(async () => (await harness.api<RecordedRunDetail>(`api/runs/${thirdRun}`)).owned, { timeout: 15_000 })
        .toBe(true);
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
