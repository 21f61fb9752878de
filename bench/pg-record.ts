/**
 * What recording into PostgreSQL costs the pipeline (issue 13), beside the SQLite writer thread: the `record`
 * case of bench/run.ts (the batch scenario headless, 100,000 tasks, about 300,000 events a run) with the recorder
 * off, writing to a SQLite file through its writer thread, and writing to a throw-away PostgreSQL cluster through
 * the PostgreSQL store's batched channel; rounds alternate so that the machine's noise hits all three.
 *
 *   npx tsx bench/pg-record.ts [--tasks N] [--rounds N] [--durable]
 *
 * --durable keeps fsync on in the cluster (default off, as in the tests); a production database has it on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.ts';
import { SCENARIOS } from '../shared/scenarios/index.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { Playground } from '../server/pipeline/playground.ts';
import { ThreadChannel } from '../server/recorder/channel.ts';
import { PostgresStore } from '../server/recorder/pg/index.ts';
import { Recorder } from '../server/recorder/recorder.ts';
import type { WriteChannel } from '../server/recorder/store-api.ts';
import { RunStore } from '../server/recorder/store.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    durable: { type: 'boolean', default: false },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const BODY_PADDING = 'x'.repeat(16);
const TIMEOUT_MS = 300_000;
const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-pgbench-'));

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** CPU ms used so far by the cluster: its postmaster and every child (the backends, the WAL writer, ...). */
function clusterCpuMs(postmaster: number): number {
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command (which may hold spaces) in parentheses: state ppid ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    if (pid !== postmaster && Number(fields[1]) !== postmaster) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerMs;
}

interface Result {
  rate: number;
  events: number;
  storedPerSecond: number;
  /** CPU of the whole process (every thread) per task, in microseconds. */
  cpuPerTaskUs: number;
  /** CPU of the PostgreSQL cluster per task, in microseconds (its own processes, on the same cores). */
  clusterCpuPerTaskUs: number;
}

async function headlessBatch(
  channel: WriteChannel | null,
  eventCount: (run: string) => Promise<number>,
): Promise<Result> {
  const playground = new Playground({
    scenario: SCENARIOS.get('pipeline')!,
    params: { tasks: TASKS, intervalMs: 0, payloadBytes: BODY_PADDING.length, drainMs: 5000 },
    policy: defaultPolicy({ runtimeDir }),
  });
  const recorder = channel ? new Recorder(channel, playground) : null;
  let firstSentT = -1;
  let lastReceivedT = 0;
  let received = 0;
  let ended: (() => void) | null = null;
  const done = new Promise<void>((resolve) => (ended = resolve));
  playground.log.subscribe((event) => {
    if (event.type === 'task:sent' && firstSentT < 0) firstSentT = event.t;
    else if (event.type === 'task:received') {
      lastReceivedT = event.t;
      received++;
    } else if (event.type === 'run:ended') ended!();
  });
  const cpu = process.cpuUsage();
  const clusterCpu = clusterCpuMs(cluster.pid);
  const started = performance.now();
  const run = playground.startRun();
  await withTimeout(done, 'headless batch');
  let events = 0;
  let storedMs = 0;
  if (recorder) {
    await withTimeout(recorder.flushed(), 'the recorder catching up');
    storedMs = performance.now() - started;
    events = await eventCount(run.id);
  }
  const used = process.cpuUsage(cpu);
  const clusterUsedMs = clusterCpuMs(cluster.pid) - clusterCpu;
  await withTimeout(playground.close(), 'the playground to close');
  if (recorder) {
    await withTimeout(recorder.close(), 'the recorder to close');
    // A writer behind by the recorder's cap holds events back (bounded memory): they are written by now.
    const total = await eventCount(run.id);
    if (total !== events)
      console.log(`  (${events} events stored when the run ended, ${total} once the recorder closed)`);
  }
  if (received !== TASKS) throw new Error(`headless run received ${received} of ${TASKS}`);
  return {
    rate: TASKS / ((lastReceivedT - firstSentT) / 1000),
    events,
    storedPerSecond: storedMs > 0 ? events / (storedMs / 1000) : 0,
    cpuPerTaskUs: (used.user + used.system) / TASKS,
    clusterCpuPerTaskUs: (clusterUsedMs * 1000) / TASKS,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cluster = await startThrowawayPostgres({ durable: values.durable });
const sqlite = RunStore.open(path.join(runtimeDir, 'record.db'));
const thread = new ThreadChannel(sqlite);
const postgres = await PostgresStore.open(cluster.url);
const pgChannel = postgres.openWriteChannel();
console.log(
  `== record into PostgreSQL: ${TASKS} tasks x ${ROUNDS} rounds; off | SQLite writer thread | PostgreSQL ` +
    `(${values.durable ? 'fsync on' : 'fsync off'}); load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
const results: Record<'off' | 'sqlite' | 'postgres', Result[]> = { off: [], sqlite: [], postgres: [] };
const line = (what: string, r: Result) =>
  `${what} ${Math.round(r.rate)} tasks/s, ${r.cpuPerTaskUs.toFixed(1)} us CPU/task` +
  (r.clusterCpuPerTaskUs > 0 ? ` (+${r.clusterCpuPerTaskUs.toFixed(1)} us in PostgreSQL)` : '') +
  (r.events ? `, ${r.events} events at ${Math.round(r.storedPerSecond)}/s` : '');
try {
  for (let round = 0; round < ROUNDS; round++) {
    const off = await headlessBatch(null, async () => 0);
    const lite = await headlessBatch(thread, async (id) => sqlite.getRun(id).eventCount);
    const pgr = await headlessBatch(pgChannel, async (id) => (await postgres.getRun(id)).eventCount);
    results.off.push(off);
    results.sqlite.push(lite);
    results.postgres.push(pgr);
    console.log(`round ${round + 1}: ${line('off', off)} | ${line('sqlite', lite)} | ${line('postgres', pgr)}`);
  }
  const rate = (side: keyof typeof results) => median(results[side].map((r) => r.rate));
  console.log(
    `medians: off ${Math.round(rate('off'))}, sqlite ${Math.round(rate('sqlite'))} (${(rate('sqlite') / rate('off')).toFixed(2)}), ` +
      `postgres ${Math.round(rate('postgres'))} (${(rate('postgres') / rate('off')).toFixed(2)}) tasks/s; stored ` +
      `sqlite ${Math.round(median(results.sqlite.map((r) => r.storedPerSecond)))}, postgres ` +
      `${Math.round(median(results.postgres.map((r) => r.storedPerSecond)))} events/s; CPU/task ` +
      (['off', 'sqlite', 'postgres'] as const)
        .map((s) => `${s} ${median(results[s].map((r) => r.cpuPerTaskUs)).toFixed(1)} us`)
        .join(', '),
  );
} finally {
  await thread.close();
  await pgChannel.close();
  sqlite.close();
  await postgres.close();
  await cluster.stop();
  fs.rmSync(runtimeDir, { recursive: true, force: true });
}
