/**
 * Pure pieces of the run state: link transitions, what external peers took, how a finished run reads in words.
 * The reactive RunState (run-state.svelte.ts) calls these; tests call them directly.
 */
import type { MonitorKind, RunEndReason, RunSummary } from '../../shared/protocol/index.ts';

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
export function linkLabel(state: LinkState): string {
  switch (state) {
    case 'idle':
      return 'not started';
    case 'connecting':
      return 'connecting…';
    case 'retrying':
      return 'retrying (endpoint not there yet)';
    case 'connected':
      return 'connected';
    case 'disconnected':
      return 'disconnected';
    case 'stopped':
      return 'stopped';
  }
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

/** "1 message", "3 messages". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What summarySentence needs about a finished run. */
export interface SummaryInput {
  reason: RunEndReason;
  summary: RunSummary;
  /** Built-in worker ids in display order. */
  workers: readonly string[];
  builtInWorkers: boolean;
}

/** One or two sentences telling what the finished run shows. */
export function summarySentence({ reason, summary, workers, builtInWorkers }: SummaryInput): string {
  const parts: string[] = [];
  if (reason === 'stopped') parts.push(`You stopped the run after ${plural(summary.sent, 'message')}.`);
  if (reason === 'failed') parts.push('The run failed: the event log shows the error.');

  if (summary.sent === 0) {
    parts.push(
      builtInWorkers
        ? 'Nothing was sent.'
        : 'Nothing was sent: a PUSH socket with no connected peer blocks on send until someone connects.',
    );
    return parts.join(' ');
  }

  if (builtInWorkers && workers.length > 0) {
    const shares = workers.map((w) => `${w} got ${summary.received[w] ?? 0}`);
    const busy = workers.filter((w) => (summary.received[w] ?? 0) > 0).length;
    if (busy > 1) {
      parts.push(
        `ZeroMQ round-robined the ${plural(summary.sent, 'message')} among the peers connected at each send: ${shares.join(', ')}.`,
      );
    } else {
      parts.push(`${shares.join(', ')}: only one peer was connected when the messages went out, so it took them all.`);
    }
  }

  if (summary.unattributed > 0) {
    parts.push(
      summary.externalPeersMax > 0
        ? `${plural(summary.unattributed, 'message')} went to peers we do not control (up to ${summary.externalPeersMax} connected at once): PUSH treats them like any other peer.`
        : `${plural(summary.unattributed, 'message')} ${summary.unattributed === 1 ? 'was' : 'were'} sent but never received by a worker: queued for a peer that closed, and lost with its pipe.`,
    );
  } else if (builtInWorkers) {
    parts.push('Every message reached exactly one worker.');
  }
  return parts.join(' ');
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
