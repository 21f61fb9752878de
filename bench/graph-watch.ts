/**
 * The instrumented half of the pattern cases (bench/patterns.ts): a graph of the bench's own, created through the
 * real server's HTTP API (POST /api/graphs), run through it (POST /api/graphs/:id/runs) and watched by a real
 * WebSocket client on loopback that reads every frame of /api/graphs/:id/stream until graph:ended, as a page
 * would. The timing comes from the playground's log (every event, with its `t`), because the stream samples message
 * events at these rates; the watcher checks the run's exact counters and summary.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../server/app.ts';
import { defaultPolicy } from '../server/pipeline/endpoints.ts';
import type { GraphSpec, GraphSummary, PlaygroundEvent } from '../shared/protocol/index.ts';
import type { GraphCounters, GraphPlaygroundInfo, GraphServerMessage } from '../shared/protocol/graph-stream.ts';

/** The bench is one visitor of its server: its cookie on every request and on the WebSocket (as in run.ts). */
const SESSION = `zpg_session=${randomBytes(32).toString('base64url')}`;
const fetch = (url: string, init: RequestInit = {}) =>
  globalThis.fetch(url, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), cookie: SESSION },
  });

export type Within = <T>(promise: Promise<T>, what: string) => Promise<T>;

export interface WatchedRun {
  frames: number;
  eventsDelivered: number;
  /** Message events the stream sampled out (its counters stay exact). */
  sampledOut: number;
  /** The exact counters of the last frame the watcher read. */
  counters: GraphCounters;
  summary: GraphSummary;
  /** The main thread's heap before, at its peak during, and after the run (after a gc when --expose-gc). */
  heap: string;
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/**
 * The server as `npm start` builds it, without the page's files (graph runs are not recorded in any case), and with
 * room for one visitor's many short runs: three requests a run, dozens of runs a second at --tasks 1000, past the
 * 50 requests a second a person gets.
 */
export async function startServer(runtimeDir: string): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp({
    staticDir: null,
    policy: defaultPolicy({ runtimeDir }),
    store: null,
    limits: { httpPerSecond: 1000 },
  });
  return { app, base: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

/**
 * Creates a graph playground, subscribes the watcher, starts a run and waits until the watcher has read its
 * graph:ended; then deletes the playground. `onEvent` sees every event of the playground's log as it is appended.
 */
export async function watchGraphRun(
  app: FastifyInstance,
  base: string,
  graph: GraphSpec,
  onEvent: (event: PlaygroundEvent) => void,
  within: Within,
): Promise<WatchedRun> {
  const created = await fetch(`${base}/api/graphs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ graph }),
  });
  if (created.status !== 201) throw new Error(`creating the graph answered ${created.status}: ${await created.text()}`);
  const info = (await created.json()) as GraphPlaygroundInfo;
  const playground = app.graphs.list().find((candidate) => candidate.id === info.id);
  if (!playground) throw new Error(`the server does not list the graph playground ${info.id} it created`);
  const stopTiming = playground.log.subscribe(onEvent);

  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/graphs/${info.id}/stream`, {
    headers: { cookie: SESSION },
  });
  let frames = 0;
  let eventsDelivered = 0;
  let sampledOut = 0;
  let counters: GraphCounters | null = null;
  const ended = new Promise<GraphSummary>((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as GraphServerMessage;
      if (message.type === 'error') reject(new Error(`the graph stream said ${message.code}: ${message.message}`));
      if (message.type !== 'events') return;
      frames++;
      eventsDelivered += message.events.length;
      sampledOut += message.dropped;
      counters = message.counters;
      const end = message.events.find((event) => event.type === 'graph:ended');
      if (end) resolve(end.summary);
    });
    socket.on('close', (code) => reject(new Error(`the graph stream closed (${code}) before graph:ended`)));
  });
  ended.catch(() => {}); // awaited below; a rejection before that must not count as unhandled
  try {
    await within(new Promise((resolve) => socket.once('open', resolve)), 'the graph stream opening');
    socket.send(JSON.stringify({ type: 'subscribe' }));

    global.gc?.();
    const heapStart = process.memoryUsage().heapUsed;
    let heapPeak = heapStart;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50);
    let summary: GraphSummary;
    try {
      const started = await fetch(`${base}/api/graphs/${info.id}/runs`, { method: 'POST' });
      if (started.status !== 201)
        throw new Error(`starting the run answered ${started.status}: ${await started.text()}`);
      summary = await within(ended, 'the graph run');
    } finally {
      clearInterval(sampler);
    }
    global.gc?.();
    const heapEnd = process.memoryUsage().heapUsed;
    return {
      frames,
      eventsDelivered,
      sampledOut,
      counters: counters!,
      summary,
      heap: `heap ${mb(heapStart)} -> peak ${mb(heapPeak)} -> ${mb(heapEnd)} MB`,
    };
  } finally {
    stopTiming();
    socket.removeAllListeners('close');
    socket.close();
    await fetch(`${base}/api/graphs/${info.id}`, { method: 'DELETE' });
  }
}

/** What the watcher saw, in a few words for the round's line. */
export function describeWatch(run: WatchedRun): string {
  return `${run.frames} ws frames, ${run.eventsDelivered} events delivered, ${run.sampledOut} sampled out; ${run.heap}`;
}

/** Where the copies that did not arrive went, from the run's books ("hwm 12, not-subscribed 3"). */
export function lossesOf(summary: GraphSummary): string {
  const parts = Object.entries(summary.droppedBy)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason} ${count}`);
  if (summary.inFlight > 0) parts.push(`in flight ${summary.inFlight}`);
  return parts.length > 0 ? parts.join(', ') : 'none dropped';
}
