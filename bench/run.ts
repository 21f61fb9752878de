/**
 * npm run bench: throughput of the instrumented pipeline against bare zeromq.js in the same process.
 *
 *   bare:         PUSH (bound tcp + ipc) -> 2 PULLs, [task id, body] frames, nothing else
 *   instrumented: the playground's batch scenario, the same sockets and frames, plus task:sent/task:received
 *                 events, seq stamping, and a real WebSocket client on loopback receiving the batched frames
 *
 * Rounds alternate bare/instrumented so that machine noise hits both; medians and their ratio are printed.
 * Memory is sampled during the instrumented runs: it must stay flat (no per-message state kept).
 * Only loopback; every loop is bounded by its task count and a time limit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as zmq from 'zeromq';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../server/app.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import { decodeServerMessage, type PlaygroundInfo } from '../shared/protocol/index.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const CASE_TIMEOUT_MS = 120_000;
const BODY_PADDING = 'x'.repeat(16);

zmq.context.blocky = false;
const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-bench-'));

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
    }),
  ]);
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
  await push.bind('tcp://127.0.0.1:*');
  const tcp = push.lastEndpoint!;
  const ipc = `ipc://${runtimeDir}/bare-${round}`;
  await push.bind(ipc);
  const pulls = [tcp, ipc].map((address) => {
    const pull = new zmq.Pull();
    pull.linger = 0;
    pull.connect(address);
    return pull;
  });
  await bothJoined;
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
  for (let task = 0; task < TASKS; task++) await push.send([String(task), `task ${task} ${BODY_PADDING}`]);
  await withTimeout(allReceived, 'bare run');
  const seconds = (lastReceivedAt - start) / 1000;
  push.close();
  for (const pull of pulls) pull.close();
  await done;
  return TASKS / seconds;
}

interface InstrumentedResult {
  rate: number;
  frames: number;
  eventsDelivered: number;
  dropped: number;
  heapStartMb: number;
  heapPeakMb: number;
  heapEndMb: number;
}

/** The playground's batch scenario behind the real HTTP server, with one WebSocket client subscribed. */
async function instrumented(app: FastifyInstance, base: string): Promise<InstrumentedResult> {
  const playground = (await (await fetch(`${base}/api/playgrounds`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scenario: 'pipeline', params: { tasks: TASKS, intervalMs: 0, payloadBytes: BODY_PADDING.length, drainMs: 5000 } }),
  })).json()) as PlaygroundInfo;

  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/playgrounds/${playground.id}/stream`);
  let frames = 0;
  let eventsDelivered = 0;
  let dropped = 0;
  let firstSentT = -1;
  let lastReceivedT = 0;
  let received = 0;
  // Exact times come from the log itself (the stream may sample task events out).
  const stopTiming = app.playgrounds.get(playground.id).log.subscribe((event) => {
    if (event.type === 'task:sent' && firstSentT < 0) firstSentT = event.t;
    else if (event.type === 'task:received') lastReceivedT = event.t;
  });
  const ended = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const decoded = decodeServerMessage(data.toString());
      if (!decoded.ok) return reject(new Error(decoded.message));
      const message = decoded.value;
      if (message.type !== 'events') return;
      frames++;
      dropped += message.dropped;
      eventsDelivered += message.events.length;
      received = Object.values(message.counters.received).reduce((a, b) => a + b, 0);
      if (message.events.some((event) => event.type === 'run:ended')) resolve();
    });
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'subscribe' }));

  global.gc?.();
  const heapStart = process.memoryUsage().heapUsed;
  let heapPeak = heapStart;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50);
  await fetch(`${base}/api/playgrounds/${playground.id}/runs`, { method: 'POST' });
  await withTimeout(ended, 'instrumented run');
  clearInterval(sampler);
  global.gc?.();
  const heapEnd = process.memoryUsage().heapUsed;
  stopTiming();
  socket.close();
  await fetch(`${base}/api/playgrounds/${playground.id}`, { method: 'DELETE' });

  if (received !== TASKS) throw new Error(`instrumented run received ${received} of ${TASKS}`);
  const rate = TASKS / ((lastReceivedT - firstSentT) / 1000);
  const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  return { rate, frames, eventsDelivered, dropped, heapStartMb: mb(heapStart), heapPeakMb: mb(heapPeak), heapEndMb: mb(heapEnd) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const app = await buildApp({ staticDir: null, policy: defaultPolicy({ runtimeDir }) });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const bareRates: number[] = [];
  const instrumentedRates: number[] = [];
  console.log(`zeromq.js ${zmq.version}, node ${process.version}, ${os.cpus().length} cores; ${TASKS} tasks x ${ROUNDS} rounds`);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const b = await bare(round);
      bareRates.push(b);
      const i = await instrumented(app, base);
      instrumentedRates.push(i.rate);
      console.log(
        `round ${round + 1}: bare ${Math.round(b)} tasks/s | instrumented ${Math.round(i.rate)} tasks/s ` +
          `(${i.frames} ws frames, ${i.eventsDelivered} events delivered, ${i.dropped} sampled out; ` +
          `heap ${i.heapStartMb} -> peak ${i.heapPeakMb} -> ${i.heapEndMb} MB)`,
      );
    }
  } finally {
    await app.close();
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  }
  const bareMedian = median(bareRates);
  const instrumentedMedian = median(instrumentedRates);
  console.log(`\nmedian bare         ${Math.round(bareMedian)} tasks/s`);
  console.log(`median instrumented ${Math.round(instrumentedMedian)} tasks/s`);
  console.log(`ratio instrumented/bare ${(instrumentedMedian / bareMedian).toFixed(2)} (aim: 0.75 or better)`);
}

await main();
