/**
 * The real server process: it prints one loopback URL, and SIGTERM closes every socket and removes the ipc files
 * it created, even with a ventilator blocked on a send.
 */
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import type { PlaygroundInfo, RunDetail } from '../shared/protocol/index.ts';
import { run, testPolicy, visitorFetch } from '../test/helpers.ts';

let policy: ReturnType<typeof testPolicy> | null = null;
afterEach(() => policy?.cleanup());

async function waitForUrl(output: () => string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(output());
    if (match?.[1]) return match[1];
    if (Date.now() > deadline) throw new Error(`server printed no URL within ${timeoutMs} ms: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('serves on 127.0.0.1 and shuts down cleanly on SIGTERM, removing its ipc files', async () => {
  policy = testPolicy();
  const server = run(
    'node_modules/.bin/tsx',
    ['server/main.ts', '--port', '0', '--runtime-dir', policy.runtimeDir],
    30_000,
  );
  const base = await waitForUrl(server.output, 20_000);
  const fetch = visitorFetch(); // one visitor: it keeps the session cookie, as a browser would
  const playground = (await (
    await fetch(`${base}/api/playgrounds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // No workers: the ventilator binds tcp and ipc, then blocks on its first send.
      body: JSON.stringify({ scenario: 'pipeline', params: { builtInWorkers: false, tasks: 10 } }),
    })
  ).json()) as PlaygroundInfo;
  const { run: runId } = (await (
    await fetch(`${base}/api/playgrounds/${playground.id}/runs`, { method: 'POST' })
  ).json()) as { run: string };

  // Poll the API (bounded) until both endpoints are bound.
  let detail: RunDetail | null = null;
  for (let attempt = 0; attempt < 100; attempt++) {
    detail = (await (await fetch(`${base}/api/playgrounds/${playground.id}/runs/${runId}`)).json()) as RunDetail;
    if (detail.endpoints.every((e) => e.actual)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ipcFile = detail!.endpoints.find((e) => e.transport === 'ipc')!.actual!.slice('ipc://'.length);
  expect(fs.existsSync(ipcFile)).toBe(true);

  server.child.kill('SIGTERM');
  const exit = await server.exited;
  expect(exit.code, exit.stderr).toBe(0);
  expect(fs.existsSync(ipcFile)).toBe(false);
  expect(exit.stdout.match(/http:\/\//g)).toHaveLength(1);
});
