/**
 * Recorded runs: the shapes of the history API (`/api/runs*`) and of the versioned export document, plus the
 * import check. Pure (no node:*, no DOM): the browser can check a file before uploading it. Rules cited as [R*]
 * are in SPEC.md.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { checkEvent, describeErrors, firstProblem } from './codec.ts';
import { english, text, type ServerText } from './server-text.ts';
import { addTaskEvent, emptyTaskCounts, type TaskCounts } from './task-counts.ts';
import {
  EndpointInfo,
  type Counters,
  RunEndReason,
  RunParams,
  RunSummary,
  WorkerInfo,
  type PlaygroundEvent,
} from './schema.ts';
import { GraphSummary } from './graph.ts';

/** The `format` field of every run export; anything else is a foreign file. */
export const RUN_EXPORT_FORMAT = 'zmq-pipeline-playground/run';
/** The newest export version this code reads and the one it writes [R5]. */
export const RUN_EXPORT_VERSION = 1;
/** Most events one `GET /api/runs/:id/events` returns. */
export const MAX_EVENT_WINDOW = 5000;
/** Most runs one `GET /api/runs` page returns. */
export const MAX_RUN_PAGE = 200;

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const Count = Type.Integer({ minimum: 0 });
const Ms = Type.Number({ minimum: 0 });
const IsoDate = Type.String({ minLength: 10, maxLength: 40, description: 'ISO 8601, UTC' });

/** running: being recorded now; ended: run:ended stored; incomplete: the server stopped (or lost events) before that. */
export const RunStatus = Type.Union([Type.Literal('running'), Type.Literal('ended'), Type.Literal('incomplete')]);
export type RunStatus = Static<typeof RunStatus>;

export const RunName = Type.String({ minLength: 1, maxLength: 100 });

/**
 * What the server's own name for a run is made of (`name` is it in English: "<title> #<n>"), so a page can say it
 * in its language: the scenario, the lesson the run was recorded in, and the run's number among them. Absent once
 * someone renamed the run, and for imports (their name is kept as it came).
 */
export const RunDefaultName = Type.Object(
  {
    scenario: Id,
    lesson: Type.Optional(Id),
    n: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type RunDefaultName = Static<typeof RunDefaultName>;

/** One row of the history list. */
export const RecordedRun = Type.Object(
  {
    id: Id,
    name: RunName,
    /** The parts of `name` while it is the server's own (see RunDefaultName). */
    defaultName: Type.Optional(RunDefaultName),
    playground: Id,
    scenario: Id,
    startedAt: IsoDate,
    endedAt: Type.Union([IsoDate, Type.Null()]),
    /** The timeline's length: the greater of summary.durationMs and the last stored event's t. */
    durationMs: Ms,
    status: RunStatus,
    reason: Type.Union([RunEndReason, Type.Null()]),
    /**
     * The run:ended summary. For an incomplete run, counts rebuilt from its stored events (durationMs = last t);
     * null while running.
     */
    summary: Type.Union([RunSummary, Type.Null()]),
    eventCount: Count,
    /** seq of the first and last stored event (seq is playground-wide, so a run rarely starts at 1); 0 if none. */
    firstSeq: Count,
    lastSeq: Count,
    /** Events the recorder could not store (write error or overload); > 0 makes the run incomplete. */
    lostEvents: Count,
    workers: Type.Array(WorkerInfo),
    /**
     * The run's parameters (tasks, interval, synchronised start...), so a list can compare like with like (the
     * batch-time chart). Always in a detail; in a list from this server too.
     */
    params: Type.Optional(RunParams),
    source: Type.Union([Type.Literal('live'), Type.Literal('imported')]),
    /** Its owner let anyone who has its id read it (`?run=<id>`), read-only. */
    public: Type.Optional(Type.Boolean()),
    /** The run is the caller's: it may rename, publish and delete it (said when the server knows the caller). */
    owned: Type.Optional(Type.Boolean()),
    /**
     * 'graph': recorded by a graph playground (issue 11; graph-history.ts): its events are graph events, `summary`
     * is null, `workers` empty and its books are in `graphSummary`. Absent: a pipeline run, as before.
     */
    kind: Type.Optional(Type.Literal('graph')),
    /** A graph run's books (graph:ended's summary); null while it runs and for a run that never ended. */
    graphSummary: Type.Optional(Type.Union([GraphSummary, Type.Null()])),
  },
  { additionalProperties: false },
);
export type RecordedRun = Static<typeof RecordedRun>;

/** One run with everything needed to draw it before any event is fetched. */
export const RecordedRunDetail = Type.Composite(
  [
    Type.Omit(RecordedRun, ['params', 'kind', 'graphSummary']),
    Type.Object({
      params: RunParams,
      endpoints: Type.Array(EndpointInfo),
      /** PROTOCOL_VERSION the stored events were written with. */
      protocolVersion: Type.Integer({ minimum: 1 }),
    }),
  ],
  { additionalProperties: false },
);
export type RecordedRunDetail = Static<typeof RecordedRunDetail>;

/** `GET /api/runs` */
export interface RunPage {
  runs: RecordedRun[];
  /** Pass as `before` to get the next (older) page; null on the last page. */
  nextBefore: string | null;
  /** Runs stored in all. */
  total: number;
}

/** `GET /api/runs/:id/events` */
export interface EventWindow {
  run: string;
  events: PlaygroundEvent[];
  /** The seq to ask for next (`fromSeq`) when the window was cut by `limit`; null when the range is exhausted. */
  nextSeq: number | null;
}

/** `GET /api/runs/:id/counters?t=` : the run's exact counters as they stood at time t (events with t' <= t). */
export type RunCountersAt = Omit<Counters, 'run'> & {
  run: string;
  t: number;
  /** Highest seq with event.t <= t (0 if none). */
  lastSeq: number;
};

/** `GET /api/recording` : is recording healthy? */
export interface RecordingStatus {
  enabled: boolean;
  /** The database file's name (not where it is: that is the operator's), or ":memory:". */
  path: string | null;
  recordedEvents: number;
  flushes: number;
  writeErrors: number;
  droppedEvents: number;
  lastError: { message: string; at: string } | null;
}

/** The `run` part of an export: a finished (or incomplete) run's metadata. */
export const ExportedRun = Type.Composite(
  [
    Type.Omit(RecordedRunDetail, ['status', 'source', 'public', 'owned', 'defaultName']),
    Type.Object({ status: Type.Union([Type.Literal('ended'), Type.Literal('incomplete')]) }),
  ],
  { additionalProperties: false },
);
export type ExportedRun = Static<typeof ExportedRun>;

/** The export document, version 1 [R5]. `events` are in strictly increasing seq order. */
export interface RunExport {
  format: typeof RUN_EXPORT_FORMAT;
  version: typeof RUN_EXPORT_VERSION;
  exportedAt: string;
  run: ExportedRun;
  events: PlaygroundEvent[];
}

/**
 * The first count of `summary` that its events do not add up to, or null. Not `lost`: a run sends a task:lost for
 * its first 10,000 lost tasks only (LOST_EVENTS_MAX, server/pipeline/run.ts), and its summary counts them all.
 */
function summaryDisagreement(
  summary: RunSummary,
  tally: TaskCounts,
): { field: string; summary: number; events: number } | null {
  if (summary.sent !== tally.sent) return { field: 'sent', summary: summary.sent, events: tally.sent };
  if (summary.collected !== tally.collected)
    return { field: 'collected', summary: summary.collected, events: tally.collected };
  for (const kind of ['received', 'done'] as const) {
    const counted = tally[kind];
    for (const worker of new Set([...Object.keys(summary[kind]), ...Object.keys(counted)])) {
      const said = summary[kind][worker] ?? 0;
      const seen = Object.hasOwn(counted, worker) ? counted[worker]! : 0;
      if (said !== seen) return { field: `${kind}.${worker.slice(0, 40)}`, summary: said, events: seen };
    }
  }
  return null;
}

/** The first count where run.summary and the run:ended event's summary differ, or null. */
function summariesDisagree(
  run: RunSummary,
  ended: RunSummary,
): { field: string; summary: number; events: number } | null {
  for (const field of ['sent', 'collected', 'lost'] as const) {
    if (run[field] !== ended[field])
      return { field: `run.summary.${field}`, summary: run[field], events: ended[field] };
  }
  for (const kind of ['received', 'done'] as const) {
    for (const worker of new Set([...Object.keys(run[kind]), ...Object.keys(ended[kind])])) {
      if ((run[kind][worker] ?? 0) !== (ended[kind][worker] ?? 0)) {
        return {
          field: `run.summary.${kind}.${worker.slice(0, 40)}`,
          summary: run[kind][worker] ?? 0,
          events: ended[kind][worker] ?? 0,
        };
      }
    }
  }
  return null;
}

/** Why an export document was refused: `text` for a page to say in its language, `message` in English. */
export type ImportFailure = { ok: false; message: string; text: ServerText };
export type ImportCheck = { ok: true; value: RunExport } | ImportFailure;

/** An import refusal for `reason`, in English unless a longer `message` is given. */
export const importFailure = (reason: ServerText, message = english(reason)): ImportFailure => ({
  ok: false,
  message,
  text: reason,
});

const exportedRunChecker: TypeCheck<TSchema> = TypeCompiler.Compile(ExportedRun);

function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  return (JSON.stringify(value) ?? String(value)).slice(0, 60);
}

/**
 * The checks every kind of export document shares (a pipeline run's here, a graph run's in graph-history.ts):
 * an object of `format`, a version from 1 to `version`, no field a version-1 document does not have, exportedAt,
 * `run` as `runChecker` wants it, and as many events as run.eventCount says, at least one. The events themselves
 * are the caller's to check: each kind has its own.
 */
export function checkExportEnvelope<Run extends { eventCount: number }>(
  value: unknown,
  format: string,
  version: number,
  runChecker: TypeCheck<TSchema>,
): { ok: true; doc: Record<string, unknown>; run: Run; events: unknown[] } | ImportFailure {
  const fail = importFailure;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(text('import.notObject'));
  const doc = value as Record<string, unknown>;
  if (doc.format !== format) return fail(text('import.format', { got: shown(doc.format), expected: format }));
  if (typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 1) {
    return fail(text('import.version', { got: shown(doc.version) }));
  }
  if (doc.version > version) return fail(text('import.newer', { version: doc.version, known: version }));
  const unknownKey = Object.keys(doc).find(
    (key) => !['format', 'version', 'exportedAt', 'run', 'events'].includes(key),
  );
  if (unknownKey !== undefined)
    return fail(text('import.unknownField', { name: unknownKey.slice(0, 40), version: doc.version }));
  if (typeof doc.exportedAt !== 'string') return fail(text('import.exportedAt', { got: shown(doc.exportedAt) }));
  if (!runChecker.Check(doc.run)) {
    return fail(
      text('import.run', { problem: firstProblem(runChecker, doc.run) }),
      `run: ${describeErrors(runChecker, doc.run)}.`,
    );
  }
  const run = doc.run as Run;
  if (!Array.isArray(doc.events)) return fail(text('import.eventsNotArray', { got: shown(doc.events) }));
  const events = doc.events as unknown[];
  if (events.length !== run.eventCount)
    return fail(text('import.truncated', { expected: run.eventCount, count: events.length }));
  if (events.length === 0) return fail(text('import.noEvents'));
  return { ok: true, doc, run, events };
}

/**
 * An export's event `i` through the shared codec, with where it stands (`events[i] (seq n)`) for the messages about
 * it. Both kinds of export check their events so.
 */
export function decodeExportedEvent(
  raw: unknown,
  i: number,
): { ok: true; event: PlaygroundEvent; where: string } | ImportFailure {
  const checked = checkEvent(raw);
  const seq = (raw as { seq?: unknown } | null)?.seq;
  const where = `events[${i}]${typeof seq === 'number' ? ` (seq ${seq})` : ''}`;
  if (!checked.ok)
    return importFailure(text('import.badEvent', { where, problem: checked.text }), `${where}: ${checked.message}`);
  return { ok: true, event: checked.value, where };
}

/** Whether an export's event `i` breaks the order: seq strictly increasing, t never decreasing. Null when not. */
export function eventOrderProblem(
  event: PlaygroundEvent,
  i: number,
  where: string,
  previousSeq: number,
  previousT: number,
): ImportFailure | null {
  if (i > 0 && event.seq <= previousSeq)
    return importFailure(text('import.seqOrder', { where, seq: event.seq, previous: previousSeq }));
  if (event.t < previousT) return importFailure(text('import.timeOrder', { where, t: event.t, previous: previousT }));
  return null;
}

/** Whether run.firstSeq and run.lastSeq are not the seq of the export's first and last events. Null when they are. */
export function seqRangeProblem(
  run: { firstSeq: number; lastSeq: number },
  first: PlaygroundEvent,
  last: PlaygroundEvent,
): ImportFailure | null {
  if (run.firstSeq === first.seq && run.lastSeq === last.seq) return null;
  return importFailure(
    text('import.seqRange', { first: run.firstSeq, last: run.lastSeq, eventsFirst: first.seq, eventsLast: last.seq }),
  );
}

/**
 * Checks a parsed export document: format, version, run metadata, then every event through the shared codec,
 * in order, stopping at the first problem [R6]. Messages name what is wrong and where, for a person to act on.
 */
export function checkRunExport(value: unknown): ImportCheck {
  const fail = importFailure;
  const envelope = checkExportEnvelope<ExportedRun>(value, RUN_EXPORT_FORMAT, RUN_EXPORT_VERSION, exportedRunChecker);
  if (!envelope.ok) return envelope;
  const { doc, run, events } = envelope;
  let previousSeq = 0;
  let previousT = 0;
  /** Index of run:ended; a few monitor events (a late disconnect) may follow it. */
  let endedAt = -1;
  /** What the events say, to hold the summary against (in any order: a result may overtake its receipt). */
  const tally = emptyTaskCounts();
  for (let i = 0; i < events.length; i++) {
    const decoded = decodeExportedEvent(events[i], i);
    if (!decoded.ok) return decoded;
    const { event, where } = decoded;
    if (event.run !== run.id) return fail(text('import.otherRun', { where, run: event.run, exported: run.id }));
    if (i === 0 && event.type !== 'run:started') return fail(text('import.firstNotStarted', { type: event.type }));
    if (i > 0 && event.type === 'run:started') return fail(text('import.secondStarted', { where }));
    const disorder = eventOrderProblem(event, i, where, previousSeq, previousT);
    if (disorder) return disorder;
    if (event.type === 'run:ended') {
      if (endedAt >= 0) return fail(text('import.secondEnded', { where, first: endedAt }));
      endedAt = i;
    }
    previousSeq = event.seq;
    previousT = event.t;
    addTaskEvent(tally, event);
  }
  const first = events[0] as PlaygroundEvent;
  const last = events[events.length - 1] as PlaygroundEvent;
  const range = seqRangeProblem(run, first, last);
  if (range) return range;
  if (run.status === 'ended' && endedAt < 0)
    return fail(text('import.endedWithoutEnd', { type: last.type, seq: last.seq }));
  // A complete run's summary is what its events add up to; a file where they disagree was edited or damaged. (An
  // incomplete run lost events: its summary may count more than its file holds.)
  if (run.status === 'ended' && run.lostEvents === 0) {
    const ended = (events[endedAt] as Extract<PlaygroundEvent, { type: 'run:ended' }>).summary;
    const disagreement =
      summaryDisagreement(ended, tally) ?? (run.summary ? summariesDisagree(run.summary, ended) : null);
    if (disagreement) return fail(text('import.summaryMismatch', disagreement));
  }
  return { ok: true, value: doc as unknown as RunExport };
}
