/**
 * Frame times of the page while the pipeline runs at about 1,000 tasks/s with 8 workers (issue 3, "Speed").
 * A measurement, not a test: `node_modules/.bin/tsx e2e/frame-times.ts [--sink] [--tasks N] [--interval MS]`.
 * Prints p50/p95/max of requestAnimationFrame deltas over ~3 s, idle and under load, and the long tasks seen.
 */
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { numberOf, startHarness, waitConnected, waitRunEnded } from './harness.ts';

const { values } = parseArgs({
  options: {
    sink: { type: 'boolean', default: false },
    tasks: { type: 'string', default: '5000' },
    interval: { type: 'string', default: '1' },
    workers: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '3' },
  },
});

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  over33: number;
  longTasks: number;
  longTaskMs: number;
}

/**
 * Runs in the page. A string, not a function: tsx (esbuild keepNames) would wrap a serialised function's inner
 * functions in a `__name` helper that does not exist in the page.
 */
const MEASURE_IN_PAGE = `async (durationMs) => {
  const long = [];
  const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) long.push(entry.duration); });
  try { observer.observe({ type: 'longtask', buffered: false }); } catch {}
  const deltas = [];
  await new Promise((resolve) => {
    let last = performance.now();
    const start = last;
    requestAnimationFrame(function frame(now) {
      deltas.push(now - last);
      last = now;
      if (now - start < durationMs) requestAnimationFrame(frame);
      else resolve();
    });
  });
  observer.disconnect();
  return { deltas: deltas.slice(1), long };
}`;

/** rAF deltas (ms) measured inside the page for `seconds`, plus long tasks (> 50 ms) seen meanwhile. */
async function measure(page: Page, seconds: number): Promise<FrameStats> {
  const raw = (await page.evaluate(`(${MEASURE_IN_PAGE})(${seconds * 1000})`)) as { deltas: number[]; long: number[] };
  const sorted = [...raw.deltas].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    frames: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted.at(-1) ?? 0,
    over33: sorted.filter((d) => d > 33).length,
    longTasks: raw.long.length,
    longTaskMs: raw.long.reduce((a, b) => a + b, 0),
  };
}

function show(label: string, s: FrameStats): void {
  console.log(
    `${label.padEnd(28)} frames ${String(s.frames).padStart(4)}  p50 ${s.p50.toFixed(1).padStart(5)} ms  p95 ${s.p95
      .toFixed(1)
      .padStart(
        5,
      )} ms  max ${s.max.toFixed(1).padStart(6)} ms  >33ms ${s.over33}  long tasks ${s.longTasks} (${Math.round(s.longTaskMs)} ms)`,
  );
}

const harness = await startHarness();
try {
  const page = await harness.newPage();
  await page.goto(`${harness.baseUrl}?scenario=pipeline`);
  await waitConnected(page);
  await page.getByTestId('worker-row-worker-2').waitFor();
  const workers = Number(values.workers);
  const transports = ['tcp', 'ipc', 'inproc'];
  for (let i = 3; i <= workers; i++) {
    await page.getByTestId('add-worker-transport').selectOption(transports[i % 3]!);
    await page.getByTestId('add-worker-work').fill(i % 2 === 0 ? '0' : '1-3');
    await page.getByTestId('add-worker').click();
    await page.getByTestId(`worker-row-worker-${i}`).waitFor();
  }
  if (values.sink) await page.getByTestId('sink-enabled').check();
  await page.getByTestId('tasks').fill(values.tasks);
  await page.getByTestId('interval').fill(values.interval);
  await page.getByTestId('tasks').press('Enter');

  show('idle (before the run)', await measure(page, 1));

  await page.getByTestId('run').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="acct-sent"]')?.textContent) > 0, null, {
    timeout: 30_000,
  });
  show('first second of the run', await measure(page, 1));
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="acct-sent"]')?.textContent) > 1000,
    null,
    { timeout: 30_000 },
  );
  const sentBefore = await numberOf(page, 'acct-sent');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async () =>
    Object.fromEntries(
      ((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map(
        (m) => [m.name, m.value],
      ),
    );
  const before = await metric();
  const t0 = Date.now();
  const loaded = await measure(page, Number(values.seconds));
  const after = await metric();
  const spent = (name: string) =>
    `${name.replace('Duration', '')} ${Math.round(((after[name] ?? 0) - (before[name] ?? 0)) * 1000)} ms`;
  console.log(
    `main thread over the window: ${['TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'].map(spent).join(', ')}`,
  );
  const rate = ((await numberOf(page, 'acct-sent')) - sentBefore) / ((Date.now() - t0) / 1000);
  show(`running (${workers} workers${values.sink ? ', sink' : ''})`, loaded);
  const dots = await page.locator('[data-testid="dot"]').count();
  console.log(`rate ≈ ${Math.round(rate)} tasks/s while measured; dots on screen at the end: ${dots}`);
  await waitRunEnded(page, 120_000);
  const sent = await numberOf(page, 'acct-sent');
  const done = await numberOf(page, 'acct-done');
  const lost = await numberOf(page, 'acct-lost');
  console.log(
    `run ended: sent ${sent}, done ${done}, lost ${lost}, dropped task events noted: ${await page.getByText('task events sampled out').count()}`,
  );
  if (harness.pageErrors.length > 0) console.log('page errors:', harness.pageErrors);
} finally {
  await harness.close();
}
