/**
 * The playground's batch once, for a profiler: the pipeline scenario behind the real HTTP server (2 workers, a sink
 * on tcp unless --no-sink, interval 0, recorded into a temp-file store through the writer thread as the server
 * does unless --no-record, one WebSocket watcher). Prints the rate and the process's CPU time per task (every
 * thread: main, writer, libzmq's I/O thread), which says more than a rate on a shared machine.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-batch.ts [--tasks N] [--runs N] [--no-sink] [--no-record]
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
import { decodeServerMessage, type PlaygroundInfo } from '../shared/protocol/index.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '1' },
    'no-sink': { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const TASKS = Number(values.tasks);
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

try {
  for (let run = 0; run < Number(values.runs); run++) {
    const playground = (await call('/api/playgrounds', 'POST', {
      scenario: 'pipeline',
      params: { tasks: TASKS, intervalMs: 0, payloadBytes: 16, drainMs: 5000, syncStart: true },
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
    console.log(
      `run ${run + 1}: ${TASKS} tasks${SINK ? ' with a sink' : ''}, ${Math.round(TASKS / ((last - first) / 1000))} tasks/s, ` +
        `CPU ${(cpuUs / 1000).toFixed(0)} ms (${(cpuUs / TASKS).toFixed(1)} us a task, user ${(cpu.user / TASKS).toFixed(1)}), ` +
        `${frames} frames; load ${os
          .loadavg()
          .map((n) => n.toFixed(1))
          .join(' ')}`,
    );
  }
} finally {
  await app.close();
  fs.rmSync(runtimeDir, { recursive: true, force: true });
}
