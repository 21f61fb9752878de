/**
 * How a finished batch's books read on the page: "exactly once" only when every task ended where it should, the
 * results lost on the way said with whose they were, and the identity spelled out (issues 10.2 and 9.11).
 */
import { describe, expect, it } from 'vitest';
import type { RunAccounting, RunSummary } from '../../shared/protocol/index.ts';
import { identityText, summarySentence } from './run-model.ts';
import { translatorFor } from './i18n/translate.ts';

const en = translatorFor('en');
const es = translatorFor('es');
const base = {
  reason: 'completed' as const,
  workers: ['worker-1', 'worker-2'],
  builtInWorkers: true,
  unit: 'task' as const,
};
const NO_BOOKS: RunAccounting = {
  collected: 0,
  processed: 0,
  resultsLost: 0,
  resultsLostBy: {},
  lost: 0,
  external: 0,
  inFlight: 0,
};

function batch(sent: number, collected: number, accounting?: Partial<RunAccounting>): RunSummary {
  const half = sent / 2;
  return {
    sent,
    received: { 'worker-1': half, 'worker-2': half },
    done: { 'worker-1': half, 'worker-2': half },
    collected,
    unattributed: 0,
    lost: 0,
    lostBy: {},
    externalPeersMax: 0,
    durationMs: 100,
    ...(accounting ? { accounting: { ...NO_BOOKS, ...accounting } } : {}),
  };
}

describe('a batch with a sink', () => {
  it('says exactly once only when every result was collected', () => {
    expect(summarySentence({ ...base, summary: batch(10, 10, { collected: 10 }) }, en)).toContain('exactly once');
    const missing = batch(10_000, 9_030, { collected: 9_030, resultsLost: 970, resultsLostBy: { 'worker-2': 970 } });
    const text = summarySentence({ ...base, summary: missing }, en);
    expect(text).not.toContain('exactly once');
    expect(text).toContain('970 tasks were done but their results never reached the sink (worker-2: 970)');
  });

  it('does not claim exactly once for a recorded run without books whose results are missing', () => {
    expect(summarySentence({ ...base, summary: batch(10_000, 8_883) }, en)).not.toContain('exactly once');
    expect(summarySentence({ ...base, summary: batch(10, 0) }, en)).toContain('exactly once');
  });

  it('says what was still on its way when the run was stopped', () => {
    const stopped = batch(10, 6, { collected: 6, inFlight: 4 });
    expect(summarySentence({ ...base, reason: 'stopped', summary: stopped }, en)).toContain(
      '4 tasks were still on their way',
    );
  });
});

describe('identityText', () => {
  it('spells out the places that hold tasks, adding up to what was sent, in both languages', () => {
    const summary = batch(200, 180, { collected: 180, resultsLost: 12, lost: 8 });
    expect(identityText(summary, en)).toBe(
      'sent 200 = collected 180 + results lost on the way 12 + lost with a worker 8',
    );
    expect(identityText(summary, es)).toBe(
      'enviadas 200 = recogidas 180 + resultados perdidos por el camino 12 + perdidas con un worker 8',
    );
  });

  it('is absent for runs recorded before the books', () => {
    expect(identityText(batch(10, 10), en)).toBeNull();
  });
});
