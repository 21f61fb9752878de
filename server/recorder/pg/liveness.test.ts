/**
 * Instances sharing one PostgreSQL database (issue 13's closing note): the runs of an instance that died and never
 * restarted are marked incomplete by a live one (liveness.ts), never those of an instance still recording. On a
 * throw-away cluster (scripts/throwaway-postgres.ts), each test its own database:
 *   - instance a is a real child process, SIGKILLed mid-run: two live checkers b and c leave its runs alone while
 *     it lives, then mark its interrupted run incomplete once (summary rebuilt), its finished run intact, a
 *     standalone server's running run untouched; a restarted a opens at once and finds nothing left to mark
 *   - a live instance whose lock connection is terminated takes its lock again, and its run is not marked
 *   - a run marked incomplete while its writer still records it (the lock lost for good): the writer carries on and
 *     run:ended stores its real end
 *   - a second server of the same name waits for the lock, then refuses to start; it starts once the first is gone
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../../scripts/throwaway-postgres.ts';
import type { PlaygroundEvent } from '../../../shared/protocol/index.ts';
import { run as spawnProcess } from '../../../test/helpers.ts';
import { syntheticEvents, until } from '../../../test/recording.ts';
import { Recorder } from '../recorder.ts';
import { RunLog } from '../run-log.ts';
import { StoreOpenError, type RecordingStore, type WriteChannel } from '../store-api.ts';
import { PostgresStore } from './index.ts';

let cluster: ThrowawayPostgres;
let databases = 0;
const freshDatabase = () => cluster.createDatabase(`liveness_${++databases}`);

beforeAll(async () => {
  cluster = await startThrowawayPostgres({ timeoutMs: 50_000 });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

/** Checkers that look often and call an instance dead after its lock was free for 1 s. */
const QUICK = { checkEveryMs: 100, deadAfterMs: 1000, retakeEveryMs: 100, log: () => {} };

/** A synthetic run handed to `channel`; its recorder, left open when the run has not ended. */
async function recordSynthetic(
  channel: WriteChannel,
  id: string,
  count: number,
  ended: boolean,
): Promise<{ events: PlaygroundEvent[]; recorder: Recorder; log: RunLog }> {
  const log = new RunLog();
  const recorder = new Recorder(channel, { id: `pg-${id}`, scenario: { id: 'tutorial', title: 'The tutorial' }, log });
  const events = [...syntheticEvents(id, { count, ended })].map((event) => structuredClone(log.append(event)));
  await recorder.flushed();
  return { events, recorder, log };
}

const statusOf = async (store: RecordingStore, id: string) => (await store.getRun(id)).status;

/** Resolves once `store`'s checker has completed `more` checks and `ms` have passed (what "a while" means here). */
async function checksFor(store: PostgresStore, more: number, ms: number): Promise<void> {
  const from = store.liveness!.checks;
  const since = performance.now();
  await until(
    () => store.liveness!.checks >= from + more && performance.now() - since >= ms,
    `${more} checks of instance ${store.instance}`,
    30_000,
  );
}

describe('instances sharing a PostgreSQL database', () => {
  it('marks the runs of a SIGKILLed instance incomplete from a live one, never while it lives', async () => {
    const url = await freshDatabase();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-liveness-'));
    const script = path.join(dir, 'instance-a.mts');
    const source = (file: string) => JSON.stringify(path.resolve(file));
    // Instance a: records a finished run and one it is in the middle of, says so, then waits to be killed.
    fs.writeFileSync(
      script,
      `import { PostgresStore } from ${source('server/recorder/pg/index.ts')};
import { Recorder } from ${source('server/recorder/recorder.ts')};
import { RunLog } from ${source('server/recorder/run-log.ts')};
import { syntheticEvents } from ${source('test/recording.ts')};
const store = await PostgresStore.open(process.argv[2], { instance: 'a' });
const channel = store.openWriteChannel();
for (const [id, count, ended] of [['run-a0000001', 40, true], ['run-a0000002', 600, false]]) {
  const log = new RunLog();
  const recorder = new Recorder(channel, { id: 'pg-' + id, scenario: { id: 'tutorial', title: 'The tutorial' }, log });
  for (const event of syntheticEvents(id, { count, ended })) log.append(event);
  await recorder.flushed();
  if (ended) await recorder.close();
}
console.log('recorded');
setInterval(() => {}, 60_000);
`,
    );
    const b = await PostgresStore.open(url, { instance: 'b', liveness: QUICK });
    const c = await PostgresStore.open(url, { instance: 'c', liveness: QUICK });
    const standalone = await PostgresStore.open(url);
    const standaloneChannel = standalone.openWriteChannel();
    const child = spawnProcess(process.execPath, ['--import', 'tsx', script, url], 90_000);
    let restarted: PostgresStore | null = null;
    try {
      await recordSynthetic(standaloneChannel, 'run-5a000001', 30, false);
      await until(() => child.output().includes('recorded'), 'instance a to record its runs', 45_000).catch(
        async (error: Error) => {
          child.child.kill('SIGKILL');
          const exit = await child.exited.catch((e: Error) => ({ stdout: '', stderr: e.message }));
          throw new Error(`${error.message}\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`);
        },
      );
      // While a lives, several times its grace: its runs stay as they are.
      await Promise.all([checksFor(b, 10, 3 * QUICK.deadAfterMs), checksFor(c, 10, 3 * QUICK.deadAfterMs)]);
      expect(await statusOf(b, 'run-a0000002')).toBe('running');
      expect(b.liveness!.marked + c.liveness!.marked).toBe(0);

      child.child.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      const killedAt = performance.now();
      // b or c finds a gone and marks its interrupted run, as a's own restart would; once.
      for (let status = 'running'; status === 'running';) {
        status = await statusOf(b, 'run-a0000002');
        if (performance.now() - killedAt > 20_000) throw new Error('a\u2019s run is still running 20 s after a died');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const interrupted = await b.getRun('run-a0000002');
      const sent = [...syntheticEvents('run-a0000002', { count: 600, ended: false })].filter(
        (e) => e.type === 'task:sent',
      ).length;
      expect(interrupted).toMatchObject({ status: 'incomplete', eventCount: 600, lostEvents: 0, reason: null });
      expect(interrupted.summary).toMatchObject({ sent });
      await until(() => b.liveness!.marked + c.liveness!.marked === 1, 'the checker that marked to count it', 5000);
      expect(b.liveness!.marked + c.liveness!.marked).toBe(1);
      // The finished run is intact; a standalone server's run is its own restart's business.
      expect(await b.getRun('run-a0000001')).toMatchObject({ status: 'ended', eventCount: 40, lostEvents: 0 });
      expect(await statusOf(c, 'run-5a000001')).toBe('running');

      // a restarts (its old session is gone with its process): it takes its lock and finds nothing left to mark.
      restarted = await PostgresStore.open(url, { instance: 'a', liveness: { ...QUICK, startWaitMs: 10_000 } });
      expect(restarted.liveness!.held).toBe(true);
      expect(await restarted.markInterrupted()).toBe(0);
      expect(await statusOf(restarted, 'run-a0000001')).toBe('ended');
    } finally {
      child.child.kill('SIGKILL');
      await child.exited.catch(() => {});
      await standaloneChannel.close();
      await Promise.all([b.close(), c.close(), standalone.close(), restarted?.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('lets a live instance whose lock connection dropped take its lock again, its runs left alone', async () => {
    const url = await freshDatabase();
    // b calls a dead after 6 s, the server's default: a's new connection takes the lock long before that.
    const a = await PostgresStore.open(url, { instance: 'a', liveness: QUICK });
    const b = await PostgresStore.open(url, { instance: 'b', liveness: { ...QUICK, deadAfterMs: 6000 } });
    const channel = a.openWriteChannel();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { recorder, log } = await recordSynthetic(channel, 'run-a1000001', 200, false);
      const before = a.liveness!.backendPid!;
      expect(before).toBeGreaterThan(0);
      await admin.query('SELECT pg_terminate_backend($1)', [before]);
      const terminatedAt = performance.now();
      await until(
        () => a.liveness!.held && a.liveness!.backendPid !== before,
        'a to take its lock again on a new connection',
        10_000,
      );
      expect(performance.now() - terminatedAt).toBeLessThan(6000);
      // b went on checking past the moment it would have called a dead, had a not come back.
      await checksFor(b, 5, Math.max(0, 6500 - (performance.now() - terminatedAt)));
      expect(await statusOf(b, 'run-a1000001')).toBe('running');
      expect(b.liveness!.marked).toBe(0);
      // a's recording carries on and ends normally.
      log.append({ type: 'task:sent', task: 999, body: 'late', run: 'run-a1000001', seq: 0, t: 200 });
      await recorder.close();
      expect(await statusOf(b, 'run-a1000001')).toBe('incomplete'); // closed without run:ended, by its own writer
      expect((await b.getRun('run-a1000001')).eventCount).toBe(201);
    } finally {
      await admin.end();
      await channel.close();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);

  it('lets the writer of a run marked incomplete under it carry on; run:ended stores its real end', async () => {
    const url = await freshDatabase();
    const a = await PostgresStore.open(url, { instance: 'a', liveness: QUICK });
    const b = await PostgresStore.open(url, { instance: 'b', liveness: { ...QUICK, deadAfterMs: 0 } });
    const channel = a.openWriteChannel();
    try {
      const all = [...syntheticEvents('run-a2000001', { count: 400, ended: true })];
      const log = new RunLog();
      const recorder = new Recorder(channel, {
        id: 'pg-run-a2000001',
        scenario: { id: 'tutorial', title: 'The tutorial' },
        log,
      });
      for (const event of all.slice(0, 250)) log.append(event);
      await recorder.flushed();
      // a's lock goes for good while a records (as if its connection could not be made again): b marks its run.
      await a.liveness!.close();
      await until(() => b.liveness!.marked === 1, 'b to mark a\u2019s run', 10_000);
      expect(await b.getRun('run-a2000001')).toMatchObject({ status: 'incomplete', eventCount: 250 });
      // a never knew: the rest of its run, and its end, are stored over the mark.
      for (const event of all.slice(250)) log.append(event);
      await recorder.close();
      expect(channel.stats).toMatchObject({ recordedEvents: 400, droppedEvents: 0, writeErrors: 0 });
      const ended = await b.getRun('run-a2000001');
      expect(ended).toMatchObject({ status: 'ended', eventCount: 400, lostEvents: 0, reason: 'completed' });
      expect(ended.summary).toEqual((all.at(-1) as Extract<PlaygroundEvent, { type: 'run:ended' }>).summary);
    } finally {
      await channel.close();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);

  it('refuses a second server of the same name while the first holds its lock, and starts once it is gone', async () => {
    const url = await freshDatabase();
    const first = await PostgresStore.open(url, { instance: 'a', liveness: QUICK });
    let second: PostgresStore | null = null;
    try {
      const refused = PostgresStore.open(url, { instance: 'a', liveness: { ...QUICK, startWaitMs: 500 } });
      await expect(refused).rejects.toBeInstanceOf(StoreOpenError);
      await expect(refused).rejects.toThrow(/Another server named "a" \(--instance\)/);
      const waiting = PostgresStore.open(url, { instance: 'a', liveness: { ...QUICK, startWaitMs: 20_000 } });
      await first.close();
      second = await waiting;
      expect(second.liveness!.held).toBe(true);
    } finally {
      await Promise.all([first.close(), second?.close()]);
    }
  }, 60_000);
});
