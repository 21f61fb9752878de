/**
 * Kill, hang and resume a node while a graph run flows (issue 11; graph-signals.ts, SPEC [G6]), on real sockets,
 * asserted from the run's events. What ZeroMQ does underneath is in kill-hang-experiments.test.ts. Every wait is
 * for an event of the run, bounded; nothing depends on the machine's speed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { programOf } from './graph-signals.ts';
import { CodedError } from '../errors.ts';
import { part3 } from '../../shared/scenarios/series.ts';
import { KILL_TASKS, killPipeline } from '../../shared/scenarios/zguide.ts';
import { type EventOfType, checkBooks, graphRunHarness, of, receivedBy } from '../../test/graph-run-harness.ts';

const runs = graphRunHarness({ ownerPrefix: 'gs', untilTimeoutMs: 20_000, endTimeoutMs: 20_000 });
const start = runs.start;

afterEach(() => runs.cleanup());

describe('a program is the node and the sockets tied to it', () => {
  it("the zguide's worker is three sockets; a REP server is one", () => {
    expect(programOf(killPipeline.graph, 'worker-2').sort()).toEqual(['worker-2', 'worker-2-control', 'worker-2-out']);
    expect(programOf(killPipeline.graph, 'worker-2-control').sort()).toEqual([
      'worker-2',
      'worker-2-control',
      'worker-2-out',
    ]);
    expect(programOf(part3.graph, 'server-6000')).toEqual(['server-6000']);
  });
});

describe('[G6] kill, hang and resume while messages flow', () => {
  it("the series' part 3: a REP killed mid-run takes the request of its turn with it, and the strict REQ is stuck", async () => {
    const { run, events, until, ended } = await start({ ...part3.graph, drainMs: 400 });
    // Killed while idle in its receive, once it has answered twice: no reply of its own is half done.
    await until(
      (all) => of(all, 'message:received').filter((e) => e.node === 'client' && e.from === 'server-6000').length >= 2,
      'two replies from server-6000',
    );
    expect(run.signalNode('server-6000', 'kill')).toEqual(['server-6000']);
    const killedAt = events.length;
    const summary = await ended();
    checkBooks(summary);

    expect(of(events, 'node:process')).toMatchObject([
      { node: 'server-6000', action: 'killed', program: 'server-6000' },
    ]);
    expect(of(events, 'node:stopped').find((e) => e.node === 'server-6000')?.reason).toBe('killed');
    // The REQ is stuck on the request of the dead server's turn (parked on its dead pipe): never answered, counted
    // lost with the killed node, and the REQ sends nothing after it (a second send would be EFSM).
    const requests = of(events, 'message:sent').filter((e) => e.node === 'client');
    const replies = receivedBy(events, 'client');
    expect(requests.length).toBe(replies.length + 1);
    expect(requests.length).toBeLessThan(100);
    const lost = of(events, 'message:dropped').filter((e) => e.reason === 'killed');
    expect(lost).toEqual([expect.objectContaining({ message: requests.at(-1)!.message, node: 'server-6000' })]);
    expect(summary.droppedBy).toEqual({ killed: 1 });
    expect(of(events, 'message:received').some((e) => e.message === requests.at(-1)!.message)).toBe(false);
    // The other servers went on until the rotation came back to the dead one: at most two more requests.
    const servedAfter = events
      .slice(killedAt)
      .filter(
        (e): e is EventOfType<'message:received'> => e.type === 'message:received' && e.node.startsWith('server-'),
      );
    expect(servedAfter.length).toBeLessThanOrEqual(2);
    // Said at the end: the client was left waiting for a reply lost with the killed server (learner report,
    // session 11: the run read as if it had simply run its course).
    expect(of(events, 'node:stopped').find((e) => e.node === 'client')).toMatchObject({
      reason: 'reply-lost',
      lostWith: 'server-6000',
    });
    expect(of(events, 'node:error')).toEqual([]);
  });

  it.each([
    ['a socket in the server', false],
    ['its own process', true],
  ])(
    'a REP (%s) killed with the request in its hands: the REQ is left waiting for a reply lost with it, and the end says so',
    async (_where, process) => {
      const { run, events, until, ended } = await start({
        title: 'one slow server',
        nodes: [
          {
            id: 'client',
            socket: 'REQ',
            role: { kind: 'request', messages: { kind: 'template', template: 'hola {i}', count: 30 } },
          },
          { id: 'server', socket: 'REP', process, role: { kind: 'reply', transform: 'echo', workMs: 60_000 } },
          { id: 'bystander', socket: 'PULL', role: { kind: 'receive' } },
          {
            id: 'feeder',
            socket: 'PUSH',
            role: { kind: 'send', messages: { kind: 'list', items: ['x'] } },
          },
        ],
        links: [
          { from: 'client', to: 'server', bind: 'to', transport: 'tcp' },
          { from: 'feeder', to: 'bystander', bind: 'to', transport: 'inproc' },
        ],
        drainMs: 400,
      });
      // The server has the first request and works on it (a minute): killed now, it dies with it unhandled.
      await until((all) => receivedBy(all, 'server').length === 1, 'the first request in the server');
      run.signalNode('server', 'kill');
      const summary = await ended();
      checkBooks(summary);
      const request = of(events, 'message:sent').find((e) => e.node === 'client')!;
      expect(of(events, 'message:dropped')).toEqual([
        expect.objectContaining({ message: request.message, node: 'server', reason: 'unhandled' }),
      ]);
      expect(of(events, 'graph:ended')[0]!.reason).toBe('completed');
      const stopped = Object.fromEntries(of(events, 'node:stopped').map((e) => [e.node, e]));
      expect(stopped.client).toMatchObject({ reason: 'reply-lost', lostWith: 'server' });
      expect(stopped.server).toMatchObject({ reason: 'killed' });
      expect(stopped.server).not.toHaveProperty('lostWith');
      // A node that only ended with the run is said as before.
      expect(stopped.bystander).toEqual(expect.objectContaining({ reason: 'run-ended' }));
      expect(stopped.bystander).not.toHaveProperty('lostWith');
    },
  );

  it('a subscriber hung with a small HWM: the publisher drops for it (counted), the other gets everything; resumed, it receives again', async () => {
    const { run, events, until } = await start({
      title: 'a hung subscriber',
      nodes: [
        {
          id: 'news',
          socket: 'PUB',
          sendHighWaterMark: 5,
          role: {
            kind: 'send',
            messages: { kind: 'template', template: 'n{i}', count: 3000 },
            intervalMs: 2,
            waitForPeers: 2,
          },
        },
        { id: 'slow', socket: 'SUB', subscribe: [''], receiveHighWaterMark: 5, role: { kind: 'receive' } },
        { id: 'fast', socket: 'SUB', subscribe: [''], role: { kind: 'receive' } },
      ],
      links: [
        { from: 'news', to: 'slow', bind: 'from', transport: 'inproc' },
        { from: 'news', to: 'fast', bind: 'from', transport: 'inproc' },
      ],
    });
    await until((all) => receivedBy(all, 'slow').length >= 5, 'five receipts on slow');
    run.signalNode('slow', 'hang');
    const hungAt = receivedBy(events, 'slow').length;
    const sentBefore = of(events, 'message:sent').length;
    await until((all) => of(all, 'message:sent').length >= sentBefore + 60, 'sixty more publications');
    // Hung: it read at most the one message its pending receive had already taken, and holds it.
    expect(receivedBy(events, 'slow').length).toBe(hungAt);
    run.signalNode('slow', 'resume');
    const lastSentAtResume = of(events, 'message:sent').at(-1)!.message;
    await until(
      (all) => receivedBy(all, 'slow').some((e) => e.message !== null && e.message > lastSentAtResume),
      'a publication after the resume on slow',
    );
    const summary = await run.stop();
    checkBooks(summary);
    expect(of(events, 'node:process').map((e) => `${e.node} ${e.action}`)).toEqual(['slow hung', 'slow resumed']);
    // Of the sixty published while it was hung, the pipe held at most its two HWMs (and the one in hand): the rest
    // were dropped at the publisher, found when the first newer message came (the same pipe keeps order).
    const hwm = of(events, 'message:dropped').filter((e) => e.reason === 'hwm');
    expect(hwm.length).toBeGreaterThanOrEqual(60 - 11);
    expect(hwm.every((e) => e.peer === 'slow' && e.node === 'news')).toBe(true);
    // The other subscriber lost nothing after its first delivery: a PUB never blocks for the hung one.
    const fastMissed = of(events, 'message:dropped').filter((e) => e.peer === 'fast' && e.reason !== 'not-subscribed');
    expect(fastMissed).toEqual([]);
    expect(of(events, 'node:error')).toEqual([]);
  });

  it("the zguide's kill pipeline: a worker killed loses its queued tasks with it, the others keep their share, and the sink never gets every result", async () => {
    const { run, events, until, ended } = await start({ ...killPipeline.graph, drainMs: 500 });
    await until((all) => receivedBy(all, 'worker-2').length >= 2, 'two tasks on worker-2');
    expect(run.signalNode('worker-2', 'kill').sort()).toEqual(['worker-2', 'worker-2-control', 'worker-2-out']);
    const summary = await ended();
    checkBooks(summary);
    expect(
      of(events, 'node:process')
        .map((e) => `${e.node} ${e.action} ${e.program}`)
        .sort(),
    ).toEqual(['worker-2 killed worker-2', 'worker-2-control killed worker-2', 'worker-2-out killed worker-2']);
    const tasks = new Set(
      of(events, 'message:sent')
        .filter((e) => e.node === 'ventilator')
        .map((e) => e.message),
    );
    expect(tasks.size).toBe(KILL_TASKS);
    const taken = (worker: string) =>
      receivedBy(events, worker).filter((e) => e.message !== null && tasks.has(e.message));
    const lostTasks = of(events, 'message:dropped').filter((e) => e.reason === 'killed' && tasks.has(e.message));
    // Every task ends in one place: a worker took it, or it was lost with the killed one (queued there).
    expect(taken('worker-1').length + taken('worker-2').length + taken('worker-3').length + lostTasks.length).toBe(
      KILL_TASKS,
    );
    expect(lostTasks.length).toBeGreaterThan(0);
    expect(lostTasks.every((e) => e.node === 'worker-2')).toBe(true);
    // The ventilator dealt 20 to each before the kill; the live workers never got the dead one's.
    expect(taken('worker-1').length).toBe(KILL_TASKS / 3);
    expect(taken('worker-3').length).toBe(KILL_TASKS / 3);
    // The sink waits for all 60 and so never announces KILL: the live workers are still waiting when the run ends.
    expect(receivedBy(events, 'sink').length).toBeLessThan(KILL_TASKS);
    expect(of(events, 'message:sent').some((e) => e.node === 'sink-control')).toBe(false);
    expect(of(events, 'node:stopped').find((e) => e.node === 'worker-1')?.reason).toBe('run-ended');
    expect(summary.droppedBy.killed).toBe(lostTasks.length);
    expect(of(events, 'node:error')).toEqual([]);
  });

  it('a hung node keeps the run from ending by its drain; resumed, it takes what waited and the run completes', async () => {
    const { run, events, until, ended } = await start({
      title: 'a hung collector',
      drainMs: 100,
      nodes: [
        {
          id: 'tasks',
          socket: 'PUSH',
          role: { kind: 'send', messages: { kind: 'template', template: 't{i}', count: 20 }, waitForPeers: 1 },
        },
        { id: 'collector', socket: 'PULL', role: { kind: 'receive', workMs: 5 } },
      ],
      links: [{ from: 'tasks', to: 'collector', bind: 'from', transport: 'tcp' }],
    });
    await until((all) => receivedBy(all, 'collector').length >= 1, 'a first task collected');
    run.signalNode('collector', 'hang');
    await until((all) => of(all, 'node:stopped').some((e) => e.node === 'tasks'), 'every task sent');
    // Ten drains later the run is still on: the visitor's hang is a deliberate wait, not idleness.
    const over = await Promise.race([run.done.then(() => true), new Promise((r) => setTimeout(() => r(false), 1000))]);
    expect(over).toBe(false);
    const collectedWhileHung = receivedBy(events, 'collector').length;
    expect(collectedWhileHung).toBeLessThan(20);
    run.signalNode('collector', 'resume');
    const summary = await ended();
    checkBooks(summary);
    expect(receivedBy(events, 'collector')).toHaveLength(20);
    expect(summary.dropped).toBe(0);
    expect(of(events, 'graph:ended')[0]!.reason).toBe('completed');
  });

  it('refuses what a node cannot do now, with a translatable reason', async () => {
    const { run, until } = await start({ ...part3.graph, drainMs: 400 });
    await until((all) => receivedBy(all, 'client').length >= 1, 'a first reply');
    const refusal = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        return error instanceof CodedError ? `${error.code} ${error.text.key}` : String(error);
      }
      return 'accepted';
    };
    expect(refusal(() => run.signalNode('nobody', 'kill'))).toBe('PG_ERR_NOT_FOUND graph.unknownNode');
    expect(refusal(() => run.signalNode('server-5000', 'resume'))).toBe('PG_ERR_VALIDATION graph.nodeNotHung');
    expect(refusal(() => run.signalNode('server-5000', 'hang'))).toBe('accepted');
    expect(refusal(() => run.signalNode('server-5000', 'hang'))).toBe('PG_ERR_VALIDATION graph.nodeHung');
    expect(refusal(() => run.signalNode('server-5000', 'kill'))).toBe('accepted');
    expect(refusal(() => run.signalNode('server-5000', 'kill'))).toBe('PG_ERR_VALIDATION graph.nodeKilled');
    await run.stop();
    expect(refusal(() => run.signalNode('server-7000', 'kill'))).toBe('PG_ERR_NO_RUN run.none');
  });
});
