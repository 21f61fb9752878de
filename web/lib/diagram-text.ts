/**
 * The diagram in words, for people who do not see it (issue 10, accessibility): each node as a line of text (the
 * "text twin" under the diagram), and a throttled digest of what happened, for a polite live region. Pure: the
 * components feed plain data and a clock; tests do the same.
 *
 * A live region that speaks on every task is useless (a screen reader queues hundreds of sentences) and costly, so
 * LiveDigest gathers what happened and says it at most once every LIVE_GAP_MS: single messages by name at the
 * tutorial's pace ("worker-ipc received “q,5”"), rates at a batch's ("120 tasks a second: worker-1 40, …").
 */
import type { PlaygroundEvent, VentilatorState, WorkerState } from '../../shared/protocol/index.ts';
import {
  KIND_COLLECTED,
  KIND_LOST,
  KIND_RECEIVED,
  forEachInOrder,
  type TaskColumns,
} from '../../shared/protocol/task-frame.ts';
import type { Translate } from './i18n/translate.ts';
import { countOf, describeChange, linkLabel, workerStateLabel, type LinkView } from './run-model.ts';

/** Least time between two announcements. */
export const LIVE_GAP_MS = 2000;
/** How long news gathers after a quiet spell before it is said (a burst is said as one digest, not its first task). */
export const LIVE_GATHER_MS = 500;
/** Up to this many receipts in one digest are named one by one; more are said as rates. */
export const LIVE_NAMED_MAX = 4;
/** Workers named in a rate; the rest are counted. */
export const LIVE_SHARES_MAX = 8;

/** What the lines need of a worker (a WorkerView fits). */
export interface WorkerFacts {
  id: string;
  transport: string;
  mode: 'in-process' | 'process';
  pid: number | null;
  state: WorkerState;
  view: LinkView;
  stopReason: 'end-marker' | 'run-ended' | null;
  /** Received, as drawn (landed). */
  received: number;
  done: number;
  queue: number;
  lost: number;
  /** The newest bodies it received, oldest first (the tutorial lists them). */
  lastBodies: readonly string[];
}

/** A worker's state in words, as its box says it (the box may shorten it, the twin never does). */
export function workerStatus(
  worker: Pick<WorkerFacts, 'state' | 'view' | 'stopReason'>,
  isBatch: boolean,
  t: Translate,
): string {
  if (worker.stopReason === 'end-marker') return t('wnode.gotX');
  if (worker.state === 'killed' || worker.state === 'hung')
    return isBatch ? t(`wnode.${worker.state}`) : workerStateLabel(worker.state, t);
  if (worker.stopReason === 'run-ended') return t('wnode.runEnded');
  if (isBatch && worker.state === 'idle') return t('wnode.idleBatch');
  return linkLabel(worker.view === 'hung' || worker.view === 'killed' ? 'idle' : worker.view, t);
}

/** "worker-2 (PULL, tcp, its own process, pid 41): connected · received 12 · done 11 · queued 1 · lost 0". */
export function workerLine(worker: WorkerFacts, isBatch: boolean, t: Translate): string {
  const mode =
    worker.mode === 'process' && worker.pid !== null ? `${t('mode.process')} ${worker.pid}` : t(`mode.${worker.mode}`);
  const head = t('twin.worker', {
    id: worker.id,
    transport: worker.transport,
    mode,
    state: workerStatus(worker, isBatch, t),
  });
  if (isBatch) {
    return `${head} · ${t('twin.batchCounts', { received: worker.received, done: worker.done, queue: worker.queue, lost: worker.lost })}`;
  }
  const counts = `${head} · ${t('twin.received', { received: countOf(worker.received, 'message', t) })}`;
  return worker.lastBodies.length === 0
    ? counts
    : `${counts} · ${t('twin.last', { bodies: quoteAll(worker.lastBodies, t) })}`;
}

/** "Ventilator (PUSH): sending · sent 40". */
export function ventilatorLine(state: VentilatorState, sent: number, t: Translate): string {
  const said = state === 'blocked' ? t('twin.blocked') : state === 'sending' ? t('acct.sending') : t('acct.idle');
  return `${t('vent.title')}: ${said} · ${t('vent.sent', { n: sent })}`;
}

/** What the lines need of an endpoint (an EndpointView fits). */
export interface EndpointFacts {
  name: string;
  address: string;
  isBound: boolean;
  /** Bound in this run and closed since (the run ended): said as closed, not as bound. */
  isClosed?: boolean;
  builtIn: number;
  external: number;
  note?: string | undefined;
}

/** "tcp tcp://127.0.0.1:12345: bound · 1 worker connected" (the ventilator box's endpoint row, whole). */
export function endpointLine(endpoint: EndpointFacts, t: Translate): string {
  const note = endpoint.isBound && endpoint.note ? ` (${endpoint.note})` : '';
  return `${endpoint.name} ${endpoint.address}: ${endpointStatus(endpoint, t)}${note}`;
}

/** An endpoint's state in words, as its row on the ventilator's box says it: not bound yet, bound (its peers), closed. */
export function endpointStatus(endpoint: Omit<EndpointFacts, 'name' | 'address' | 'note'>, t: Translate): string {
  let status: string;
  if (endpoint.isClosed) status = t('vent.closed');
  else if (!endpoint.isBound) status = t('vent.notBound');
  else {
    const peers: string[] = [];
    if (endpoint.builtIn > 0) peers.push(countOf(endpoint.builtIn, 'worker', t));
    if (endpoint.external > 0) peers.push(t.plural('vent.external', endpoint.external));
    status =
      peers.length === 0
        ? t('vent.noPeer')
        : t.plural('vent.peers', endpoint.builtIn + endpoint.external, { peers: peers.join(' + ') });
  }
  return status;
}

function quoteAll(bodies: readonly string[], t: Translate): string {
  return bodies.map((body) => t('live.quoted', { body })).join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// The live digest

/** Exact counts of the run so far (the stream's counters). */
export interface LiveCounts {
  received: Readonly<Record<string, number>>;
  lost: number;
  collected: number;
}

type Note =
  | { kind: 'connected'; worker: string }
  | { kind: 'change'; worker: string; change: string }
  | { kind: 'stopped'; worker: string; reason: 'end-marker' | 'run-ended' }
  | { kind: 'removed'; worker: string }
  | { kind: 'bound'; endpoint: string; address: string }
  | { kind: 'blocked' };

interface Receipt {
  worker: string;
  body: string;
  task: number;
}

/**
 * Gathers a run's news and says it, throttled. feed() every frame; dueAt() says when take() has something to
 * say; take(now) returns the sentence (or null) and starts the next gap. One digest per run: reset() on a new one.
 */
export class LiveDigest {
  /** 'task' in the batch scenario (rates, task numbers), 'message' in the tutorial (bodies). */
  unit: 'message' | 'task' = 'message';
  #lastSaidAt = -Infinity;
  #newsSince: number | null = null;
  #receipts: Receipt[] = [];
  /** task:received seen since the last digest (more than kept when sampled or many). */
  #receiptCount = 0;
  #notes: Note[] = [];
  #baseline: LiveCounts | null = null;
  #latest: LiveCounts | null = null;

  /** Forgets everything (a new run, another playground). */
  reset(): void {
    this.#newsSince = null;
    this.#receipts = [];
    this.#receiptCount = 0;
    this.#notes = [];
    this.#baseline = null;
    this.#latest = null;
  }

  /**
   * Takes the events of one frame (only live ones: history replayed on connect is not news) and the run's exact
   * counts after it, at local time `now` (ms).
   */
  feed(events: readonly PlaygroundEvent[], counts: LiveCounts | null, now: number): void {
    let isNews = false;
    for (const event of events) isNews = this.#take(event) || isNews;
    this.#ended(isNews, counts, now);
  }

  /**
   * The same for a frame as the stream gives it: its news are its events of run `run` after `historyUntil`, a
   * binary frame's task events read from its columns (no object per event).
   */
  feedFrame(
    frame: { events: readonly PlaygroundEvent[]; tasks?: TaskColumns; historyUntil: number },
    run: string | null,
    counts: LiveCounts | null,
    now: number,
  ): void {
    let isNews = false;
    const tasks = frame.tasks;
    forEachInOrder(
      frame.events,
      tasks,
      (event) => {
        if (event.seq > frame.historyUntil && event.run === run) isNews = this.#take(event) || isNews;
      },
      (i) => {
        if (tasks!.seq[i]! <= frame.historyUntil || tasks!.runAt(i) !== run) return;
        const kind = tasks!.kind[i]!;
        if (kind === KIND_RECEIVED) {
          this.#receiptCount++;
          if (this.#receipts.length < LIVE_NAMED_MAX + 1)
            this.#receipts.push({ worker: tasks!.workerAt(i)!, body: tasks!.bodyOf(i), task: tasks!.task[i]! });
          isNews = true;
        } else if (kind === KIND_LOST || kind === KIND_COLLECTED) isNews = true;
      },
    );
    this.#ended(isNews, counts, now);
  }

  /** Takes one event of the news (read, not kept: it may be a binary frame's cursor); says whether it is news. */
  #take(event: PlaygroundEvent): boolean {
    const note = noteOf(event);
    if (note) {
      this.#notes.push(note);
      return true;
    }
    if (event.type === 'task:received') {
      this.#receiptCount++;
      if (this.#receipts.length < LIVE_NAMED_MAX + 1)
        this.#receipts.push({ worker: event.worker, body: event.body, task: event.task });
      return true;
    }
    return event.type === 'task:lost' || event.type === 'task:collected';
  }

  #ended(isNews: boolean, counts: LiveCounts | null, now: number): void {
    if (counts) {
      this.#baseline ??= this.#latest ?? { received: {}, lost: 0, collected: 0 };
      this.#latest = counts;
    }
    if (isNews && this.#newsSince === null) this.#newsSince = now;
  }

  /** When take() will have something to say (local ms), or null: nothing is waiting. */
  dueAt(): number | null {
    if (this.#newsSince === null) return null;
    return Math.max(this.#lastSaidAt + LIVE_GAP_MS, this.#newsSince + LIVE_GATHER_MS);
  }

  /** The digest of everything since the last one, in the language of `t`, if it is due at `now`; else null. */
  take(now: number, t: Translate): string | null {
    const due = this.dueAt();
    if (due === null || now < due) return null;
    const seconds = Math.max(1, (now - (this.#newsSince ?? now)) / 1000);
    const sentence = digestSentence(
      {
        notes: this.#notes,
        receipts: this.#receipts,
        receiptCount: this.#receiptCount,
        from: this.#baseline,
        to: this.#latest,
        seconds,
        unit: this.unit,
      },
      t,
    );
    this.#lastSaidAt = now;
    this.#newsSince = null;
    this.#receipts = [];
    this.#receiptCount = 0;
    this.#notes = [];
    this.#baseline = this.#latest;
    return sentence;
  }
}

function noteOf(event: PlaygroundEvent): Note | null {
  switch (event.type) {
    case 'worker:updated':
      if (event.change === 'connected') return { kind: 'connected', worker: event.worker.id };
      // Connecting, and the server's own wording of a start, are the diagram's dashes: not worth a sentence.
      if (event.change === 'connecting' || event.change === 'starting') return null;
      return { kind: 'change', worker: event.worker.id, change: event.change };
    case 'socket:event':
      // A worker's own PULL socket; not the ventilator, the sink, nor a worker's socket to the sink ("worker-3:results").
      return event.kind === 'handshake' &&
        event.node !== 'ventilator' &&
        event.node !== 'sink' &&
        !event.node.includes(':')
        ? { kind: 'connected', worker: event.node }
        : null;
    case 'worker:stopped':
      return { kind: 'stopped', worker: event.worker, reason: event.reason };
    case 'worker:removed':
      return { kind: 'removed', worker: event.worker };
    case 'endpoint:bound':
      return {
        kind: 'bound',
        endpoint: event.endpoint.name,
        address: event.endpoint.actual ?? event.endpoint.requested,
      };
    case 'ventilator:state':
      return event.state === 'blocked' ? { kind: 'blocked' } : null;
    default:
      return null;
  }
}

/** What one digest is made of. */
export interface DigestInput {
  notes: readonly Note[];
  receipts: readonly Receipt[];
  receiptCount: number;
  /** Exact counts when the previous digest was said, and now (null: no counters for this run). */
  from: LiveCounts | null;
  to: LiveCounts | null;
  /** How long the news gathered. */
  seconds: number;
  unit: 'message' | 'task';
}

/** The sentence for one digest, or null when there is nothing to say. */
export function digestSentence(input: DigestInput, t: Translate): string | null {
  const parts: string[] = [];
  const connected = unique(input.notes.flatMap((note) => (note.kind === 'connected' ? [note.worker] : [])));
  if (connected.length > 0)
    parts.push(t.plural('live.connected', connected.length, { workers: namesOf(connected, t) }));
  for (const note of input.notes) {
    if (note.kind === 'change')
      parts.push(t('live.change', { worker: note.worker, change: describeChange(note.change, t) }));
    else if (note.kind === 'stopped' && note.reason === 'end-marker')
      parts.push(t('live.change', { worker: note.worker, change: t('log.stoppedX') }));
    else if (note.kind === 'removed') parts.push(t('live.change', { worker: note.worker, change: t('log.removed') }));
    else if (note.kind === 'bound') parts.push(t('live.bound', { endpoint: note.endpoint, address: note.address }));
    else if (note.kind === 'blocked') parts.push(t('log.blocked'));
  }
  const received = delta(input.from?.received ?? {}, input.to?.received ?? {});
  const receivedTotal = Object.values(received).reduce((a, b) => a + b, 0);
  if (input.receiptCount > 0 && input.receiptCount <= LIVE_NAMED_MAX && input.receipts.length === input.receiptCount) {
    parts.push(...namedReceipts(input.receipts, input.unit, t));
  } else if (receivedTotal > 0 || input.receiptCount > 0) {
    parts.push(
      rateSentence(receivedTotal > 0 ? received : countReceipts(input.receipts), input.seconds, input.unit, t),
    );
  }
  const lost = Math.max(0, (input.to?.lost ?? 0) - (input.from?.lost ?? 0));
  if (lost > 0) parts.push(t.plural(input.unit === 'task' ? 'live.lostTasks' : 'live.lostMessages', lost));
  const collected = Math.max(0, (input.to?.collected ?? 0) - (input.from?.collected ?? 0));
  if (collected > 0) parts.push(t.plural('live.collected', collected));
  return parts.length === 0 ? null : parts.join('. ') + '.';
}

/** Consecutive receipts of one worker said together: "worker-tcp received “1”, “2”". */
function namedReceipts(receipts: readonly Receipt[], unit: 'message' | 'task', t: Translate): string[] {
  const runs: { worker: string; items: string[] }[] = [];
  for (const receipt of receipts) {
    const item = unit === 'task' ? `#${receipt.task}` : t('live.quoted', { body: receipt.body });
    const last = runs.at(-1);
    if (last && last.worker === receipt.worker) last.items.push(item);
    else runs.push({ worker: receipt.worker, items: [item] });
  }
  return runs.map((run) => t('live.received', { worker: run.worker, items: run.items.join(', ') }));
}

/** "120 tasks a second: worker-1 40, worker-2 40, worker-3 40". */
function rateSentence(
  received: Readonly<Record<string, number>>,
  seconds: number,
  unit: 'message' | 'task',
  t: Translate,
): string {
  const total = Object.values(received).reduce((a, b) => a + b, 0);
  const perSecond = (n: number) => Math.round((n / seconds) * 10) / 10;
  const shares = Object.entries(received)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const named = shares.slice(0, LIVE_SHARES_MAX).map(([worker, n]) => `${worker} ${perSecond(n)}`);
  if (shares.length > LIVE_SHARES_MAX) named.push(t.plural('live.more', shares.length - LIVE_SHARES_MAX));
  return t.plural(unit === 'task' ? 'live.rateTasks' : 'live.rateMessages', perSecond(total), {
    shares: named.join(', '),
  });
}

function countReceipts(receipts: readonly Receipt[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const receipt of receipts) counts[receipt.worker] = (counts[receipt.worker] ?? 0) + 1;
  return counts;
}

function delta(from: Readonly<Record<string, number>>, to: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [worker, n] of Object.entries(to)) {
    const grown = n - (from[worker] ?? 0);
    if (grown > 0) out[worker] = grown;
  }
  return out;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** "worker-1, worker-2 and worker-3" in the page's language. */
function namesOf(names: readonly string[], t: Translate): string {
  if (names.length === 1) return names[0]!;
  return t('live.and', { list: names.slice(0, -1).join(', '), last: names.at(-1)! });
}

// ---------------------------------------------------------------------------------------------------------------
// The header's announcements

/** What the header watches. */
export interface HeaderFacts {
  connection: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  runId: string | null;
  runStatus: 'idle' | 'running' | 'ended';
  endReason: 'completed' | 'stopped' | 'failed' | null;
  sent: number;
  /** What the run sends: the tutorial's messages or a batch's tasks. */
  unit: 'message' | 'task';
}

/**
 * What the header says when its facts change: only what matters (the connection lost or back, a run started or
 * ended), never a count going up. null: say nothing.
 */
export function headerAnnouncement(before: HeaderFacts | null, after: HeaderFacts, t: Translate): string | null {
  if (before === null) return null;
  const parts: string[] = [];
  const wasUp = before.connection === 'connected';
  const isUp = after.connection === 'connected';
  if (wasUp && !isUp) parts.push(t(after.connection === 'closed' ? 'live.connectionClosed' : 'live.connectionLost'));
  // The first connection of a page is not news; a connection that comes back is.
  if (!wasUp && isUp && before.connection !== 'connecting') parts.push(t('live.connectionRestored'));
  const isNewRun = after.runId !== null && after.runId !== before.runId;
  if (after.runStatus === 'running' && (isNewRun || before.runStatus !== 'running'))
    parts.push(t('live.runStarted', { run: after.runId ?? '' }));
  if (after.runStatus === 'ended' && (isNewRun || before.runStatus !== 'ended') && after.endReason) {
    parts.push(
      t('live.runEnded', {
        run: after.runId ?? '',
        reason: t(`reason.${after.endReason}`),
        sent: countOf(after.sent, after.unit, t),
      }),
    );
  }
  return parts.length === 0 ? null : parts.join(' ');
}
