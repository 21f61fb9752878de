import { describe, expect, it } from 'vitest';
import type { RunParams, RunSummary } from '../protocol/index.ts';
import { LESSONS_BY_ID, type RunRecord } from './index.ts';

const params: RunParams = {
  intervalMs: 0,
  builtInWorkers: true,
  tasks: 1,
  payloadBytes: 0,
  drainMs: 500,
  syncStart: true,
} as RunParams;

function record(summary: Partial<RunSummary>): RunRecord {
  return {
    params,
    events: [],
    summary: {
      sent: 1,
      received: {},
      done: {},
      collected: 0,
      unattributed: 0,
      lost: 0,
      lostBy: {},
      externalPeersMax: 0,
      durationMs: 1,
      ...summary,
    },
  };
}

describe('lesson goal details', () => {
  it('count in the singular when there is one (issue 10.10: "1 tasks lost")', () => {
    const workerDies = LESSONS_BY_ID.get('worker-dies')!;
    const one = workerDies.check(record({ lost: 1 }));
    expect(one.detail.en).toContain('1 task lost,');
    expect(one.detail.es).toContain('1 tarea perdida,');
    const two = workerDies.check(record({ sent: 2, lost: 2 }));
    expect(two.detail.en).toContain('2 tasks lost,');
    expect(two.detail.es).toContain('2 tareas perdidas,');

    const divide = LESSONS_BY_ID.get('divide-and-conquer')!;
    const oneWorker = divide.check(record({ received: { 'worker-1': 1 }, done: { 'worker-1': 1 } }));
    expect(oneWorker.detail.en).toContain('; 1 worker;');
    expect(oneWorker.detail.es).toContain('; 1 worker;');
  });
});
