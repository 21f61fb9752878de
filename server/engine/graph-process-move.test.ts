/**
 * A process node moved to another transport while messages flow (issue 11; graph-move.ts, graph-process.ts, SPEC
 * [G6], [G7]): its child binds, connects, disconnects and unbinds when the server asks, and the move's events and
 * books are an in-process node's. Real sockets in real child processes; every wait is for an event of the run (or
 * the move's own answer), bounded; nothing depends on the machine's speed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphSpec } from '../../shared/protocol/index.ts';
import { checkBooks, graphRunHarness, of, receivedBy } from '../../test/graph-run-harness.ts';
import { MOVE_ANSWER_MS } from './graph-move.ts';

// Children start in about half a second to a second each from the sources (tsx compiles in each).
const runs = graphRunHarness({ ownerPrefix: 'gpm', untilTimeoutMs: 30_000, endTimeoutMs: 60_000 });

afterEach(() => runs.cleanup());

async function start(graph: GraphSpec) {
  const started = await runs.start(graph);
  const pidOf = (node: string) =>
    of(started.events, 'node:process').find((e) => e.node === node && e.action === 'started')?.pid;
  return { ...started, pidOf };
}

/** A PUSH in the server dealing `count` tasks to two PULL workers over tcp, `w1` running as its own process. */
function ventilator(count: number): GraphSpec {
  return {
    title: 'a ventilator and two workers, one a process',
    drainMs: 400,
    nodes: [
      {
        id: 'vent',
        socket: 'PUSH',
        role: {
          kind: 'send',
          messages: { kind: 'template', template: 't{i}', count },
          intervalMs: 5,
          waitForPeers: 2,
        },
      },
      { id: 'w1', socket: 'PULL', process: true, role: { kind: 'receive' } },
      { id: 'w2', socket: 'PULL', role: { kind: 'receive' } },
    ],
    links: [
      { from: 'vent', to: 'w1', bind: 'from', transport: 'tcp' },
      { from: 'vent', to: 'w2', bind: 'from', transport: 'tcp' },
    ],
  };
}

describe('[G7] a process node moved to another transport', () => {
  it('a process PULL worker moved from tcp to ipc keeps receiving over ipc; delivered + dropped + in flight = sent', async () => {
    const { run, events, until, ended, pidOf } = await start(ventilator(300));
    const pid = pidOf('w1');
    expect(pid).toBeGreaterThan(0);
    await until((all) => receivedBy(all, 'w1').length >= 10, 'w1 working over tcp');
    const links = await run.moveNode('w1', 'ipc');
    expect(links).toMatchObject([{ from: 'vent', to: 'w1', transport: 'ipc' }]);
    const moved = of(events, 'link:moved');
    expect(moved).toMatchObject([{ node: 'w1', from: 'vent', to: 'w1', transport: 'ipc', previousTransport: 'tcp' }]);
    expect(moved[0]!.address).toMatch(/^ipc:\/\//);
    expect(moved[0]!.previousAddress).toMatch(/^tcp:\/\/127\.0\.0\.1:/);
    // The ventilator bound ipc beside its tcp endpoint (still w2's); the child dialled the new endpoint.
    expect(of(events, 'node:bound').map((e) => `${e.node} ${e.transport}`)).toEqual(['vent tcp', 'vent ipc']);
    expect(
      of(events, 'node:connecting')
        .filter((e) => e.node === 'w1')
        .map((e) => e.address),
    ).toEqual([moved[0]!.previousAddress, moved[0]!.address]);
    const movedSeq = moved[0]!.seq;
    // Its child left tcp before the move answered: what it receives from here on came over ipc.
    await until((all) => receivedBy(all, 'w1').filter((e) => e.seq > movedSeq).length >= 10, 'w1 over ipc');
    const summary = await ended();
    checkBooks(summary);
    // The same child all along (the move did not restart it), and no error from it.
    expect(of(events, 'node:process').filter((e) => e.node === 'w1')).toMatchObject([{ action: 'started', pid }]);
    expect(of(events, 'node:error')).toEqual([]);
    // Every task is in one place: delivered, dropped (only with the old connection), or still on the way.
    expect(summary.sent).toBe(300);
    expect(summary.delivered + summary.dropped + summary.inFlight).toBe(300);
    expect(summary.inFlight).toBe(0);
    expect(summary.unattributed).toBe(0);
    expect(of(events, 'message:dropped').every((e) => e.reason === 'moved')).toBe(true);
    const receipts = [...receivedBy(events, 'w1'), ...receivedBy(events, 'w2')];
    expect(receipts.length).toBe(summary.delivered);
    expect(receipts.every((e) => e.message !== undefined && e.message !== null)).toBe(true);
  });

  it('a process REP moved to ipc and back to tcp mid-run: its moves wait for the round trip, its child binds and unbinds, no request is lost', async () => {
    const graph: GraphSpec = {
      title: 'REQ to a process REP',
      drainMs: 400,
      nodes: [
        {
          id: 'client',
          socket: 'REQ',
          role: { kind: 'request', messages: { kind: 'template', template: '{n}:1', count: 40 }, intervalMs: 5 },
        },
        { id: 'server', socket: 'REP', process: true, role: { kind: 'reply', transform: 'sum', workMs: 20 } },
      ],
      links: [{ from: 'server', to: 'client', bind: 'from', transport: 'tcp' }],
    };
    const { run, events, until, ended } = await start(graph);
    await until((all) => receivedBy(all, 'client').length >= 5, 'five replies over tcp');
    await run.moveNode('server', 'ipc');
    await until((all) => of(all, 'link:moved').length === 1, 'the server moved to ipc');
    const firstMove = of(events, 'link:moved')[0]!.seq;
    await until(
      (all) => receivedBy(all, 'client').filter((e) => e.seq > firstMove).length >= 5,
      'five replies over ipc',
    );
    await run.moveNode('server', 'tcp');
    await until((all) => of(all, 'link:moved').length === 2, 'the server moved back to tcp');
    const summary = await ended();
    checkBooks(summary);
    expect(summary.delivered).toBe(80);
    expect(summary.dropped).toBe(0);
    expect(of(events, 'link:moved')).toMatchObject([
      { node: 'server', transport: 'ipc', previousTransport: 'tcp', lost: 0 },
      { node: 'server', transport: 'tcp', previousTransport: 'ipc', lost: 0 },
    ]);
    // The child bound each endpoint it was asked to (its tcp one anew: the first was unbound when it left it).
    expect(
      of(events, 'node:bound')
        .filter((e) => e.node === 'server')
        .map((e) => e.transport),
    ).toEqual(['tcp', 'ipc', 'tcp']);
    expect(of(events, 'node:error')).toEqual([]);
  });

  for (const inChild of ['worker', 'sink'] as const) {
    it(`a PUSH worker dialling a PULL sink, the ${inChild} a process, moved tcp -> ipc -> tcp -> ipc: the results go on after each move, the books add up`, async () => {
      const asProcess = (id: string) => (id === inChild ? { process: true } : {});
      const graph: GraphSpec = {
        title: 'a worker and its sink',
        drainMs: 400,
        nodes: [
          {
            id: 'worker',
            socket: 'PUSH',
            ...asProcess('worker'),
            role: {
              kind: 'send',
              messages: { kind: 'template', template: 'r{i}', count: 400 },
              intervalMs: 2,
              waitForPeers: 1,
            },
          },
          { id: 'sink', socket: 'PULL', ...asProcess('sink'), role: { kind: 'receive' } },
        ],
        links: [{ from: 'sink', to: 'worker', bind: 'from', transport: 'tcp' }],
      };
      const { run, events, until, ended } = await start(graph);
      for (const transport of ['ipc', 'tcp', 'ipc'] as const) {
        const before = receivedBy(events, 'sink').length;
        await until(
          (all) => receivedBy(all, 'sink').length >= before + 20,
          `20 results before the move to ${transport}`,
        );
        await run.moveNode('worker', transport);
      }
      const lastMove = of(events, 'link:moved').at(-1)!.seq;
      await until((all) => receivedBy(all, 'sink').some((e) => e.seq > lastMove), 'a result after the last move');
      const summary = await ended();
      checkBooks(summary);
      expect(summary.sent).toBe(400);
      expect(summary.inFlight).toBe(0);
      expect(of(events, 'link:moved').map((e) => `${e.previousTransport}->${e.transport}`)).toEqual([
        'tcp->ipc',
        'ipc->tcp',
        'tcp->ipc',
      ]);
      // The sink bound each new endpoint (its own socket, in its child or not) and unbound each old one.
      expect(of(events, 'node:bound').map((e) => `${e.node} ${e.transport}`)).toEqual([
        'sink tcp',
        'sink ipc',
        'sink tcp',
        'sink ipc',
      ]);
      expect(of(events, 'node:error')).toEqual([]);
    });
  }

  it('refuses inproc across a process, and a hung process node (or its peer) at once; resumed, it moves', async () => {
    const { run, events, until, ended } = await start(ventilator(100_000));
    await until((all) => receivedBy(all, 'w1').length >= 3, 'w1 working');
    await expect(run.moveNode('w1', 'inproc')).rejects.toMatchObject({
      code: 'PG_ERR_VALIDATION',
      text: { key: 'graph.moveInprocProcess', params: { node: 'w1' } },
    });
    await expect(run.moveNode('vent', 'inproc', 'w1')).rejects.toMatchObject({
      text: { key: 'graph.moveInprocProcess', params: { node: 'w1' } },
    });
    // Its in-process peer's other link may go over inproc: both ends are in the server.
    await run.moveNode('vent', 'inproc', 'w2');
    run.signalNode('w1', 'hang');
    const refusedAt = performance.now();
    await expect(run.moveNode('w1', 'ipc')).rejects.toMatchObject({ text: { key: 'graph.moveHung' } });
    await expect(run.moveNode('vent', 'ipc', 'w1')).rejects.toMatchObject({ text: { key: 'graph.moveHung' } });
    // Refused at once, without asking the stopped child anything.
    expect(performance.now() - refusedAt).toBeLessThan(MOVE_ANSWER_MS);
    run.signalNode('w1', 'resume');
    await run.moveNode('w1', 'ipc');
    const movedSeq = of(events, 'link:moved').at(-1)!.seq;
    await until((all) => receivedBy(all, 'w1').filter((e) => e.seq > movedSeq).length >= 3, 'w1 over ipc');
    checkBooks(await run.stop());
    void ended;
  });

  it('a process node stopped from outside the playground: the move fails with a clear error within its bound, the run goes on, and once it runs again it moves', async () => {
    const { run, events, until, pidOf } = await start(ventilator(100_000));
    const pid = pidOf('w1')!;
    await until((all) => receivedBy(all, 'w1').length >= 3, 'w1 working');
    // SIGSTOP from outside: the playground does not know (no visitor's hang), only that its child does not answer.
    process.kill(pid, 'SIGSTOP');
    try {
      const asked = performance.now();
      await expect(run.moveNode('w1', 'ipc')).rejects.toMatchObject({
        code: 'PG_ERR_VALIDATION',
        text: { key: 'graph.moveNoAnswer', params: { node: 'w1', ms: MOVE_ANSWER_MS } },
      });
      // Bounded by the move's own timer (MOVE_ANSWER_MS), not by the machine: a generous ceiling.
      expect(performance.now() - asked).toBeLessThan(MOVE_ANSWER_MS + 10_000);
      // Nothing moved: the link is where it was, and the in-process worker went on meanwhile.
      expect(of(events, 'link:moved')).toEqual([]);
      const before = receivedBy(events, 'w2').length;
      await until((all) => receivedBy(all, 'w2').length >= before + 3, 'w2 still working');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await run.moveNode('w1', 'ipc');
    const movedSeq = of(events, 'link:moved')[0]!.seq;
    await until((all) => receivedBy(all, 'w1').filter((e) => e.seq > movedSeq).length >= 3, 'w1 over ipc');
    checkBooks(await run.stop());
    // Its ping's late answer changed nothing: one bind of ipc, one move.
    expect(of(events, 'node:bound').map((e) => `${e.node} ${e.transport}`)).toEqual(['vent tcp', 'vent ipc']);
    expect(of(events, 'link:moved')).toHaveLength(1);
  });
});
