/**
 * Pure pieces of the run state: link transitions, what external peers took, how a finished run reads in words.
 * The reactive RunState (run-state.svelte.ts) calls these; tests call them directly.
 */
import {
  LIMITS,
  type MonitorKind,
  type RunEndReason,
  type RunSummary,
  type Transport,
  type WorkerState,
  type WorkMs,
} from '../../shared/protocol/index.ts';
import type { MessageKey, Translate } from './i18n/translate.ts';

/**
 * A built-in worker's connection to its endpoint, as the diagram draws it:
 * idle -> connecting (dashed) -> connected (solid, after the ZMTP handshake) -> disconnected / stopped (grey).
 */
export type LinkState = 'idle' | 'connecting' | 'retrying' | 'connected' | 'disconnected' | 'stopped';

/** What a worker's own monitor event does to its link; 'stopped' (set by worker:stopped) is final for the run. */
export function nextLinkState(prev: LinkState, kind: MonitorKind): LinkState {
  if (prev === 'stopped') return prev;
  switch (kind) {
    case 'handshake':
      return 'connected';
    case 'connect':
      // TCP/ipc connected but the ZMTP handshake is still pending: not in the PUSH rotation yet.
      return prev === 'connected' ? prev : 'connecting';
    case 'connect:delay':
    case 'connect:retry':
    case 'handshake:error':
      return prev === 'connected' ? prev : 'retrying';
    case 'disconnect':
      return 'disconnected';
    case 'close':
    case 'close:error':
      // libzmq's "closed" is about one connection's descriptor (a failed ipc connect emits it before each retry),
      // not the socket: only worker:stopped makes a link 'stopped'.
      return prev === 'connected' ? 'disconnected' : prev === 'idle' ? prev : 'retrying';
    case 'bind':
    case 'bind:error':
    case 'accept':
    case 'accept:error':
      return prev;
  }
}

/** Human label of a link state. */
export function linkLabel(state: LinkState, t: Translate): string {
  return t(`link.${state}`);
}

/** Messages sent that no built-in worker received: what external peers took (or what is still in flight). */
export function externalTaken(sent: number, received: Readonly<Record<string, number>>): number {
  let total = 0;
  for (const n of Object.values(received)) total += n;
  return Math.max(0, sent - total);
}

/** "850 ms", "1.2 s", "12 s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** "1 message", "3 messages" (or "1 mensaje", "3 mensajes"). */
export function countOf(n: number, unit: 'message' | 'task' | 'worker', t: Translate): string {
  return t.plural(`count.${unit}`, n);
}

/** Above this many workers the summary gives the range of shares instead of each one. */
export const SHARES_LISTED = 8;

/** What summarySentence needs about a finished run. */
export interface SummaryInput {
  reason: RunEndReason;
  summary: RunSummary;
  /** Built-in worker ids in display order. */
  workers: readonly string[];
  builtInWorkers: boolean;
  /** 'message' for the tutorial's texts (the default), 'task' for the batch scenario. */
  unit?: 'message' | 'task';
}

/** "worker-3: 12, unknown: 3" from a lostBy record, largest first. */
export function lostByText(lostBy: Readonly<Record<string, number>>, t: Translate): string {
  return Object.entries(lostBy)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([who, n]) => `${who === 'unknown' ? t('lostBy.unknown') : who}: ${n}`)
    .join(', ');
}

/** One or two sentences telling what the finished run shows, in the language of `t`. */
export function summarySentence(
  { reason, summary, workers, builtInWorkers, unit = 'message' }: SummaryInput,
  t: Translate,
): string {
  const parts: string[] = [];
  const sent = countOf(summary.sent, unit, t);
  if (reason === 'stopped') parts.push(t('sum.stopped', { count: sent }));
  if (reason === 'failed') parts.push(t('sum.failed'));

  if (summary.sent === 0) {
    parts.push(builtInWorkers ? t('sum.nothingSent') : t('sum.nothingSentNoPeer'));
    return parts.join(' ');
  }

  if (builtInWorkers && workers.length > SHARES_LISTED) {
    const counts = workers.map((w) => ({ w, n: summary.received[w] ?? 0 })).sort((a, b) => a.n - b.n);
    const low = counts[0]!;
    const high = counts.at(-1)!;
    parts.push(
      low.n === high.n
        ? t('sum.evenShares', { count: sent, workers: workers.length, n: high.n })
        : t('sum.rangeShares', { count: sent, low: low.n, lowWorker: low.w, high: high.n, highWorker: high.w }),
    );
  } else if (builtInWorkers && workers.length > 0) {
    const shares = workers.map((w) => t('sum.share', { worker: w, n: summary.received[w] ?? 0 })).join(', ');
    const busy = workers.filter((w) => (summary.received[w] ?? 0) > 0).length;
    parts.push(busy > 1 ? t('sum.shares', { count: sent, shares }) : t(`sum.onePeer.${unit}`, { shares }));
  }

  if (unit === 'task') {
    const done = Object.values(summary.done).reduce((a, b) => a + b, 0);
    const books = summary.accounting;
    if (summary.lost > 0) {
      parts.push(
        t.plural('sum.lost', summary.lost, {
          count: countOf(summary.lost, 'task', t),
          detail: lostByText(summary.lostBy, t),
        }),
      );
    }
    if (books && books.resultsLost > 0) {
      parts.push(
        t.plural('sum.resultsLost', books.resultsLost, {
          count: countOf(books.resultsLost, 'task', t),
          detail: lostByText(books.resultsLostBy, t),
        }),
      );
    }
    const external = summary.externalPeersMax > 0 ? summary.unattributed : 0;
    if (external > 0) {
      parts.push(
        t.plural('sum.externalTasks', external, { count: countOf(external, 'task', t), max: summary.externalPeersMax }),
      );
    }
    if (books && books.inFlight > 0 && reason !== 'completed') {
      parts.push(t.plural('sum.inFlight', books.inFlight, { count: countOf(books.inFlight, 'task', t) }));
    }
    // Exactly once means every task ended where it should: collected with a sink, processed without. Summaries
    // recorded before the books existed only say it when no result is missing either.
    const everyTaskEnded = books
      ? books.collected + books.processed === summary.sent
      : done === summary.sent && (summary.collected === 0 || summary.collected === summary.sent);
    if (reason === 'completed' && summary.lost === 0 && external === 0 && everyTaskEnded) {
      parts.push(t('sum.allOnce'));
    }
    return parts.join(' ');
  }

  if (summary.unattributed > 0) {
    const count = countOf(summary.unattributed, 'message', t);
    parts.push(
      summary.externalPeersMax > 0
        ? t.plural('sum.externalMessages', summary.unattributed, { count, max: summary.externalPeersMax })
        : t.plural('sum.unreceived', summary.unattributed, { count }),
    );
  } else if (builtInWorkers) {
    parts.push(t('sum.everyMessage'));
  }
  return parts.join(' ');
}

/**
 * The run's identity in words, from the summary's books: "sent 200 = collected 180 + results lost on the way 12 +
 * lost with a worker 8" (only the places that hold any task). Null for runs recorded before the books existed.
 */
export function identityText(summary: RunSummary, t: Translate): string | null {
  const books = summary.accounting;
  if (!books) return null;
  const places = (['collected', 'processed', 'resultsLost', 'lost', 'external', 'inFlight'] as const)
    .filter((place) => books[place] > 0)
    .map((place) => t(`books.${place}`, { n: books[place] }));
  return t('books.identity', { sent: summary.sent, places: places.length > 0 ? places.join(' + ') : '0' });
}

/** Pick the endpoint an unclaimed task most likely left from: one with external peers, rotating by task id. */
export function externalSource(
  endpoints: readonly { name: string; isBound: boolean; external: number }[],
  task: number,
): string | null {
  const withPeers = endpoints.filter((e) => e.external > 0);
  const pool = withPeers.length > 0 ? withPeers : endpoints.filter((e) => e.isBound);
  if (pool.length === 0) return endpoints[0]?.name ?? null;
  return pool[task % pool.length]?.name ?? null;
}

/** How a worker's link is drawn: its connection state, or what happened to its process. */
export type LinkView = LinkState | 'hung' | 'killed';

/**
 * Combines the server's worker state (hung, killed, stopped) with the link state from the socket monitor.
 * inproc has no monitor events at all (zmq-facts section 5): an inproc worker that connected is in the rotation.
 */
export function linkView(state: WorkerState, link: LinkState, transport: Transport): LinkView {
  if (state === 'killed') return 'killed';
  if (state === 'hung') return 'hung';
  if (state === 'stopped' || link === 'stopped') return 'stopped';
  if (transport === 'inproc' && (state === 'connecting' || state === 'connected') && link === 'connecting')
    return 'connected';
  return link;
}

/** What a worker's card says of it: its process's fate, how it stopped, or its link. */
export type WorkerCardStatus = 'killed' | 'hung' | 'gotX' | 'runEnded' | LinkState;

/**
 * A worker's card status, from the same state the diagram draws (its box checks the same things in this order): a
 * kill or a hang the moment its event came, and a killed worker stays killed after the run ends (the server then
 * says it stopped too).
 */
export function workerCardStatus(worker: {
  state: WorkerState;
  view: LinkView;
  stopReason: 'end-marker' | 'run-ended' | null;
  isStopped: boolean;
}): WorkerCardStatus {
  if (worker.state === 'killed' || worker.state === 'hung') return worker.state;
  if (worker.stopReason === 'end-marker') return 'gotX';
  if (worker.isStopped) return 'runEnded';
  return worker.view;
}

/** Words for a worker's state badge. */
export function workerStateLabel(state: WorkerState, t: Translate): string {
  return t(`wstate.${state}`);
}

/** "0", "25", "1-100" (ms). */
export function formatWorkMs(work: WorkMs): string {
  return work.min === work.max ? String(work.min) : `${work.min}-${work.max}`;
}

/** Parses a work time: "25" (fixed) or "1-100" (uniform range), whole ms within LIMITS.workMs. */
export function parseWorkMs(text: string, t: Translate): { ok: true; value: WorkMs } | { ok: false; message: string } {
  const { min, max } = LIMITS.workMs;
  const match = /^\s*(\d+)\s*(?:[-–]\s*(\d+)\s*)?(?:ms)?\s*$/.exec(text);
  if (!match) return { ok: false, message: t('parse.workInvalid', { min, max }) };
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  if (low > max || high > max) return { ok: false, message: t('parse.workTooHigh', { max }) };
  if (low > high) return { ok: false, message: t('parse.workReversed', { low, high }) };
  return { ok: true, value: { min: low, max: high } };
}

/** Parses a whole number within [min, max]; `what` names the field in the message. */
export function parseWhole(
  text: string,
  limits: { min: number; max: number },
  what: string,
  t: Translate,
): { ok: true; value: number } | { ok: false; message: string } {
  const trimmed = text.trim();
  const isNegativeAllowed = limits.min < 0;
  if (!(isNegativeAllowed ? /^-?\d+$/ : /^\d+$/).test(trimmed)) {
    return { ok: false, message: t('parse.wholeInvalid', { what, min: limits.min, max: limits.max }) };
  }
  const value = Number(trimmed);
  if (value < limits.min || value > limits.max)
    return { ok: false, message: t('parse.wholeRange', { what, min: limits.min, max: limits.max }) };
  return { ok: true, value };
}

/** What the accounting bar shows; every figure is derived from the server's exact counters. */
export interface Accounting {
  sent: number;
  /** Sent and not yet taken by any worker: queued in ZeroMQ's pipes and kernel buffers (or taken by external peers). */
  inFlight: number;
  /** Taken by a live worker and not finished yet. */
  atWorkers: number;
  done: number;
  collected: number;
  lost: number;
}

/** Sum of a record's values. */
export function total(record: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(record)) n += v;
  return n;
}

/**
 * Where the tasks of a run are now. While it runs, tasks lost so far were all held by a worker (received), so
 * in flight is sent minus received; once it ended nothing is in flight any more (what never arrived is lost, or
 * went to an external peer, and the summary says which).
 */
export function accounting(input: {
  sent: number;
  received: Readonly<Record<string, number>>;
  done: Readonly<Record<string, number>>;
  collected: number;
  lost: number;
  queues: readonly number[];
  isEnded: boolean;
}): Accounting {
  const received = total(input.received);
  const done = total(input.done);
  const atWorkers = input.isEnded ? 0 : input.queues.reduce((a, b) => a + b, 0);
  const inFlight = input.isEnded ? 0 : Math.max(0, input.sent - received);
  return { sent: input.sent, inFlight, atWorkers, done, collected: input.collected, lost: input.lost };
}

/** Tasks a worker holds now: received, not done, not lost with it; none once it is stopped, killed or idle. */
export function workerQueue(state: WorkerState, received: number, done: number, lost: number): number {
  if (state === 'killed' || state === 'stopped' || state === 'idle') return 0;
  return Math.max(0, received - done - lost);
}

const FIXED_CHANGES = {
  added: 'log.change.added',
  connecting: 'log.change.connecting',
  connected: 'log.change.connected',
  'hung (SIGSTOP)': 'log.change.hung',
  'resumed (SIGCONT)': 'log.change.resumed',
  'killed (SIGKILL)': 'log.change.killed',
} as const satisfies Record<string, MessageKey>;

/**
 * A `worker:updated` change, as the server words it ("killed (SIGKILL)", "transport tcp -> ipc", "work time
 * 1-100 ms"), in the page's language; a change this page does not know is shown as it came.
 */
export function describeChange(change: string, t: Translate): string {
  if (Object.hasOwn(FIXED_CHANGES, change)) return t(FIXED_CHANGES[change as keyof typeof FIXED_CHANGES]);
  const work = /^work time (\d+)-(\d+) ms$/.exec(change);
  if (work) return t('log.change.workTime', { min: work[1]!, max: work[2]! });
  const moved = /^transport (\w+) -> (\w+)$/.exec(change);
  if (moved) return t('log.change.transport', { from: moved[1]!, to: moved[2]! });
  return change;
}
