/**
 * In-process workers run in a thread of their own (server/workers/worker-thread-host.ts) and report in batches. What
 * a learner sees must not change: every task's events in their order (received, done, then collected, although the
 * sink on the main thread gets a result before the batch telling of its task arrives), inproc endpoints reachable
 * from the thread, and a worker removed mid-run that loses exactly what it held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { inProcessWorkers } from './worker-handle.ts';
import { workerThreadHost } from '../workers/worker-thread-host.ts';
import { collect, ofType, runEnded, waitForEvent } from '../../test/helpers.ts';
import { playgroundHarness } from '../../test/playground-harness.ts';

const pipelines = playgroundHarness();

afterEach(() => pipelines.cleanup());

const sandbox = pipelines.sandbox;

/** Where each task's events of each type stand in the log. */
function positions(events: PlaygroundEvent[], type: 'task:received' | 'task:done' | 'task:collected') {
  const at = new Map<number, number>();
  events.forEach((event, index) => {
    if (event.type === type) at.set(event.task, index);
  });
  return at;
}

describe('in-process workers in their thread', () => {
  it('keep every task in order (received, done, collected) over inproc and tcp, with an inproc sink', async () => {
    expect(inProcessWorkers.inThread).toBe(true);
    const tasks = 3000;
    const playground = sandbox({ tasks, syncStart: true, drainMs: 3000 });
    playground.updateSink({ enabled: true, transport: 'inproc' });
    const a = playground.addWorker({ transport: 'inproc' });
    const b = playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id, 30_000);
    expect(workerThreadHost.started).toBe(true);
    expect(ended.summary.collected).toBe(tasks);
    expect(ended.summary.lost).toBe(0);
    const received = positions(events, 'task:received');
    const done = positions(events, 'task:done');
    const collected = positions(events, 'task:collected');
    const outOfOrder: number[] = [];
    for (let task = 0; task < tasks; task++) {
      const [r, d, c] = [received.get(task), done.get(task), collected.get(task)];
      if (r === undefined || d === undefined || c === undefined || !(r < d && d < c)) outOfOrder.push(task);
    }
    expect(outOfOrder.slice(0, 10), `${outOfOrder.length} tasks out of order`).toEqual([]);
    // Attribution: each result is credited to the worker that received the task.
    const workerOf = new Map(ofType(events, 'task:received').map((e) => [e.task, e.worker]));
    expect(ofType(events, 'task:collected').filter((e) => workerOf.get(e.task) !== e.worker)).toEqual([]);
    expect(new Set(workerOf.values())).toEqual(new Set([a.id, b.id]));
  });

  it('removes one mid-run: what it held is lost with it, named; the other goes on; the books add up', async () => {
    const playground = sandbox({ tasks: 120, intervalMs: 5, syncStart: true, drainMs: 1500 });
    playground.updateSink({ enabled: true, transport: 'tcp' });
    const a = playground.addWorker({ transport: 'inproc', workMs: { min: 20, max: 20 } });
    const b = playground.addWorker({ transport: 'tcp' });
    const events = collect(playground);
    const run = playground.startRun();
    await waitForEvent(playground, (e) => e.type === 'task:received' && e.worker === a.id && e.task >= 20);
    await playground.removeWorker(a.id);
    const removedAt = events.findIndex((e) => e.type === 'worker:removed' && e.worker === a.id);
    const ended = await runEnded(playground, run.id, 30_000);
    const summary = ended.summary;
    expect(summary.collected + summary.lost).toBe(summary.sent);
    expect(events.slice(removedAt).some((e) => e.type === 'task:received' && e.worker === b.id)).toBe(true);
    expect(events.slice(removedAt).some((e) => e.type === 'task:received' && e.worker === a.id)).toBe(false);
    // Every task it received and never finished is lost with it, named.
    const doneByA = new Set(
      ofType(events, 'task:done')
        .filter((e) => e.worker === a.id)
        .map((e) => e.task),
    );
    const heldByA = ofType(events, 'task:received').filter((e) => e.worker === a.id && !doneByA.has(e.task));
    const lostWithA = new Set(
      ofType(events, 'task:lost')
        .filter((e) => e.worker === a.id)
        .map((e) => e.task),
    );
    for (const { task } of heldByA) expect(lostWithA.has(task)).toBe(true);
  });
});
