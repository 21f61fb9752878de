/**
 * Issue 10.6, end to end: a fresh sandbox's tcp port is only chosen when the ventilator binds, so the code panel
 * shows no worker program until then (it used to show `tcp://127.0.0.1:PORT`, which crashes with "ZMQError:
 * Invalid argument"): it says, in the page's language, to press Run once and then copy. After the run, the
 * worker names the real port, and the Copy button is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaygroundInfo } from '../shared/protocol/index.ts';
import { EN } from '../web/lib/i18n/en.ts';
import { ES } from '../web/lib/i18n/es.ts';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

describe('the code panel before the first run (issue 10.6)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it(
    'says to press Run once instead of showing a worker with a port not chosen yet; then shows the real one',
    { timeout: 60_000 },
    async () => {
      const page = await harness.newPage();
      await page.goto(harness.baseUrl);
      await waitConnected(page);
      await page.getByTestId('scenario-pipeline').click();
      await page.getByTestId('worker-row-worker-2').waitFor();
      await page.getByTestId('code-lang-python').click();
      await page.getByTestId('code-role-worker').click();

      const pending = page.getByTestId('code-pending');
      await pending.waitFor({ timeout: 5_000 });
      await expect.poll(() => pending.textContent(), { timeout: 5_000 }).toBe(EN['code.pending.ventilator']);
      expect(await page.getByTestId('code-text').count()).toBe(0);
      expect(await page.getByTestId('code-copy').count()).toBe(0);
      expect(await page.getByTestId('code-panel').textContent()).not.toMatch(/PORT|127\.0\.0\.1:\*/);

      // The same in Spanish.
      await page.getByTestId('lang-es').click();
      await expect.poll(() => pending.textContent(), { timeout: 5_000 }).toBe(ES['code.pending.ventilator']);
      await page.getByTestId('lang-en').click();

      // The standalone ventilator binds a port of its own: it can be copied at once.
      await page.getByTestId('code-role-ventilator').click();
      await page.getByTestId('code-text').waitFor({ timeout: 5_000 });
      await expect
        .poll(() => page.getByTestId('code-text').textContent(), { timeout: 5_000 })
        .toContain('"tcp://127.0.0.1:5557"');
      await page.getByTestId('code-role-worker').click();

      await page.getByTestId('run').click();
      await waitRunEnded(page);
      const id = new URL(page.url()).searchParams.get('p');
      const info = await harness.api<PlaygroundInfo>(`api/playgrounds/${id}`);
      const tcp = info.endpoints.find((endpoint) => endpoint.name === 'tcp')!;
      expect(tcp.actual).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      await page.getByTestId('code-text').waitFor({ timeout: 5_000 });
      await expect
        .poll(() => page.getByTestId('code-text').textContent(), { timeout: 5_000 })
        .toContain(`"${tcp.actual}"`);
      expect(await pending.count()).toBe(0);
      await page.getByTestId('code-copy').waitFor();
      expect(harness.pageErrors).toEqual([]);
    },
  );
});
