/**
 * Why a tutorial run split unevenly (issue 10.13). At 100 ms the tutorial splits 9 / 3: the ipc endpoint is bound
 * only after "1", "2", "3" have gone out, and the ipc worker completes its handshake a retry later, while a PUSH
 * socket round-robins among the peers connected at each send. That is ZeroMQ, not a fault, and the run's summary
 * says so when its own events show it: a worker whose first handshake came after others had already received
 * messages, and shares that differ by more than round-robin's one.
 *
 * Derived from the events the page keeps for the run (each worker's socket monitor and its received messages, by
 * seq), so a live run and its replay say the same.
 */
import type { Translate } from './i18n/translate.ts';

/** A worker's own monitor reported its handshake, or the worker received a message, at `seq`. */
export interface JoinEvent {
  seq: number;
  worker: string;
  kind: 'handshake' | 'received';
}

export interface LateJoin {
  worker: string;
  /** Messages the other workers had received before this one's first handshake. */
  before: number;
}

/**
 * Workers that joined after the first messages had gone out, when that made the split uneven. `received` is the
 * summary's count per built-in worker. Empty when the split is even, when a worker that joined late got nothing
 * (the summary's sentence already says one peer took everything), or when the events cannot tell (messages
 * restored from a run's detail carry no seq).
 */
export function lateJoiners(events: readonly JoinEvent[], received: Readonly<Record<string, number>>): LateJoin[] {
  const counts = Object.values(received);
  if (counts.length < 2 || Math.max(...counts) - Math.min(...counts) <= 1) return [];
  if (events.some((event) => event.kind === 'received' && event.seq < 0)) return [];
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const late: LateJoin[] = [];
  for (const worker of Object.keys(received)) {
    if ((received[worker] ?? 0) === 0) continue;
    const handshake = ordered.find((event) => event.worker === worker && event.kind === 'handshake');
    if (!handshake) continue;
    const before = ordered.filter(
      (event) => event.kind === 'received' && event.worker !== worker && event.seq < handshake.seq,
    ).length;
    if (before > 0) late.push({ worker, before });
  }
  return late;
}

/** The summary's explanation, one sentence per late worker, in the language of `t`; null when there is none. */
export function lateJoinText(late: readonly LateJoin[], t: Translate): string | null {
  if (late.length === 0) return null;
  return late
    .map(({ worker, before }) =>
      t.plural('summary.lateJoin', before, { worker, count: t.plural('count.message', before) }),
    )
    .join(' ');
}
