/**
 * The run's socket and endpoint event log: the lines of the events folded (log-lines.ts), newest first, at most
 * LOG_SIZE. Lines keep their words as keys and parameters; EventLog.svelte says them in the page's language.
 * Lost tasks are listed one line per worker per frame, not one per task.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';
import { logLine, lostLine, type LogLine } from './log-lines.ts';

/** Socket and endpoint events kept in the log. */
export const LOG_SIZE = 200;

/** One line of the log, with the event's seq and time. */
export interface LogEntry extends LogLine {
  seq: number;
  t: number;
}

export class EventLog {
  /** Newest first. */
  entries = $state.raw<LogEntry[]>([]);

  /** Lines of the frame being folded, in the order the events came. */
  #frame: LogEntry[] = [];
  /** task:lost events of the frame per worker ("unknown" when unsure), listed as one line each. */

  #lost = new Map<string, { n: number; seq: number; t: number }>();

  /** Empties the log (a new run, another playground). */
  clear(): void {
    this.entries = [];
    this.#frame = [];
    this.#lost.clear();
  }

  /** Takes an event of the current run into the frame being folded. */
  add(event: PlaygroundEvent): void {
    if (event.type === 'task:lost') {
      const who = event.worker ?? 'unknown';
      const seen = this.#lost.get(who);
      if (seen) seen.n++;
      else this.#lost.set(who, { n: 1, seq: event.seq, t: event.t });
      return;
    }
    const line = logLine(event);
    if (line) this.#frame.push({ ...line, seq: event.seq, t: event.t });
  }

  /** Puts the frame's lines at the top of the log. */
  flush(): void {
    const lines = this.#frame;
    for (const [who, lost] of this.#lost) lines.push({ ...lostLine(who, lost.n), seq: lost.seq, t: lost.t });
    this.#frame = [];
    this.#lost.clear();
    if (lines.length === 0) return;
    lines.sort((a, b) => a.seq - b.seq);
    this.entries = lines.reverse().concat(this.entries).slice(0, LOG_SIZE);
  }
}
