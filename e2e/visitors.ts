/**
 * What the e2e tests with two visitors (two browser profiles, so two session cookies) share: a request made as one
 * of them, and the playground a page is on.
 */
import type { BrowserContext, Page } from 'playwright-core';

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
