/**
 * Write channels: the writer thread records a real run into a file with nothing written on the main thread; flushed()
 * and close() wait for it; if the thread dies, recording goes on inline and says so. With the writer behind,
 * the recorder holds events back and its buffer cap keeps memory bounded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { Playground } from '../pipeline/playground.ts';
import { RunLog } from './run-log.ts';
import { Recorder } from './recorder.ts';
import { RecordingStats, ThreadChannel, channelFor, type WriteChannel } from './channel.ts';
import { RunStore } from './store.ts';
import { batchCount } from './packed.ts';
import { CodedError } from '../errors.ts';
import { exportJson, exportText } from './export.ts';
import { SqliteRecordingStore } from './sqlite-store.ts';
import { collect, freePort, run, runEnded, testPolicy } from '../../test/helpers.ts';
import { idleChannelParts, syntheticEvents, until } from '../../test/recording.ts';

let dir: string;
let store: RunStore;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-channel-'));
  store = RunStore.open(path.join(dir, 'runs.db'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function threadChannel(stats = new RecordingStats()): ThreadChannel {
  const channel = new ThreadChannel(store, { stats, onError: () => {} });
  cleanups.push(() => channel.close());
  return channel;
}

function storedEvents(id: string): PlaygroundEvent[] {
  return store.eventWindow(id, { limit: 5000 }).json.map((json) => JSON.parse(json) as PlaygroundEvent);
}

const fake = (log: RunLog) => ({ id: 'pg-channel', scenario: { id: 'tutorial', title: 'The tutorial' }, log });

describe('ThreadChannel', () => {
  it('records a real tutorial run into the file from its own thread: every event as logged, none written on the main thread', async () => {
    const policy = testPolicy();
    cleanups.push(() => policy.cleanup());
    const channel = channelFor(store, { onError: () => {} });
    expect(channel).toBeInstanceOf(ThreadChannel);
    cleanups.push(() => channel.close());
    const mainThreadWrites = vi.spyOn(store, 'insertEvents');
    const port = await freePort();
    const playground = new Playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 0, drainMs: 300 },
      policy,
      endpointOverrides: { tcp: `tcp://127.0.0.1:${port}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    });
    cleanups.push(() => playground.close());
    const recorder = new Recorder(channel, playground);
    const logged = collect(playground);
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id);
    await playground.close();
    await recorder.close(); // resolves once the thread has written the playground's last batch

    const stored = store.getRun(run.id);
    expect(stored).toMatchObject({
      status: 'ended',
      reason: 'completed',
      summary: ended.summary,
      eventCount: logged.length,
      lostEvents: 0,
    });
    expect(storedEvents(run.id)).toEqual(JSON.parse(JSON.stringify(logged)));
    expect(mainThreadWrites).not.toHaveBeenCalled();
    expect(channel.stats).toMatchObject({ recordedEvents: logged.length, writeErrors: 0, droppedEvents: 0 });
  });

  it('flushed() resolves once the thread has written; close() ends the thread and is idempotent', async () => {
    const channel = threadChannel();
    const log = new RunLog();
    const recorder = new Recorder(channel, fake(log));
    for (const event of syntheticEvents('run-7e4d0001', { count: 12_000 })) log.append(event);
    expect(channel.inFlight).toBe(0); // nothing handed over yet: the listener only buffers
    await recorder.flushed();
    expect(channel.inFlight).toBe(0);
    expect(store.getRun('run-7e4d0001')).toMatchObject({ status: 'ended', eventCount: 12_000 });
    expect(channel.stats.flushes).toBe(3); // 12,000 events: transactions of at most 5,000
    const worker = channel.worker!;
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    await recorder.close();
    await channel.close();
    await channel.close();
    expect(channel.worker).toBeNull();
    await exited;
  });

  it('goes on recording on the main thread when the writer thread dies, and says what was lost', async () => {
    const stats = new RecordingStats();
    const errors: string[] = [];
    const channel = new ThreadChannel(store, { stats, onError: (error) => errors.push(error.message) });
    cleanups.push(() => channel.close());
    const log = new RunLog();
    const recorder = new Recorder(channel, fake(log));
    for (const event of syntheticEvents('run-7e4d0002', { count: 100 })) log.append(event);
    await recorder.flushed();
    await channel.worker!.terminate();
    await until(() => channel.worker === null, 'the channel to notice');
    expect(stats.writeErrors).toBe(1);
    expect(errors[0]).toMatch(/writer thread exited.*writing on the main thread from now on/);

    // The next run is recorded whole, inline.
    for (const event of syntheticEvents('run-7e4d0003', { count: 50, firstSeq: 101 })) log.append(event);
    await recorder.flushed();
    expect(store.getRun('run-7e4d0003')).toMatchObject({ status: 'ended', eventCount: 50 });
    expect(store.getRun('run-7e4d0002')).toMatchObject({ status: 'ended', eventCount: 100 });
    await recorder.close();
  });

  it('imports and deletes in the thread, keeping the code and message of a refusal', async () => {
    const channel = threadChannel();
    const log = new RunLog();
    const recorder = new Recorder(channel, fake(log));
    for (const event of syntheticEvents('run-7e4d0004', { count: 20 })) log.append(event);
    await recorder.close();
    const text = await exportText(exportJson(new SqliteRecordingStore(store), 'run-7e4d0004'));

    const copy = await channel.importRun(text);
    expect(copy).toMatchObject({ source: 'imported', eventCount: 20, status: 'ended' });
    expect(store.getRun(copy.id).eventCount).toBe(20); // visible to the main thread's connection at once
    await expect(channel.importRun(text.slice(0, 100))).rejects.toMatchObject({
      code: 'PG_ERR_IMPORT',
      message: expect.stringMatching(/not valid JSON/),
    });
    await expect(channel.importRun(JSON.stringify({ ...JSON.parse(text), version: 9 }))).rejects.toThrow(
      /format version 9/,
    );

    await channel.deleteRun(copy.id);
    expect(() => store.getRun(copy.id)).toThrow(/No recorded run/);
    await expect(channel.deleteRun(copy.id)).rejects.toBeInstanceOf(CodedError);
    await expect(channel.deleteRun(copy.id)).rejects.toMatchObject({ code: 'PG_ERR_NOT_FOUND' });
    expect(store.listRuns().total).toBe(1);
  });
});

describe('ThreadChannel and the event loop', () => {
  it('keeps a process alive while it awaits the thread (close, flushed, import, delete), and not when idle', async () => {
    // A script whose only pending work is the thread's answer: before, the thread was unref'd even then, and Node
    // exited under the first await with code 13 (an unsettled top-level await; the record bench did so at random).
    const script = path.join(dir, 'await-thread.mts');
    const source = (file: string) => JSON.stringify(path.resolve('server/recorder', file));
    fs.writeFileSync(
      script,
      `import { ThreadChannel } from ${source('channel.ts')};
import { RunLog } from ${source('run-log.ts')};
import { Recorder } from ${source('recorder.ts')};
import { RunStore } from ${source('store.ts')};
import { exportJson, exportText } from ${source('export.ts')};
import { SqliteRecordingStore } from ${source('sqlite-store.ts')};
import { syntheticEvents } from ${JSON.stringify(path.resolve('test/recording.ts'))};
const store = RunStore.open(${JSON.stringify(path.join(dir, 'script.db'))});
const channel = new ThreadChannel(store);
const log = new RunLog();
const recorder = new Recorder(channel, { id: 'pg-script', scenario: { id: 'tutorial', title: 'T' }, log });
for (const event of syntheticEvents('run-5c41970e', { count: 3000 })) log.append(event);
await recorder.flushed();
console.log('flushed');
await recorder.close();
console.log('recorder closed');
const copy = await channel.importRun(await exportText(exportJson(new SqliteRecordingStore(store), 'run-5c41970e')));
console.log('imported', copy.eventCount);
await channel.deleteRun(copy.id);
console.log('deleted');
// Idle with a batch nobody awaits: the thread must not hold the process (it exits without close()).
new Recorder(channel, { id: 'pg-idle', scenario: { id: 'tutorial', title: 'T' }, log: new RunLog() }).flush();
console.log('idle');
`,
    );
    const exited = await run(process.execPath, ['--import', 'tsx', script], 60_000).exited;
    expect({ code: exited.code, stdout: exited.stdout, stderr: exited.stderr }).toEqual({
      code: 0,
      stdout: 'flushed\nrecorder closed\nimported 3000\ndeleted\nidle\n',
      stderr: '',
    });
  });
});

describe('Recorder with a writer that is behind', () => {
  it('holds events back while the channel has maxInFlight unwritten, and its buffer cap keeps memory bounded', async () => {
    const written: number[] = [];
    let inFlight = 1000;
    const stats = new RecordingStats();
    const slow: WriteChannel = {
      stats,
      get inFlight() {
        return inFlight;
      },
      write: (_playground, events) => void written.push(batchCount(events)),
      ...idleChannelParts,
    };
    const log = new RunLog();
    const recorder = new Recorder(slow, fake(log), { maxInFlight: 1000, maxBuffered: 300, flushMs: 10 });
    for (const event of syntheticEvents('run-000510e0', { count: 1000 })) log.append(event);
    recorder.flush();
    expect(written).toEqual([]); // held back
    expect(recorder.buffered).toBe(301); // 300 + run:ended
    expect(stats.droppedEvents).toBe(699);
    inFlight = 0; // the writer caught up
    await until(() => written.length > 0, 'the held-back batch');
    expect(written).toEqual([301]);
    await recorder.close();
  });
});
