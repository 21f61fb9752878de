/**
 * What a run knows of each of its built-in workers (its slot), and two small helpers the run's parts share: the
 * preview of a task body shown in events, and the error code reported for a failure.
 */
import type { WorkerInfo } from '../../shared/protocol/index.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** Task bodies longer than this are shortened in events and summaries (the wire carries the whole body). */
export const BODY_PREVIEW_CHARS = 64;

export function preview(body: string): string {
  return body.length > BODY_PREVIEW_CHARS ? `${body.slice(0, BODY_PREVIEW_CHARS - 1)}…` : body;
}

export function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? 'PG_ERR_INTERNAL';
}

export interface WorkerSlot {
  info: WorkerInfo;
  handle: WorkerHandle | null;
  received: number;
  done: number;
  /** Its results the sink has collected. */
  collected: number;
  messages: string[];
  /** Tasks received and not yet done, oldest first (a worker works on one at a time). */
  working: number[];
  /**
   * Results the sink got before this worker's reports of their tasks reached the run (a worker in the in-process
   * workers' thread reports in batches), oldest first: collected once the worker's task:done is out, so that the
   * log keeps each task's order (received, done, collected).
   */
  resultsAhead: number[];
  /** Pipes this worker's own monitor saw shake hands (one per connection). */
  linkedPipes: number;
  /** connect() called and socket not closed: the ventilator may count this worker's pipes. */
  open: boolean;
  stopped: boolean;
  /** Tasks may have been lost with this worker (killed, removed, switched, or stopped at its "x"). */
  mayHaveLost: boolean;
  removed: boolean;
}

export function newSlot(info: WorkerInfo): WorkerSlot {
  return {
    info,
    handle: null,
    received: 0,
    done: 0,
    collected: 0,
    messages: [],
    working: [],
    resultsAhead: [],
    linkedPipes: 0,
    open: false,
    stopped: false,
    mayHaveLost: false,
    removed: false,
  };
}
