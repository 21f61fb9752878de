/**
 * Two engines, one pattern (issue 11: "the tutorial and the pipeline sandbox become scenarios of this engine"):
 * the pipeline page keeps its own engine (server/pipeline), and the graph engine (server/engine) runs the same
 * patterns as scenarios: the tutorial as the series' part 7 (`series-7`), the sandbox as `pipeline`. Each test runs
 * both on real sockets and reads the same ZeroMQ facts off each run's own events (task:* on one, message:* on the
 * other), checked by one function for both: the facts a learner is shown must not depend on which page ran them.
 *
 *   tutorial:  PUSH bind tcp, send 1 2 3, bind ipc on the same socket, send nine texts -> PULL tcp / PULL ipc
 *   pipeline:  PUSH (tcp, ipc, inproc) -> 3 x PULL worker -PUSH-> PULL sink (and one worker killed on its first task)
 *
 * Nothing here depends on the machine's speed: the shares asserted are the rules ZeroMQ follows whatever the pace
 * (the same rules server/pipeline/tutorial.test.ts and topology.test.ts assert), never a split a busy machine can
 * change; every wait is an awaited end of run, bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS, TUTORIAL_TEXTS } from '../../shared/scenarios/index.ts';
import { PART7_BIND_IPC_AFTER, PART7_MESSAGES, part7 } from '../../shared/scenarios/series.ts';
import { PIPELINE_TASKS, PIPELINE_WORKERS, pipelineGraph } from '../../shared/scenarios/pipeline-graph.ts';
import { checkGraph } from '../../shared/scenarios/graph.ts';
import type { GraphSpec, PlaygroundEvent, RunParamsPatch } from '../../shared/protocol/index.ts';
import type { Playground } from '../pipeline/playground.ts';
import { GRAPH_SCENARIOS } from './graph-playground.ts';
import { collect, freePort, ofType, runEnded, waitForEvent } from '../../test/helpers.ts';
import { graphRunHarness } from '../../test/graph-run-harness.ts';
import { playgroundHarness } from '../../test/playground-harness.ts';

// The graph engine's runs: one that ends by itself gets 30 s (runToEnd); a wait on one of its events, 20 s. Its
// runtime folder (runs.policy(), fresh for each test) is the pipeline engine's playgrounds' too.
const runs = graphRunHarness({ ownerPrefix: 'equiv', untilTimeoutMs: 20_000, endTimeoutMs: 30_000 });
const pipelines = playgroundHarness({ policy: runs.policy });

afterEach(async () => {
  await pipelines.cleanup();
  await runs.cleanup();
});

/** Runs a scenario of the pipeline engine to its end; its events. */
async function runPipeline(
  scenarioId: 'tutorial' | 'pipeline',
  params: RunParamsPatch,
  setUp: (playground: Playground) => void = () => {},
): Promise<PlaygroundEvent[]> {
  const base = SCENARIOS.get(scenarioId)!;
  const port = await freePort();
  const playground = pipelines.playground({
    scenario: scenarioId === 'pipeline' ? { ...base, workers: [] } : base,
    params,
    endpointOverrides: scenarioId === 'tutorial' ? pipelines.tutorialEndpoints(port) : {},
  });
  setUp(playground);
  const events = collect(playground);
  const run = playground.startRun();
  const ended = await runEnded(playground, run.id, 30_000);
  expect(ended.reason).toBe('completed');
  return events;
}

/** The graph with its sending nodes at another pace (a second between messages is too slow for a test). */
function atPace(graph: GraphSpec, intervalMs: number): GraphSpec {
  return {
    ...graph,
    nodes: graph.nodes.map((node) =>
      node.role.kind === 'send' && node.role.intervalMs ? { ...node, role: { ...node.role, intervalMs } } : node,
    ),
  };
}

// -----------------------------------------------------------------------------------------------------------------
// The tutorial

/** What a tutorial run shows, whichever engine ran it: in the words of the run, not of an engine. */
interface TutorialFacts {
  /** Bodies the server sent, in order. */
  sent: string[];
  /** Per client (by transport), what it received, in the order it received it. */
  received: { tcp: string[]; ipc: string[] };
  /** Who received each message, in the order they were sent (one entry per receipt). */
  recipientsInSendOrder: ('tcp' | 'ipc')[];
  /** How many receipts each sent message had (exactly once: all 1). */
  receiptsPerMessage: number[];
  /** The transports bound, in order, and how many messages had been sent when ipc was bound. */
  bound: string[];
  sentBeforeIpcBind: number;
  /** Why each client stopped. */
  stops: { tcp: string; ipc: string };
  /** The run's own totals (its summary's): sent, received, and sent but never received. */
  totals: { sent: number; received: number; lost: number };
}

const totals = (sent: number, received: number) => ({ sent, received, lost: sent - received });
/** A client's stop reason in the facts' words: 'sentinel' for the engine's own word for it (else as it is). */
const said = (reason: string | undefined, sentinel: string) => (reason === sentinel ? 'sentinel' : (reason ?? 'none'));

function tutorialFactsOfPipeline(events: PlaygroundEvent[]): TutorialFacts {
  const transportOf = (worker: string) => (worker === 'worker-tcp' ? 'tcp' : 'ipc');
  const sent = ofType(events, 'task:sent');
  const receipts = ofType(events, 'task:received');
  const bindsAt = ofType(events, 'endpoint:bound');
  const ipcBind = bindsAt.find((e) => e.endpoint.name === 'ipc')!;
  const ended = ofType(events, 'run:ended')[0]!;
  const stops = Object.fromEntries(ofType(events, 'worker:stopped').map((e) => [transportOf(e.worker), e.reason]));
  return {
    sent: sent.map((e) => e.body),
    received: {
      tcp: receipts.filter((e) => e.worker === 'worker-tcp').map((e) => e.body),
      ipc: receipts.filter((e) => e.worker === 'worker-ipc').map((e) => e.body),
    },
    recipientsInSendOrder: [...receipts].sort((a, b) => a.task - b.task).map((e) => transportOf(e.worker)),
    receiptsPerMessage: sent.map((s) => receipts.filter((r) => r.task === s.task).length),
    bound: bindsAt.map((e) => e.endpoint.transport),
    sentBeforeIpcBind: sent.filter((e) => e.seq < ipcBind.seq).length,
    stops: { tcp: said(stops.tcp, 'end-marker'), ipc: said(stops.ipc, 'end-marker') },
    totals: totals(
      ended.summary.sent,
      Object.values(ended.summary.received).reduce((a, b) => a + b, 0),
    ),
  };
}

function tutorialFactsOfGraph(events: PlaygroundEvent[]): TutorialFacts {
  const transportOf = (node: string) => (node === 'client-tcp' ? 'tcp' : 'ipc');
  const sent = ofType(events, 'message:sent').filter((e) => e.node === 'server');
  const receipts = ofType(events, 'message:received');
  const bindsAt = ofType(events, 'node:bound');
  const ipcBind = bindsAt.find((e) => e.transport === 'ipc')!;
  const summary = ofType(events, 'graph:ended')[0]!.summary;
  const stops = Object.fromEntries(
    ofType(events, 'node:stopped')
      .filter((e) => e.node !== 'server')
      .map((e) => [transportOf(e.node), e.reason]),
  );
  return {
    sent: sent.map((e) => e.body),
    received: {
      tcp: receipts.filter((e) => e.node === 'client-tcp').map((e) => e.body),
      ipc: receipts.filter((e) => e.node === 'client-ipc').map((e) => e.body),
    },
    recipientsInSendOrder: [...receipts].sort((a, b) => a.message! - b.message!).map((e) => transportOf(e.node)),
    receiptsPerMessage: sent.map((s) => receipts.filter((r) => r.message === s.message).length),
    bound: bindsAt.map((e) => e.transport),
    sentBeforeIpcBind: sent.filter((e) => e.seq < ipcBind.seq).length,
    stops: { tcp: said(stops.tcp, 'stop-message'), ipc: said(stops.ipc, 'stop-message') },
    totals: totals(summary.sent, summary.delivered),
  };
}

/**
 * The tutorial's facts, as server/pipeline/tutorial.test.ts asserts them of the pipeline engine: 1, 2, 3 go to
 * the tcp client (the only peer until the ipc bind after them), every message is received exactly once, each
 * client stops at its own "x", and from the ipc client's first message on PUSH round-robins strictly between the
 * two pipes. When the ipc client joins is the machine's business; that it then alternates is ZeroMQ's.
 */
function expectTutorialFacts(facts: TutorialFacts, engine: string): void {
  const expectedSent = ['1', '2', '3', ...TUTORIAL_TEXTS];
  expect(facts.sent, engine).toEqual(expectedSent);
  expect(facts.bound, engine).toEqual(['tcp', 'ipc']);
  expect(facts.sentBeforeIpcBind, engine).toBe(3);
  expect(facts.receiptsPerMessage, `${engine}: every message received exactly once`).toEqual(expectedSent.map(() => 1));
  expect([...facts.received.tcp, ...facts.received.ipc].sort(), engine).toEqual([...expectedSent].sort());
  expect(facts.received.tcp.slice(0, 3), engine).toEqual(['1', '2', '3']);
  expect(facts.received.tcp.at(-1), engine).toBe('x');
  expect(facts.received.ipc.at(-1), engine).toBe('x');
  // "q,5" and "q,7" only look like sentinels: whoever got them went on reading.
  expect(facts.stops, engine).toEqual({ tcp: 'sentinel', ipc: 'sentinel' });
  const firstIpc = facts.recipientsInSendOrder.indexOf('ipc');
  expect(firstIpc, engine).toBeGreaterThanOrEqual(3);
  facts.recipientsInSendOrder
    .slice(firstIpc)
    .forEach((who, i) => expect(who, `${engine}: message ${firstIpc + i + 1}`).toBe(i % 2 === 0 ? 'ipc' : 'tcp'));
  expect(facts.totals, engine).toEqual({ sent: 12, received: 12, lost: 0 });
}

describe('the tutorial on both engines (the series part 7)', () => {
  it('series-7 is the tutorial as a graph: one PUSH bound on tcp and later on ipc, two PULL clients, the same texts', () => {
    expect(checkGraph(part7.graph)).toEqual([]);
    expect(GRAPH_SCENARIOS.get('series-7')).toBe(part7);
    expect(PART7_MESSAGES).toEqual(['1', '2', '3', ...TUTORIAL_TEXTS]);
    const server = part7.graph.nodes.find((node) => node.id === 'server')!;
    expect(server.socket).toBe('PUSH');
    // One socket, two endpoints: both links bind on the server, ipc after its third message.
    expect(part7.graph.links.map((l) => [l.transport, l.bind, l.bindAfter])).toEqual([
      ['tcp', 'from', undefined],
      ['ipc', 'from', PART7_BIND_IPC_AFTER],
    ]);
    // The same pace as the tutorial's default.
    expect(server.role.kind === 'send' && server.role.intervalMs).toBe(SCENARIOS.get('tutorial')!.defaults.intervalMs);
  });

  it('tells the same facts: 1, 2, 3 to tcp, ipc bound after them, each text once, round-robin once ipc joined, each client stopping at its "x"', async () => {
    // 100 ms between messages, as tutorial.test.ts runs it: the ipc client, retrying every 100-200 ms from the
    // start, joins within about 200 ms of the bind plus what a busy machine adds, and must join before the first
    // "x", seven intervals after the bind.
    const pipelineFacts = tutorialFactsOfPipeline(await runPipeline('tutorial', { intervalMs: 100, drainMs: 1000 }));
    expectTutorialFacts(pipelineFacts, 'pipeline engine');
    const graphFacts = tutorialFactsOfGraph(await runs.runToEnd(atPace(part7.graph, 100), { scenario: part7.id }));
    expectTutorialFacts(graphFacts, 'graph engine');
    expect(graphFacts.sent).toEqual(pipelineFacts.sent);
  }, 60_000);

  it('in a burst both engines give everything to the tcp client, and the second "x" is lost with it', async () => {
    // With no pause the whole batch is queued before the ipc client can join: the slow joiner, on both engines.
    const pipelineEvents = await runPipeline('tutorial', { intervalMs: 0, drainMs: 400 });
    const graphEvents = await runs.runToEnd({ ...atPace(part7.graph, 0), drainMs: 400 }, { scenario: part7.id });
    const pipelineFacts = tutorialFactsOfPipeline(pipelineEvents);
    const graphFacts = tutorialFactsOfGraph(graphEvents);
    for (const [engine, facts] of [
      ['pipeline engine', pipelineFacts],
      ['graph engine', graphFacts],
    ] as const) {
      expect(facts.sent, engine).toEqual([...PART7_MESSAGES]);
      expect(facts.received.ipc, engine).toEqual([]);
      expect(facts.received.tcp, engine).toEqual(PART7_MESSAGES.slice(0, -1));
      expect(facts.totals, engine).toEqual({ sent: 12, received: 11, lost: 1 });
    }
  }, 60_000);
});

// -----------------------------------------------------------------------------------------------------------------
// The pipeline sandbox

/** What a run of the sandbox shows, whichever engine ran it. */
interface PipelineFacts {
  /** Task bodies, in the order sent. */
  sent: string[];
  /** How many workers received each task, in the order sent (exactly one: all 1). */
  workersPerTask: number[];
  /** Tasks per worker, smallest first (which worker connected first is the machine's business). */
  shares: number[];
  /** How many results of each task the sink collected, in the order the tasks were sent (all 1). */
  resultsPerTask: number[];
  /** Results per worker, as the sink attributed them, smallest first. */
  collectedShares: number[];
  /** Per worker: did the sink collect exactly as many of its results as it received tasks? */
  everyWorkerCollected: boolean;
}

function pipelineFactsOfPipeline(events: PlaygroundEvent[]): PipelineFacts {
  const sent = ofType(events, 'task:sent');
  const received = ofType(events, 'task:received');
  const collected = ofType(events, 'task:collected');
  const count = (list: { worker: string }[]) => {
    const by: Record<string, number> = {};
    for (const e of list) by[e.worker] = (by[e.worker] ?? 0) + 1;
    return by;
  };
  const shares = count(received);
  const collectedBy = count(collected);
  return {
    // The wire's body is [task id, body] ('tagged'); the event's body is the text the ventilator made.
    sent: sent.map((e) => e.body),
    workersPerTask: sent.map((s) => received.filter((r) => r.task === s.task).length),
    shares: Object.values(shares).sort((a, b) => a - b),
    resultsPerTask: sent.map((s) => collected.filter((c) => c.task === s.task).length),
    collectedShares: Object.values(collectedBy).sort((a, b) => a - b),
    everyWorkerCollected: Object.entries(shares).every(([worker, n]) => collectedBy[worker] === n),
  };
}

function pipelineFactsOfGraph(events: PlaygroundEvent[]): PipelineFacts {
  const workers = PIPELINE_WORKERS.map(({ id }) => id as string);
  const sent = ofType(events, 'message:sent').filter((e) => e.node === 'ventilator');
  const received = ofType(events, 'message:received').filter((e) => workers.includes(e.node));
  // A worker's result is its PUSH out's send, caused by the task it received; the sink attributes what it gets.
  const results = ofType(events, 'message:sent').filter((e) => e.node.endsWith('-out'));
  const taskOfResult = new Map(results.map((e) => [e.message, e.cause]));
  const collected = ofType(events, 'message:received').filter((e) => e.node === 'sink');
  const collectedTasks = collected.map((e) => taskOfResult.get(e.message!));
  const count = (list: string[]) => {
    const by: Record<string, number> = {};
    for (const worker of list) by[worker] = (by[worker] ?? 0) + 1;
    return by;
  };
  const shares = count(received.map((e) => e.node));
  const collectedBy = count(collected.map((e) => e.from!.replace(/-out$/, '')));
  return {
    sent: sent.map((e) => e.body),
    workersPerTask: sent.map((s) => received.filter((r) => r.message === s.message).length),
    shares: Object.values(shares).sort((a, b) => a - b),
    resultsPerTask: sent.map((s) => collectedTasks.filter((task) => task === s.message).length),
    collectedShares: Object.values(collectedBy).sort((a, b) => a - b),
    everyWorkerCollected: Object.entries(shares).every(([worker, n]) => collectedBy[worker] === n),
  };
}

/**
 * The sandbox's facts, as topology.test.ts asserts them of the pipeline engine: with a synchronised start PUSH
 * deals the batch round-robin over every worker connected, whatever its transport, so three workers split 100
 * tasks 34/33/33 exactly; every task reaches exactly one worker, and every result reaches the sink once.
 */
function expectPipelineFacts(facts: PipelineFacts, engine: string): void {
  expect(facts.sent, engine).toHaveLength(PIPELINE_TASKS);
  expect(facts.workersPerTask, `${engine}: each task reaches exactly one worker`).toEqual(facts.sent.map(() => 1));
  expect(facts.shares, `${engine}: round-robin over the three workers`).toEqual([33, 33, 34]);
  expect(facts.resultsPerTask, `${engine}: each result reaches the sink once`).toEqual(facts.sent.map(() => 1));
  expect(facts.collectedShares, engine).toEqual([33, 33, 34]);
  expect(facts.everyWorkerCollected, engine).toBe(true);
}

describe('the pipeline sandbox on both engines', () => {
  it("'pipeline' is the sandbox as a graph: one PUSH on tcp, ipc and inproc, three workers, a sink", () => {
    expect(checkGraph(pipelineGraph.graph)).toEqual([]);
    expect(GRAPH_SCENARIOS.get('pipeline')).toBe(pipelineGraph);
    const sandbox = SCENARIOS.get('pipeline')!;
    const ventilator = pipelineGraph.graph.nodes.find((node) => node.id === 'ventilator')!;
    // The sandbox's default batch, and its synchronised start (wait for every worker).
    expect(ventilator.role.kind === 'send' && ventilator.role.messages).toMatchObject({
      count: sandbox.defaults.tasks,
    });
    expect(ventilator.role.kind === 'send' && ventilator.role.waitForPeers).toBe(PIPELINE_WORKERS.length);
    expect(sandbox.defaults.syncStart).toBe(true);
    expect(pipelineGraph.graph.links.filter((l) => l.from === 'ventilator').map((l) => [l.bind, l.transport])).toEqual([
      ['from', 'tcp'],
      ['from', 'ipc'],
      ['from', 'inproc'],
    ]);
  });

  it('tells the same facts with three workers (tcp, ipc, inproc) and a sink: each task to one worker, 34/33/33, every result collected', async () => {
    const pipelineEvents = await runPipeline(
      'pipeline',
      { tasks: PIPELINE_TASKS, payloadBytes: 16, intervalMs: 0, syncStart: true, drainMs: 2000 },
      (playground) => {
        playground.updateSink({ enabled: true, transport: 'tcp' });
        for (const { transport } of PIPELINE_WORKERS) playground.addWorker({ transport });
      },
    );
    const pipelineFacts = pipelineFactsOfPipeline(pipelineEvents);
    expectPipelineFacts(pipelineFacts, 'pipeline engine');
    const graphEvents = await runs.runToEnd(pipelineGraph.graph, { scenario: pipelineGraph.id });
    const graphFacts = pipelineFactsOfGraph(graphEvents);
    expectPipelineFacts(graphFacts, 'graph engine');
    // The same batch: the same task bodies, in the same order.
    expect(graphFacts.sent).toEqual(pipelineFacts.sent);
    // The graph run ended by itself, once the sink had every result.
    const ended = ofType(graphEvents, 'graph:ended')[0]!;
    expect(ended.reason).toBe('completed');
    expect(ended.summary).toMatchObject({ dropped: 0, inFlight: 0, unattributed: 0 });
    expect(ended.summary.nodes.sink).toEqual({ sent: 0, received: PIPELINE_TASKS });
  }, 60_000);
});

/** What a run with a worker killed on its first task shows, whichever engine ran it. */
interface KillFacts {
  /** Tasks each worker received, by role in the test: the killed one and the two others. */
  doomedReceived: number;
  healthyReceived: number[];
  /** Results the sink collected, from whom. */
  collectedFromHealthy: number;
  collectedFromDoomed: number;
  /** Tasks never collected, and how many of them a healthy worker had received (re-routed: none). */
  notCollected: number;
  notCollectedButHealthy: number;
}

describe('a worker killed on its first task, on both engines', () => {
  // Thirty tasks dealt at once to three workers that all joined first: ten each, queued in their pipes. The doomed
  // worker takes a minute per task, so it is surely on its first task when the kill comes, however slow the
  // machine; its share is lost with it, never re-routed, and the two others get exactly their ten.
  const TASKS = 30;

  it('loses its ten: not re-routed, the others get exactly theirs, and the sink collects their twenty', async () => {
    // The pipeline page: only a process worker can be killed (SIGKILL); the others in the server's thread.
    const pipeline = await (async (): Promise<KillFacts> => {
      const playground = pipelines.sandbox({ tasks: TASKS, intervalMs: 0, syncStart: true, drainMs: 800 });
      playground.updateSink({ enabled: true, transport: 'tcp' });
      const healthyA = playground.addWorker({ transport: 'tcp' });
      const doomed = playground.addWorker({ transport: 'ipc', mode: 'process', workMs: { min: 60_000, max: 60_000 } });
      const healthyB = playground.addWorker({ transport: 'inproc' });
      const events = collect(playground);
      const run = playground.startRun();
      await waitForEvent(playground, (e) => e.type === 'task:received' && e.worker === doomed.id, 20_000);
      playground.signalWorker(doomed.id, 'kill');
      await runEnded(playground, run.id, 30_000);
      const received = ofType(events, 'task:received');
      const collected = ofType(events, 'task:collected');
      const healthy = new Set([healthyA.id, healthyB.id]);
      const collectedTasks = new Set(collected.map((e) => e.task));
      const uncollected = ofType(events, 'task:sent').filter((e) => !collectedTasks.has(e.task));
      const healthyTasks = new Set(received.filter((e) => healthy.has(e.worker)).map((e) => e.task));
      return {
        doomedReceived: received.filter((e) => e.worker === doomed.id).length,
        healthyReceived: [healthyA.id, healthyB.id].map((id) => received.filter((e) => e.worker === id).length),
        collectedFromHealthy: collected.filter((e) => healthy.has(e.worker)).length,
        collectedFromDoomed: collected.filter((e) => e.worker === doomed.id).length,
        notCollected: uncollected.length,
        notCollectedButHealthy: uncollected.filter((e) => healthyTasks.has(e.task)).length,
      };
    })();

    // The graph engine: the same sandbox, worker-2 (ipc) the doomed one; killing it kills its program (its PUSH
    // out too), as a process worker's death does.
    const graph = await (async (): Promise<KillFacts> => {
      const spec: GraphSpec = {
        ...pipelineGraph.graph,
        nodes: pipelineGraph.graph.nodes.map((node) => {
          if (node.id === 'ventilator' && node.role.kind === 'send' && node.role.messages.kind === 'template')
            return { ...node, role: { ...node.role, messages: { ...node.role.messages, count: TASKS } } };
          if (node.id === 'worker-2' && node.role.kind === 'receive')
            return { ...node, role: { ...node.role, workMs: 60_000 } };
          return node;
        }),
        drainMs: 800,
      };
      const { run, events, until, endsWithin } = await runs.start(spec, { scenario: pipelineGraph.id });
      await until(
        (seen) => seen.some((e) => e.type === 'message:received' && e.node === 'worker-2'),
        "worker-2's first task",
      );
      expect(run.signalNode('worker-2', 'kill').sort()).toEqual(['worker-2', 'worker-2-out']);
      expect(await endsWithin(30_000)).toBe('ended');
      const tasks = ofType(events, 'message:sent').filter((e) => e.node === 'ventilator');
      const received = ofType(events, 'message:received');
      const taskReceipts = received.filter((e) => e.from === 'ventilator');
      // A result is a worker's PUSH out's send caused by its task; the sink's receipt names the result.
      const taskOfResult = new Map(
        ofType(events, 'message:sent')
          .filter((e) => e.node.endsWith('-out'))
          .map((e) => [e.message, e.cause]),
      );
      const collected = received.filter((e) => e.node === 'sink');
      const collectedTasks = new Set(collected.map((e) => taskOfResult.get(e.message!)));
      const uncollected = tasks.filter((e) => !collectedTasks.has(e.message));
      const healthy = new Set(['worker-1', 'worker-3']);
      const healthyTasks = new Set(taskReceipts.filter((e) => healthy.has(e.node)).map((e) => e.message));
      return {
        doomedReceived: taskReceipts.filter((e) => e.node === 'worker-2').length,
        healthyReceived: ['worker-1', 'worker-3'].map((id) => taskReceipts.filter((e) => e.node === id).length),
        collectedFromHealthy: collected.filter((e) => healthy.has(e.from!.replace(/-out$/, ''))).length,
        collectedFromDoomed: collected.filter((e) => e.from === 'worker-2-out').length,
        notCollected: uncollected.length,
        notCollectedButHealthy: uncollected.filter((e) => healthyTasks.has(e.message)).length,
      };
    })();

    for (const [engine, facts] of [
      ['pipeline engine', pipeline],
      ['graph engine', graph],
    ] as const) {
      expect(facts.healthyReceived, engine).toEqual([10, 10]);
      expect(facts.doomedReceived, engine).toBeGreaterThanOrEqual(1);
      expect(facts.collectedFromHealthy, engine).toBe(20);
      expect(facts.collectedFromDoomed, engine).toBe(0);
      expect(facts.notCollected, engine).toBe(10);
      expect(facts.notCollectedButHealthy, `${engine}: nothing re-routed`).toBe(0);
    }
  }, 90_000);
});
