import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../shared/protocol/index.ts';
import {
  describeChange,
  accounting,
  externalSource,
  externalTaken,
  formatMs,
  formatWorkMs,
  linkView,
  lostByText,
  nextLinkState,
  parseWhole,
  parseWorkMs,
  summarySentence,
  workerQueue,
} from './run-model.ts';
import { translatorFor } from './i18n/translate.ts';

const en = translatorFor('en');
const es = translatorFor('es');

const EMPTY: RunSummary = {
  sent: 0,
  received: {},
  done: {},
  collected: 0,
  unattributed: 0,
  lost: 0,
  lostBy: {},
  externalPeersMax: 0,
  durationMs: 0,
};

describe('nextLinkState', () => {
  it('follows a worker from connecting to connected at the handshake, not at connect', () => {
    let state = nextLinkState('idle', 'connect');
    expect(state).toBe('connecting');
    state = nextLinkState(state, 'handshake');
    expect(state).toBe('connected');
  });

  it('retries while the ipc endpoint is not bound yet, then connects', () => {
    let state = nextLinkState('connecting', 'connect:retry');
    expect(state).toBe('retrying');
    state = nextLinkState(state, 'connect');
    expect(state).toBe('connecting');
    expect(nextLinkState(state, 'handshake')).toBe('connected');
  });

  it('treats a closed descriptor as a failed attempt, not a stopped worker (ipc before the bind)', () => {
    // Seen from libzmq 4.3.5: connect(ipc) -> close -> connect:retry -> ... -> connect -> handshake
    let state = nextLinkState('connecting', 'close');
    expect(state).toBe('retrying');
    state = nextLinkState(state, 'connect:retry');
    expect(state).toBe('retrying');
    expect(nextLinkState(nextLinkState(state, 'connect'), 'handshake')).toBe('connected');
  });

  it('greys out on disconnect; stopped is final', () => {
    expect(nextLinkState('connected', 'disconnect')).toBe('disconnected');
    expect(nextLinkState('connected', 'close')).toBe('disconnected');
    expect(nextLinkState('stopped', 'handshake')).toBe('stopped');
    expect(nextLinkState('stopped', 'connect')).toBe('stopped');
  });
});

describe('externalTaken', () => {
  it('is what was sent minus what built-in workers received, never negative', () => {
    expect(externalTaken(12, { 'worker-tcp': 7, 'worker-ipc': 5 })).toBe(0);
    expect(externalTaken(12, {})).toBe(12);
    expect(externalTaken(3, { a: 4 })).toBe(0);
  });
});

describe('externalSource', () => {
  const endpoints = [
    { name: 'tcp', isBound: true, external: 1 },
    { name: 'ipc', isBound: true, external: 1 },
  ];
  it('rotates among endpoints with external peers', () => {
    expect(externalSource(endpoints, 1)).toBe('ipc');
    expect(externalSource(endpoints, 2)).toBe('tcp');
  });
  it('falls back to bound endpoints, then to the first', () => {
    expect(
      externalSource(
        [
          { name: 'tcp', isBound: true, external: 0 },
          { name: 'ipc', isBound: false, external: 0 },
        ],
        1,
      ),
    ).toBe('tcp');
    expect(externalSource([{ name: 'ipc', isBound: false, external: 0 }], 1)).toBe('ipc');
    expect(externalSource([], 1)).toBeNull();
  });
});

describe('summarySentence', () => {
  const summary = { ...EMPTY, sent: 12, received: { 'worker-tcp': 7, 'worker-ipc': 5 }, durationMs: 12000 };
  it('explains round-robin between built-in workers', () => {
    const text = summarySentence(
      { reason: 'completed', summary, workers: ['worker-tcp', 'worker-ipc'], builtInWorkers: true },
      en,
    );
    expect(text).toContain('round-robined the 12 messages');
    expect(text).toContain('worker-tcp got 7, worker-ipc got 5');
    expect(text).toContain('exactly one worker');
  });
  it('credits external peers when built-in workers are off', () => {
    const text = summarySentence(
      {
        reason: 'completed',
        summary: { ...summary, received: {}, unattributed: 12, externalPeersMax: 2 },
        workers: [],
        builtInWorkers: false,
      },
      en,
    );
    expect(text).toContain('12 messages went to peers we do not control (up to 2 connected at once)');
  });
  it('explains a blocked ventilator that sent nothing', () => {
    const text = summarySentence(
      {
        reason: 'stopped',
        summary: { ...summary, sent: 0, received: {}, externalPeersMax: 0 },
        workers: [],
        builtInWorkers: false,
      },
      en,
    );
    expect(text).toContain('You stopped the run after 0 messages');
    expect(text).toContain('blocks on send');
  });
});

describe('summarySentence for a burst', () => {
  it('says one worker took everything and counts what was lost, with correct grammar', () => {
    const text = summarySentence(
      {
        reason: 'completed',
        summary: {
          ...EMPTY,
          sent: 12,
          received: { 'worker-tcp': 11, 'worker-ipc': 0 },
          unattributed: 1,
          durationMs: 1500,
        },
        workers: ['worker-tcp', 'worker-ipc'],
        builtInWorkers: true,
      },
      en,
    );
    expect(text).toContain('only one peer was connected');
    expect(text).toContain('1 message was sent but never received');
  });
});

describe('formatMs', () => {
  it('reads naturally', () => {
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(1234)).toBe('1.2 s');
    expect(formatMs(12_400)).toBe('12 s');
  });
});

describe('summarySentence for a batch', () => {
  const base = {
    reason: 'completed' as const,
    workers: ['worker-1', 'worker-2'],
    builtInWorkers: true,
    unit: 'task' as const,
  };
  it('says every task was processed once when nothing was lost', () => {
    const summary = {
      ...EMPTY,
      sent: 10,
      received: { 'worker-1': 5, 'worker-2': 5 },
      done: { 'worker-1': 5, 'worker-2': 5 },
    };
    const text = summarySentence({ ...base, summary }, en);
    expect(text).toContain('round-robined the 10 tasks');
    expect(text).toContain('Every task was processed exactly once.');
  });
  it('counts lost tasks and names who lost them, largest first', () => {
    const summary = {
      ...EMPTY,
      sent: 60,
      received: { 'worker-1': 40, 'worker-2': 12 },
      done: { 'worker-1': 40, 'worker-2': 11 },
      unattributed: 8,
      lost: 9,
      lostBy: { 'worker-2': 8, unknown: 1 },
    };
    const text = summarySentence({ ...base, summary }, en);
    expect(text).toContain('9 tasks were lost (worker-2: 8, unknown worker: 1)');
    expect(text).toContain('does not re-route');
    expect(text).not.toContain('exactly once');
  });
});

describe('summarySentence in Spanish', () => {
  it('uses the singular and plural forms of the count', () => {
    const base = {
      reason: 'completed' as const,
      workers: ['worker-1', 'worker-2'],
      builtInWorkers: true,
      unit: 'task' as const,
    };
    const one = {
      ...EMPTY,
      sent: 10,
      received: { 'worker-1': 5, 'worker-2': 5 },
      done: { 'worker-1': 5, 'worker-2': 4 },
      lost: 1,
      lostBy: { unknown: 1 },
    };
    const text = summarySentence({ ...base, summary: one }, es);
    expect(text).toContain('ZeroMQ repartió 10 tareas en round-robin');
    expect(text).toContain('worker-1 recibió 5');
    expect(text).toContain('Se perdió 1 tarea (worker desconocido: 1)');
    const many = summarySentence({ ...base, summary: { ...one, lost: 3, lostBy: { 'worker-2': 3 } } }, es);
    expect(many).toContain('Se perdieron 3 tareas (worker-2: 3)');
  });
  it('words a stopped tutorial run and parse errors in Spanish', () => {
    const text = summarySentence(
      { reason: 'stopped', summary: { ...EMPTY, sent: 1 }, workers: [], builtInWorkers: false },
      es,
    );
    expect(text).toContain('Detuviste la ejecución tras 1 mensaje.');
    expect(parseWorkMs('100-1', es)).toMatchObject({ message: 'El rango empieza por encima de su final (100-1).' });
    expect(parseWhole('0', { min: 1, max: 10 }, 'Tareas', es)).toMatchObject({
      message: 'Tareas: debe estar entre 1 y 10.',
    });
  });
});

describe('summarySentence with many workers', () => {
  it('gives the range of shares instead of listing each worker', () => {
    const workers = Array.from({ length: 12 }, (_, i) => `worker-${i + 1}`);
    const even = {
      ...EMPTY,
      sent: 120,
      received: Object.fromEntries(workers.map((w) => [w, 10])),
      done: Object.fromEntries(workers.map((w) => [w, 10])),
    };
    expect(
      summarySentence({ reason: 'completed', summary: even, workers, builtInWorkers: true, unit: 'task' }, en),
    ).toContain('among the 12 workers: each got 10.');
    const skewed = { ...even, received: { ...even.received, 'worker-3': 2, 'worker-7': 18 } };
    expect(
      summarySentence({ reason: 'completed', summary: skewed, workers, builtInWorkers: true, unit: 'task' }, en),
    ).toContain('from 2 (worker-3) to 18 (worker-7) per worker');
  });
});

describe('lostByText', () => {
  it('skips zeros', () => {
    expect(lostByText({ a: 0, b: 2 }, en)).toBe('b: 2');
    expect(lostByText({}, en)).toBe('');
  });
});

describe('linkView', () => {
  it('shows what happened to the process before the link', () => {
    expect(linkView('killed', 'connected', 'tcp')).toBe('killed');
    expect(linkView('hung', 'connected', 'ipc')).toBe('hung');
    expect(linkView('stopped', 'connected', 'tcp')).toBe('stopped');
    expect(linkView('connected', 'stopped', 'tcp')).toBe('stopped');
    expect(linkView('connecting', 'retrying', 'tcp')).toBe('retrying');
  });
  it('treats a connected inproc worker as in the rotation (inproc has no monitor events)', () => {
    expect(linkView('connecting', 'connecting', 'inproc')).toBe('connected');
    expect(linkView('connecting', 'connecting', 'tcp')).toBe('connecting');
  });
});

describe('work time', () => {
  it('parses a fixed time or a range', () => {
    expect(parseWorkMs('25', en)).toEqual({ ok: true, value: { min: 25, max: 25 } });
    expect(parseWorkMs(' 1-100 ', en)).toEqual({ ok: true, value: { min: 1, max: 100 } });
    expect(parseWorkMs('1 – 100 ms', en)).toEqual({ ok: true, value: { min: 1, max: 100 } });
  });
  it('refuses what the server would refuse, with a sentence', () => {
    for (const bad of ['', 'fast', '-5', '1.5', '100-1', '70000']) {
      const parsed = parseWorkMs(bad, en);
      expect(parsed.ok, bad).toBe(false);
    }
    expect(parseWorkMs('100-1', en)).toMatchObject({ message: expect.stringContaining('starts above its end') });
  });
  it('formats back', () => {
    expect(formatWorkMs({ min: 0, max: 0 })).toBe('0');
    expect(formatWorkMs({ min: 1, max: 100 })).toBe('1-100');
  });
});

describe('parseWhole', () => {
  it('accepts whole numbers within the limits (negative only when allowed)', () => {
    expect(parseWhole('60', { min: 1, max: 100 }, 'Tasks', en)).toEqual({ ok: true, value: 60 });
    expect(parseWhole('-1', { min: -1, max: 60_000 }, 'Linger', en)).toEqual({ ok: true, value: -1 });
    expect(parseWhole('-1', { min: 0, max: 10 }, 'HWM', en).ok).toBe(false);
    expect(parseWhole('0', { min: 1, max: 10 }, 'Tasks', en)).toMatchObject({
      ok: false,
      message: 'Tasks: must be between 1 and 10.',
    });
  });
});

describe('accounting', () => {
  const counters = {
    sent: 30,
    received: { a: 12, b: 10, gone: 3 },
    done: { a: 11, b: 10, gone: 2 },
    collected: 20,
    lost: 1,
  };
  it('while running: in flight is sent minus received (tasks lost so far were held by a worker)', () => {
    const figures = accounting({
      ...counters,
      queues: [workerQueue('connected', 12, 11, 0), workerQueue('connected', 10, 10, 0)],
      isEnded: false,
    });
    expect(figures).toEqual({ sent: 30, inFlight: 5, atWorkers: 1, done: 23, collected: 20, lost: 1 });
    expect(figures.inFlight + figures.atWorkers + figures.done + figures.lost).toBe(figures.sent);
  });
  it('once ended nothing is in flight any more', () => {
    expect(accounting({ ...counters, queues: [3], isEnded: true })).toMatchObject({ inFlight: 0, atWorkers: 0 });
  });
  it("a worker's queue empties when it is killed or stopped, and never goes negative", () => {
    expect(workerQueue('connected', 5, 3, 1)).toBe(1);
    expect(workerQueue('killed', 5, 3, 0)).toBe(0);
    expect(workerQueue('stopped', 5, 3, 0)).toBe(0);
    expect(workerQueue('hung', 5, 3, 4)).toBe(0);
  });
});

describe('describeChange', () => {
  it('says a worker:updated change in the page language', () => {
    expect(describeChange('killed (SIGKILL)', es)).toBe('matado (SIGKILL)');
    expect(describeChange('transport tcp -> ipc', es)).toBe('transporte tcp → ipc');
    expect(describeChange('work time 1-100 ms', es)).toBe('tiempo de trabajo 1-100 ms');
    expect(describeChange('transport tcp -> ipc', en)).toBe('transport tcp → ipc');
    expect(describeChange('something new', es)).toBe('something new');
  });

  it('knows every change the server emits (read from its source)', () => {
    const source = fs.readFileSync(new URL('../../server/pipeline/run-workers.ts', import.meta.url), 'utf8');
    const literals = [...source.matchAll(/#emitWorker\(slot, '([^']+)'\)/g)].map((m) => m[1]!);
    expect(new Set(literals).size).toBeGreaterThanOrEqual(6);
    for (const change of literals) expect(describeChange(change, es), change).not.toBe(change);
    // The parametrised ones, as the server builds them.
    expect(source).toContain('#emitWorker(slot, `work time ${patch.workMs.min}-${patch.workMs.max} ms`)');
    expect(source).toContain('#emitWorker(slot, `transport ${from} -> ${patch.transport}`)');
  });
});
