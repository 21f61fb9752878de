/**
 * Helpers for the recording tests and the bench: synthetic but schema-valid runs, built from the protocol fixtures
 * (which the codec tests keep valid) so they follow the schema as it changes, and a bounded wait.
 */
import type { PlaygroundEvent, RunSummary } from '../shared/protocol/index.ts';
import { VALID_EVENTS } from '../shared/protocol/fixtures.ts';

export interface SyntheticOptions {
  /** Events in all, run:started and run:ended included (>= 2). */
  count: number;
  /** seq of run:started. */
  firstSeq?: number;
  /** ms between consecutive events. */
  stepMs?: number;
  /** false: stop before run:ended (an interrupted run). */
  ended?: boolean;
}

export const SYNTHETIC_WORKERS = ['worker-tcp', 'worker-ipc'] as const;

/**
 * run:started, then task:sent / task:received pairs (tasks alternate between the two workers), then run:ended.
 * A generator: a million events never exist at once. `t` grows by stepMs per event; `seq` by 1.
 */
export function* syntheticEvents(run: string, options: SyntheticOptions): Generator<PlaygroundEvent> {
  const { count, firstSeq = 1, stepMs = 0.5, ended = true } = options;
  const started = VALID_EVENTS['run:started'] as Extract<PlaygroundEvent, { type: 'run:started' }>;
  const stamp = (i: number) => ({ run, seq: firstSeq + i, t: Math.round(i * stepMs * 1000) / 1000 });
  yield { ...structuredClone(started), ...stamp(0) };
  const middle = ended ? count - 2 : count - 1;
  const received: Record<string, number> = { 'worker-tcp': 0, 'worker-ipc': 0 };
  let sent = 0;
  for (let i = 1; i <= middle; i++) {
    const task = Math.floor((i - 1) / 2);
    const body = `task ${task}`;
    if ((i - 1) % 2 === 0) {
      sent++;
      yield { type: 'task:sent', task, body, ...stamp(i) };
    } else {
      const worker = SYNTHETIC_WORKERS[task % 2]!;
      received[worker]!++;
      yield { type: 'task:received', task, worker, body, ...stamp(i) };
    }
  }
  if (!ended) return;
  const template = (VALID_EVENTS['run:ended'] as Extract<PlaygroundEvent, { type: 'run:ended' }>).summary;
  const total = Object.values(received).reduce((a, b) => a + b, 0);
  const summary: RunSummary = {
    ...structuredClone(template),
    sent,
    received,
    // What the events add up to (an import checks it): the synthetic workers receive, they never finish a task.
    done: {},
    collected: 0,
    unattributed: sent - total,
    durationMs: stamp(count - 1).t,
  };
  yield { type: 'run:ended', reason: 'completed', summary, ...stamp(count - 1) };
}

/** Resolves once `condition()` is truthy (checked every 10 ms); rejects after timeoutMs, saying what it waited for. */
export async function until<T>(
  condition: () => T | undefined | null | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The parts of a WriteChannel a recorder test leaves alone: each settles at once (an import is refused). */
export const idleChannelParts = {
  flushed: () => Promise.resolve(),
  closePlayground: () => Promise.resolve(),
  importRun: () => Promise.reject(new Error('not here')),
  deleteRun: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
