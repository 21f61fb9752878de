/**
 * What the patterns page draws and says of a graph run, as the session (graph-session.svelte.ts) keeps it: a dot
 * per delivery, a mark per drop, ZeroMQ's refusals, the happenings the text twin's live region speaks, and how
 * long and how many of each are kept. Apart from the session so that the diagram, the text twin and the texts
 * can import this vocabulary without the connection, and so that the session file stays about the connection.
 */
import type { DropReason, RefusalReason } from '../../shared/protocol/index.ts';

/** How long a dot takes to fly from sender to receiver (ms). */
export const FLIGHT_MS = 700;
/** How long a drop's mark stays (ms). */
export const DROP_MARK_MS = 2500;
/** Dots drawn at once at most: at a burst's rate the counters tell the numbers, the dots only the direction. */
export const MAX_FLIGHTS = 120;
/** Drop marks drawn at once at most. */
export const MAX_DROP_MARKS = 40;
/** News kept for the live region between two sentences (a burst is said as counts, so the oldest can go). */
export const MAX_NEWS = 2000;

export interface Flight {
  key: number;
  from: string;
  to: string;
  body: string;
  /** performance.now() when it was received (the dot lands then; it flies for FLIGHT_MS from there). */
  born: number;
}

export interface DropMark {
  key: number;
  /** Where it was dropped (the publisher that filtered it). */
  node: string;
  /** For whom, when known. */
  peer: string | null;
  reason: DropReason;
  born: number;
}

export interface Refusal {
  node: string;
  peer: string | null;
  reason: RefusalReason;
  code?: string;
  detail: string;
}

/** What happened lately, for the text twin's live region (said in the page's language by the component). */
export type Happening =
  | { kind: 'received'; node: string; from: string | null; body: string }
  | { kind: 'dropped'; node: string; peer: string | null; reason: DropReason }
  | { kind: 'refused'; node: string; peer: string | null; reason: RefusalReason }
  | { kind: 'started'; run: string }
  | { kind: 'ended'; run: string; reason: string }
  /** A visitor killed, hung or resumed a node (graph-signals.ts on the server). */
  | { kind: 'process'; node: string; action: 'killed' | 'hung' | 'resumed' }
  /** At the end: a requester left waiting for a reply lost with a killed node (null: one of several). */
  | { kind: 'replyLost'; node: string; killed: string | null }
  /** A visitor changed a node's pace, or moved a link to another transport (graph-pace.ts, graph-move.ts). */
  | LiveEdit;

/** What a visitor's live edit did, as the run's events say it (node:paced, link:moved). */
export type LiveEdit =
  | { kind: 'paced'; node: string; pace: 'interval' | 'work'; ms: number }
  | {
      kind: 'moved';
      node: string;
      from: string;
      to: string;
      transport: string;
      previous: string;
      address: string;
      lost: number;
    };
