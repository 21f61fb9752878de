/**
 * What the e2e tests with two visitors (two browser profiles, so two session cookies) share: a request made as one
 * of them, the playground a page is on, and a second visitor opening the first one's watch link.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { waitConnected, type Harness } from './harness.ts';

/** A request as the browser of `context` (its cookie); answers the status and the parsed body. */
export async function call(
  context: BrowserContext,
  url: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await context.request.fetch(url, { method, ...(body === undefined ? {} : { data: body }) });
  const text = await response.text();
  return { status: response.status(), body: text ? (JSON.parse(text) as unknown) : null };
}

/** The playground a page is on (its `?p=` id), or null. */
export const playgroundIdOf = (page: Page) => new URL(page.url()).searchParams.get('p');

/**
 * Copies the owner's watch link (from its page's share bar) and opens it as a new visitor (another profile): that
 * visitor's page once connected as a watcher. Its page errors are the harness's to report, as its own pages' are.
 */
export async function openWatchLinkAsNewVisitor(harness: Harness, owner: Page): Promise<Page> {
  await owner.getByTestId('copy-watch-link').click();
  const watchLink = await owner.getByTestId('watch-link').inputValue();
  const profile = await harness.newVisitor();
  const page = profile.pages()[0] ?? (await profile.newPage());
  page.on('pageerror', (error) => harness.pageErrors.push(error.message));
  await page.goto(watchLink);
  await waitConnected(page);
  await page.locator('[data-testid="role"][data-role="watcher"]').waitFor({ timeout: 10_000 });
  return page;
}
