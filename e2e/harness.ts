/**
 * End-to-end harness: the real app (buildApp, real ZeroMQ sockets, the built page from dist/web) listening on a
 * free loopback port, and Debian's Chromium driven by playwright-core with a fresh profile. Nothing is
 * downloaded; everything is closed by `close()`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import * as zmq from 'zeromq';
import { DEFAULT_STATIC_DIR, buildApp } from '../server/app.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';

/** Flags that keep Chromium quiet on a closed network and inside a container. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go (git-ignored). */
export const RESULTS_DIR = path.resolve('test-results');

/** The Chromium to drive: $CHROMIUM_PATH, else Debian's. Throws a plain sentence when there is none. */
export function chromiumPath(): string {
  const executable = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executable))
    throw new Error("install Debian's chromium: apt-get install chromium, or set CHROMIUM_PATH");
  return executable;
}

export interface Harness {
  /** http://127.0.0.1:<port>/ */
  baseUrl: string;
  app: FastifyInstance;
  context: BrowserContext;
  /** A new tab; uncaught page errors are collected in `pageErrors`. */
  newPage(): Promise<Page>;
  /** Uncaught errors of every tab opened with newPage(). */
  pageErrors: string[];
  /** Saves a screenshot as test-results/<name>.png and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /**
   * A request to an API path (no leading slash) as this browser: with its session cookie, so it sees and owns
   * what the page's visitor does. A body is sent as JSON. Throws on a status other than 2xx.
   */
  api<T>(path: string, method?: string, body?: unknown): Promise<T>;
  /**
   * Another browser, as a second person would have: its own profile, so its own session cookie. Closed with the
   * harness.
   */
  newVisitor(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  viewport?: { width: number; height: number };
  /** The browser's language ('es-ES' for a Spanish user); Chromium's default otherwise. */
  locale?: string;
  /** Origins whose pages may frame the app (the server's --frame-ancestors); none by default. */
  frameAncestors?: string[];
}

/** Starts the app and a browser. Call close() in afterAll, even when a test failed. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const executablePath = chromiumPath();
  if (!fs.existsSync(path.join(DEFAULT_STATIC_DIR, 'index.html'))) {
    throw new Error('The page is not built: run `npx vite build` first (npm test builds it).');
  }
  // As server/main.ts does: never hang at exit on undelivered messages.
  zmq.context.blocky = false;
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-e2e-'));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-chromium-'));
  const otherProfiles: string[] = [];
  const removeDirs = () => {
    for (const dir of [userDataDir, ...otherProfiles]) fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  };
  const launch = (dir: string) =>
    chromium.launchPersistentContext(dir, {
      executablePath,
      headless: true,
      viewport: options.viewport ?? { width: 1280, height: 800 },
      args: options.locale ? [...CHROMIUM_ARGS, `--lang=${options.locale}`] : CHROMIUM_ARGS,
      ...(options.locale ? { locale: options.locale } : {}),
    });
  const others: BrowserContext[] = [];
  const app = await buildApp({
    store: ':memory:',
    policy: defaultPolicy({ runtimeDir }),
    frameAncestors: options.frameAncestors,
  });
  let context: BrowserContext;
  let baseUrl: string;
  try {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `${address}/`;
    context = await launch(userDataDir);
  } catch (error) {
    await app.close();
    removeDirs();
    throw error;
  }
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const pageErrors: string[] = [];
  let isClosed = false;
  return {
    baseUrl,
    app,
    context,
    pageErrors,
    async newPage() {
      const page = context.pages().find((p) => p.url() === 'about:blank') ?? (await context.newPage());
      page.on('pageerror', (error) => pageErrors.push(error.message));
      return page;
    },
    async api<T>(apiPath: string, method = 'GET', body?: unknown): Promise<T> {
      const response = await context.request.fetch(`${baseUrl}${apiPath}`, {
        method,
        ...(body === undefined ? {} : { data: body }),
      });
      if (!response.ok()) throw new Error(`${method} ${apiPath}: HTTP ${response.status()} ${await response.text()}`);
      return (await response.json()) as T;
    },
    async newVisitor() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-chromium-'));
      otherProfiles.push(dir);
      const other = await launch(dir);
      others.push(other);
      other.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
      return other;
    },
    async screenshot(page, name) {
      const file = path.join(RESULTS_DIR, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      try {
        for (const other of others) await other.close().catch(() => {});
        await context.close().catch(() => {});
        await app.close();
      } finally {
        removeDirs();
      }
    },
  };
}

/** Waits until the page's stream is connected (the status bar says so). */
export async function waitConnected(page: Page, timeout = 15_000): Promise<void> {
  await page.getByTestId('connection').filter({ hasText: 'connected' }).waitFor({ timeout });
}

/** Waits for the run badge to say the run ended. */
export async function waitRunEnded(page: Page, timeout = 30_000): Promise<void> {
  await page.locator('[data-testid="run-state"][data-state="ended"]').waitFor({ timeout });
}

/** The whole-number text content of a test id. */
export async function numberOf(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? '';
  const value = Number(text.trim());
  if (!Number.isFinite(value)) throw new Error(`[data-testid="${testId}"] is not a number: "${text}"`);
  return value;
}
