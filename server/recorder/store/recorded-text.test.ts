/**
 * The packed task chunks answer a real run's events with the very text the store answered before they were packed:
 * recorded inline, JSON.stringify of each logged event; recorded from the writer thread, the text the thread built
 * from the packed batch (packed.ts, its own key order). Checked byte for byte on a real pipeline run (two workers,
 * a sink) recorded both ways at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SCENARIOS } from '../../../shared/scenarios/index.ts';
import { collect, runEnded, testPolicy } from '../../../test/helpers.ts';
import { Playground } from '../../pipeline/playground.ts';
import { InlineChannel, ThreadChannel } from '../channel.ts';
import { packEvents, unpackEvents } from '../packed.ts';
import { Recorder } from '../recorder.ts';
import { RunStore } from '../store.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('stores a real run as the same text as before, from the writer thread and inline', { timeout: 30_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-text-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const policy = testPolicy();
  cleanups.push(() => policy.cleanup());
  const fileStore = RunStore.open(path.join(dir, 'runs.db'));
  cleanups.push(() => fileStore.close());
  const memoryStore = RunStore.open(':memory:');
  cleanups.push(() => memoryStore.close());
  const playground = new Playground({
    scenario: SCENARIOS.get('pipeline')!,
    params: { tasks: 400, intervalMs: 0, payloadBytes: 70, syncStart: true, drainMs: 1000 },
    policy,
  });
  cleanups.push(() => playground.close());
  playground.updateSink({ enabled: true, transport: 'tcp' });
  const thread = new ThreadChannel(fileStore, { onError: () => {} });
  const inline = new InlineChannel(memoryStore);
  const recorders = [new Recorder(thread, playground), new Recorder(inline, playground)];
  const logged = collect(playground);
  const run = playground.startRun();
  await runEnded(playground, run.id, 20_000);
  await playground.close();
  for (const recorder of recorders) await recorder.close();
  await thread.close();
  await inline.close();

  const mine = logged.filter((event) => event.run === run.id);
  expect(mine.filter((event) => event.type === 'task:collected')).toHaveLength(400);
  const stored = (store: RunStore) => store.eventWindow(run.id, { limit: 10_000 }).json;
  expect(stored(memoryStore)).toEqual(mine.map((event) => JSON.stringify(event)));
  const threadText = unpackEvents(packEvents(mine)).map((entry) => entry.json ?? JSON.stringify(entry.event));
  expect(stored(fileStore)).toEqual(threadText);
  // The two orders differ (seq and t), so the check above is a check of each path's own text.
  expect(threadText).not.toEqual(mine.map((event) => JSON.stringify(event)));
});
