/**
 * Issue 9, embedding: a course page on another site shows a lesson in an <iframe> (`?embed=1&lesson=<id>`). The
 * parent pages are served from other loopback addresses (127.0.0.2 and 127.0.0.3: other sites than 127.0.0.1, so
 * the frame is a third-party context where the SameSite=Lax session cookie is not sent). The operator allowed the
 * first (frame-ancestors); the second's frame must be blocked by the browser.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Page } from 'playwright-core';
import { startHarness, type Harness } from './harness.ts';

/** A course page on another loopback address: one <iframe> of `frameSrc()`, with a title as the README shows. */
async function startCoursePage(
  host: string,
  frameSrc: () => string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/') {
      response.writeHead(404).end();
      return;
    }
    const src = frameSrc().replace(/&/g, '&amp;').replace(/"/g, '&quot;');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A course on ZeroMQ</title></head>
<body><h1>Lesson: the tutorial</h1>
<iframe id="playground" title="ZeroMQ playground: the tutorial" src="${src}" width="900" height="640"></iframe>
</body></html>`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The page's <iframe>, once its document has been committed (our page or the browser's error page). */
async function childFrame(page: Page): Promise<Frame> {
  await page.locator('#playground').waitFor({ timeout: 10_000 });
  const handle = await page.locator('#playground').elementHandle();
  const frame = await handle!.contentFrame();
  if (!frame) throw new Error('the iframe has no frame');
  return frame;
}

describe('a lesson embedded in a course page on another site (issue 9)', () => {
  let harness: Harness;
  let allowed: Awaited<ReturnType<typeof startCoursePage>>;
  let refused: Awaited<ReturnType<typeof startCoursePage>>;
  let embedUrl = '';

  beforeAll(async () => {
    allowed = await startCoursePage('127.0.0.2', () => embedUrl);
    refused = await startCoursePage('127.0.0.3', () => embedUrl);
    harness = await startHarness({ frameAncestors: [allowed.origin] });
    embedUrl = `${harness.baseUrl}?embed=1&lesson=tutorial&lang=en`;
  });

  afterAll(async () => {
    await harness?.close();
    await allowed?.close();
    await refused?.close();
  });

  it('loads in an allowed parent as its own visitor, and Run works inside the frame', { timeout: 90_000 }, async () => {
    // The policy the page is served with: the operator's parent and this server, no X-Frame-Options.
    const answer = await harness.context.request.get(embedUrl);
    expect(answer.headers()['content-security-policy']).toBe(`frame-ancestors 'self' ${allowed.origin}`);
    expect(answer.headers()['x-frame-options']).toBeUndefined();

    const page = await harness.newPage();
    await page.goto(`${allowed.origin}/`);
    const frame = await childFrame(page);
    const embed = frame.locator('[data-testid="embed"]');
    await embed.waitFor({ timeout: 15_000 });
    await frame.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: 15_000 });
    // The compact layout: the lesson's goal, the diagram, Run; none of the full page's panels or header.
    await frame.locator('[data-testid="lesson-goal"]').waitFor({ timeout: 10_000 });
    for (const absent of [
      'history',
      'share',
      'copy-watch-link',
      'lesson-panel',
      'history-link',
      'explainer',
      'workers-panel',
    ]) {
      expect(await frame.getByTestId(absent).count(), absent).toBe(0);
    }
    const lessonTitle = (await frame.getByTestId('embed-title').textContent())?.trim() ?? '';
    expect(lessonTitle.length).toBeGreaterThan(0);
    await expect.poll(() => frame.title(), { timeout: 5_000 }).toBe(`${lessonTitle} · ZeroMQ Pipeline Playground`);

    // The frame is its own visitor: the playground it made is not the top-level browser's (whose cookie it never sent).
    await expect.poll(() => new URL(frame.url()).searchParams.get('p'), { timeout: 10_000 }).toBeTruthy();
    const playground = new URL(frame.url()).searchParams.get('p')!;
    expect((await harness.context.request.get(`${harness.baseUrl}api/playgrounds/${playground}`)).status()).toBe(404);

    // Run, inside the frame: the burst goes out, the run ends, the goal is checked.
    await frame.getByTestId('run').click();
    await frame.locator('[data-testid="run-state"][data-state="ended"]').waitFor({ timeout: 30_000 });
    expect(Number(await frame.getByTestId('sent-count').textContent())).toBeGreaterThan(0);
    await frame.locator('[data-testid="lesson-goal"][data-status="not-met"]').waitFor({ timeout: 10_000 });
    await harness.screenshot(page, 'e2e-embed-course-page');
    expect(harness.pageErrors).toEqual([]);
    await page.close();
  });

  it('is blocked in a parent the operator did not allow', { timeout: 60_000 }, async () => {
    const page = await harness.newPage();
    const framed = page.waitForResponse(
      (response) => response.url().startsWith(embedUrl.split('?')[0]!) && response.url().includes('embed=1'),
      { timeout: 15_000 },
    );
    await page.goto(`${refused.origin}/`);
    const response = await framed;
    expect(response.headers()['content-security-policy']).toBe(`frame-ancestors 'self' ${allowed.origin}`);
    const frame = await childFrame(page);
    // The browser refuses to show the document: the frame holds its error page, never ours (nor our script).
    await expect.poll(() => frame.url(), { timeout: 10_000 }).toMatch(/^chrome-error:/);
    expect(await frame.locator('[data-testid="embed"]').count()).toBe(0);
    await page.close();
  });
});
