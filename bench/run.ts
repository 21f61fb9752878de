/**
 * (Over 400 lines: the cases that compare the playground with bare zeromq.js in one process live here together,
 * so that both halves of a comparison share their batch, sockets and rounds; cases with their own processes are
 * in their own files: trio.ts, cold-start.ts, pace.ts, loop-delay.ts, patterns.ts, capacity.ts.)
 *
 * npm run bench [-- --case throughput|trio|sink8|watchers|record|seek|cold-start|pace|loop-delay|pubsub|reqrep|capacity] [--tasks N] [--rounds N] [--record both|on|off] [--events N] [--seeks N] [--watchers N] [--class count|decode] [--instances N] [--threads]
 *
 * throughput: the instrumented pipeline against bare zeromq.js in the same process.
 *   bare:         PUSH (bound tcp + ipc) -> 2 PULLs, [task id, body] frames, nothing else
 *   instrumented: the playground's batch scenario, the same sockets and frames, plus task:sent/task:received
 *                 events, seq stamping, and a real WebSocket client on loopback receiving the batched frames;
 *                 once without recording and once recording to a temp-file store as the server always does
 *                 (--record both, the default; on or off runs one of them)
 *   Rounds alternate bare / not recorded / recorded so that machine noise hits all; medians and ratios are printed.
 *   Memory is sampled during the instrumented runs: it must stay flat (no per-message state kept).
 * trio: the zguide's ventilator, two workers and sink in Python (pyzmq, a flushed print per task to a file) against
 *   the playground's same batch (2 workers, sink, recorded, one WebSocket watcher), interleaved; bench/trio.ts.
 * sink8: eight workers and a sink, half as many tasks, instrumented (the pipeline scenario through the server,
 *   a WebSocket client subscribed; recorded unless --record off) against the same topology in bare zeromq.js;
 *   tasks/s until the sink has them all.
 * watchers: the throughput case's batch (recorded unless --record off) with 1 watcher and with 200 (--watchers N), in
 *   alternating rounds: the class is N-1 visitors that joined through the watch link, each with a WebSocket of its
 *   own, in a worker thread (bench/watcher-thread.ts) so that their reading is not done on the server's event loop;
 *   the measuring client makes the N-th. --class count (the default): each watcher makes the page's upgrade
 *   request on a raw socket (offering permessage-deflate as Chromium does) and only counts frame headers, so that
 *   the ratio measures the server's cost of a class, not the clients' inflating on the same cores; after the run
 *   each proves it got every frame (run:ended at the measuring client's position, the same bytes as the others).
 *   --class decode: ws clients that inflate every frame, for reference. Medians and the ratio N/1 (aim 0.9), the
 *   main thread's CPU time per run on each side (Linux) and the whole process's.
 * record: the same batch, headless, with the Recorder on (temp-file store) and off, alternating rounds: the
 *   tasks/s ratio on/off, the events/s stored, and the file's bytes per event stored.
 * seek: a synthetic 1,000,000-event run recorded into a temp-file store, then random windows by seq and by time,
 *   counters at random moments, the run list, a reopen and a streamed export are timed (median and p95); the
 *   file's bytes per task event.
 * cold-start: from starting the server to its first answer on /api/health, from the sources (tsx) and built
 *   (node dist/server/main.js, npm start); bench/cold-start.ts. --rounds N starts of each.
 * pace: the ventilator's rate at interval 1 ms and 10 ms against the rate asked for, and a sleep after each send
 *   in bare zeromq.js beside it; bench/pace.ts.
 * pubsub: 1 PUB, 8 SUBs (tcp, subscribed to everything), --tasks/10 messages each delivered to all eight: a graph
 *   built as data, created and run through the server's HTTP API with a WebSocket client on its stream, against
 *   the same sockets in bare zeromq.js; messages/s to all eight and the ratio; bench/patterns.ts.
 * reqrep: 1 REQ, 1 REP (tcp), the series' part 1 with --tasks/10 round trips, the same way: round trips/s and each
 *   round trip's latency p50/p95, instrumented against bare; bench/patterns.ts.
 * loop-delay: a 10,000-task batch at interval 0 with the send and receive loops giving the event loop a turn each
 *   4 ms and without (server/pipeline/loop-turns.ts), alternating: tasks/s and what the batch does to a 1 ms timer
 *   beside it (worst gap, loop delay p99 and max); bench/loop-delay.ts.
 * capacity: the built server as its own process, learners (a visitor each, with the tutorial's and a 10,000-task
 *   batch's playground, both watched) added 2 at a time until the health check's p99 passes 200 ms or a run misses
 *   its pace: how many one instance holds and its RSS per playground; bench/capacity.ts. Takes up to 10 minutes.
 *   --instances N (2-8): ramps of 1, N and 1 instances behind HAProxy with a shared throw-away PostgreSQL, the
 *   capacities and what the other instances add over one's; up to 25 minutes.
 * Without --case every case runs. Only loopback; every loop is bounded by its count and a time limit.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as zmq from 'zeromq';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../server/app.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { Playground } from '../server/pipeline/playground.ts';
import { RunLog } from '../server/recorder/run-log.ts';
import { Recorder } from '../server/recorder/recorder.ts';
import { InlineChannel, ThreadChannel, type WriteChannel } from '../server/recorder/channel.ts';
import { RunStore } from '../server/recorder/store.ts';
import { exportJson } from '../server/recorder/export.ts';
import { SqliteRecordingStore } from '../server/recorder/sqlite-store.ts';
import { SCENARIOS } from '../shared/scenarios/index.ts';
import { decodeServerMessage, type PlaygroundEvent, type PlaygroundInfo } from '../shared/protocol/index.ts';
import { syntheticEvents } from '../test/recording.ts';
import { capacityCase } from './capacity.ts';
import { coldStartCase } from './cold-start.ts';
import { paceCase } from './pace.ts';
import { loopDelayCase } from './loop-delay.ts';
import { pubSubCase, reqRepCase } from './patterns.ts';
import { trioCase } from './trio.ts';
import type { ClassMode } from './watcher-thread.ts';

/**
 * The bench is one visitor of its server (server/http/session.ts): every request and the WebSocket carry this
 * session cookie, so the playgrounds it creates are its own. Any long random value is a valid session.
 */
const SESSION = `zpg_session=${randomBytes(32).toString('base64url')}`;
const fetch = (url: string, init: RequestInit = {}) =>
  globalThis.fetch(url, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), cookie: SESSION },
  });

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    case: { type: 'string', default: 'all' },
    events: { type: 'string', default: '1000000' },
    seeks: { type: 'string', default: '200' },
    /** throughput and sink8: with recording into a temp-file store as the server does (on), without (off), or both. */
    record: { type: 'string', default: 'both' },
    /** watchers: how many watch the batch in the crowded rounds. */
    watchers: { type: 'string', default: '200' },
    /** watchers: a class that counts frame headers (count) or ws clients that inflate every frame (decode). */
    class: { type: 'string', default: 'count' },
    /** capacity: 1 (one server), or 2-8 for the comparison behind HAProxy (bench/capacity.ts). */
    instances: { type: 'string', default: '1' },
    /** throughput: also print the busiest threads' CPU per task, each run (Linux). */
    threads: { type: 'boolean', default: false },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const CASES = [
  'throughput',
  'trio',
  'sink8',
  'watchers',
  'record',
  'seek',
  'cold-start',
  'pace',
  'loop-delay',
  'pubsub',
  'reqrep',
  'capacity',
] as const;
const SEEK_EVENTS = Number(values.events);
const SEEKS = Number(values.seeks);
if (!['both', 'on', 'off'].includes(values.record)) {
  console.error(`--record must be both, on or off, not "${values.record}"`);
  process.exit(2);
}
if (values.class !== 'count' && values.class !== 'decode') {
  console.error(`--class must be count or decode, not "${values.class}"`);
  process.exit(2);
}
const CLASS_MODE: ClassMode = values.class;
const INSTANCES = Number(values.instances);
if (!Number.isInteger(INSTANCES) || INSTANCES < 1 || INSTANCES > 8) {
  console.error(`--instances must be 1-8, not "${values.instances}"`);
  process.exit(2);
}
if (values.case !== 'all' && !(CASES as readonly string[]).includes(values.case)) {
  console.error(`--case must be one of ${CASES.join(', ')} (or leave it out to run all), not "${values.case}"`);
  process.exit(2);
}
/** The scenario every throughput case runs: a numbered batch, both workers connected before the first send. */
const BATCH_SCENARIO = 'pipeline';
/** The longest any single wait of a case may take (a batch, a server's start or close, a request, a thread's answer). */
const CASE_TIMEOUT_MS = 120_000;
/**
 * The longest a whole case may take: the last bound of the waits in the other files' cases (trio, cold-start, pace,
 * pubsub, reqrep and capacity bound their own waits; capacity takes up to 10 minutes).
 */
const WHOLE_CASE_TIMEOUT_MS = 30 * 60_000;
const BODY_PADDING = 'x'.repeat(16);

zmq.context.blocky = false;
const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-bench-'));

/**
 * Every wait of the bench goes through here: it rejects naming `what` when `promise` has not settled within `ms`.
 * The timer is deliberately not unref'd: it keeps the event loop alive for as long as the wait lasts, so a promise
 * that never settles (an answer that never comes, with nothing else pending) ends the bench with this message
 * instead of Node's silent exit 13 for an unsettled top-level await.
 */
function withTimeout<T>(promise: Promise<T>, what: string, ms = CASE_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`waited more than ${ms / 1000} s for ${what}`)), ms);
    }),
  ]);
}

/** A loop of sends (each awaited: ZeroMQ's backpressure), bounded as a whole: one timer, not one per message. */
async function sendAll(socket: zmq.Push, count: number, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      for (let task = 0; task < count; task++) await socket.send([String(task), `task ${task} ${BODY_PADDING}`]);
    })(),
    what,
  );
}

/** Bare zeromq.js, same topology and framing as the batch scenario. Returns tasks per second. */
async function bare(round: number): Promise<number> {
  const push = new zmq.Push();
  push.linger = 0;
  let handshakes = 0;
  const bothJoined = new Promise<void>((resolve) => {
    push.events.on('handshake', () => {
      if (++handshakes === 2) resolve();
    });
  });
  await withTimeout(push.bind('tcp://127.0.0.1:*'), 'the bare PUSH binding tcp');
  const tcp = push.lastEndpoint!;
  const ipc = `ipc://${runtimeDir}/bare-${round}`;
  await withTimeout(push.bind(ipc), 'the bare PUSH binding ipc');
  const pulls = [tcp, ipc].map((address) => {
    const pull = new zmq.Pull();
    pull.linger = 0;
    pull.connect(address);
    return pull;
  });
  await withTimeout(bothJoined, 'both bare PULLs joining');
  let received = 0;
  let lastReceivedAt = 0;
  const done = Promise.all(
    pulls.map(async (pull) => {
      for await (const [id] of pull) {
        void id;
        lastReceivedAt = performance.now();
        if (++received === TASKS) break;
      }
    }),
  ).catch(() => {});
  const allReceived = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (received >= TASKS) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  const start = performance.now();
  await sendAll(push, TASKS, 'the bare run sending its batch');
  await withTimeout(allReceived, 'the bare run receiving its batch');
  const seconds = (lastReceivedAt - start) / 1000;
  push.close();
  for (const pull of pulls) pull.close();
  await withTimeout(done, 'the bare PULLs ending their loops');
  return TASKS / seconds;
}

interface InstrumentedResult {
  rate: number;
  frames: number;
  /** Messages of every type received up to and including the one with run:ended (hello is the first). */
  messagesToEnd: number;
  eventsDelivered: number;
  dropped: number;
  heapStartMb: number;
  heapPeakMb: number;
  heapEndMb: number;
}

/**
 * Subscribes a real WebSocket client to a playground, starts its run, and measures it: tasks/s from the first
 * send to the last `finish` event (taken from the log itself, since the stream may sample task events out), the
 * frames and events the client received, and the heap while it ran. `beforeDelete` runs once the run has ended,
 * before the playground is deleted (the watchers case checks its class there, while their streams are open).
 */
async function measureRun(
  app: FastifyInstance,
  base: string,
  playgroundId: string,
  tasks: number,
  finish: 'task:received' | 'task:collected',
  beforeDelete?: (messagesToEnd: number) => Promise<void>,
): Promise<InstrumentedResult> {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/playgrounds/${playgroundId}/stream`, {
    headers: { cookie: SESSION },
  });
  let frames = 0;
  let messages = 0;
  let messagesToEnd = 0;
  let eventsDelivered = 0;
  let dropped = 0;
  let firstSentT = -1;
  let lastFinishT = 0;
  let finished = 0;
  const stopTiming = app.playgrounds.get(playgroundId).log.subscribe((event) => {
    if (event.type === 'task:sent' && firstSentT < 0) firstSentT = event.t;
    else if (event.type === finish) lastFinishT = event.t;
  });
  const ended = new Promise<void>((resolve, reject) => {
    // After run:ended these are no-ops; before, a stream that fails or closes would otherwise leave this waiting.
    socket.on('error', (error) => reject(new Error(`the stream failed: ${error.message}`)));
    socket.on('close', (code) => reject(new Error(`the stream closed (code ${code}) before run:ended`)));
    socket.on('message', (data) => {
      const decoded = decodeServerMessage(data.toString());
      if (!decoded.ok) return reject(new Error(decoded.message));
      const message = decoded.value;
      messages++;
      if (message.type !== 'events') return;
      frames++;
      dropped += message.dropped;
      eventsDelivered += message.events.length;
      const { counters } = message;
      finished =
        finish === 'task:collected' ? counters.collected : Object.values(counters.received).reduce((a, b) => a + b, 0);
      if (message.events.some((event) => event.type === 'run:ended')) {
        messagesToEnd = messages;
        resolve();
      }
    });
  });
  // Marked handled now (a rejection before the await below must not crash the process); the await still sees it.
  ended.catch(() => {});
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }),
    'the stream opening',
  );
  socket.send(JSON.stringify({ type: 'subscribe' }));

  global.gc?.();
  const heapStart = process.memoryUsage().heapUsed;
  let heapPeak = heapStart;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50);
  await request(`${base}/api/playgrounds/${playgroundId}/runs`, { method: 'POST' }, 'starting the run');
  await withTimeout(ended, 'the instrumented run to end');
  clearInterval(sampler);
  global.gc?.();
  const heapEnd = process.memoryUsage().heapUsed;
  stopTiming();
  socket.close();
  await beforeDelete?.(messagesToEnd);
  await request(`${base}/api/playgrounds/${playgroundId}`, { method: 'DELETE' }, 'deleting the playground');

  if (finished !== tasks) throw new Error(`instrumented run finished ${finished} of ${tasks} tasks`);
  const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  return {
    rate: tasks / ((lastFinishT - firstSentT) / 1000),
    frames,
    messagesToEnd,
    eventsDelivered,
    dropped,
    heapStartMb: mb(heapStart),
    heapPeakMb: mb(heapPeak),
    heapEndMb: mb(heapEnd),
  };
}

/** A request to the bench's server, bounded; an answer other than 2xx fails the case, saying what it was for. */
async function request(url: string, init: RequestInit, what: string): Promise<Response> {
  const response = await withTimeout(fetch(url, init), `the server's answer to ${what}`);
  if (!response.ok) {
    const body = await withTimeout(response.text(), `the body of the server's answer to ${what}`);
    throw new Error(`${what}: the server answered ${response.status} ${body}`);
  }
  return response;
}

/** A request's JSON answer, bounded. */
async function requestJson<T>(url: string, init: RequestInit, what: string): Promise<T> {
  const response = await request(url, init, what);
  return (await withTimeout(response.json(), `the body of the server's answer to ${what}`)) as T;
}

function createPlayground(base: string, body: object): Promise<PlaygroundInfo> {
  return requestJson<PlaygroundInfo>(
    `${base}/api/playgrounds`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    'creating a playground',
  );
}

/** The bench's own server: built, listening on loopback, both bounded. */
async function startServer(store: string | null): Promise<{ app: FastifyInstance; base: string }> {
  const app = await withTimeout(
    buildApp({ staticDir: null, policy: defaultPolicy({ runtimeDir }), store }),
    'the server to be built',
  );
  const base = await withTimeout(app.listen({ host: '127.0.0.1', port: 0 }), 'the server to listen');
  return { app, base };
}

const closeServer = (app: FastifyInstance) => withTimeout(app.close(), 'the server to close');

/** The playground's batch scenario behind the real HTTP server, with one WebSocket client subscribed. */
async function instrumented(app: FastifyInstance, base: string): Promise<InstrumentedResult> {
  const playground = await createPlayground(base, {
    scenario: BATCH_SCENARIO,
    params: { tasks: TASKS, intervalMs: 0, payloadBytes: BODY_PADDING.length, drainMs: 5000 },
  });
  return measureRun(app, base, playground.id, TASKS, 'task:received');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function throughputCase(): Promise<void> {
  // Both servers in one process, rounds alternating bare / not recorded / recorded, so noise hits all three.
  const sides = (values.record === 'off' ? ['off'] : values.record === 'on' ? ['on'] : ['off', 'on']) as (
    'off' | 'on'
  )[];
  const apps = new Map<
    'off' | 'on',
    { app: FastifyInstance; base: string; rates: number[]; mainUs: number[]; processUs: number[] }
  >();
  for (const side of sides) {
    const store = side === 'off' ? null : path.join(runtimeDir, 'throughput.db');
    const { app, base } = await startServer(store);
    apps.set(side, { app, base, rates: [], mainUs: [], processUs: [] });
  }
  const bareRates: number[] = [];
  console.log(
    `zeromq.js ${zmq.version}, node ${process.version}, ${os.cpus().length} cores; ${TASKS} tasks x ${ROUNDS} rounds; ` +
      `instrumented ${sides.map((side) => (side === 'on' ? 'with recording' : 'without recording')).join(' and ')}`,
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bareThreads = threadCpuMs();
      const b = await bare(round);
      if (values.threads)
        console.log(`round ${round + 1} bare threads (us a task): ${busiestThreads(bareThreads, TASKS)}`);
      bareRates.push(b);
      const parts = [`bare ${Math.round(b)} tasks/s`];
      for (const [side, { app, base, rates, mainUs, processUs }] of apps) {
        // CPU per task over the whole instrumented run (its start, the batch, the recorder catching up is not
        // waited for): the main thread's (the event loop, with the measuring client's decoding) and the process's.
        const mainBefore = eventLoopCpuMs();
        const processBefore = processCpuMs();
        const threadsBefore = threadCpuMs();
        const i = await instrumented(app, base);
        const main = ((eventLoopCpuMs() - mainBefore) * 1000) / TASKS;
        const whole = ((processCpuMs() - processBefore) * 1000) / TASKS;
        if (values.threads) parts.push(`threads (us a task): ${busiestThreads(threadsBefore, TASKS)}`);
        rates.push(i.rate);
        mainUs.push(main);
        processUs.push(whole);
        parts.push(
          `${side === 'on' ? 'recorded' : 'not recorded'} ${Math.round(i.rate)} tasks/s ` +
            `(CPU a task: main ${main.toFixed(1)} us, process ${whole.toFixed(1)} us; ` +
            `${i.frames} ws frames, ${i.eventsDelivered} events delivered, ${i.dropped} sampled out; ` +
            `heap ${i.heapStartMb} -> peak ${i.heapPeakMb} -> ${i.heapEndMb} MB)`,
        );
      }
      console.log(`round ${round + 1} (load ${os.loadavg()[0]!.toFixed(1)}): ${parts.join(' | ')}`);
    }
  } finally {
    for (const { app } of apps.values()) await closeServer(app);
  }
  const bareMedian = median(bareRates);
  console.log(`\nmedian bare                       ${Math.round(bareMedian)} tasks/s`);
  for (const [side, { rates, mainUs, processUs }] of apps) {
    const label = side === 'on' ? 'instrumented, recorded    ' : 'instrumented, not recorded';
    console.log(
      `median ${label} ${Math.round(median(rates))} tasks/s, ratio to bare ${(median(rates) / bareMedian).toFixed(2)} (aim: 0.75 or better); ` +
        `CPU a task: main thread ${median(mainUs).toFixed(1)} us, process ${median(processUs).toFixed(1)} us`,
    );
  }
  const on = apps.get('on');
  const off = apps.get('off');
  if (on && off)
    console.log(
      `ratio recorded/not recorded ${(median(on.rates) / median(off.rates)).toFixed(2)} (what recording every event costs)`,
    );
}

// ---------------------------------------------------------------------------------------------------------------
// sink8: eight workers and a sink (issue 3), instrumented vs bare zeromq.js in the same process

/** The eight workers' transports, as the instrumented playground has them (its two defaults, then six on tcp). */
const EIGHT = ['tcp', 'ipc', 'tcp', 'tcp', 'tcp', 'tcp', 'tcp', 'tcp'] as const;

/**
 *   PUSH (tcp + ipc) -> 8 x PULL -> PUSH [worker, task id] -> PULL sink (tcp)
 * Returns tasks per second from the first send to the last result at the sink.
 */
async function bareEight(round: number, tasks: number): Promise<number> {
  const push = new zmq.Push();
  push.linger = 0;
  let handshakes = 0;
  const allJoined = new Promise<void>((resolve) => {
    push.events.on('handshake', () => {
      if (++handshakes === EIGHT.length) resolve();
    });
  });
  const sink = new zmq.Pull();
  sink.linger = 0;
  await withTimeout(sink.bind('tcp://127.0.0.1:*'), 'the bare sink binding tcp');
  const sinkAddress = sink.lastEndpoint!;
  await withTimeout(push.bind('tcp://127.0.0.1:*'), 'the bare PUSH binding tcp');
  const tcp = push.lastEndpoint!;
  const ipc = `ipc://${runtimeDir}/bare8-${round}`;
  await withTimeout(push.bind(ipc), 'the bare PUSH binding ipc');
  const sockets: zmq.Socket[] = [];
  const loops = EIGHT.map(async (transport, index) => {
    const pull = new zmq.Pull();
    const results = new zmq.Push();
    pull.linger = 0;
    results.linger = 0;
    sockets.push(pull, results);
    results.connect(sinkAddress);
    pull.connect(transport === 'tcp' ? tcp : ipc);
    const name = `worker-${index + 1}`;
    try {
      for await (const [id] of pull) await results.send([name, id!]);
    } catch {
      // closed at the end of the round
    }
  });
  await withTimeout(allJoined, 'eight workers joining');
  let collected = 0;
  let lastCollectedAt = 0;
  const sinkDone = (async () => {
    for await (const [worker] of sink) {
      void worker;
      lastCollectedAt = performance.now();
      if (++collected === tasks) return;
    }
  })();
  const start = performance.now();
  await sendAll(push, tasks, 'the bare eight-worker run sending its batch');
  await withTimeout(sinkDone, 'the bare eight-worker run collecting its batch');
  push.close();
  sink.close();
  for (const socket of sockets) socket.close();
  await withTimeout(Promise.allSettled(loops), 'the bare workers ending their loops');
  return tasks / ((lastCollectedAt - start) / 1000);
}

/** The trio case's playground side: the pipeline's batch with its two workers and a sink on tcp, recorded. */
async function instrumentedWithSink(app: FastifyInstance, base: string): Promise<InstrumentedResult> {
  const playground = await createPlayground(base, {
    scenario: BATCH_SCENARIO,
    params: { tasks: TASKS, intervalMs: 0, payloadBytes: BODY_PADDING.length, drainMs: 5000, syncStart: true },
  });
  await request(
    `${base}/api/playgrounds/${playground.id}/sink`,
    {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, transport: 'tcp' }),
    },
    'turning the sink on',
  );
  return measureRun(app, base, playground.id, TASKS, 'task:collected');
}

async function pythonTrioCase(): Promise<void> {
  const { app, base } = await startServer(path.join(runtimeDir, 'trio.db'));
  try {
    await trioCase({
      runtimeDir,
      tasks: TASKS,
      rounds: ROUNDS,
      payloadBytes: BODY_PADDING.length,
      within: withTimeout,
      playground: async () => {
        // The whole process: the server's threads (main, the workers' thread, the recorder's writer, libzmq's I/O)
        // and the bench's own WebSocket client, from the playground's creation to its deletion.
        const cpuBefore = process.cpuUsage();
        const i = await instrumentedWithSink(app, base);
        const cpu = process.cpuUsage(cpuBefore);
        return {
          rate: i.rate,
          cpuUsPerTask: (cpu.user + cpu.system) / TASKS,
          note: `${i.frames} ws frames, heap peak ${i.heapPeakMb} MB`,
        };
      },
    });
  } finally {
    await closeServer(app);
  }
}

async function instrumentedEight(app: FastifyInstance, base: string, tasks: number): Promise<InstrumentedResult> {
  const playground = await createPlayground(base, {
    scenario: BATCH_SCENARIO,
    params: { tasks, intervalMs: 0, payloadBytes: BODY_PADDING.length, drainMs: 5000, syncStart: true },
  });
  const send = (url: string, body: object, method: string) =>
    request(
      `${base}/api/playgrounds/${playground.id}${url}`,
      { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      `${method} ${url}`,
    );
  await send('/sink', { enabled: true, transport: 'tcp' }, 'PATCH');
  for (const transport of EIGHT.slice(playground.workers.length)) await send('/workers', { transport }, 'POST');
  return measureRun(app, base, playground.id, tasks, 'task:collected');
}

async function sinkEightCase(): Promise<void> {
  const tasks = Math.max(1, Math.round(TASKS / 2));
  const store = values.record === 'off' ? null : path.join(runtimeDir, 'sink8.db');
  const { app, base } = await startServer(store);
  console.log(
    `\n== sink8: 8 workers (7 tcp, 1 ipc) and a sink, ${tasks} tasks x ${ROUNDS} rounds${store ? '' : '; recording off'}`,
  );
  const bareRates: number[] = [];
  const instrumentedRates: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const b = await bareEight(round, tasks);
      bareRates.push(b);
      const i = await instrumentedEight(app, base, tasks);
      instrumentedRates.push(i.rate);
      console.log(
        `round ${round + 1}: bare ${Math.round(b)} tasks/s | instrumented ${Math.round(i.rate)} tasks/s ` +
          `(${i.frames} ws frames, ${i.eventsDelivered} events delivered, ${i.dropped} sampled out; ` +
          `heap ${i.heapStartMb} -> peak ${i.heapPeakMb} -> ${i.heapEndMb} MB)`,
      );
    }
  } finally {
    await closeServer(app);
  }
  const bareMedian = median(bareRates);
  const instrumentedMedian = median(instrumentedRates);
  console.log(`median bare         ${Math.round(bareMedian)} tasks/s`);
  console.log(`median instrumented ${Math.round(instrumentedMedian)} tasks/s`);
  console.log(`ratio instrumented/bare ${(instrumentedMedian / bareMedian).toFixed(2)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// watchers: one playground's batch watched by 1 and by N clients (issue 9, presenter mode)

/**
 * Asks the watcher thread for something and waits for its answer (bounded by the case's time limit); a thread that
 * fails or exits before answering fails the wait at once, saying so.
 */
function askThread<T>(thread: Worker, order: object, answer: string): Promise<T> {
  let stopListening = () => {};
  const answered = new Promise<T>((resolve, reject) => {
    const listener = (message: Record<string, unknown>) => {
      if (typeof message.error === 'string') reject(new Error(`watcher thread: ${message.error}`));
      else if (answer in message) resolve(message[answer] as T);
    };
    const failed = (error: Error) =>
      reject(new Error(`the watcher thread failed before its ${answer}: ${error.message}`));
    const exited = (code: number) => reject(new Error(`the watcher thread exited (code ${code}) before its ${answer}`));
    thread.on('message', listener);
    thread.on('error', failed);
    thread.on('exit', exited);
    stopListening = () => {
      thread.off('message', listener);
      thread.off('error', failed);
      thread.off('exit', exited);
    };
    thread.postMessage(order);
  });
  return withTimeout(answered, `the watcher thread's ${answer}`).finally(() => stopListening());
}

/**
 * CPU time the main thread (the server's event loop) has used, in ms, from Linux's per-thread scheduler figures;
 * NaN elsewhere. process.cpuUsage() would add the class's thread, the recorder's writer and libzmq's threads.
 */
function eventLoopCpuMs(): number {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** CPU time of each thread of the process in ms, by thread id, from Linux's scheduler figures (empty elsewhere). */
function threadCpuMs(): Map<string, { name: string; ms: number }> {
  const threads = new Map<string, { name: string; ms: number }>();
  try {
    for (const tid of fs.readdirSync('/proc/self/task')) {
      try {
        const ms = Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
        const name =
          tid === String(process.pid) ? 'main' : fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        threads.set(tid, { name, ms });
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // not Linux
  }
  return threads;
}

/** The threads that used the most CPU between two threadCpuMs() readings, as "name us" per task. */
function busiestThreads(before: Map<string, { name: string; ms: number }>, tasks: number, count = 5): string {
  const deltas: { name: string; us: number }[] = [];
  for (const [tid, { name, ms }] of threadCpuMs()) {
    const us = ((ms - (before.get(tid)?.ms ?? 0)) * 1000) / tasks;
    if (us >= 0.05) deltas.push({ name: name === 'node' ? `thread ${tid}` : name, us });
  }
  deltas.sort((a, b) => b.us - a.us);
  return deltas
    .slice(0, count)
    .map(({ name, us }) => `${name} ${us.toFixed(1)}`)
    .join(', ');
}

/** CPU time of the whole bench process in ms (every thread: server, class, libzmq, the recorder's writer). */
function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface ClassStats {
  frames: number;
  bytes: number;
  closedEarly: number;
  /** Watchers whose run:ended came at the measuring client's position. */
  checked: number;
  /** Bytes each checked watcher had received up to and including run:ended (all alike when none missed a frame). */
  minBytesToEnd: number;
  maxBytesToEnd: number;
  failures: string[];
}

async function watchersCase(): Promise<void> {
  const crowd = Math.max(2, Number(values.watchers));
  const store = values.record === 'off' ? null : path.join(runtimeDir, 'watchers.db');
  // Each watcher is a visitor of its own (its cookie), so the per-visitor HTTP limit counts each join apart.
  const { app, base } = await startServer(store);
  const thread = new Worker(new URL('./watcher-thread.mjs', import.meta.url));
  const classWhat =
    CLASS_MODE === 'count'
      ? 'a class that counts frame headers on raw sockets (--class count)'
      : 'a class of ws clients that inflate every frame (--class decode)';
  console.log(
    `\n== watchers: ${TASKS} tasks watched by 1 and by ${crowd} clients, ${ROUNDS} rounds, ${classWhat}${store ? '' : '; recording off'}`,
  );
  const rates = { one: [] as number[], crowd: [] as number[] };
  /** The main thread's CPU time over each run (ms): the server's event loop, and the measuring client's reading. */
  const cpu = { one: [] as number[], crowd: [] as number[] };
  /** The whole process's CPU time over each run (ms): the above, libzmq, the recorder's writer and the class. */
  const processCpu = { one: [] as number[], crowd: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const parts: string[] = [];
      // Alternate which goes first, so that a machine getting busier or quieter does not favour one side.
      for (const side of round % 2 === 0 ? (['one', 'crowd'] as const) : (['crowd', 'one'] as const)) {
        const playground = await createPlayground(base, {
          scenario: BATCH_SCENARIO,
          params: { tasks: TASKS, intervalMs: 0, payloadBytes: BODY_PADDING.length, drainMs: 5000 },
        });
        let classStats = '';
        if (side === 'crowd') {
          const links = await requestJson<{ watchToken: string }>(
            `${base}/api/playgrounds/${playground.id}/links`,
            {},
            'the watch link',
          );
          await askThread(
            thread,
            {
              connect: {
                base,
                playground: playground.id,
                token: links.watchToken,
                count: crowd - 1,
                mode: CLASS_MODE,
              },
            },
            'ready',
          );
        }
        const cpuBefore = eventLoopCpuMs();
        const processBefore = processCpuMs();
        let cpuMs = 0;
        let processMs = 0;
        // The CPU figures stop when the measuring client has run:ended, before the class is checked and closed.
        const result = await measureRun(app, base, playground.id, TASKS, 'task:received', async (endsAt) => {
          cpuMs = eventLoopCpuMs() - cpuBefore;
          processMs = processCpuMs() - processBefore;
          if (side !== 'crowd') return;
          const stats = await askThread<ClassStats>(thread, { close: { endsAt } }, 'stats');
          if (stats.failures.length > 0)
            throw new Error(`the class did not get every frame: ${stats.failures.join('; ')}`);
          if (stats.minBytesToEnd !== stats.maxBytesToEnd)
            throw new Error(
              `the class's watchers got different bytes up to run:ended: ${stats.minBytesToEnd} to ${stats.maxBytesToEnd}`,
            );
          const bytesWhat = CLASS_MODE === 'count' ? 'on the wire' : 'inflated';
          classStats =
            `; the other ${crowd - 1} each got run:ended as message ${endsAt} like it, ` +
            `${(stats.minBytesToEnd / 1024).toFixed(0)} KiB ${bytesWhat} up to it`;
        });
        cpu[side].push(cpuMs);
        processCpu[side].push(processMs);
        rates[side].push(result.rate);
        parts.push(
          `${side === 'one' ? '1 watcher' : `${crowd} watchers`} ${Math.round(result.rate)} tasks/s ` +
            `(${result.frames} frames${classStats}; event loop ${Math.round(cpuMs)} ms CPU, process ${Math.round(processMs)} ms)`,
        );
      }
      console.log(`round ${round + 1}: ${parts.join(' | ')}`);
    }
  } finally {
    await withTimeout(thread.terminate(), 'the watcher thread to stop');
    await closeServer(app);
  }
  const one = median(rates.one);
  const many = median(rates.crowd);
  console.log(`median 1 watcher    ${Math.round(one)} tasks/s`);
  console.log(`median ${crowd} watchers ${Math.round(many)} tasks/s`);
  console.log(`ratio ${crowd}/1 ${(many / one).toFixed(2)} (aim: 0.9 or better; class: ${CLASS_MODE})`);
  if (cpu.one.every(Number.isFinite))
    console.log(
      `event loop CPU per run: median ${Math.round(median(cpu.one))} ms with 1 watcher, ` +
        `${Math.round(median(cpu.crowd))} ms with ${crowd} (ratio ${(median(cpu.crowd) / median(cpu.one)).toFixed(2)}; ` +
        'what the class costs the server itself, less moved by other load on the machine than the rates)',
    );
  console.log(
    `process CPU per run: median ${Math.round(median(processCpu.one))} ms with 1 watcher, ` +
      `${Math.round(median(processCpu.crowd))} ms with ${crowd} (ratio ${(median(processCpu.crowd) / median(processCpu.one)).toFixed(2)}; ` +
      'every thread: the server, libzmq, the recorder and the class)',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// record: the Recorder on vs off, same batch, same process

interface RecordResult {
  rate: number;
  /** Events stored (0 when off) and how long, from the run's start until the last of them was committed. */
  events: number;
  storedPerSecond: number;
  heapPeakMb: number;
}

async function headlessBatch(channel: WriteChannel | null, store: RunStore): Promise<RecordResult> {
  const playground = new Playground({
    scenario: SCENARIOS.get(BATCH_SCENARIO)!,
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
  global.gc?.();
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50);
  const started = performance.now();
  const run = playground.startRun();
  await withTimeout(done, 'headless batch');
  let events = 0;
  let storedMs = 0;
  if (recorder) {
    // Everything written: flush what the recorder holds and wait (bounded) for the writer.
    await withTimeout(recorder.flushed(), 'the recorder catching up');
    storedMs = performance.now() - started;
    events = store.getRun(run.id).eventCount;
  }
  clearInterval(sampler);
  await withTimeout(playground.close(), 'the headless playground to close');
  // The writer thread's answer: before channel.ts kept the thread ref'd while it is awaited, nothing else kept the
  // event loop alive here once the playground had closed, and Node could exit with code 13 mid-round.
  if (recorder) await withTimeout(recorder.close(), 'the recorder to close (its last batch written)');
  if (received !== TASKS) throw new Error(`headless run received ${received} of ${TASKS}`);
  return {
    rate: TASKS / ((lastReceivedT - firstSentT) / 1000),
    events,
    storedPerSecond: storedMs > 0 ? events / (storedMs / 1000) : 0,
    heapPeakMb: Math.round((heapPeak / 1048576) * 10) / 10,
  };
}

async function recordCase(): Promise<void> {
  console.log(
    `\n== record: the batch scenario headless; recorder off vs on (temp-file store, writer thread as the server does) ` +
      `vs on inline (writing on the main thread); ${TASKS} tasks x ${ROUNDS} rounds`,
  );
  const store = RunStore.open(path.join(runtimeDir, 'record.db'));
  const thread = new ThreadChannel(store);
  const inline = new InlineChannel(store);
  const off: number[] = [];
  const on: number[] = [];
  const onInline: number[] = [];
  const stored: number[] = [];
  const storedInline: number[] = [];
  let eventsStored = 0;
  const line = (what: string, r: RecordResult) =>
    `${what} ${Math.round(r.rate)} tasks/s` +
    (r.events ? `, ${r.events} events stored at ${Math.round(r.storedPerSecond)} events/s` : '') +
    ` (heap peak ${r.heapPeakMb} MB)`;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const without = await headlessBatch(null, store);
      const threaded = await headlessBatch(thread, store);
      const inlined = await headlessBatch(inline, store);
      off.push(without.rate);
      on.push(threaded.rate);
      onInline.push(inlined.rate);
      stored.push(threaded.storedPerSecond);
      storedInline.push(inlined.storedPerSecond);
      eventsStored += threaded.events + inlined.events;
      console.log(`round ${round + 1}: ${line('off', without)} | ${line('on', threaded)} | ${line('inline', inlined)}`);
    }
  } finally {
    await withTimeout(thread.close(), 'the writer thread to close');
    await withTimeout(inline.close(), 'the inline channel to close');
    store.close();
  }
  // Closed, so the WAL is folded into the file: what the recorded runs take on disk.
  const fileBytes = fs.statSync(path.join(runtimeDir, 'record.db')).size;
  console.log(`median recorder off       ${Math.round(median(off))} tasks/s`);
  console.log(
    `median recorder on        ${Math.round(median(on))} tasks/s, ${Math.round(median(stored))} events/s stored (writer thread)`,
  );
  console.log(
    `median recorder on inline ${Math.round(median(onInline))} tasks/s, ${Math.round(median(storedInline))} events/s stored (main thread)`,
  );
  console.log(
    `ratio on/off ${(median(on) / median(off)).toFixed(2)} (inline ${(median(onInline) / median(off)).toFixed(2)})`,
  );
  console.log(
    `on disk: ${(fileBytes / 1048576).toFixed(1)} MB for ${eventsStored} events stored (nearly all task events), ` +
      `${(fileBytes / eventsStored).toFixed(1)} bytes per event`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// seek: windows in a one-million-event run

/** A small seeded PRNG, so every run of the bench seeks the same positions. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function timed(samples: number, what: (i: number) => unknown): string {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    what(i);
    times.push(performance.now() - start);
  }
  const f = (ms: number) => ms.toFixed(2);
  return `median ${f(median(times))} ms, p95 ${f(percentile(times, 95))} ms (${samples} samples)`;
}

/** Runs `work` while a 10 ms interval measures how late the event loop gets to it. */
async function withLag<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; lagMs: number }> {
  let lagMs = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 10);
    last = now;
  }, 10);
  const start = performance.now();
  try {
    const result = await withTimeout(work(), "the writer thread's answer");
    return { result, ms: performance.now() - start, lagMs };
  } finally {
    clearInterval(probe);
  }
}

async function seekCase(): Promise<void> {
  const file = path.join(runtimeDir, 'seek.db');
  const stepMs = 0.05; // 1M events over 50 s
  console.log(`\n== seek: a ${SEEK_EVENTS}-event run in a temp-file store (${file})`);
  let store = RunStore.open(file);
  const runId = 'run-5eek0001';
  try {
    // Build: the synthetic run through a RunLog and a Recorder, 5,000 events per flush, as the server records.
    const log = new RunLog();
    const recorder = new Recorder(store, { id: 'pg-bench', scenario: { id: 'tutorial', title: 'Bench' }, log });
    const buildStart = performance.now();
    let chunk = 0;
    for (const event of syntheticEvents(runId, { count: SEEK_EVENTS, stepMs })) {
      log.append(event as PlaygroundEvent);
      if (++chunk === 5000) {
        chunk = 0;
        recorder.flush();
        // A turn of the event loop (setImmediate always fires), not a wait on anything.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    recorder.close();
    const buildMs = performance.now() - buildStart;
    const run = store.getRun(runId);
    if (run.eventCount !== SEEK_EVENTS || run.status !== 'ended')
      throw new Error(`built ${run.eventCount} events, status ${run.status}`);
    // A few small runs around it, as a history would have.
    for (let i = 0; i < 50; i++) {
      const small = new RunLog();
      const r = new Recorder(store, { id: 'pg-bench', scenario: { id: 'tutorial', title: 'Bench' }, log: small });
      for (const event of syntheticEvents(`run-5eek1${String(i).padStart(3, '0')}`, { count: 100 }))
        small.append(event);
      r.close();
    }
    const sizeMb =
      (fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0)) / 1048576;
    console.log(
      `built in ${(buildMs / 1000).toFixed(1)} s (${Math.round(SEEK_EVENTS / (buildMs / 1000))} events/s stored); file ${sizeMb.toFixed(0)} MB`,
    );

    const random = mulberry32(42);
    const duration = run.durationMs;
    console.log(
      `window of 1000 by seq   : ${timed(SEEKS, () => store.eventWindow(runId, { fromSeq: 1 + Math.floor(random() * SEEK_EVENTS), limit: 1000 }))}`,
    );
    console.log(
      `window of 500 ms by t   : ${timed(SEEKS, () => {
        const fromT = random() * duration;
        return store.eventWindow(runId, { fromT, toT: fromT + 500, limit: 5000 });
      })}`,
    );
    console.log(`counters at a random t  : ${timed(SEEKS, () => store.countersAt(runId, random() * duration))}`);
    console.log(`list runs (first 50)    : ${timed(SEEKS, () => store.listRuns({ limit: 50 }))}`);
    console.log(`open run detail         : ${timed(SEEKS, () => store.getRun(runId))}`);

    store.close();
    const reopenStart = performance.now();
    store = RunStore.open(file);
    console.log(`reopen the file         : ${(performance.now() - reopenStart).toFixed(1)} ms`);
    // Closed and reopened, the WAL is folded into the file. All but run:started and run:ended are task events.
    const fileBytes = fs.statSync(file).size;
    const taskEvents = SEEK_EVENTS - 2 + 50 * 98;
    console.log(
      `on disk                 : ${(fileBytes / 1048576).toFixed(1)} MB, ${(fileBytes / taskEvents).toFixed(1)} bytes per task event`,
    );

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    let bytes = 0;
    let chunks = 0;
    const parts: string[] = [];
    const exportStart = performance.now();
    for await (const text of (await exportJson(new SqliteRecordingStore(store), runId)).chunks) {
      bytes += Buffer.byteLength(text);
      parts.push(text); // kept only to time the import below; the route streams them out instead
      if (++chunks % 50 === 0)
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - parts.reduce((n, p) => n + p.length, 0));
    }
    console.log(
      `export.json (streamed)  : ${((performance.now() - exportStart) / 1000).toFixed(1)} s, ${(bytes / 1048576).toFixed(0)} MB in ${chunks} chunks, ` +
        `heap +${((heapPeak - heapBefore) / 1048576).toFixed(0)} MB at most (besides the chunks kept for the import)`,
    );
    // Import and delete go through the writer thread, as the routes do: time them and the event loop's worst lag.
    const channel = new ThreadChannel(store);
    try {
      const file = Buffer.from(parts.join('')); // what the route receives
      parts.length = 0;
      const importing = await withLag(() => channel.importRun(file));
      console.log(
        `import of that file     : ${(importing.ms / 1000).toFixed(1)} s in the writer thread (parse, check every event, ` +
          `one transaction), ${importing.result.eventCount} events; event loop lag at most ${importing.lagMs.toFixed(0)} ms`,
      );
      const deleting = await withLag(() => channel.deleteRun(importing.result.id));
      console.log(
        `delete that run         : ${(deleting.ms / 1000).toFixed(1)} s in the writer thread; event loop lag at most ${deleting.lagMs.toFixed(0)} ms`,
      );
    } finally {
      await withTimeout(channel.close(), 'the writer thread to close');
    }
  } finally {
    store.close();
  }
}

async function main(): Promise<void> {
  const only = values.case === 'all' ? null : values.case;
  console.log(
    `bench ${new Date().toISOString()} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()} ${os.release()}`,
  );
  const patterns = { runtimeDir, tasks: TASKS, rounds: ROUNDS, within: withTimeout };
  const cases: Record<(typeof CASES)[number], () => Promise<void>> = {
    throughput: throughputCase,
    trio: pythonTrioCase,
    sink8: sinkEightCase,
    watchers: watchersCase,
    record: recordCase,
    seek: seekCase,
    'cold-start': () => coldStartCase(Math.max(ROUNDS, 5)),
    pace: () => paceCase(ROUNDS, runtimeDir),
    'loop-delay': () => loopDelayCase(ROUNDS, runtimeDir),
    pubsub: () => pubSubCase(patterns),
    reqrep: () => reqRepCase(patterns),
    capacity: () => capacityCase({ instances: INSTANCES }),
  };
  try {
    for (const name of CASES) {
      if (!only || only === name) await withTimeout(cases[name](), `the ${name} case`, WHOLE_CASE_TIMEOUT_MS);
    }
  } finally {
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  // A failed wait leaves its sockets, threads or servers behind, which could keep the process up: say why and exit.
  console.error(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
}
