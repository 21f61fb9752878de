/**
 * Issue 4, end to end: a new user runs the tutorial, opens it from the history, drags the timeline to the moment
 * of the ipc bind and sees the diagram as it was then, exports the run and imports it back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { EventWindow, RecordedRunDetail, RunExport } from '../shared/protocol/history.ts';
import type { PlaygroundEvent } from '../shared/protocol/index.ts';
import { stateAt } from '../web/lib/replay.ts';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

const SHOTS = '/tmp/shots-history';

async function playhead(page: Page): Promise<number> {
  return Number(await page.getByTestId('timeline').getAttribute('data-time'));
}

/** Presses ← or → until the playhead is at `t` (each press moves to the previous or next event's moment). */
async function stepTo(page: Page, t: number): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const now = await playhead(page);
    if (now === t) return;
    await page.keyboard.press(now < t ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForFunction(
      (before) => Number(document.querySelector('[data-testid="timeline"]')?.getAttribute('data-time')) !== before,
      now,
      {
        timeout: 5000,
      },
    );
  }
  throw new Error(`the playhead did not reach t=${t} (at ${await playhead(page)})`);
}

/** What the replay shows: endpoint binds, counts, lists. */
async function shown(page: Page) {
  return page.evaluate(() => {
    const q = (s: string) => document.querySelector(`[data-testid="${s}"]`);
    const list = (w: string) =>
      [...document.querySelectorAll(`[data-testid="msg-${w}"] .body`)].map((n) => n.textContent ?? '');
    return {
      tcpBound: q('endpoint-tcp')?.getAttribute('data-bound'),
      ipcBound: q('endpoint-ipc')?.getAttribute('data-bound'),
      sent: Number(q('replay-sent')?.textContent),
      tcp: Number(q('count-worker-tcp')?.textContent),
      ipc: Number(q('count-worker-ipc')?.textContent),
      tcpLink: q('worker-node-worker-tcp')?.getAttribute('data-link'),
      ipcLink: q('worker-node-worker-ipc')?.getAttribute('data-link'),
      lists: { 'worker-tcp': list('worker-tcp'), 'worker-ipc': list('worker-ipc') },
    };
  });
}

function expected(events: PlaygroundEvent[], t: number) {
  const s = stateAt(events, t);
  return {
    tcpBound: String('tcp' in s.bound),
    ipcBound: String('ipc' in s.bound),
    sent: s.sent,
    tcp: s.received['worker-tcp'] ?? 0,
    ipc: s.received['worker-ipc'] ?? 0,
    tcpLink: s.links['worker-tcp'],
    ipcLink: s.links['worker-ipc'],
    lists: { 'worker-tcp': s.messages['worker-tcp'] ?? [], 'worker-ipc': s.messages['worker-ipc'] ?? [] },
  };
}

describe('history, replay, export and import in the browser (issue 4)', () => {
  let harness: Harness;
  let downloads: string;

  beforeAll(async () => {
    harness = await startHarness({ viewport: { width: 1280, height: 900 } });
    downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-dl-'));
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await harness?.close();
    if (downloads) fs.rmSync(downloads, { recursive: true, force: true });
  });

  it('runs the tutorial, replays it at the ipc bind, exports it and imports it back', { timeout: 90_000 }, async () => {
    const page = await harness.newPage();
    await page.goto(harness.baseUrl);
    await waitConnected(page);
    await page.getByTestId('interval').fill('100');
    await page.getByTestId('run').click();
    await waitRunEnded(page);
    const runId = (await page.getByTestId('run-id').textContent())?.trim() ?? '';

    // The run appears in the history once it is stored.
    const row = page.locator(`[data-testid="history-row"][data-run="${runId}"][data-status="ended"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getByTestId('row-tasks').textContent()).toBe('12');
    // The header's link counts the recorded runs and brings their panel (at the foot of the page) into view.
    await expect.poll(() => page.getByTestId('history-link').textContent()).toContain('(1)');
    await page.getByTestId('history-link').click();
    await expect
      .poll(() =>
        page
          .getByTestId('history')
          .evaluate((panel) => panel.getBoundingClientRect().top < document.documentElement.clientHeight),
      )
      .toBe(true);
    await expect.poll(() => row.getByTestId('distribution').textContent()).toContain('tcp');
    await page.getByTestId('history').screenshot({ path: path.join(SHOTS, 'e2e-history-panel.png') });

    // Open it from the list: the replay takes the diagram's place, and the URL is its permalink.
    await row.getByTestId('open-run').click();
    await page.getByTestId('replay-scrubber').waitFor({ timeout: 10_000 });
    expect(new URL(page.url()).searchParams.get('run')).toBe(runId);
    await page.getByTestId('replay-hints').waitFor();
    // Before its first event the run is drawn with the topology it started with; the header names the replay.
    await expect
      .poll(() => page.getByTestId('diagram').locator('[data-testid^="worker-node-"]').count(), { timeout: 5_000 })
      .toBe(2);
    expect(await page.getByTestId('replay-status').textContent()).toContain(runId);
    expect(await page.getByTestId('run-id').count()).toBe(0);

    const detail = await harness.api<RecordedRunDetail>(`api/runs/${runId}`);
    const window = await harness.api<EventWindow>(`api/runs/${runId}/events?limit=5000`);
    const events = window.events;
    const bind = events.find((e) => e.type === 'endpoint:bound' && e.endpoint.name === 'ipc')!;
    expect(bind).toBeDefined();

    // Drag the timeline's thumb to about the moment of the ipc bind.
    const scrubber = page.getByTestId('replay-scrubber');
    // The mouse only reaches what is on screen.
    await scrubber.scrollIntoViewIfNeeded();
    const box = (await scrubber.boundingBox())!;
    const thumb = 8; // half the thumb: the track's usable length is the width minus the thumb
    const xAt = (t: number) => box.x + thumb + ((box.width - 2 * thumb) * t) / detail.durationMs;
    await page.mouse.move(xAt(0), box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(xAt(detail.durationMs * 0.2), box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(xAt(bind.t), box.y + box.height / 2, { steps: 6 });
    await page.mouse.up();
    const dragged = await playhead(page);
    expect(Math.abs(dragged - bind.t)).toBeLessThan(detail.durationMs * 0.1);
    // Whatever moment the drag landed on, the page shows the run exactly as it was then.
    await expect.poll(() => shown(page)).toEqual(expected(events, dragged));

    // Then to the bind itself, event by event with the arrow keys.
    await stepTo(page, bind.t);
    await expect.poll(() => shown(page)).toEqual(expected(events, bind.t));
    const atBind = await shown(page);
    expect(atBind.ipcBound).toBe('true');
    expect(atBind.tcp).toBeGreaterThanOrEqual(3); // "1", "2", "3" went over tcp before ipc existed
    expect(atBind.lists['worker-tcp'].slice(0, 3)).toEqual(['1', '2', '3']);
    expect(await page.getByTestId('replay-current').textContent()).toContain('endpoint:bound ipc');
    await page.screenshot({ path: path.join(SHOTS, 'e2e-replay-at-ipc-bind.png') });

    // One event earlier the ipc endpoint did not exist yet.
    const before = events.filter((e) => e.t < bind.t).at(-1)!;
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => playhead(page)).toBe(before.t);
    expect((await shown(page)).ipcBound).toBe('false');

    // Space plays: the playhead moves on by itself; Space again pauses.
    await page.keyboard.press('Space');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="timeline"]')?.getAttribute('data-playing') === 'true',
      null,
      { timeout: 5000 },
    );
    await page.waitForFunction(
      (t) => Number(document.querySelector('[data-testid="timeline"]')?.getAttribute('data-time')) > t,
      before.t,
      {
        timeout: 5000,
      },
    );
    await page.keyboard.press('Space');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="timeline"]')?.getAttribute('data-playing') === 'false',
      null,
      { timeout: 5000 },
    );
    await expect.poll(async () => shown(page)).toEqual(expected(events, await playhead(page)));

    // Export it.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10_000 }),
      page.getByTestId('replay-export-json').click(),
    ]);
    const file = path.join(downloads, download.suggestedFilename() || 'run.json');
    await download.saveAs(file);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as RunExport;
    expect(exported.format).toBe('zmq-pipeline-playground/run');
    expect(exported.events.length).toBe(detail.eventCount);

    // A foreign file is refused with the reason; the run exported a moment ago is imported.
    const foreign = path.join(downloads, 'foreign.json');
    fs.writeFileSync(foreign, JSON.stringify({ format: 'some-other-tool/session', version: 1 }));
    await page.getByTestId('import-file').setInputFiles(foreign);
    await page
      .getByTestId('import-message')
      .filter({ hasText: 'some-other-tool/session' })
      .waitFor({ timeout: 10_000 });

    await page.getByTestId('import-file').setInputFiles(file);
    await page.getByTestId('import-message').filter({ hasText: detail.name }).waitFor({ timeout: 15_000 });
    const imported = page.locator('[data-testid="history-row"]').first();
    await expect.poll(() => imported.getAttribute('data-run')).not.toBe(runId);
    expect(await imported.textContent()).toContain(detail.name);
    await page.getByTestId('history').screenshot({ path: path.join(SHOTS, 'e2e-history-after-import.png') });

    // The import replays: open it and step to its ipc bind.
    const importedId = (await imported.getAttribute('data-run'))!;
    await imported.getByTestId('open-run').click();
    await page
      .locator(`[data-testid="replay"][data-run="${importedId}"] [data-testid="replay-scrubber"]`)
      .waitFor({ timeout: 10_000 });
    await page.getByTestId('replay-scrubber').focus();
    await stepTo(page, bind.t);
    await expect.poll(() => shown(page)).toEqual(expected(events, bind.t));

    // Compare the run and its import: the same distribution.
    await page.getByTestId(`compare-${runId}`).check();
    await page.getByTestId(`compare-${importedId}`).check();
    await page.getByTestId('compare').waitFor();
    expect(await page.getByTestId('compare-time-a').textContent()).toBe(
      await page.getByTestId('compare-time-b').textContent(),
    );
    await page.getByTestId('compare').screenshot({ path: path.join(SHOTS, 'e2e-compare.png') });

    // The permalink opens the replay directly in a new tab.
    const second = await harness.newPage();
    await second.goto(`${harness.baseUrl}?run=${runId}`);
    await second.getByTestId('replay-scrubber').waitFor({ timeout: 10_000 });
    expect(await second.getByTestId('replay-name').textContent()).toBe(detail.name);

    // "Run again with the same settings": a new playground with the run's scenario, interval and workers runs live.
    const firstPlayground = new URL(page.url()).searchParams.get('p');
    await second.getByTestId('run-again').click();
    await second.waitForURL(
      (url) =>
        url.searchParams.get('p') !== null &&
        url.searchParams.get('p') !== firstPlayground &&
        !url.searchParams.has('run'),
      {
        timeout: 15_000,
      },
    );
    await waitConnected(second);
    await second.getByTestId('diagram').waitFor();
    await expect.poll(() => second.getByTestId('run-id').textContent(), { timeout: 15_000 }).not.toBe(runId);
    await waitRunEnded(second);
    const againId = (await second.getByTestId('run-id').textContent())?.trim() ?? '';
    const again = await harness.api<RecordedRunDetail>(`api/runs/${againId}`);
    expect(again.params).toEqual(detail.params);
    expect(again.workers.map((w) => [w.id, w.transport])).toEqual(detail.workers.map((w) => [w.id, w.transport]));
    expect(new URL(second.url()).searchParams.has('again')).toBe(false);
    await second.close();
    await page.close();
    expect(harness.pageErrors).toEqual([]);
  });

  it(
    'replays a run of more than 20,000 events window by window, with a worker added half-way',
    { timeout: 90_000 },
    async () => {
      // As the browser's visitor (its cookie): the run is then its own, and its permalink opens in the page.
      const api = async <T>(method: string, url: string, body?: unknown): Promise<T> =>
        await harness.api<T>(url, method, body);
      const until = async <T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const value = await probe();
          if (value !== null) return value;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      // 7,500 tasks, one a millisecond (about 22,500 events); a third worker joins once 2,500 have been sent.
      const playground = await api<{ id: string; workers: { id: string }[] }>('POST', 'api/playgrounds', {
        scenario: 'pipeline',
        params: { tasks: 7500, intervalMs: 1, drainMs: 500 },
      });
      for (const worker of playground.workers)
        await api('PATCH', `api/playgrounds/${playground.id}/workers/${worker.id}`, { workMs: { min: 0, max: 0 } });
      const { run } = await api<{ run: string }>('POST', `api/playgrounds/${playground.id}/runs`, {});
      type Live = { summary: { sent: number } | null; endedAt: string | null };
      await until(
        '2,500 sends',
        async () =>
          ((await api<Live>('GET', `api/playgrounds/${playground.id}/runs/${run}`)).summary?.sent ?? 0) >= 2500 || null,
      );
      const newcomer = await api<{ id: string }>('POST', `api/playgrounds/${playground.id}/workers`, {
        transport: 'tcp',
        workMs: { min: 0, max: 0 },
      });
      const detail = await until('the recorded run to end', async () => {
        const d = await harness.api<RecordedRunDetail>(`api/runs/${run}`).catch(() => null);
        return d?.status === 'ended' ? d : null;
      });
      expect(detail.eventCount).toBeGreaterThan(20_000);
      const summary = detail.summary!;
      expect(summary.received[newcomer.id] ?? 0, 'the newcomer took part of the batch').toBeGreaterThan(0);

      // Its permalink opens it; at the start the newcomer is not on the diagram yet.
      const page = await harness.newPage();
      await page.goto(`${harness.baseUrl}?run=${run}`);
      const scrubber = page.getByTestId('replay-scrubber');
      await scrubber.waitFor({ timeout: 15_000 });
      await page.getByTestId('worker-node-worker-1').waitFor({ timeout: 10_000 });
      expect(await page.getByTestId(`worker-node-${newcomer.id}`).count()).toBe(0);

      // Jump to the end: the window loaded there starts long after the join, and the diagram still has the newcomer,
      // with the exact counts the run ended with.
      await scrubber.fill(String(detail.durationMs));
      await page.getByTestId(`worker-node-${newcomer.id}`).waitFor({ timeout: 10_000 });
      await expect
        .poll(() => page.getByTestId('replay-sent').textContent(), { timeout: 10_000 })
        .toBe(String(summary.sent));
      for (const [worker, n] of Object.entries(summary.received)) {
        await expect
          .poll(() => page.getByTestId(`replay-count-${worker}`).textContent(), { timeout: 5_000 })
          .toBe(String(n));
      }
      await page.close();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
