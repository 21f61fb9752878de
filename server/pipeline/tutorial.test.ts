/**
 * The tutorial and batch scenarios on real sockets, headless: what ZeroMQ really does (zmq-facts sections 1 and 8).
 *
 *   VENTILATOR -PUSH bind tcp, later also ipc-> PULL worker-tcp (tcp) / PULL worker-ipc (ipc)
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SCENARIOS, TUTORIAL_TEXTS } from '../../shared/scenarios/index.ts';
import type { RunParamsPatch } from '../../shared/protocol/index.ts';
import { collect, freePort, ofType, receivedBy, runEnded } from '../../test/helpers.ts';
import { playgroundHarness } from '../../test/playground-harness.ts';

const pipelines = playgroundHarness();

afterEach(() => pipelines.cleanup());

async function tutorial(params: RunParamsPatch, scenario = 'tutorial') {
  const port = await freePort();
  const playground = pipelines.playground({
    scenario: SCENARIOS.get(scenario)!,
    params,
    endpointOverrides: scenario === 'tutorial' ? pipelines.tutorialEndpoints(port) : {},
  });
  const events = collect(playground);
  const run = playground.startRun();
  const ended = await runEnded(playground, run.id);
  return { playground, events, run, ended };
}

/** Task ids in the order they were received, with who received them. */
function recipientsInSendOrder(events: ReturnType<typeof collect>) {
  return ofType(events, 'task:received').sort((a, b) => a.task - b.task);
}

describe('the tutorial scenario', () => {
  it('sends 1, 2, 3 to the tcp worker, then shares the texts once the ipc worker has joined', async () => {
    // The ipc worker, started with the run, retries its connect every 100-200 ms (libzmq's reconnect interval plus
    // a random jitter) until the ipc bind, so it joins up to 200 ms after it, plus what a busy machine adds. Each
    // worker must get an "x", so it must join before the first "x" goes out, 7 intervals after the bind: 700 ms.
    const { events, ended } = await tutorial({ intervalMs: 100, drainMs: 1000 });
    expect(ended.reason).toBe('completed');
    const received = receivedBy(events);

    // While only the tcp worker is connected it gets everything.
    expect(received['worker-tcp']?.slice(0, 3)).toEqual(['1', '2', '3']);
    // The ipc endpoint is bound on the same socket after the third message, then the ipc worker joins.
    const bound = ofType(events, 'endpoint:bound').map((e) => e.endpoint.name);
    expect(bound).toEqual(['tcp', 'ipc']);
    const ipcBind = ofType(events, 'endpoint:bound')[1]!;
    const third = ofType(events, 'task:sent').find((e) => e.task === 2)!;
    expect(ipcBind.seq).toBeGreaterThan(third.seq);

    // Every message received exactly once, each worker stopping at its own "x".
    const all = [...received['worker-tcp']!, ...received['worker-ipc']!].sort();
    expect(all).toEqual(['1', '2', '3', ...TUTORIAL_TEXTS].sort());
    expect(received['worker-tcp']!.at(-1)).toBe('x');
    expect(received['worker-ipc']!.at(-1)).toBe('x');
    expect(ofType(events, 'worker:stopped').map((e) => e.reason)).toEqual(['end-marker', 'end-marker']);

    // From the ipc worker's first message on, round-robin alternates strictly between the two pipes.
    const order = recipientsInSendOrder(events);
    const firstIpc = order.findIndex((e) => e.worker === 'worker-ipc');
    expect(firstIpc).toBeGreaterThanOrEqual(3);
    const afterJoin = order.slice(firstIpc).map((e) => e.worker);
    afterJoin.forEach((worker, i) => expect(worker).toBe(i % 2 === 0 ? 'worker-ipc' : 'worker-tcp'));
    expect(ended.summary).toMatchObject({ sent: 12, unattributed: 0, externalPeersMax: 0 });
  });

  it('in a burst the late ipc worker gets nothing and the second "x" is lost with the stopped tcp worker', async () => {
    const { events, ended } = await tutorial({ intervalMs: 0, drainMs: 400 });
    const received = receivedBy(events);
    expect(received['worker-ipc']).toBeUndefined();
    expect(received['worker-tcp']).toEqual(['1', '2', '3', ...TUTORIAL_TEXTS.slice(0, -1)]);
    expect(ended.summary).toMatchObject({ sent: 12, received: { 'worker-tcp': 11, 'worker-ipc': 0 }, unattributed: 1 });
    // The ipc worker did connect, after the burst was over: the slow joiner.
    const ipcHandshake = ofType(events, 'socket:event').find((e) => e.node === 'worker-ipc' && e.kind === 'handshake');
    const lastSend = ofType(events, 'task:sent').at(-1)!;
    expect(ipcHandshake && ipcHandshake.seq > lastSend.seq).toBe(true);
  });

  it('[E1][E2] stamps a gap-free seq and a monotonic t on every event, and removes its ipc file', async () => {
    const { events, playground } = await tutorial({ intervalMs: 0, drainMs: 200 });
    events.forEach((event, i) => expect(event.seq).toBe(i + 1));
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t);
    expect(fs.existsSync(`${pipelines.policy().runtimeDir}/demo`)).toBe(false);
    expect(playground.activeRun).toBeNull();
  });

  it('stops a run on request: the pending sleep ends and every socket closes', async () => {
    const port = await freePort();
    const playground = pipelines.playground({
      scenario: SCENARIOS.get('tutorial')!,
      params: { intervalMs: 5000 },
      endpointOverrides: pipelines.tutorialEndpoints(port),
    });
    const events = collect(playground);
    const run = playground.startRun();
    const { waitForEvent } = await import('../../test/helpers.ts');
    await waitForEvent(playground, (e) => e.type === 'task:sent');
    const started = performance.now();
    playground.stopRun();
    const ended = await runEnded(playground, run.id, 3000);
    expect(ended.reason).toBe('stopped');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(ofType(events, 'task:sent')).toHaveLength(1);
    expect(() => playground.stopRun()).toThrow(/No run/);
  });
});

describe('the batch scenario', () => {
  it('splits a synchronised batch exactly evenly between two workers', async () => {
    const { events, ended } = await tutorial({ tasks: 1000, intervalMs: 0 }, 'pipeline');
    expect(ended.reason).toBe('completed');
    expect(ended.summary.received).toEqual({ 'worker-1': 500, 'worker-2': 500 });
    const ids = ofType(events, 'task:received').map((e) => e.task);
    expect(new Set(ids).size).toBe(1000);
    // Strict alternation: consecutive tasks never go to the same worker.
    const order = recipientsInSendOrder(events);
    for (let i = 1; i < order.length; i++) expect(order[i]!.worker).not.toBe(order[i - 1]!.worker);
  });
});
