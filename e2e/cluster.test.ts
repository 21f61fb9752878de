/**
 * Issue 13 end to end: `npm run cluster` as a user starts it (scripts/cluster.ts: the instances a and b, HAProxy with
 * deploy/haproxy.cfg, the shared PostgreSQL once the server takes it), and Chromium through the proxy:
 * - visitor 1 runs the tutorial on one instance; visitor 2's playground lands on the other (the least loaded);
 * - visitor 1's instance is SIGKILLed mid-run (a sandbox run with a process worker on ipc): the proxy stops routing
 *   to it (503 PG_ERR_INSTANCE_DOWN for its playgrounds, everything else to the other), the other keeps serving,
 *   and visitor 1's page says that the playground's server stopped, that the recorded runs are safe, and opens a
 *   new playground on the live instance (its patterns page says it too);
 * - with PostgreSQL, the runs recorded on the dead instance are listed and replayed through the other, which marks
 *   the interrupted run incomplete before the dead instance restarts (server/recorder/pg/liveness.ts);
 * - restarted, the instance marks the interrupted run incomplete (a SQLite file: its own), the finished run is
 *   intact, and its ipc files and the killed server's worker processes are gone.
 * Skipped only when HAProxy is not installed (scripts/test-deps.sh installs it as root).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RecordedRunDetail, RunPage } from '../shared/protocol/history.ts';
import { CHROMIUM_ARGS, chromiumPath, waitConnected, waitRunEnded } from './harness.ts';

const SHOTS = '/tmp/h2-shots';
/** The cluster's whole output and the test's notes, written at the end of every run (pass or fail). */
const LOG_FILE = process.env.CLUSTER_LOG ?? path.join(SHOTS, 'cluster-log.txt');
const ROOT = path.resolve(import.meta.dirname, '..');

function haproxyMissing(): string | null {
  if (process.env.HAPROXY && fs.existsSync(process.env.HAPROXY)) return null;
  if (['/usr/sbin/haproxy', '/usr/bin/haproxy'].some((file) => fs.existsSync(file))) return null;
  if (spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim()) return null;
  return 'HAProxy is not installed and scripts/test-deps.sh could not install it (not root?): apt-get install haproxy';
}
const skipReason = haproxyMissing();
/** The shared PostgreSQL, as `npm run cluster` starts it; CLUSTER_STORE=sqlite tries a SQLite file per instance. */
const STORE = process.env.CLUSTER_STORE ?? 'postgres';

/** `npm run cluster` as a child: its output lines, the instances it announces, and commands on its stdin. */
class Cluster {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  exited = false;

  constructor() {
    // As `npm run cluster -- --from-sources --port 0` runs it (tsx), without npm in between, so the pid is the script's.
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/cluster.ts', '--from-sources', '--port', '0', '--store', STORE, '--proxy-log'],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        for (const wake of this.#waiters) wake();
      });
    }
    this.child.once('exit', () => {
      this.exited = true;
      for (const wake of this.#waiters) wake();
    });
  }

  /** The first line (from `from` on) matching `pattern`, waited for up to `timeoutMs`. */
  async line(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines.slice(from)) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (this.exited) throw new Error(`the cluster ended before ${pattern}:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.#waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  command(line: string): void {
    this.note(`command: ${line}`);
    this.child.stdin!.write(`${line}\n`);
  }

  /** A line of the test's own in the cluster's log, with the wall time (HAProxy's request lines carry theirs). */
  note(text: string): void {
    this.lines.push(`[test ${new Date().toISOString().slice(11, 23)}] ${text}`);
  }

  tail(): string {
    return this.lines.slice(-60).join('\n');
  }

  /** SIGTERM, as Ctrl-C would; resolves with how it ended (bounded). */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exited) return { code: this.child.exitCode, signal: this.child.signalCode };
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await ended;
    } finally {
      clearTimeout(timer);
    }
  }
}

const instanceOf = (playgroundId: string | null) => playgroundId?.split('.')[0] ?? null;
const playgroundIdOf = (page: Page) => new URL(page.url()).searchParams.get('p');

/** The processes a server's record in its runtime folder lists (server/workers/leftovers.ts). */
function recordedWorkers(runtimeDir: string): { pid: number; start: string }[] {
  const workers: { pid: number; start: string }[] = [];
  for (const name of fs.readdirSync(runtimeDir)) {
    if (!/^\.server-\d+\.workers$/.test(name)) continue;
    try {
      workers.push(...(JSON.parse(fs.readFileSync(path.join(runtimeDir, name), 'utf8')) as { workers: [] }).workers);
    } catch {
      // being rewritten: the next look reads it
    }
  }
  return workers;
}

function isAlive(worker: { pid: number; start: string }): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${worker.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[19] === worker.start;
  } catch {
    return false;
  }
}

describe.skipIf(skipReason !== null)(
  skipReason ? `a course site behind HAProxy (skipped: ${skipReason})` : `a course site behind HAProxy (${STORE})`,
  () => {
    let cluster: Cluster;
    let url: string;
    let folder: string;
    const pids = new Map<string, number>();
    const contexts: BrowserContext[] = [];
    const profiles: string[] = [];
    const pageErrors: string[] = [];

    async function visitor(): Promise<BrowserContext> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-chromium-'));
      profiles.push(dir);
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: chromiumPath(),
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: CHROMIUM_ARGS,
        locale: 'en-US',
      });
      context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
      contexts.push(context);
      return context;
    }

    async function call(context: BrowserContext, apiPath: string, method = 'GET', body?: unknown) {
      const response = await context.request.fetch(`${url}${apiPath}`, {
        method,
        ...(body === undefined ? {} : { data: body }),
      });
      const text = await response.text();
      return { status: response.status(), body: text ? (JSON.parse(text) as unknown) : null };
    }

    /** `wait`, and when it fails: a screenshot of `page` and the cluster's last lines in the error. */
    async function shown(page: Page, name: string, wait: Promise<unknown>): Promise<void> {
      cluster.note(`waiting: ${name}`);
      try {
        await wait;
        cluster.note(`done: ${name}`);
      } catch (error) {
        await page.screenshot({ path: path.join(SHOTS, `cluster-failed-${name}.png`) }).catch(() => {});
        throw new Error(`${name}: ${(error as Error).message}\ncluster:\n${cluster.tail()}`, { cause: error });
      }
    }

    beforeAll(async () => {
      fs.mkdirSync(SHOTS, { recursive: true });
      cluster = new Cluster();
      // Bounded: a throw-away PostgreSQL's initdb and two cold tsx starts on a busy 2-core machine.
      url = (await cluster.line(/^Course site .*: (http:\/\/127\.0\.0\.1:\d+\/)$/, 150_000))[1]!;
      folder = (await cluster.line(/^Temporary folder .*: (\S+)$/, 5_000))[1]!;
      for (const line of cluster.lines) {
        const started = /^instance (\w+) \S+ pid (\d+)$/.exec(line);
        if (started) pids.set(started[1]!, Number(started[2]));
      }
    }, 180_000);

    afterAll(async () => {
      // The whole log (every request the proxy handled, the instances' lines, the test's notes), kept for a reader.
      if (cluster) fs.writeFileSync(LOG_FILE, `${cluster.lines.join('\n')}\n`);
      for (const context of contexts) await context.close().catch(() => {});
      for (const dir of profiles) fs.rmSync(dir, { recursive: true, force: true });
      if (cluster) {
        const ended = await cluster.stop();
        // Ctrl-C's way out: everything stopped, the temporary folder removed.
        expect(ended.code, cluster.tail()).toBe(0);
        if (folder) expect(fs.existsSync(folder)).toBe(false);
        for (const pid of pids.values()) expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      }
    }, 60_000);

    it(
      'routes each playground to its instance, new visitors to the least loaded, and survives an instance killed mid-run',
      { timeout: 300_000 },
      async () => {
        expect([...pids.keys()].sort()).toEqual(['a', 'b']);

        // Visitor 1 runs the tutorial, on whichever instance the proxy picked.
        const first = await visitor();
        const page = first.pages()[0] ?? (await first.newPage());
        await page.goto(url);
        await shown(page, 'tutorial-connected', waitConnected(page));
        const tutorialId = playgroundIdOf(page);
        const home = instanceOf(tutorialId)!;
        const other = home === 'a' ? 'b' : 'a';
        expect(tutorialId).toMatch(/^[ab]\.pg-[A-Za-z0-9_-]{22}$/);
        await page.getByTestId('interval').fill('100');
        await page.getByTestId('run').click();
        await shown(page, 'tutorial-ended', waitRunEnded(page));
        const finishedRun = (await page.getByTestId('run-id').textContent())?.trim() ?? '';
        await expect
          .poll(async () => ((await call(first, `api/runs/${finishedRun}`)).body as RecordedRunDetail).status, {
            timeout: 15_000,
          })
          .toBe('ended');
        const finishedBefore = (await call(first, `api/runs/${finishedRun}`)).body as RecordedRunDetail;

        // Visitor 2, while visitor 1's page holds its stream open on `home`: the least loaded instance is the other.
        const second = await visitor();
        const secondPage = second.pages()[0] ?? (await second.newPage());
        await secondPage.goto(url);
        await shown(secondPage, 'second-visitor-connected', waitConnected(secondPage));
        expect(instanceOf(playgroundIdOf(secondPage))).toBe(other);

        // Visitor 1 opens the sandbox (its cookie keeps it on `home`) with a process worker on ipc, and a long run.
        await page.goto(`${url}?scenario=pipeline`);
        await shown(page, 'sandbox-connected', waitConnected(page));
        const sandboxId = playgroundIdOf(page)!;
        expect(instanceOf(sandboxId)).toBe(home);
        const added = await call(first, `api/playgrounds/${sandboxId}/workers`, 'POST', {
          transport: 'ipc',
          mode: 'process',
        });
        expect(added.status, JSON.stringify(added.body)).toBe(201);
        const patched = await call(first, `api/playgrounds/${sandboxId}/params`, 'PATCH', {
          tasks: 4000,
          intervalMs: 10,
        });
        expect(patched.status, JSON.stringify(patched.body)).toBe(200);
        await page.getByTestId('run').click();
        await expect
          .poll(async () => Number(await page.getByTestId('sent-count').textContent()), { timeout: 20_000 })
          .toBeGreaterThan(20);
        const killedRun = (await page.getByTestId('run-id').textContent())?.trim() ?? '';
        expect(killedRun).not.toBe('');
        // A patterns page of visitor 1's as well: its graph playground lands on the same instance (the cookie).
        const patterns = await first.newPage();
        await patterns.goto(`${url}?graph=series-1`);
        await shown(
          patterns,
          'patterns-connected',
          patterns.locator('[data-testid="graph-connection"][data-state="connected"]').waitFor({ timeout: 20_000 }),
        );
        const graphs = (await call(first, 'api/graphs')).body as { id: string }[];
        expect(graphs.map((graph) => instanceOf(graph.id))).toEqual([home]);

        const runtimeDir = path.join(folder, home);
        const workers = recordedWorkers(runtimeDir);
        expect(workers.length).toBeGreaterThan(0);
        expect(workers.every(isAlive)).toBe(true);
        const ipcFiles = () => fs.readdirSync(runtimeDir).filter((name) => name.startsWith(sandboxId));
        expect(ipcFiles().length).toBeGreaterThan(0);

        // What the pages see from here on, in the cluster's log (beside the proxy's request lines; LOG_FILE keeps it).
        for (const [name, watched] of [
          ['sandbox page', page],
          ['patterns page', patterns],
        ] as const) {
          watched.on('console', (message) => cluster.note(`${name} console ${message.type()}: ${message.text()}`));
          watched.on('response', (response) =>
            cluster.note(`${name} ${response.status()} ${response.request().method()} ${response.url()}`),
          );
          watched.on('requestfailed', (request) =>
            cluster.note(`${name} failed ${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
          );
          watched.on('websocket', (socket) => {
            cluster.note(`${name} WebSocket ${socket.url()}`);
            socket.on('socketerror', (error) => cluster.note(`${name} WebSocket error: ${error}`));
            socket.on('close', () => cluster.note(`${name} WebSocket closed`));
          });
        }

        // The instance dies as the OOM killer would kill it.
        cluster.note(`SIGKILL instance ${home}`);
        process.kill(pids.get(home)!, 'SIGKILL');

        // The page says what happened, in its alert region, and offers a new playground. It takes 1-4 s (two failed
        // reconnections, then the proxy's 503); the bound covers the page's own worst case (an attempt, and then a
        // question, that hang until their 10 s limits while the killed process is torn down) with room to spare.
        const notice = page.getByTestId('server-stopped');
        await notice.waitFor({ timeout: 60_000 }).catch(async (error: unknown) => {
          await page.screenshot({ path: path.join(SHOTS, 'cluster-no-notice.png') });
          throw new Error(`${(error as Error).message}\ncluster (all of it: ${LOG_FILE}):\n${cluster.tail()}`);
        });
        cluster.note('the notice is shown');
        expect(await notice.textContent()).toContain('recorded runs are safe');
        expect(await notice.getAttribute('data-playground')).toBe(sandboxId);
        expect(await page.getByTestId('server-stopped-region').getAttribute('role')).toBe('alert');
        // The run it was running went with the server: the page does not say it is running.
        expect(await page.getByTestId('run-state').getAttribute('data-state')).toBe('interrupted');
        await page.screenshot({ path: path.join(SHOTS, 'cluster-server-stopped.png') });

        // The patterns page says it too, in its alert.
        const graphError = patterns.locator('[data-testid="graph-error"]');
        await shown(patterns, 'patterns-stopped', graphError.waitFor({ timeout: 30_000 }));
        expect(await graphError.textContent()).toContain("This playground's server stopped");
        await patterns.screenshot({ path: path.join(SHOTS, 'cluster-patterns-stopped.png') });
        await patterns.close();

        // The proxy no longer routes to it: its playgrounds get the proxy's 503, everything else the other instance.
        const gone = await call(first, `api/playgrounds/${sandboxId}`);
        expect(gone.status).toBe(503);
        expect((gone.body as { code: string }).code).toBe('PG_ERR_INSTANCE_DOWN');
        await expect
          .poll(async () => ((await call(first, 'api/health')).body as { instance?: string } | null)?.instance, {
            timeout: 10_000,
          })
          .toBe(other);

        // The other instance keeps serving: visitor 2 runs the tutorial to its end.
        await secondPage.getByTestId('interval').fill('100');
        await secondPage.getByTestId('run').click();
        await shown(secondPage, 'second-visitor-run-ended', waitRunEnded(secondPage));

        // A new playground for visitor 1, on the live instance.
        await page.getByTestId('server-stopped-new').click();
        await expect.poll(() => instanceOf(playgroundIdOf(page)), { timeout: 15_000 }).toBe(other);
        await shown(page, 'new-playground-connected', waitConnected(page));
        expect(await notice.count()).toBe(0);

        if (STORE === 'postgres') {
          // Its recorded runs are safe: listed and replayed through the other instance while theirs is down.
          const listed = (await call(first, 'api/runs')).body as RunPage;
          expect(listed.runs.map((run) => run.id)).toEqual(expect.arrayContaining([finishedRun, killedRun]));
          await page.goto(`${url}?run=${finishedRun}`);
          await page.getByTestId('replay-scrubber').waitFor({ timeout: 20_000 });
          expect(await page.getByTestId('replay-status').textContent()).toContain(finishedRun);
          await page.screenshot({ path: path.join(SHOTS, 'cluster-replay-through-other.png') });
          // And the run it cut short is not "running" for ever: the live instance found the dead one's lock free
          // (server/recorder/pg/liveness.ts: checks every 3 s, dead after 6 s free) and marked it incomplete, before
          // any restart; the finished run is untouched.
          await expect
            .poll(async () => ((await call(first, `api/runs/${killedRun}`)).body as RecordedRunDetail | null)?.status, {
              timeout: 30_000,
            })
            .toBe('incomplete');
          expect(((await call(first, `api/runs/${finishedRun}`)).body as RecordedRunDetail).status).toBe('ended');
          cluster.note(`instance ${other} marked ${killedRun} incomplete`);
        }

        // Restarted (as systemd would), the instance cleans what its death left and marks the run it cut short.
        const from = cluster.lines.length;
        cluster.command(`restart ${home}`);
        const restarted = await cluster.line(new RegExp(`^instance ${home} \\S+ pid (\\d+)$`), 120_000, from);
        pids.set(home, Number(restarted[1]));
        // Its runs are read where they are stored: PostgreSQL through any instance; a SQLite file through its own.
        if (STORE !== 'postgres') await first.addCookies([{ name: 'zpg_instance', value: home, url }]);
        await expect
          .poll(async () => ((await call(first, 'api/health')).body as { instance?: string } | null)?.instance, {
            timeout: 15_000,
          })
          .toEqual(STORE === 'postgres' ? expect.any(String) : home);
        await expect
          .poll(async () => ((await call(first, `api/runs/${killedRun}`)).body as RecordedRunDetail | null)?.status, {
            timeout: 15_000,
          })
          .toBe('incomplete');
        const finishedAfter = (await call(first, `api/runs/${finishedRun}`)).body as RecordedRunDetail;
        expect(finishedAfter.status).toBe('ended');
        expect(finishedAfter.eventCount).toBe(finishedBefore.eventCount);
        expect(finishedAfter.summary).toEqual(finishedBefore.summary);
        // The restarted server removed them at its start and sent the orphans SIGKILL: polled (bounded), because
        // a killed process takes its moment to exit on a loaded machine.
        await expect.poll(ipcFiles, { timeout: 10_000 }).toEqual([]);
        await expect.poll(() => workers.filter(isAlive), { timeout: 10_000 }).toEqual([]);

        expect(pageErrors).toEqual([]);
      },
    );
  },
);
