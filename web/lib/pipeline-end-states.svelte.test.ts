/**
 * The pipeline page's states at and after a run's end, live and replayed through the same fold (learner report,
 * session 11): a worker that stopped at its "x" is stopped with no queue, a killed process worker is killed from its
 * worker:process event on and stays killed after the run, the ventilator's endpoints are closed once its socket
 * closed, and the replay's timeline marks a kill.
 */
import { describe, expect, it } from 'vitest';
import type { PlaygroundEvent, WorkerInfo } from '../../shared/protocol/index.ts';
import { frameOf, tutorialRun } from '../../test/page-fakes.ts';
import { endpointLine } from './diagram-text.ts';
import { translatorFor } from './i18n/translate.ts';
import { timelineMarks } from './replay.ts';
import { workerCardStatus } from './run-model.ts';
import { RunState } from './run-state.svelte.ts';

const en = translatorFor('en');
const es = translatorFor('es');

type Body = Omit<PlaygroundEvent, 'seq' | 'run'>;

/** The tutorial's events up to its last task (no end), then `more`, numbered after them. */
function runWith(more: Body[], { processIpc = false } = {}): PlaygroundEvent[] {
  const base: PlaygroundEvent[] = tutorialRun('run-1').filter((e) => e.type !== 'run:ended' && e.type !== 'task:lost');
  const started = base[0] as Extract<PlaygroundEvent, { type: 'run:started' }>;
  if (processIpc) started.workers = started.workers.map((w) => (w.id === 'worker-ipc' ? { ...w, mode: 'process' } : w));
  const last = base.at(-1)!.seq;
  return base.concat(
    more.map(
      (event, i) => JSON.parse(JSON.stringify({ ...event, run: 'run-1', seq: last + 1 + i })) as PlaygroundEvent,
    ),
  );
}

const tcpAddress = 'tcp://127.0.0.1:12345';
const ipcAddress = 'ipc:///tmp/zmq-playground-0/pg-1-ipc.ipc';

function ended(received: Record<string, number>, done: Record<string, number>, lostBy: Record<string, number>): Body {
  const lost = Object.values(lostBy).reduce((a, b) => a + b, 0);
  return {
    type: 'run:ended',
    t: 4000,
    reason: 'completed',
    summary: {
      sent: 5,
      received,
      done,
      collected: 0,
      unattributed: 0,
      lost,
      lostBy,
      externalPeersMax: 0,
      durationMs: 4000,
    },
  } as Body;
}

/** Both workers get their "x" (the server counts it received, never done), the ventilator closes, the run ends. */
const stoppedAtX: Body[] = [
  { type: 'task:done', t: 1020, task: 1, worker: 'worker-tcp' },
  { type: 'task:done', t: 2020, task: 2, worker: 'worker-ipc' },
  { type: 'task:sent', t: 2500, task: 3, body: 'x' },
  { type: 'task:received', t: 2501, task: 3, worker: 'worker-tcp', body: 'x' },
  { type: 'worker:stopped', t: 2502, worker: 'worker-tcp', reason: 'end-marker' },
  { type: 'task:sent', t: 2600, task: 4, body: 'x' },
  { type: 'task:received', t: 2601, task: 4, worker: 'worker-ipc', body: 'x' },
  { type: 'worker:stopped', t: 2602, worker: 'worker-ipc', reason: 'end-marker' },
  { type: 'socket:event', t: 3990, node: 'ventilator', kind: 'close', address: tcpAddress },
  { type: 'socket:event', t: 3991, node: 'ventilator', kind: 'close', address: ipcAddress },
  ended({ 'worker-tcp': 3, 'worker-ipc': 2 }, { 'worker-tcp': 2, 'worker-ipc': 1 }, {}),
] as Body[];

const ipcInfo = (state: WorkerInfo['state']): WorkerInfo => ({
  id: 'worker-ipc',
  endpoint: 'ipc',
  transport: 'ipc',
  mode: 'process',
  workMs: { min: 0, max: 0 },
  connections: 1,
  state,
  pid: null,
});

/** worker-ipc is a process worker, killed at 2100 ms; the run ends with it killed and worker-tcp stopped by the end. */
const killed: Body[] = [
  { type: 'worker:process', t: 2100, worker: 'worker-ipc', action: 'killed', pid: 4242 },
  { type: 'worker:updated', t: 2100, worker: ipcInfo('killed'), change: 'killed (SIGKILL)' },
  { type: 'worker:stopped', t: 3980, worker: 'worker-tcp', reason: 'run-ended' },
  { type: 'worker:stopped', t: 3981, worker: 'worker-ipc', reason: 'run-ended' },
  ended({ 'worker-tcp': 2, 'worker-ipc': 1 }, { 'worker-tcp': 1 }, { 'worker-ipc': 1 }),
] as Body[];

/** The page's state after `events`, folded as history (a replay's seek) or as live frames one event at a time. */
function fold(events: readonly PlaygroundEvent[], how: 'replay' | 'live'): RunState {
  const run = new RunState();
  if (how === 'replay') {
    const last = events.at(-1)!.seq;
    run.applyFrame(frameOf(events, { historyUntil: last }), 0);
  } else {
    events.forEach((event, i) => run.applyFrame(frameOf([event], { countedUpTo: events.slice(0, i + 1) }), i * 1000));
    run.landAll();
  }
  return run;
}

describe.each(['replay', 'live'] as const)('the pipeline page after a run (%s)', (how) => {
  it('a worker that got its "x" is stopped, holds nothing, and its Done leaves the "x" out as the server does', () => {
    const run = fold(runWith(stoppedAtX), how);
    expect(run.status).toBe('ended');
    for (const id of ['worker-tcp', 'worker-ipc']) {
      const worker = run.worker(id)!;
      expect({ state: worker.displayState, view: worker.view, queue: worker.queue }, id).toEqual({
        state: 'stopped',
        view: 'stopped',
        queue: 0,
      });
      expect(workerCardStatus(worker), id).toBe('gotX');
      // The server's counters: the "x" is received (the card's and the diagram's count), not done.
      expect(worker.done, id).toBe(worker.count - 1);
    }
    expect(run.accounting.atWorkers).toBe(0);
  });

  it('a stopped worker is not connected as soon as its worker:stopped came, before the run ends', () => {
    const events = runWith(stoppedAtX);
    const upToStop = events.filter((e) => e.t <= 2502);
    const worker = fold(upToStop, how).worker('worker-tcp')!;
    expect([worker.displayState, worker.queue, workerCardStatus(worker)]).toEqual(['stopped', 0, 'gotX']);
  });

  it('the ventilator endpoints are closed once its socket closed, in the diagram and in its text twin', () => {
    const events = runWith(stoppedAtX);
    const beforeClose = fold(
      events.filter((e) => e.t < 3990),
      how,
    );
    expect(beforeClose.endpoints.map((e) => [e.name, e.isBound, e.isClosed])).toEqual([
      ['tcp', true, false],
      ['ipc', true, false],
    ]);
    const run = fold(events, how);
    expect(run.endpoints.map((e) => [e.name, e.isClosed])).toEqual([
      ['tcp', true],
      ['ipc', true],
    ]);
    const tcp = run.endpoints.find((e) => e.name === 'tcp')!;
    expect(endpointLine(tcp, en)).toBe(`tcp ${tcpAddress}: closed · the run ended`);
    expect(endpointLine(tcp, es)).toBe(`tcp ${tcpAddress}: cerrado · terminó la ejecución`);
  });

  it('an inproc endpoint (no monitor events) is closed when the run ends', () => {
    const events = runWith(stoppedAtX).filter((e) => !(e.type === 'socket:event' && e.node === 'ventilator'));
    const run = fold(events, how);
    expect(run.endpoints.every((e) => e.isClosed)).toBe(true);
  });

  it('a killed process worker is killed from its worker:process event on, and stays killed after the run', () => {
    const events = runWith(killed, { processIpc: true });
    // The kill's own event, before anything repeats it.
    const atKill = fold(
      events.filter((e) => e.t < 2100 || e.type === 'worker:process'),
      how,
    ).worker('worker-ipc')!;
    expect([atKill.displayState, atKill.view, workerCardStatus(atKill), atKill.queue]).toEqual([
      'killed',
      'killed',
      'killed',
      0,
    ]);
    const run = fold(events, how);
    const worker = run.worker('worker-ipc')!;
    expect([worker.displayState, worker.view, workerCardStatus(worker)]).toEqual(['killed', 'killed', 'killed']);
    expect(workerCardStatus(run.worker('worker-tcp')!)).toBe('runEnded');
    expect(run.worker('worker-tcp')!.displayState).toBe('stopped');
  });
});

describe('the replay timeline', () => {
  it('marks a kill apart from a process worker’s other news', () => {
    const marks = timelineMarks(runWith(killed, { processIpc: true }));
    expect(marks.filter((m) => m.type === 'worker:killed')).toEqual([{ t: 2100, type: 'worker:killed' }]);
    expect(marks.some((m) => m.type.startsWith('task:'))).toBe(false);
  });
});
