/**
 * The end of a run waits for what our own live workers still hold. A worker slower than the scenario's drainMs
 * is not a loss: ZeroMQ delivers what a live peer holds, so its tasks and results must be counted as what they
 * become, not as lost because the run stopped listening (on a loaded machine a quiet spell longer than drainMs
 * once ended a run of process workers with part of the results missing).
 */
import { afterEach, expect, it } from 'vitest';
import { runEnded } from '../../test/helpers.ts';
import { playgroundHarness } from '../../test/playground-harness.ts';

const pipelines = playgroundHarness();

afterEach(() => pipelines.cleanup());

it.each([
  ['without a sink', false],
  ['with a sink', true],
])(
  'a worker that works longer than drainMs keeps its tasks, %s',
  async (_name, sink) => {
    // drainMs 300: each task takes longer than the run's patience for silence from peers we cannot see.
    const playground = pipelines.sandbox({ tasks: 3, intervalMs: 0, drainMs: 300, syncStart: true });
    if (sink) playground.updateSink({ enabled: true, transport: 'inproc' });
    playground.addWorker({ transport: 'inproc', workMs: { min: 800, max: 800 } });
    const run = playground.startRun();
    const ended = await runEnded(playground, run.id, 30_000);
    expect(ended.reason).toBe('completed');
    expect(ended.summary.done).toEqual({ 'worker-1': 3 });
    expect(ended.summary.lost).toBe(0);
    expect(ended.summary.accounting).toMatchObject({ lost: 0, resultsLost: 0, inFlight: 0 });
    expect(sink ? ended.summary.accounting!.collected : ended.summary.accounting!.processed).toBe(3);
  },
  40_000,
);
