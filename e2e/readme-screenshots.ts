/**
 * The README's three pictures of the page (the lessons' own are made by e2e/lesson-screenshots.ts): starts the
 * server in-process (e2e/harness.ts), drives the page as a visitor would, in English at 1280 px wide, and saves
 *
 * - docs/screenshots/tutorial.png: the tutorial at 1 s, mid-run after the ipc bind, at the moment "q,5" flies to
 *   the worker that receives it (1280x1000, so the workers' lists show);
 * - docs/screenshots/pipeline.png: the sandbox mid-run with eight workers on tcp, ipc and inproc and a sink,
 *   worker-4 (its own process) hung, worker-3 (its own process) killed with its task lost (from the sandbox's
 *   heading to the diagram's legend);
 * - docs/screenshots/patterns.png: the patterns page, part 4 (the football narrator) mid-run, after a third fan with
 *   another filter joined the running graph and had two of its matches: the whole page.
 *
 *   flock /tmp/zpg-build.lock npx vite build && npx tsx e2e/readme-screenshots.ts
 *
 * Not a test: it checks only that each moment it waits for comes, and fails loudly if a wait times out.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { PlaygroundInfo, WorkerInfo } from '../shared/protocol/index.ts';
import { startHarness, waitConnected, waitRunEnded, type Harness } from './harness.ts';

const OUT = path.resolve('docs/screenshots');

/** Opens the page in English (the language is remembered in the browser: set it before the page starts). */
async function openInEnglish(harness: Harness, page: Page, query: string): Promise<void> {
  await page.goto(harness.baseUrl);
  await page.evaluate(() => window.localStorage.setItem('zmq-playground.lang', 'en'));
  await page.goto(`${harness.baseUrl}${query}`);
}

/** The tutorial at 1 s: shot while the dot of "q,5" is on its way, then the run is stopped. */
async function tutorial(harness: Harness, page: Page): Promise<void> {
  // Taller than the others: the workers' lists under the diagram show who got 1, 2, 3 and the texts after them.
  await page.setViewportSize({ width: 1280, height: 1000 });
  await openInEnglish(harness, page, '');
  await waitConnected(page);
  await page.getByTestId('worker-node-worker-ipc').waitFor();
  await page.getByTestId('interval').fill('1000');
  await page.getByTestId('run').click();
  // The dot carries the message's text as its label and flies for a fraction of the interval: catch it in the
  // middle of its link (checked on every animation frame) and hold the page's frames there, so the dot is still in
  // the air when the picture is taken on a busy machine; the frames are handed back afterwards.
  await page.mouse.move(1, 1);
  await page.waitForFunction(
    () => {
      // The dots are drawn on a canvas; its twin lists each dot in the air with its label. "q,5" flies 600 ms
      // (the flight at interval 1 s): about half-way along its link 330 ms after it took off.
      const twin = [...document.querySelectorAll<HTMLElement>('[data-testid="dots"] [data-testid="dot"]')];
      const seen = window as unknown as { q5TookOff?: number };
      if (!twin.some((dot) => dot.textContent?.trim() === 'q,5')) return false;
      seen.q5TookOff ??= performance.now();
      const inTheAir = performance.now() - seen.q5TookOff >= 330;
      if (!inTheAir) return false;
      const held: FrameRequestCallback[] = [];
      const real = window.requestAnimationFrame.bind(window);
      Object.assign(window, { heldFrames: { held, real } });
      window.requestAnimationFrame = (callback) => (held.push(callback), 0);
      return true;
    },
    undefined,
    { timeout: 30_000, polling: 'raf' },
  );
  const file = path.join(OUT, 'tutorial.png');
  await page.screenshot({ path: file });
  console.log(file);
  await page.evaluate(() => {
    const { held, real } = (
      window as unknown as { heldFrames: { held: FrameRequestCallback[]; real: typeof requestAnimationFrame } }
    ).heldFrames;
    window.requestAnimationFrame = real;
    for (const callback of held) real(callback);
  });
  await page.getByTestId('stop').click();
  await waitRunEnded(page);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The sandbox with eight workers and a sink, mid-run, one process worker hung and one killed. */
async function pipeline(harness: Harness, page: Page): Promise<void> {
  await openInEnglish(harness, page, '');
  await waitConnected(page);
  await page.getByTestId('scenario-pipeline').click();
  await page.getByTestId('worker-row-worker-2').waitFor();
  const playground = new URL(page.url()).searchParams.get('p');
  if (!playground) throw new Error('the sandbox has no playground in its link');
  const api = `api/playgrounds/${playground}`;
  const info = await harness.api<PlaygroundInfo>(api);
  // The sandbox starts with two workers; worker-3 and worker-4 run as processes (they can be killed and hung).
  const wanted: { transport: WorkerInfo['transport']; mode: WorkerInfo['mode'] }[] = [
    { transport: 'tcp', mode: 'process' },
    { transport: 'ipc', mode: 'process' },
    { transport: 'inproc', mode: 'in-process' },
    { transport: 'tcp', mode: 'in-process' },
    { transport: 'ipc', mode: 'in-process' },
    { transport: 'tcp', mode: 'in-process' },
  ];
  for (const [i, worker] of wanted.slice(0, 8 - info.workers.length).entries()) {
    // worker-3 is slower, so it is busy on a task when it is killed: that task is lost with it.
    const workMs = i === 0 ? { min: 20, max: 30 } : { min: 5, max: 15 };
    await harness.api<WorkerInfo>(`${api}/workers`, 'POST', { ...worker, workMs });
  }
  await harness.api(`${api}/sink`, 'PATCH', { enabled: true, transport: 'tcp' });
  await harness.api(`${api}/params`, 'PATCH', { tasks: 6000, intervalMs: 3, payloadBytes: 16, syncStart: true });
  await page.getByTestId('worker-row-worker-8').waitFor({ timeout: 15_000 });
  await page.getByTestId('run').click();
  await page.locator('[data-testid="run-state"][data-state="running"]').waitFor({ timeout: 15_000 });

  const receivedAtLeast = (worker: string, n: number) =>
    page.waitForFunction(
      ([id, least]) =>
        Number(document.querySelector(`[data-testid="worker-received-${id}"]`)?.textContent) >= Number(least),
      [worker, String(n)] as const,
      { timeout: 30_000 },
    );
  await receivedAtLeast('worker-4', 20);
  await page.getByTestId('worker-hang-worker-4').click();
  await page.locator('[data-testid="worker-node-worker-4"][data-state="hung"]').waitFor({ timeout: 10_000 });
  await receivedAtLeast('worker-3', 30);
  await page.getByTestId('worker-kill-worker-3').click();
  await page.locator('[data-testid="worker-node-worker-3"][data-state="killed"]').waitFor({ timeout: 10_000 });
  // The task worker-3 was working on dies with it; the batch goes on for the others.
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="acct-lost"]')?.textContent) > 0,
    undefined,
    { timeout: 30_000 },
  );
  const running = await page.locator('[data-testid="run-state"][data-state="running"]').count();
  if (running === 0) throw new Error('the batch ended before the picture: make it longer');
  await page.mouse.move(1, 1);
  // From the sandbox's heading to the diagram's legend: the section's top and the legend's bottom.
  const section = page.getByTestId('tasks').locator('xpath=ancestor::section[1]');
  const legend = page
    .getByTestId('diagram')
    .locator('xpath=ancestor::div[contains(@class,"diagram")][1]')
    .locator('ul.legend');
  await section.evaluate((element) => element.scrollIntoView({ block: 'start' }));
  const top = (await section.boundingBox())!;
  const bottom = (await legend.boundingBox())!;
  const scrollY = await page.evaluate(() => window.scrollY);
  const file = path.join(OUT, 'pipeline.png');
  await page.screenshot({
    path: file,
    fullPage: true,
    clip: { x: 0, y: scrollY + top.y - 8, width: 1280, height: bottom.y + bottom.height - top.y + 18 },
  });
  console.log(file, 'lost', await page.getByTestId('acct-lost').textContent());
  await page.getByTestId('worker-resume-worker-4').click();
  await page.getByTestId('stop').click();
  await waitRunEnded(page, 60_000);
}

/**
 * The patterns page, part 4: run until each fan has had two of its matches (the rest is filtered), then add a
 * subscriber with another filter while the narrator publishes, and shoot once it has had two of its own, at the
 * moment a message flies; then Stop.
 */
async function patterns(harness: Harness, page: Page): Promise<void> {
  await openInEnglish(harness, page, '?graph=series-4');
  await page.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
  await page.getByTestId('graph-run').click();
  await page.locator('[data-testid="graph-state"][data-state="running"]').waitFor({ timeout: 15_000 });
  const received = (ids: string[], atLeast: number) =>
    page.waitForFunction(
      ([list, n]) =>
        (list as string[]).every(
          (id) =>
            Number(
              document.querySelector(`[data-testid="graph-node"][data-node="${id}"]`)?.getAttribute('data-received'),
            ) >= (n as number),
        ),
      [ids, atLeast] as const,
      { timeout: 40_000 },
    );
  await received(['fan-1', 'fan-2'], 2);
  const add = page.getByTestId('graph-add-subscriber');
  await add.locator('input[name="name"]').fill('fan-3');
  await add.locator('input[name="prefixes"]').fill('italia, rusia, holanda, portugal');
  await add.locator('button[type="submit"]').click();
  await received(['fan-3'], 2);
  await page.locator('[data-testid="graph-dot"]').first().waitFor({ timeout: 15_000 });
  await page.mouse.move(1, 1);
  const file = path.join(OUT, 'patterns.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log(file);
  await page.getByTestId('graph-stop').click();
  await page.locator('[data-testid="graph-state"][data-state="ended"]').waitFor({ timeout: 15_000 });
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const harness = await startHarness({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  try {
    const only = process.argv.slice(2);
    const shots = { tutorial, pipeline, patterns };
    for (const [name, shoot] of Object.entries(shots)) {
      if (only.length > 0 && !only.includes(name)) continue;
      await shoot(harness, await harness.newPage());
    }
    if (harness.pageErrors.length > 0) console.error('page errors:', harness.pageErrors);
  } finally {
    await harness.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
