/**
 * [E7] The books of a run, on real sockets with real worker processes: after kills (ours or from outside), hangs
 * and removals, with and without a sink, every task sent is in exactly one place (collected, processed, its result
 * lost on the way, lost with a worker, taken by an external peer, in flight), and the summary says so.
 *
 * Each check compares the summary's `accounting` with what the run's events say task by task, so the identity
 * is tested against facts, not against itself. Nothing here depends on how fast the machine is: the assertions
 * are exact sums, and the only waits are for events.
 *
 *   VENTILATOR -PUSH(tcp)-> WORKER x N (own process / in this process) -PUSH-> PULL- SINK (optional)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PlaygroundEvent, RunParamsPatch, RunSummary } from '../../shared/protocol/index.ts';
import type { Playground } from './playground.ts';
import { collect, ofType, runEnded, waitForEvent } from '../../test/helpers.ts';
import { playgroundHarness } from '../../test/playground-harness.ts';

const pipelines = playgroundHarness();

afterEach(() => pipelines.cleanup());

/** A pipeline playground with no default workers; `sink` switches the sink on (tcp, so processes reach it). */
function sandbox(params: RunParamsPatch, sink: boolean): Playground {
  const playground = pipelines.sandbox({ syncStart: true, ...params });
  if (sink) playground.updateSink({ enabled: true, transport: 'tcp' });
  return playground;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The tasks of events of one type (optionally of one worker), as a set; fails on a task reported twice. */
function tasksOf(
  events: PlaygroundEvent[],
  type: 'task:sent' | 'task:received' | 'task:done' | 'task:collected' | 'task:lost',
  worker?: string,
): Set<number> {
  const tasks = new Set<number>();
  for (const event of events) {
    if (event.type !== type) continue;
    if (worker !== undefined && (!('worker' in event) || event.worker !== worker)) continue;
    expect(tasks.has(event.task), `${type} twice for task ${event.task}`).toBe(false);
    tasks.add(event.task);
  }
  return tasks;
}

/**
 * The identity, and each of its parts checked against the events. For a run that was not stopped nothing is left
 * in flight; every done task was collected or its result lost (with a sink) or simply processed (without).
 */
function expectExactBooks(summary: RunSummary, events: PlaygroundEvent[], sink: boolean): void {
  const books = summary.accounting!;
  expect(books).toBeDefined();
  expect(books.collected + books.processed + books.resultsLost + books.lost + books.external + books.inFlight).toBe(
    summary.sent,
  );
  expect(books.inFlight).toBe(0);
  expect(books.external).toBe(0);

  const sent = tasksOf(events, 'task:sent');
  const received = tasksOf(events, 'task:received');
  const done = tasksOf(events, 'task:done');
  const collected = tasksOf(events, 'task:collected');
  const lost = tasksOf(events, 'task:lost');
  expect(sent.size).toBe(summary.sent);
  // Lost and collected are disjoint places of sent tasks; a done task is never lost.
  for (const task of lost) {
    expect(sent.has(task)).toBe(true);
    expect(collected.has(task) || done.has(task)).toBe(false);
  }
  for (const task of collected) expect(done.has(task)).toBe(true);
  for (const task of done) expect(received.has(task)).toBe(true);
  // Every received task was done or lost with the worker that held it; every unreceived one was lost in a pipe.
  for (const task of received) expect(done.has(task) || lost.has(task)).toBe(true);
  for (const task of sent) if (!received.has(task)) expect(lost.has(task)).toBe(true);

  expect(summary.lost).toBe(lost.size);
  expect(books.lost).toBe(lost.size);
  expect(sum(summary.lostBy)).toBe(lost.size);
  expect(sum(summary.done)).toBe(done.size);
  expect(sum(summary.received) + summary.unattributed).toBe(summary.sent);
  expect(summary.collected).toBe(collected.size);
  expect(books.collected).toBe(collected.size);
  expect(sum(books.resultsLostBy)).toBe(books.resultsLost);
  if (sink) {
    expect(books.processed).toBe(0);
    expect(books.collected + books.resultsLost).toBe(done.size);
  } else {
    expect(books.collected).toBe(0);
    expect(books.resultsLost).toBe(0);
    expect(books.processed).toBe(done.size);
  }
}

/** Tasks `worker` received and never finished: the ones in its hands when it went away. */
function inHands(events: PlaygroundEvent[], worker: string): number[] {
  const done = tasksOf(events, 'task:done', worker);
  return [...tasksOf(events, 'task:received', worker)].filter((task) => !done.has(task));
}

function lostWith(events: PlaygroundEvent[], worker: string): Set<number> {
  return new Set(
    ofType(events, 'task:lost')
      .filter((e) => e.worker === worker)
      .map((e) => e.task),
  );
}

async function pidOf(playground: Playground, worker: string): Promise<number> {
  const spawned = await waitForEvent(
    playground,
    (e) => e.type === 'worker:process' && e.worker === worker && e.action === 'spawned',
    20_000,
  );
  return (spawned as Extract<PlaygroundEvent, { type: 'worker:process' }>).pid!;
}

describe('process workers and a sink, a batch at interval 0 (issue 10.2)', () => {
  // Each worker tells of a receipt over its IPC channel while its result races ahead over ZeroMQ: the sink must
  // count a result that arrives before the receipt, and the run must end with every result in.
  it.each([
    ['default high-water marks', {}],
    [
      'high-water marks of 10',
      {
        ventilator: { sendHighWaterMark: 10 },
        worker: { receiveHighWaterMark: 10 },
        sink: { receiveHighWaterMark: 10 },
      },
    ],
  ])(
    'collects every result, with %s',
    async (_name, options) => {
      const playground = sandbox({ tasks: 3000, intervalMs: 0, drainMs: 3000 }, true);
      playground.updateOptions(options);
      for (let i = 0; i < 3; i++) playground.addWorker({ transport: 'tcp', mode: 'process' });
      const events = collect(playground);
      const run = playground.startRun();
      const ended = await runEnded(playground, run.id, 40_000);
      expect(ended.reason).toBe('completed');
      expect(ended.summary.sent).toBe(3000);
      expect(ended.summary.collected).toBe(3000);
      expect(ended.summary.accounting).toMatchObject({ collected: 3000, resultsLost: 0, lost: 0, inFlight: 0 });
      expectExactBooks(ended.summary, events, true);
    },
    60_000,
  );
});

describe.each([
  ['without a sink', false],
  ['with a sink', true],
])('the books stay exact %s', (_name, sink) => {
  it('after a process worker is SIGKILLed from outside: its task in hand is lost with it', async () => {
    const playground = sandbox({ tasks: 40, drainMs: 500 }, sink);
    // Slow enough to hold a task when the kill comes, fast enough to have finished some before it.
    const doomed = playground.addWorker({ transport: 'tcp', mode: 'process', workMs: { min: 30, max: 30 } });
    playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    const pid = await pidOf(playground, doomed.id);
    await waitForEvent(playground, (e) => e.type === 'task:done' && e.worker === doomed.id, 20_000);
    process.kill(pid, 'SIGKILL'); // as the OOM killer would: the run did not ask for it
    const ended = await runEnded(playground, run.id, 20_000);

    expect(
      ofType(events, 'worker:process')
        .filter((e) => e.worker === doomed.id)
        .map((e) => e.action),
    ).toEqual(['spawned', 'killed']);
    expect(
      ofType(events, 'worker:updated')
        .filter((e) => e.worker.id === doomed.id)
        .at(-1)!.worker.state,
    ).toBe('killed');
    const held = inHands(events, doomed.id);
    const lost = lostWith(events, doomed.id);
    for (const task of held) expect(lost.has(task)).toBe(true);
    expect(ended.summary.lostBy.unknown).toBeUndefined();
    expectExactBooks(ended.summary, events, sink);
  }, 40_000);

  it('after a kill through the API, with the task in hand and the queue lost with the worker', async () => {
    const playground = sandbox({ tasks: 30, drainMs: 500 }, sink);
    const doomed = playground.addWorker({ transport: 'tcp', mode: 'process', workMs: { min: 60_000, max: 60_000 } });
    playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    // Every task is out (15 each, round-robin) and the doomed worker holds its first one.
    await waitForEvent(playground, (e) => e.type === 'task:sent' && e.task === 29, 20_000);
    await waitForEvent(playground, (e) => e.type === 'task:received' && e.worker === doomed.id, 20_000);
    playground.signalWorker(doomed.id, 'kill');
    const ended = await runEnded(playground, run.id, 20_000);

    // It never finished its first task: its 15 tasks (one in hand, the rest queued) are lost with it.
    expect(inHands(events, doomed.id)).toHaveLength(1);
    expect(ended.summary.lostBy).toEqual({ [doomed.id]: 15 });
    expectExactBooks(ended.summary, events, sink);
  }, 40_000);

  it('after a hang and a resume: nothing lost, everything processed', async () => {
    const playground = sandbox({ tasks: 40, intervalMs: 5, drainMs: 2000 }, sink);
    const sleepy = playground.addWorker({ transport: 'tcp', mode: 'process' });
    playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    await waitForEvent(playground, (e) => e.type === 'task:received' && e.worker === sleepy.id, 20_000);
    playground.signalWorker(sleepy.id, 'stop');
    await waitForEvent(playground, (e) => e.type === 'task:sent' && e.task >= 30, 20_000);
    playground.signalWorker(sleepy.id, 'cont');
    const ended = await runEnded(playground, run.id, 20_000);

    expect(ended.summary.lost).toBe(0);
    expect(ended.summary.accounting).toMatchObject(sink ? { collected: 40, resultsLost: 0 } : { processed: 40 });
    expectExactBooks(ended.summary, events, sink);
  }, 40_000);

  it('a worker still hung at the end loses what waits in its pipe, and the books say it is that worker', async () => {
    const playground = sandbox({ tasks: 40, intervalMs: 5, drainMs: 500 }, sink);
    // 100 ms a task: whenever the hang lands after its first task, most of its 20 are still waiting for it.
    const sleepy = playground.addWorker({ transport: 'tcp', mode: 'process', workMs: { min: 100, max: 100 } });
    playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    await waitForEvent(playground, (e) => e.type === 'task:received' && e.worker === sleepy.id, 20_000);
    playground.signalWorker(sleepy.id, 'stop');
    const ended = await runEnded(playground, run.id, 30_000);

    // Half the batch went to the hung worker by round-robin; what it had not taken in never will be.
    expect(ended.summary.lost).toBeGreaterThan(0);
    expect(ended.summary.lostBy).toEqual({ [sleepy.id]: ended.summary.lost });
    expectExactBooks(ended.summary, events, sink);
  }, 40_000);

  it('after a process worker and an in-process worker are removed mid-run', async () => {
    const playground = sandbox({ tasks: 100, intervalMs: 10, drainMs: 500 }, sink);
    const leavingProcess = playground.addWorker({ transport: 'tcp', mode: 'process', workMs: { min: 20, max: 20 } });
    const leavingHere = playground.addWorker({ transport: 'tcp', workMs: { min: 20, max: 20 } });
    playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    await waitForEvent(playground, (e) => e.type === 'task:done' && e.worker === leavingProcess.id, 20_000);
    await playground.removeWorker(leavingProcess.id);
    await waitForEvent(playground, (e) => e.type === 'task:done' && e.worker === leavingHere.id, 20_000);
    await playground.removeWorker(leavingHere.id);
    const ended = await runEnded(playground, run.id, 20_000);

    for (const worker of [leavingProcess.id, leavingHere.id]) {
      const lost = lostWith(events, worker);
      for (const task of inHands(events, worker)) expect(lost.has(task)).toBe(true);
    }
    expectExactBooks(ended.summary, events, sink);
  }, 40_000);
});

describe('a stopped run', () => {
  it('leaves what was on its way in flight, and the parts still add up to what was sent', async () => {
    const playground = sandbox({ tasks: 200, intervalMs: 0, drainMs: 500 }, true);
    playground.addWorker({ transport: 'tcp', mode: 'process', workMs: { min: 60_000, max: 60_000 } });
    playground.addWorker({ transport: 'tcp', workMs: { min: 5, max: 5 } });
    const run = playground.startRun();
    await waitForEvent(playground, (e) => e.type === 'task:collected', 20_000);
    playground.stopRun();
    const ended = await runEnded(playground, run.id, 20_000);
    expect(ended.reason).toBe('stopped');
    const books = ended.summary.accounting!;
    expect(books.collected + books.processed + books.resultsLost + books.lost + books.external + books.inFlight).toBe(
      ended.summary.sent,
    );
    expect(books.collected).toBe(ended.summary.collected);
    expect(books.inFlight).toBeGreaterThan(0); // at least the slow worker's task in hand
  }, 40_000);
});
