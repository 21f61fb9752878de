/**
 * pubsub and reqrep (`npm run bench -- --case pubsub|reqrep`, issue 11): two of ZeroMQ's patterns run by the graph
 * engine through the real server, against the same sockets in bare zeromq.js, in one process, over loopback tcp.
 * Instrumented = a graph created, run and watched through the HTTP API and a WebSocket client (bench/graph-watch.ts;
 * graph runs are not recorded: graph playgrounds have no recording yet), timed from the playground's log.
 *
 * pubsub: one PUB, eight SUBs subscribed to everything (''); M messages ("{i} " and 16 bytes), each for all eight.
 *   Bare: before the batch the PUB sends a probe until every SUB has one (the zguide's cure for the slow joiner:
 *   a handshake does not mean the subscription has reached the PUB); probes are not counted. Instrumented: a graph
 *   built here as data (the series' part 4 publishes once a second), the PUB waiting for eight handshakes
 *   (`waitForPeers`, all the engine can wait for), each SUB stopping after M messages. Every subscriber must get
 *   all M, else the round fails and says where the copies went (the engine's books: not-subscribed is the slow
 *   joiner). No high-water mark on either side (see NO_HWM). Rate: messages/s delivered to all eight, from the
 *   first send until the last subscriber has them all (instrumented: first message:sent, last message:received).
 * reqrep: one REQ, one REP: the series' part 1 (the client sends "a:b", the server answers the sum; the same seeded
 *   numbers on both sides) with R round trips, then "q", which stops the server. Round trips/s from the first
 *   request to the last reply, and each round trip's latency p50/p95, from the request's send resolving to its
 *   reply's receive resolving (instrumented: the client's message:sent and message:received, stamped there).
 * M = R = --tasks / 10 (10,000 by default; the engine takes at most 100,000). Rounds alternate which side goes
 * first; medians and ratios instrumented/bare are printed, and the heap during each instrumented run (flat when run
 * with node --expose-gc: the engine keeps only what is on the way). Every loop is bounded by its count and a time
 * limit.
 */
import os from 'node:os';
import * as zmq from 'zeromq';
import type { FastifyInstance } from 'fastify';
import { GRAPH_LIMITS, type GraphSpec } from '../shared/protocol/index.ts';
import { expandMessages, transform, type Messages } from '../shared/scenarios/graph.ts';
import { part1 } from '../shared/scenarios/series.ts';
import { describeWatch, lossesOf, startServer, watchGraphRun, type Within } from './graph-watch.ts';

const SUBSCRIBERS = 8;
const BODY_PADDING = 'x'.repeat(16);
/** Probes sent while waiting for the bare subscriptions: at most this many, 1 ms apart. */
const MAX_PROBES = 5000;
const PROBE = 'probe';
/** A bare socket that waits longer than this for its next message fails its round (EAGAIN). */
const RECEIVE_TIMEOUT_MS = 10_000;
/**
 * The pubsub sockets' high-water marks: none (0). A PUB never waits for a slow subscriber, it drops at the HWM
 * (1000 messages by default, the bare side's probes included): the case measures delivery, not that drop.
 */
const NO_HWM = 0;

export interface PatternCaseOptions {
  runtimeDir: string;
  /** The bench's --tasks: a tenth of it are the messages (pubsub) or round trips (reqrep) of a round. */
  tasks: number;
  rounds: number;
  /** Bounds a wait by the bench's case time limit. */
  within: Within;
}

/** Messages or round trips per round for the bench's --tasks. */
function countFor(tasks: number): number {
  return Math.min(GRAPH_LIMITS.messages, Math.max(1, Math.round(tasks / 10)));
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const load = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

type Side = 'bare' | 'instrumented';

/** Runs both sides `rounds` times, alternating which goes first (machine noise then hits both); a line a round. */
async function alternate<T>(
  rounds: number,
  run: Record<Side, () => Promise<T>>,
  describe: (side: Side, result: T) => string,
): Promise<Record<Side, T[]>> {
  const results: Record<Side, T[]> = { bare: [], instrumented: [] };
  for (let round = 0; round < rounds; round++) {
    const parts: string[] = [];
    for (const side of round % 2 === 0 ? (['bare', 'instrumented'] as const) : (['instrumented', 'bare'] as const)) {
      const result = await run[side]();
      results[side].push(result);
      parts.push(`${side} ${describe(side, result)}`);
    }
    console.log(`round ${round + 1}: ${parts.join(' | ')}; load ${load()}`);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// pubsub

function pubSubMessages(count: number): Messages {
  return { kind: 'template', template: `{i} ${BODY_PADDING}`, count };
}

/** The bench's fan-out as a graph: the PUB binds once on tcp, every SUB connects to it. */
export function pubSubGraph(count: number): GraphSpec {
  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => `subscriber-${i + 1}`);
  return {
    title: `Bench: 1 PUB, ${SUBSCRIBERS} SUBs, ${count} messages`,
    nodes: [
      {
        id: 'publisher',
        socket: 'PUB',
        role: { kind: 'send', messages: pubSubMessages(count), waitForPeers: SUBSCRIBERS },
        sendHighWaterMark: NO_HWM,
      },
      ...subscribers.map((id) => ({
        id,
        socket: 'SUB' as const,
        subscribe: [''],
        role: { kind: 'receive' as const },
        receiveHighWaterMark: NO_HWM,
        stop: { afterMessages: count },
      })),
    ],
    links: subscribers.map((id) => ({ from: 'publisher', to: id, bind: 'from' as const, transport: 'tcp' as const })),
    drainMs: 1000,
  };
}

/** Bare zeromq.js: messages/s delivered to all eight subscribers. */
async function barePubSub(count: number, within: Within): Promise<number> {
  const publisher = new zmq.Publisher();
  publisher.linger = 0;
  publisher.sendHighWaterMark = NO_HWM;
  const subscribers: zmq.Subscriber[] = [];
  try {
    await publisher.bind('tcp://127.0.0.1:*');
    const address = publisher.lastEndpoint!;
    const synced = new Set<number>();
    let complete = 0;
    let lastDeliveryAt = 0;
    const loops = Array.from({ length: SUBSCRIBERS }, async (_, index) => {
      const subscriber = new zmq.Subscriber();
      subscriber.linger = 0;
      subscriber.receiveHighWaterMark = NO_HWM;
      // A subscriber that misses a message would wait for ever: ZeroMQ's own timeout ends its loop instead.
      subscriber.receiveTimeout = RECEIVE_TIMEOUT_MS;
      subscribers.push(subscriber);
      subscriber.subscribe();
      subscriber.connect(address);
      let received = 0;
      try {
        for await (const [body] of subscriber) {
          if (body!.toString() === PROBE) {
            synced.add(index);
            continue;
          }
          if (++received === count) {
            lastDeliveryAt = performance.now();
            complete++;
            return;
          }
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? String(error);
        throw new Error(`bare pubsub: subscriber ${index + 1} stopped at ${received} of ${count} (${code})`, {
          cause: error,
        });
      }
    });
    const allDone = Promise.all(loops);
    allDone.catch(() => {}); // a loop ends with an error only when its socket is closed at the end of the round

    for (let probes = 0; synced.size < SUBSCRIBERS; probes++) {
      if (probes === MAX_PROBES)
        throw new Error(`bare pubsub: ${SUBSCRIBERS - synced.size} subscribers never subscribed`);
      await publisher.send(PROBE);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const start = performance.now();
    for (const body of expandMessages(pubSubMessages(count))) await publisher.send(body);
    await within(allDone, 'bare pubsub');
    if (complete !== SUBSCRIBERS)
      throw new Error(`bare pubsub: ${complete} of ${SUBSCRIBERS} subscribers got them all`);
    return count / ((lastDeliveryAt - start) / 1000);
  } finally {
    publisher.close();
    for (const subscriber of subscribers) subscriber.close();
  }
}

async function instrumentedPubSub(
  app: FastifyInstance,
  base: string,
  count: number,
  within: Within,
): Promise<{ rate: number; note: string }> {
  let firstSentT = -1;
  let lastReceivedT = 0;
  const result = await watchGraphRun(
    app,
    base,
    pubSubGraph(count),
    (event) => {
      if (event.type === 'message:sent' && firstSentT < 0) firstSentT = event.t;
      else if (event.type === 'message:received') lastReceivedT = event.t;
    },
    within,
  );
  const short = Object.entries(result.counters.nodes).filter(
    ([node, counts]) => node !== 'publisher' && counts.received !== count,
  );
  if (short.length > 0 || result.summary.delivered !== count * SUBSCRIBERS) {
    throw new Error(
      `instrumented pubsub: ${short.map(([node, counts]) => `${node} got ${counts.received}`).join(', ')} of ` +
        `${count}; ${result.summary.delivered} of ${count * SUBSCRIBERS} copies delivered (${lossesOf(result.summary)})`,
    );
  }
  return { rate: count / ((lastReceivedT - firstSentT) / 1000), note: describeWatch(result) };
}

export async function pubSubCase(options: PatternCaseOptions): Promise<void> {
  const { runtimeDir, rounds, within } = options;
  const count = countFor(options.tasks);
  console.log(
    `\n== pubsub: 1 PUB -> ${SUBSCRIBERS} SUBs (tcp, subscribed to everything, no HWM), ${count} messages x ` +
      `${rounds} rounds; instrumented: a graph through the server, one WebSocket watcher, not recorded; ` +
      `load average ${load()}`,
  );
  const { app, base } = await startServer(runtimeDir);
  let rates: Record<Side, { rate: number; note?: string }[]>;
  try {
    rates = await alternate<{ rate: number; note?: string }>(
      rounds,
      {
        bare: async () => ({ rate: await barePubSub(count, within) }),
        instrumented: () => instrumentedPubSub(app, base, count, within),
      },
      (_, { rate, note }) => `${Math.round(rate)} msg/s${note ? ` (${note})` : ''}`,
    );
  } finally {
    await app.close();
  }
  const bare = median(rates.bare.map((r) => r.rate));
  const instrumented = median(rates.instrumented.map((r) => r.rate));
  const perSubscriber = (rate: number) =>
    `${Math.round(rate)} msg/s to all ${SUBSCRIBERS} (${Math.round(rate * SUBSCRIBERS)} deliveries/s)`;
  console.log(`median bare         ${perSubscriber(bare)}`);
  console.log(`median instrumented ${perSubscriber(instrumented)}`);
  console.log(`ratio instrumented/bare ${(instrumented / bare).toFixed(2)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// reqrep

/** The series' part 1 with `count` requests: the same client, server, sum and "q" (shared/scenarios/series.ts). */
export function reqRepGraph(count: number): GraphSpec {
  const graph = part1.graph;
  return {
    ...graph,
    title: `Bench: ${graph.title}, ${count} round trips`,
    nodes: graph.nodes.map((node) =>
      node.role.kind === 'request' && node.role.messages.kind === 'template'
        ? { ...node, role: { ...node.role, messages: { ...node.role.messages, count } } }
        : node,
    ),
  };
}

/** The requests part 1's client sends, and its stop word (from the graph, so both sides send the same). */
function reqRepTexts(graph: GraphSpec): { messages: Messages; last: string } {
  const client = graph.nodes.find((node) => node.role.kind === 'request');
  if (client?.role.kind !== 'request' || client.role.last === undefined)
    throw new Error('part 1 has no client with a stop word');
  return { messages: client.role.messages, last: client.role.last };
}

interface RoundTrips {
  rate: number;
  p50: number;
  p95: number;
}

function roundTrips(count: number, elapsedMs: number, latencies: Float64Array): RoundTrips {
  const sorted = latencies.slice().sort();
  return { rate: count / (elapsedMs / 1000), p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/** Bare zeromq.js: the same requests, the same sums, the same "q". */
async function bareReqRep(count: number, within: Within): Promise<RoundTrips> {
  const { messages, last } = reqRepTexts(reqRepGraph(count));
  const server = new zmq.Reply();
  const client = new zmq.Request();
  server.linger = 0;
  client.linger = 0;
  // Bounded by ZeroMQ's own timeout rather than a timer per round trip, which would weigh on the bare side.
  client.receiveTimeout = RECEIVE_TIMEOUT_MS;
  try {
    await server.bind('tcp://127.0.0.1:*');
    const serving = (async () => {
      for await (const [request] of server) {
        const body = request!.toString();
        if (body === last) return;
        await server.send(transform('sum', body));
      }
    })();
    serving.catch(() => {}); // awaited below
    client.connect(server.lastEndpoint!);
    const latencies = new Float64Array(count);
    let index = 0;
    const start = performance.now();
    for (const body of expandMessages(messages)) {
      await client.send(body);
      // From the send resolving, as the engine stamps its message:sent, to the reply's receive resolving.
      const sentAt = performance.now();
      const [reply] = await client.receive();
      latencies[index++] = performance.now() - sentAt;
      if (reply!.length === 0) throw new Error(`bare reqrep: an empty reply to ${body}`);
    }
    const elapsed = performance.now() - start;
    await client.send(last);
    await within(serving, 'the bare server stopping');
    return roundTrips(count, elapsed, latencies);
  } finally {
    client.close();
    server.close();
  }
}

async function instrumentedReqRep(
  app: FastifyInstance,
  base: string,
  count: number,
  within: Within,
): Promise<RoundTrips & { note: string }> {
  const graph = reqRepGraph(count);
  const client = graph.nodes.find((node) => node.role.kind === 'request')!.id;
  // The client is a REQ: its sends and receipts strictly alternate, so each receipt answers the send before it.
  const latencies = new Float64Array(count);
  let index = 0;
  let firstSentT = -1;
  let sentT = -1;
  let lastReplyT = 0;
  const result = await watchGraphRun(
    app,
    base,
    graph,
    (event) => {
      if (event.type === 'message:sent' && event.node === client) {
        if (firstSentT < 0) firstSentT = event.t;
        sentT = event.t;
      } else if (event.type === 'message:received' && event.node === client && index < count) {
        latencies[index++] = event.t - sentT;
        lastReplyT = event.t;
      }
    },
    within,
  );
  const received = result.counters.nodes[client]?.received ?? 0;
  if (index !== count || received !== count)
    throw new Error(`instrumented reqrep: ${received} of ${count} replies (${lossesOf(result.summary)})`);
  return { ...roundTrips(count, lastReplyT - firstSentT, latencies), note: describeWatch(result) };
}

export async function reqRepCase(options: PatternCaseOptions): Promise<void> {
  const { runtimeDir, rounds, within } = options;
  const count = countFor(options.tasks);
  console.log(
    `\n== reqrep: 1 REQ <-> 1 REP (tcp), the series' part 1 (sums of "a:b", then "q"), ${count} round trips x ` +
      `${rounds} rounds; instrumented: part 1's graph through the server, one WebSocket watcher, not recorded; ` +
      `load average ${load()}`,
  );
  const { app, base } = await startServer(runtimeDir);
  const line = (r: RoundTrips) =>
    `${Math.round(r.rate)} round trips/s (${(1000 / r.rate).toFixed(3)} ms each), ` +
    `latency p50 ${r.p50.toFixed(3)} ms p95 ${r.p95.toFixed(3)} ms`;
  let sides: Record<Side, (RoundTrips & { note?: string })[]>;
  try {
    sides = await alternate<RoundTrips & { note?: string }>(
      rounds,
      { bare: () => bareReqRep(count, within), instrumented: () => instrumentedReqRep(app, base, count, within) },
      (_, result) => `${line(result)}${result.note ? ` (${result.note})` : ''}`,
    );
  } finally {
    await app.close();
  }
  const medians = (results: RoundTrips[]): RoundTrips => ({
    rate: median(results.map((r) => r.rate)),
    p50: median(results.map((r) => r.p50)),
    p95: median(results.map((r) => r.p95)),
  });
  const bare = medians(sides.bare);
  const instrumented = medians(sides.instrumented);
  console.log(`median bare         ${line(bare)}`);
  console.log(`median instrumented ${line(instrumented)}`);
  console.log(
    `ratio instrumented/bare: round trips/s ${(instrumented.rate / bare.rate).toFixed(2)}, ` +
      `latency p50 ${(instrumented.p50 / bare.p50).toFixed(2)}, p95 ${(instrumented.p95 / bare.p95).toFixed(2)}`,
  );
}
