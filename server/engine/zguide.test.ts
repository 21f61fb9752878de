/**
 * The zguide's patterns (shared/scenarios/zguide.ts) on real sockets, asserted from the events their runs produce:
 * the broker's load distribution and the identity frames its ROUTER shows, the workers stopping on the sink's
 * kill broadcast with every task accounted for, and the weather subscriber getting only its zipcode. First, the
 * fact behind the broker's hand-made proxy: what zeromq.js's own Proxy does with a ROUTER and a DEALER.
 *
 * No test depends on the machine's speed: every wait is for a condition and bounded, and where timing decides what
 * ZeroMQ does (the slow joiner) the assertions are the structural guarantees that hold at any speed.
 */
import * as zmq from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { checkGraph, matchesSubscription } from '../../shared/scenarios/graph.ts';
import {
  BROKER_REQUESTS,
  KILL_TASKS,
  WEATHER_ZIPCODE,
  ZGUIDE_SCENARIOS,
  ZGUIDE_TEXTS_ES,
  broker,
  killPipeline,
  weather,
} from '../../shared/scenarios/zguide.ts';
import type { GraphSpec, PlaygroundEvent } from '../../shared/protocol/index.ts';
import { checkBooks, graphRunHarness, of, receivedBy, sentBy } from '../../test/graph-run-harness.ts';

// Each pattern's run ends by itself: 30 s at the most (the harness's `ended`); `until` is not used here.
const runs = graphRunHarness({ ownerPrefix: 'zg', untilTimeoutMs: 30_000, endTimeoutMs: 30_000 });
const sockets: zmq.Socket[] = [];

afterEach(async () => {
  await runs.stopRuns();
  for (const socket of sockets.splice(0)) if (!socket.closed) socket.close();
  runs.releasePolicy();
});

/** Rejects when `promise` has not settled within `ms`, naming what was awaited. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** Runs a graph to its end (bounded): its events, its summary whose books add up, and its one graph:ended. */
async function runToEnd(graph: GraphSpec) {
  const { events, ended: end } = await runs.start(graph, { scenario: 'zguide-test' });
  const summary = await end();
  checkBooks(summary);
  const ended = of(events, 'graph:ended');
  expect(ended).toHaveLength(1);
  return { events, summary, ended: ended[0]! };
}

const stoppedOf = (events: PlaygroundEvent[], node: string) => of(events, 'node:stopped').find((e) => e.node === node);

const WORKERS = ['worker-1', 'worker-2', 'worker-3'];
const CLIENTS = ['client-1', 'client-2', 'client-3'];

describe("zeromq.js's Proxy (why the engine's broker forwards by hand)", () => {
  // Its even spread over REP workers is checked in patterns.test.ts; this is what it leaves to JavaScript.
  it('while it runs no JS code can receive on its sockets (EBUSY), so no hop could be an event; terminate closes both', async () => {
    const frontend = new zmq.Router();
    const backend = new zmq.Dealer();
    const worker = new zmq.Reply();
    const client = new zmq.Request();
    for (const socket of [frontend, backend, worker, client]) {
      socket.linger = 0;
      sockets.push(socket);
    }
    await frontend.bind('tcp://127.0.0.1:*');
    await backend.bind('tcp://127.0.0.1:*');
    const proxy = new zmq.Proxy(frontend, backend);
    const proxying = proxy.run();
    worker.connect(backend.lastEndpoint!);
    client.connect(frontend.lastEndpoint!);

    await client.send('Hello');
    const [request] = await within(worker.receive(), 10_000, 'the request through the proxy');
    await worker.send(`${request!.toString()}: World`);
    const [reply] = await within(client.receive(), 10_000, 'the reply through the proxy');
    expect(reply!.toString()).toBe('Hello: World');

    // The sockets are the proxy's now: zeromq.js refuses to receive on them from JavaScript.
    for (const socket of [frontend, backend]) {
      await expect(Promise.resolve().then(() => socket.receive())).rejects.toMatchObject({ code: 'EBUSY' });
    }

    proxy.terminate();
    await within(proxying, 5_000, 'the proxy to end');
    expect([frontend.closed, backend.closed]).toEqual([true, true]);
  });
});

describe('the request-reply broker (zguide-broker)', () => {
  it("deals the requests evenly over the REP workers behind the DEALER, shows each client's identity frame at the ROUTER, and routes every reply back to the client that asked", async () => {
    const { events, summary, ended } = await runToEnd(broker.graph);
    expect(ended.reason).toBe('completed');
    const total = BROKER_REQUESTS * CLIENTS.length;

    // Load distribution: the DEALER deals in turn, and the broker waited for its three workers.
    expect(WORKERS.map((w) => receivedBy(events, w).length)).toEqual(WORKERS.map(() => total / WORKERS.length));
    for (const w of WORKERS) expect(receivedBy(events, w).every((e) => e.from === 'backend')).toBe(true);

    // Identities: the ROUTER prepends one frame per client, made up by libzmq (none has a routing id), the same
    // for every request of a client and different between clients.
    const atFrontend = receivedBy(events, 'frontend');
    expect(atFrontend).toHaveLength(total);
    const identities = new Map<string, Set<string>>();
    for (const receipt of atFrontend) {
      expect(receipt.identity).toMatch(/^0x00[0-9a-f]{8}$/);
      expect(receipt.body).toMatch(new RegExp(`^Hello \\d+ from ${receipt.from}$`));
      const seen = identities.get(receipt.from!) ?? new Set();
      identities.set(receipt.from!, seen.add(receipt.identity!));
    }
    expect([...identities.keys()].sort()).toEqual(CLIENTS);
    expect([...identities.values()].map((set) => set.size)).toEqual([1, 1, 1]);
    expect(new Set([...identities.values()].map((set) => [...set][0])).size).toBe(3);
    // What crosses to the workers carries that envelope: identity, empty delimiter, body.
    expect(sentBy(events, 'backend').every((e) => e.frames === 3)).toBe(true);

    // Every reply goes back through the ROUTER to the client that asked, in order.
    for (const client of CLIENTS) {
      expect(receivedBy(events, client).map((e) => [e.from, e.body])).toEqual(
        Array.from({ length: BROKER_REQUESTS }, (_, i) => ['frontend', `HELLO ${i + 1} FROM ${client.toUpperCase()}`]),
      );
    }
    expect(
      sentBy(events, 'frontend')
        .map((e) => e.to)
        .sort(),
    ).toEqual(CLIENTS.flatMap((client) => Array(BROKER_REQUESTS).fill(client)));
    // Four hops a request: client to frontend, backend to worker, worker to backend, frontend to client.
    expect(summary).toMatchObject({ sent: 4 * total, delivered: 4 * total, dropped: 0, inFlight: 0 });
  });
});

describe('the pipeline with a kill signal (zguide-kill)', () => {
  it('stops every worker on the sink\'s "KILL" broadcast, once the sink has every result: each task sent, worked on once, collected', async () => {
    const { events, summary, ended } = await runToEnd(killPipeline.graph);
    expect(ended.reason).toBe('completed');

    const tasks = sentBy(events, 'ventilator');
    expect(tasks).toHaveLength(KILL_TASKS);
    const taskBodies = tasks.map((e) => e.body);
    expect(new Set(taskBodies).size).toBe(KILL_TASKS);

    // Each task reached exactly one worker (in turn, after the ventilator waited for all three), and its result
    // the sink, through that worker's PUSH.
    const worked = WORKERS.flatMap((w) => receivedBy(events, w).map((e) => ({ worker: w, body: e.body })));
    expect(worked.map((w) => w.body).sort()).toEqual([...taskBodies].sort());
    expect(WORKERS.map((w) => receivedBy(events, w).length)).toEqual([20, 20, 20]);
    const collected = receivedBy(events, 'sink');
    expect(collected).toHaveLength(KILL_TASKS);
    for (const result of collected) {
      const worker = worked.find((w) => w.body === result.body)!.worker;
      expect(result.from).toBe(`${worker}-out`);
    }

    // The sink stops at its count, and only then broadcasts the kill signal, once, to every worker.
    expect(stoppedOf(events, 'sink')?.reason).toBe('count');
    const kills = sentBy(events, 'sink-control');
    expect(kills.map((e) => e.body)).toEqual(['KILL']);
    expect(kills[0]!.seq).toBeGreaterThan(collected.at(-1)!.seq);
    for (const w of WORKERS) {
      const killed = receivedBy(events, `${w}-control`);
      expect(killed.map((e) => [e.from, e.body, e.message])).toEqual([['sink-control', 'KILL', kills[0]!.message]]);
      // The worker stops with its control socket, for the same reason, and takes no task after it.
      const controlStopped = stoppedOf(events, `${w}-control`)!;
      const workerStopped = stoppedOf(events, w)!;
      expect([controlStopped.reason, workerStopped.reason]).toEqual(['stop-message', 'stop-message']);
      expect(workerStopped.seq).toBeGreaterThan(killed[0]!.seq);
      expect(receivedBy(events, w).every((e) => e.seq < killed[0]!.seq)).toBe(true);
    }

    // Every copy accounted for: tasks, results and one kill per worker, all delivered; nothing lost or on the way.
    expect(summary).toMatchObject({
      sent: 2 * KILL_TASKS + 1,
      copies: 2 * KILL_TASKS + WORKERS.length,
      delivered: 2 * KILL_TASKS + WORKERS.length,
      dropped: 0,
      unattributed: 0,
      inFlight: 0,
    });
  });
});

describe('weather updates (zguide-weather)', () => {
  it(`the subscriber to "${WEATHER_ZIPCODE}" gets only that zipcode's updates; the publisher filters every other`, async () => {
    // The scenario's own graph, published faster (its 25 ms pace is for the eye).
    const graph: GraphSpec = {
      ...weather.graph,
      nodes: weather.graph.nodes.map((node) =>
        node.role.kind === 'send' ? { ...node, role: { ...node.role, intervalMs: 2 } } : node,
      ),
    };
    const { events, summary, ended } = await runToEnd(graph);
    expect(ended.reason).toBe('completed');

    const updates = sentBy(events, 'weather-server');
    expect(updates).toHaveLength(400);
    for (const update of updates) {
      const [zipcode, temperature, humidity] = update.body.split(' ').map(Number);
      expect(zipcode).toBeGreaterThanOrEqual(10000);
      expect(zipcode).toBeLessThanOrEqual(10009);
      expect(temperature).toBeGreaterThanOrEqual(-80);
      expect(temperature).toBeLessThanOrEqual(134);
      expect(humidity).toBeGreaterThanOrEqual(10);
      expect(humidity).toBeLessThanOrEqual(59);
    }
    const theirs = updates.filter((u) => matchesSubscription([WEATHER_ZIPCODE], u.body));
    const others = updates.filter((u) => !matchesSubscription([WEATHER_ZIPCODE], u.body));
    expect(theirs.length).toBeGreaterThan(10);

    // Only its zipcode reaches the client, in order, each once.
    const got = receivedBy(events, 'weather-client');
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((e) => e.body.startsWith(`${WEATHER_ZIPCODE} `) && e.from === 'weather-server')).toBe(true);
    // After its first update, every later one of its zipcode arrived (no HWM at this volume); before it, the
    // subscription was still on its way (the slow joiner): those are dropped as not subscribed, and only those.
    const first = theirs.findIndex((u) => u.message === got[0]!.message);
    expect(got.map((e) => e.message)).toEqual(theirs.slice(first).map((u) => u.message));
    const drops = of(events, 'message:dropped');
    expect(drops.filter((d) => d.reason === 'not-subscribed').map((d) => d.message)).toEqual(
      theirs.slice(0, first).map((u) => u.message),
    );
    // Every other update is filtered at the publisher, for this subscriber.
    const filtered = drops.filter((d) => d.reason === 'filtered');
    expect(filtered.map((d) => d.message)).toEqual(others.map((u) => u.message));
    expect(filtered.every((d) => d.node === 'weather-server' && d.peer === 'weather-client')).toBe(true);
    expect(summary).toMatchObject({ delivered: got.length, inFlight: 0, unattributed: 0 });
    expect(summary.droppedBy).toEqual({
      filtered: others.length,
      ...(first > 0 ? { 'not-subscribed': first } : {}),
    });
  });
});

describe('what the zguide scenarios need of a graph', () => {
  it('every scenario has its description in Spanish too', () => {
    expect(Object.keys(ZGUIDE_TEXTS_ES)).toEqual(ZGUIDE_SCENARIOS.map((scenario) => scenario.id));
    for (const texts of Object.values(ZGUIDE_TEXTS_ES)) expect(texts.description.length).toBeGreaterThan(200);
  });

  it('checks a stop announced through a passive sender and a stop with another node of the program', () => {
    for (const scenario of [broker, killPipeline, weather]) expect(checkGraph(scenario.graph)).toEqual([]);
    const broken: GraphSpec = {
      title: 'broken',
      nodes: [
        {
          id: 'sink',
          socket: 'PULL',
          role: { kind: 'receive' },
          stop: { afterMessages: 1, announce: { body: 'KILL', through: 'sink' } },
        },
        { id: 'worker', socket: 'PULL', role: { kind: 'receive' }, stop: { withNode: 'nobody' } },
        { id: 'control', socket: 'PUB', role: { kind: 'send', messages: { kind: 'list', items: ['x'] } } },
        {
          id: 'other',
          socket: 'PULL',
          role: { kind: 'receive' },
          stop: { afterMessages: 1, announce: { body: 'KILL', through: 'control' } },
        },
      ],
      links: [],
    };
    expect(checkGraph(broken).map((p) => p.where)).toEqual(['sink', 'worker', 'other']);
  });
});
