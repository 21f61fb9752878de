/**
 * Graph nodes as real OS processes (issue 11; graph-process.ts, SPEC [G6]) and messages lost with a killed node
 * that had received them but not handled them. Real sockets in real child processes: kill is SIGKILL, hang
 * SIGSTOP, resume SIGCONT, checked on the process itself (/proc) as well as from the run's events. Every wait is
 * for an event of the run, bounded; nothing depends on the machine's speed.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { processProblems, processPrograms } from './graph-process.ts';
import type { GraphNode, GraphSpec } from '../../shared/protocol/index.ts';
import { part3 } from '../../shared/scenarios/series.ts';
import { KILL_TASKS, killPipeline } from '../../shared/scenarios/zguide.ts';
import { checkBooks, graphRunHarness, of, receivedBy } from '../../test/graph-run-harness.ts';

const runs = graphRunHarness({ ownerPrefix: 'gp', untilTimeoutMs: 30_000, endTimeoutMs: 30_000 });

afterEach(() => runs.cleanup());

/** The state letter of a live process (R, S, T for stopped...), or null when there is no such process (or a zombie). */
function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
    return state === 'Z' || state === 'X' ? null : state;
  } catch {
    return null;
  }
}

/** Resolves once the process's state meets `wanted` (a signal is delivered by the kernel soon after kill()); bounded. */
async function processStateBecomes(pid: number, wanted: (state: string | null) => boolean): Promise<string | null> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const state = processState(pid);
    if (wanted(state) || Date.now() > deadline) return state;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A run of the shared harness, plus `pidOf(node)`: the pid its node:process 'started' event gave, if any yet. */
async function start(graph: GraphSpec) {
  const started = await runs.start(graph);
  const pidOf = (node: string) =>
    of(started.events, 'node:process').find((e) => e.node === node && e.action === 'started')?.pid;
  return { ...started, pidOf };
}

// Children start in about half a second each from the sources (tsx compiles in each): the runs with a long wait
// while a node is hung get a minute, as a busy 2-core machine may need.
const asProcess = (graph: GraphSpec, ...ids: string[]): GraphSpec => ({
  ...graph,
  nodes: graph.nodes.map((node) => (ids.includes(node.id) ? { ...node, process: true } : node)),
});

/** A PUSH that sends five tasks to one worker that works a minute on each: it holds the first, the rest wait. */
function slowWorker(process: boolean): GraphSpec {
  const worker: GraphNode = { id: 'worker', socket: 'PULL', role: { kind: 'receive', workMs: 60_000 } };
  return {
    title: 'a slow worker',
    drainMs: 300,
    nodes: [
      {
        id: 'tasks',
        socket: 'PUSH',
        role: { kind: 'send', messages: { kind: 'template', template: 'task {i}', count: 5 }, waitForPeers: 1 },
      },
      process ? { ...worker, process: true } : worker,
    ],
    links: [{ from: 'tasks', to: 'worker', bind: 'from', transport: 'tcp' }],
  };
}

describe('which nodes run as processes', () => {
  it("a program is one process: the zguide's worker brings its two other sockets along", () => {
    expect(processPrograms(asProcess(killPipeline.graph, 'worker-2')).map((p) => [...p].sort())).toEqual([
      ['worker-2', 'worker-2-control', 'worker-2-out'],
    ]);
    expect(processPrograms(part3.graph)).toEqual([]);
  });

  it('inproc cannot cross a process: a link over inproc to a process node is a problem, tcp and ipc are not', () => {
    const graph: GraphSpec = {
      title: 'inproc',
      nodes: [
        { id: 'a', socket: 'PUSH', role: { kind: 'send', messages: { kind: 'list', items: ['x'] } } },
        { id: 'b', socket: 'PULL', process: true, role: { kind: 'receive' } },
      ],
      links: [{ from: 'a', to: 'b', bind: 'from', transport: 'inproc' }],
    };
    expect(processProblems(graph)).toEqual([
      { where: 'link a -> b', problem: expect.stringContaining('inproc cannot cross a process') },
    ]);
    expect(processProblems({ ...graph, links: [{ ...graph.links[0]!, transport: 'ipc' }] })).toEqual([]);
  });
});

describe('[G6] process nodes: SIGKILL, SIGSTOP, SIGCONT on a real child', () => {
  it("the series' part 3 with a process REP killed (SIGKILL) mid-run: the request it held is lost with it, the other REPs answered what reached them", async () => {
    const { run, events, until, ended, pidOf } = await start({
      ...asProcess(part3.graph, 'server-6000'),
      drainMs: 400,
    });
    const pid = pidOf('server-6000');
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(processState(pid!)).not.toBeNull();
    await until(
      (all) => receivedBy(all, 'client').filter((e) => e.from === 'server-6000').length >= 2,
      'two replies from the process server',
    );
    run.signalNode('server-6000', 'kill');
    const summary = await ended();
    checkBooks(summary);
    // The child is gone for real: the kernel reaped it.
    expect(processState(pid!)).toBeNull();
    expect(of(events, 'node:process').map((e) => `${e.node} ${e.action} ${e.pid}`)).toEqual([
      `server-6000 started ${pid}`,
      `server-6000 killed ${pid}`,
    ]);
    expect(of(events, 'node:stopped').find((e) => e.node === 'server-6000')?.reason).toBe('killed');
    // The REQ's last request went to the dead server, and the REQ never got its reply: either the request was lost
    // with it (in its process's queue, or read and not answered: `unhandled`), or its reply was (queued in the dead
    // process and never written out). A strict REQ cannot send again, so that is the run's only loss.
    const requests = of(events, 'message:sent').filter((e) => e.node === 'client');
    const last = requests.at(-1)!.message;
    const replyToLast = of(events, 'message:sent').find((e) => e.node === 'server-6000' && e.cause === last);
    const drops = of(events, 'message:dropped');
    expect(drops).toEqual([expect.objectContaining({ node: 'server-6000' })]);
    expect(['killed', 'unhandled']).toContain(drops[0]!.reason);
    expect(drops[0]!.message).toBe(replyToLast ? replyToLast.message : last);
    expect(summary.dropped).toBe(1);
    expect(receivedBy(events, 'client').length).toBe(requests.length - 1);
    // Every request that reached the two other servers was answered: they kept serving until the REQ got stuck.
    for (const server of ['server-5000', 'server-7000']) {
      const taken = receivedBy(events, server).map((e) => e.message);
      const answered = of(events, 'message:sent')
        .filter((e) => e.node === server)
        .map((e) => e.cause);
      expect(answered).toEqual(taken);
      expect(taken.length).toBeGreaterThanOrEqual(2);
    }
    expect(of(events, 'node:error')).toEqual([]);
  }, 60_000);

  it("the series' part 3 with a slow process REP killed (SIGKILL) while it works on a request: that request is lost as unhandled, never answered", async () => {
    const graph = asProcess(part3.graph, 'server-6000');
    const { run, events, until, ended } = await start({
      ...graph,
      drainMs: 400,
      nodes: graph.nodes.map((node) =>
        node.id === 'server-6000' ? { ...node, role: { kind: 'reply', transform: 'echo', workMs: 60_000 } } : node,
      ),
    });
    // Its first request is in its hands (received, a minute of work ahead): the REQ waits for the reply.
    await until((all) => receivedBy(all, 'server-6000').length >= 1, 'a request on the slow process server');
    const [held] = receivedBy(events, 'server-6000');
    run.signalNode('server-6000', 'kill');
    const summary = await ended();
    checkBooks(summary);
    expect(of(events, 'message:dropped')).toEqual([
      expect.objectContaining({
        message: held!.message,
        node: 'server-6000',
        peer: 'server-6000',
        reason: 'unhandled',
      }),
    ]);
    expect(summary.droppedBy).toEqual({ unhandled: 1 });
    // Received (its receipt stays in the log) but counted lost, not delivered: every other copy was delivered.
    expect(summary.delivered).toBe(summary.copies - 1);
    expect(of(events, 'message:sent').some((e) => e.cause === held!.message)).toBe(false);
    // The REQ is stuck on it; the two other servers answered what reached them.
    for (const server of ['server-5000', 'server-7000']) {
      expect(
        of(events, 'message:sent')
          .filter((e) => e.node === server)
          .map((e) => e.cause),
      ).toEqual(receivedBy(events, server).map((e) => e.message));
    }
    expect(of(events, 'node:error')).toEqual([]);
  }, 60_000);

  it('a process subscriber hung (SIGSTOP): its process is stopped, the PUB drops for it at the HWM; resumed (SIGCONT), it receives again', async () => {
    const padding = 'x'.repeat(240);
    const { run, events, until, pidOf } = await start({
      title: 'a hung process subscriber',
      nodes: [
        {
          id: 'news',
          socket: 'PUB',
          sendHighWaterMark: 5,
          role: {
            kind: 'send',
            messages: { kind: 'template', template: `n{i} ${padding}`, count: 20_000 },
            intervalMs: 1,
            waitForPeers: 2,
          },
        },
        {
          id: 'slow',
          socket: 'SUB',
          subscribe: [''],
          receiveHighWaterMark: 5,
          process: true,
          role: { kind: 'receive' },
        },
        { id: 'fast', socket: 'SUB', subscribe: [''], role: { kind: 'receive' } },
      ],
      links: [
        { from: 'news', to: 'slow', bind: 'from', transport: 'ipc' },
        // In the server with the PUB: inproc, whose pipe holds both HWMs (5 + 1000), so a busy machine's late
        // reads never make the PUB drop for it (over tcp its I/O thread's lag alone could, at a HWM of 5).
        { from: 'news', to: 'fast', bind: 'from', transport: 'inproc' },
      ],
    });
    const pid = pidOf('slow')!;
    await until((all) => receivedBy(all, 'slow').length >= 5, 'five receipts on the process subscriber');
    run.signalNode('slow', 'hang');
    // SIGSTOP is the kernel's: the process is in state T (stopped).
    expect(await processStateBecomes(pid, (state) => state === 'T')).toBe('T');
    const hungAt = receivedBy(events, 'slow').length;
    const sentBefore = of(events, 'message:sent').length;
    await until((all) => of(all, 'message:sent').length >= sentBefore + 3000, '3000 more publications');
    // Stopped: at most the receipt already on its way over the channel came in.
    expect(receivedBy(events, 'slow').length).toBeLessThanOrEqual(hungAt + 1);
    run.signalNode('slow', 'resume');
    expect(await processStateBecomes(pid, (state) => state !== 'T')).not.toBe('T');
    const lastSentAtResume = of(events, 'message:sent').at(-1)!.message;
    await until(
      (all) => receivedBy(all, 'slow').some((e) => e.message !== null && e.message > lastSentAtResume),
      'a publication after the resume on the process subscriber',
    );
    const summary = await run.stop();
    checkBooks(summary);
    expect(of(events, 'node:process').map((e) => `${e.node} ${e.action} ${e.pid}`)).toEqual([
      `slow started ${pid}`,
      `slow hung ${pid}`,
      `slow resumed ${pid}`,
    ]);
    // What its kernel buffers and the two HWMs could not hold while it was stopped, the PUB dropped: found when the
    // first newer message came (one pipe keeps order).
    const hwm = of(events, 'message:dropped').filter((e) => e.reason === 'hwm');
    expect(hwm.length).toBeGreaterThan(0);
    expect(hwm.every((e) => e.peer === 'slow' && e.node === 'news')).toBe(true);
    // The other subscriber lost nothing after its first delivery: a PUB never blocks for the stopped one.
    expect(of(events, 'message:dropped').filter((e) => e.peer === 'fast' && e.reason !== 'not-subscribed')).toEqual([]);
    expect(of(events, 'node:error')).toEqual([]);
    // The run is over: its child with it.
    expect(processState(pid)).toBeNull();
  }, 60_000);
});

describe('a program of three sockets as one process', () => {
  it("the zguide's kill pipeline with worker-2 as a process: its three sockets share one child, SIGKILLed together; its tasks are lost with it, the others keep their share", async () => {
    const { run, events, until, ended, pidOf } = await start({
      ...asProcess(killPipeline.graph, 'worker-2'),
      drainMs: 500,
    });
    const pid = pidOf('worker-2')!;
    expect(pid).toBeGreaterThan(0);
    expect([pidOf('worker-2-out'), pidOf('worker-2-control')]).toEqual([pid, pid]);
    await until((all) => receivedBy(all, 'worker-2').length >= 2, 'two tasks on worker-2');
    expect(run.signalNode('worker-2', 'kill').sort()).toEqual(['worker-2', 'worker-2-control', 'worker-2-out']);
    const summary = await ended();
    checkBooks(summary);
    expect(await processStateBecomes(pid, (state) => state === null)).toBeNull();
    expect(
      of(events, 'node:process')
        .filter((e) => e.action === 'killed')
        .map((e) => `${e.node} ${e.pid}`)
        .sort(),
    ).toEqual([`worker-2 ${pid}`, `worker-2-control ${pid}`, `worker-2-out ${pid}`]);
    const tasks = new Set(
      of(events, 'message:sent')
        .filter((e) => e.node === 'ventilator')
        .map((e) => e.message),
    );
    expect(tasks.size).toBe(KILL_TASKS);
    const taken = (worker: string) =>
      receivedBy(events, worker).filter((e) => e.message !== null && tasks.has(e.message));
    const lost = of(events, 'message:dropped').filter((e) => tasks.has(e.message));
    // Every task ends in one place: a live worker took it, the dead one took it and handled it, or it was lost with
    // the dead one (queued in its process: killed; read and not yet handled: unhandled).
    expect(lost.every((e) => e.node === 'worker-2' && (e.reason === 'killed' || e.reason === 'unhandled'))).toBe(true);
    const unhandled = lost.filter((e) => e.reason === 'unhandled').length;
    expect(
      taken('worker-1').length + taken('worker-2').length + taken('worker-3').length - unhandled + lost.length,
    ).toBe(KILL_TASKS);
    expect(lost.length).toBeGreaterThan(0);
    expect(taken('worker-1').length).toBe(KILL_TASKS / 3);
    expect(taken('worker-3').length).toBe(KILL_TASKS / 3);
    expect(of(events, 'node:error')).toEqual([]);
  }, 60_000);
});

describe('lost with a killed node: received, never handled', () => {
  for (const asChild of [false, true]) {
    it(`a worker killed while working on its task${asChild ? ' (its own process, SIGKILL)' : ''}: that task is lost as unhandled, the ones queued for it as killed, and the books add up`, async () => {
      const { run, events, until, ended } = await start(slowWorker(asChild));
      await until((all) => receivedBy(all, 'worker').length >= 1, 'the first task taken');
      await until((all) => of(all, 'node:stopped').some((e) => e.node === 'tasks'), 'every task sent');
      run.signalNode('worker', 'kill');
      const summary = await ended();
      checkBooks(summary);
      const [taken] = receivedBy(events, 'worker');
      expect(receivedBy(events, 'worker')).toHaveLength(1);
      const drops = of(events, 'message:dropped');
      expect(drops.filter((e) => e.reason === 'unhandled')).toEqual([
        expect.objectContaining({ message: taken!.message, node: 'worker', peer: 'worker' }),
      ]);
      // The four others never left its queue (the dead process's libzmq queue, or the kernel's buffers): killed.
      expect(drops.filter((e) => e.reason === 'killed')).toHaveLength(4);
      expect(summary).toMatchObject({ sent: 5, copies: 5, delivered: 0, dropped: 5, inFlight: 0 });
      expect(summary.droppedBy).toEqual({ unhandled: 1, killed: 4 });
      expect(of(events, 'node:error')).toEqual([]);
    });
  }

  it('a process node that dies without being asked (SIGKILL from outside) is a node:error, and its losses are counted as a kill', async () => {
    const { events, until, ended, pidOf } = await start(slowWorker(true));
    await until((all) => receivedBy(all, 'worker').length >= 1, 'the first task taken');
    await until((all) => of(all, 'node:stopped').some((e) => e.node === 'tasks'), 'every task sent');
    process.kill(pidOf('worker')!, 'SIGKILL');
    const summary = await ended();
    checkBooks(summary);
    expect(of(events, 'node:error')).toEqual([
      expect.objectContaining({ node: 'worker', code: 'PROCESS_EXITED', message: expect.stringContaining('SIGKILL') }),
    ]);
    expect(of(events, 'node:stopped').find((e) => e.node === 'worker')?.reason).toBe('error');
    expect(summary.droppedBy).toEqual({ unhandled: 1, killed: 4 });
  });
});
