/**
 * The playground's batch once, for a profiler: the pipeline scenario behind the real HTTP server (2 workers, a sink
 * on tcp unless --no-sink, interval 0, recorded into a temp-file store through the writer thread as the server
 * does unless --no-record, one WebSocket watcher). Prints the rate and the process's CPU time per task (every
 * thread: main, writer, the in-process workers' thread, libzmq's I/O thread), which says more than a rate on a
 * shared machine.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-batch.ts [--tasks N[,N...]] [--runs N]
 *     [--workers thread|main|both] [--no-sink] [--no-record]
 *
 * Several sizes (--tasks 10000,100000) or both homes of the in-process workers (--workers both: their thread, as
 * the server runs them, and the main thread, as it did before) take turns in every run, in alternating order, and
 * the medians of each are printed with their ratio: the fixed cost of a run shows as a higher CPU per task for the
 * smaller batch.
 *
 * Loopback only; bounded by the task count and a time limit per run.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as zmq from 'zeromq';
import WebSocket from 'ws';
import { buildApp } from '../server/app.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { inProcessWorkers } from '../server/pipeline/worker-handle.ts';
import { decodeServerMessage, type PlaygroundInfo } from '../shared/protocol/index.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    workers: { type: 'string', default: 'thread' },
    runs: { type: 'string', default: '1' },
    'no-sink': { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const SIZES = values.tasks.split(',').map(Number);
if (SIZES.some((size) => !Number.isInteger(size) || size <= 0))
  throw new Error(`--tasks: counts, not "${values.tasks}"`);
if (!['thread', 'main', 'both'].includes(values.workers)) throw new Error('--workers must be thread, main or both');
const HOMES = values.workers === 'both' ? [true, false] : [values.workers === 'thread'];
const SINK = !values['no-sink'];
const RUN_TIMEOUT_MS = 120_000;
const SESSION = `zpg_session=${randomBytes(32).toString('base64url')}`;

zmq.context.blocky = false;
const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-profile-'));
const store = values['no-record'] ? null : path.join(runtimeDir, 'profile.db');
const app = await buildApp({ staticDir: null, policy: defaultPolicy({ runtimeDir }), store });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const call = async (url: string, method: string, body?: object) => {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { cookie: SESSION, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as unknown;
};

interface BatchResult {
  rate: number;
  cpuUsPerTask: number;
  userUsPerTask: number;
  frames: number;
}

/** One batch of `tasks` from a new playground; its rate and the process's CPU time per task. */
async function batch(tasks: number): Promise<BatchResult> {
  const playground = (await call('/api/playgrounds', 'POST', {
    scenario: 'pipeline',
    params: { tasks, intervalMs: 0, payloadBytes: 16, drainMs: 5000, syncStart: true },
  })) as PlaygroundInfo;
  if (SINK) await call(`/api/playgrounds/${playground.id}/sink`, 'PATCH', { enabled: true, transport: 'tcp' });
  const finish = SINK ? 'task:collected' : 'task:received';
  let first = -1;
  let last = 0;
  const stop = app.playgrounds.get(playground.id).log.subscribe((event) => {
    if (event.type === 'task:sent' && first < 0) first = event.t;
    else if (event.type === finish) last = event.t;
  });
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/playgrounds/${playground.id}/stream`, {
    headers: { cookie: SESSION },
  });
  let frames = 0;
  const ended = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the run took more than ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
    socket.on('message', (data) => {
      const decoded = decodeServerMessage(data.toString());
      if (!decoded.ok || decoded.value.type !== 'events') return;
      frames++;
      if (decoded.value.events.some((event) => event.type === 'run:ended')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'subscribe' }));
  const log = app.playgrounds.get(playground.id).log;
  const recorded = async () =>
    store ? ((await call('/api/recording', 'GET')) as { recordedEvents: number }).recordedEvents : 0;
  const recordedBefore = await recorded();
  const seqBefore = log.lastSeq;
  const cpuBefore = process.cpuUsage();
  await call(`/api/playgrounds/${playground.id}/runs`, 'POST');
  await ended;
  // The writer thread's share too: wait (bounded) until every event of the run is stored.
  for (let waited = 0; store && waited < RUN_TIMEOUT_MS; waited += 20) {
    if ((await recorded()) - recordedBefore >= log.lastSeq - seqBefore) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cpu = process.cpuUsage(cpuBefore);
  stop();
  socket.close();
  await call(`/api/playgrounds/${playground.id}`, 'DELETE');
  const cpuUs = cpu.user + cpu.system;
  return {
    rate: tasks / ((last - first) / 1000),
    cpuUsPerTask: cpuUs / tasks,
    userUsPerTask: cpu.user / tasks,
    frames,
  };
}

const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const sides = SIZES.flatMap((size) => HOMES.map((inThread) => ({ size, inThread })));
const nameOf = (side: { size: number; inThread: boolean }) =>
  `${side.size} tasks, workers in ${side.inThread ? 'their thread' : 'the main thread'}`;
const results = new Map(sides.map((side) => [side, [] as BatchResult[]]));
console.log(
  `profile-batch: ${sides.map(nameOf).join(' | ')}${SINK ? ', with a sink' : ''}${store ? ', recorded' : ''}; load ${load()}`,
);
try {
  for (let run = 0; run < Number(values.runs); run++) {
    // Alternating order, so that a machine getting busier or quieter does not favour one side.
    for (const side of run % 2 === 0 ? sides : [...sides].reverse()) {
      inProcessWorkers.inThread = side.inThread;
      const result = await batch(side.size);
      results.get(side)!.push(result);
      console.log(
        `run ${run + 1}, ${nameOf(side)}: ${Math.round(result.rate)} tasks/s, CPU ${result.cpuUsPerTask.toFixed(1)} us a task ` +
          `(user ${result.userUsPerTask.toFixed(1)}), ${result.frames} frames; load ${load()}`,
      );
    }
  }
  console.log('medians:');
  for (const side of sides) {
    const runs = results.get(side)!;
    const rate = median(runs.map((r) => r.rate));
    const cpu = median(runs.map((r) => r.cpuUsPerTask));
    console.log(`  ${nameOf(side)}: ${Math.round(rate)} tasks/s, CPU ${cpu.toFixed(1)} us a task`);
  }
  const first = sides[0]!;
  for (const side of sides.slice(1)) {
    const ratio = (key: keyof BatchResult) =>
      (median(results.get(side)!.map((r) => r[key])) / median(results.get(first)!.map((r) => r[key]))).toFixed(2);
    console.log(`  ${nameOf(side)} / ${nameOf(first)}: rate ${ratio('rate')}, CPU per task ${ratio('cpuUsPerTask')}`);
  }
} finally {
  await app.close();
  fs.rmSync(runtimeDir, { recursive: true, force: true });
}
