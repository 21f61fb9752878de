/**
 * The end of a run waits for what our own live workers still hold. A worker slower than the scenario's drainMs
 * is not a loss: ZeroMQ delivers what a live peer holds, so its tasks and results must be counted as what they
 * become, not as lost because the run stopped listening (on a loaded machine a quiet spell longer than drainMs
 * once ended a run of process workers with part of the results missing).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SCENARIOS } from '../../shared/scenarios/index.ts';
import { Playground } from './playground.ts';
import { runEnded, testPolicy } from '../../test/helpers.ts';

let policy: ReturnType<typeof testPolicy>;
let playground: Playground | null = null;

beforeEach(() => {
  policy = testPolicy();
});
afterEach(async () => {
  await playground?.close();
  policy.cleanup();
});

it.each([
  ['without a sink', false],
  ['with a sink', true],
])(
  'a worker that works longer than drainMs keeps its tasks, %s',
  async (_name, sink) => {
    const scenario = { ...SCENARIOS.get('pipeline')!, workers: [] };
    // drainMs 300: each task takes longer than the run's patience for silence from peers we cannot see.
    playground = new Playground({
      scenario,
      params: { tasks: 3, intervalMs: 0, drainMs: 300, syncStart: true },
      policy,
    });
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
