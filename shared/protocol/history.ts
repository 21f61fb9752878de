/**
 * Recorded runs: the shapes of the history API (`/api/runs*`) and of the versioned export document, plus the
 * import check. Pure (no node:*, no DOM): the browser can check a file before uploading it. Rules cited as [R*]
 * are in SPEC.md.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { checkEvent, describeErrors } from './codec.ts';
import {
  EndpointInfo,
  type Counters,
  RunEndReason,
  RunParams,
  RunSummary,
  WorkerInfo,
  type PlaygroundEvent,
} from './schema.ts';

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

/** One row of the history list. */
export const RecordedRun = Type.Object(
  {
    id: Id,
    name: RunName,
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
    source: Type.Union([Type.Literal('live'), Type.Literal('imported')]),
  },
  { additionalProperties: false },
);
export type RecordedRun = Static<typeof RecordedRun>;

/** One run with everything needed to draw it before any event is fetched. */
export const RecordedRunDetail = Type.Composite(
  [
    RecordedRun,
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
  /** The database file, or ":memory:". */
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
    Type.Omit(RecordedRunDetail, ['status', 'source']),
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

export type ImportCheck = { ok: true; value: RunExport } | { ok: false; message: string };

const exportedRunChecker: TypeCheck<TSchema> = TypeCompiler.Compile(ExportedRun);

function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  return (JSON.stringify(value) ?? String(value)).slice(0, 60);
}

/**
 * Checks a parsed export document: format, version, run metadata, then every event through the shared codec,
 * in order, stopping at the first problem [R6]. Messages name what is wrong and where, for a person to act on.
 */
export function checkRunExport(value: unknown): ImportCheck {
  const fail = (message: string): ImportCheck => ({ ok: false, message });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('Not a run export: expected a JSON object with "format", "version", "run" and "events".');
  }
  const doc = value as Record<string, unknown>;
  if (doc.format !== RUN_EXPORT_FORMAT) {
    return fail(`Not a ZeroMQ Pipeline Playground run: "format" is ${shown(doc.format)}, expected "${RUN_EXPORT_FORMAT}".`);
  }
  if (typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 1) {
    return fail(`"version" must be a positive integer (got ${shown(doc.version)}).`);
  }
  if (doc.version > RUN_EXPORT_VERSION) {
    return fail(
      `This run was exported in format version ${doc.version}, which is newer than this server reads ` +
        `(version ${RUN_EXPORT_VERSION}). Import it with a newer version of the playground.`,
    );
  }
  const unknownKey = Object.keys(doc).find((key) => !['format', 'version', 'exportedAt', 'run', 'events'].includes(key));
  if (unknownKey !== undefined) return fail(`Unknown top-level field "${unknownKey.slice(0, 40)}" in a version ${doc.version} export.`);
  if (typeof doc.exportedAt !== 'string') return fail(`"exportedAt" must be a date string (got ${shown(doc.exportedAt)}).`);
  if (!exportedRunChecker.Check(doc.run)) return fail(`run: ${describeErrors(exportedRunChecker, doc.run)}.`);
  const run = doc.run as ExportedRun;
  if (!Array.isArray(doc.events)) return fail(`"events" must be an array (got ${shown(doc.events)}).`);
  const events = doc.events as unknown[];
  if (events.length !== run.eventCount) {
    return fail(
      `The file is truncated or was edited: run.eventCount is ${run.eventCount} but it holds ${events.length} events.`,
    );
  }
  if (events.length === 0) return fail('The file holds no events; a recorded run has at least its run:started event.');
  let previousSeq = 0;
  let previousT = 0;
  /** Index of run:ended; a few monitor events (a late disconnect) may follow it. */
  let endedAt = -1;
  for (let i = 0; i < events.length; i++) {
    const checked = checkEvent(events[i]);
    const seq = (events[i] as { seq?: unknown } | null)?.seq;
    const where = `events[${i}]${typeof seq === 'number' ? ` (seq ${seq})` : ''}`;
    if (!checked.ok) return fail(`${where}: ${checked.message}`);
    const event = checked.value;
    if (event.run !== run.id) return fail(`${where} belongs to run "${event.run}", not to the exported run "${run.id}".`);
    if (i === 0 && event.type !== 'run:started') return fail(`events[0] must be run:started (got ${event.type}).`);
    if (i > 0 && event.type === 'run:started') return fail(`${where}: a second run:started inside one run.`);
    if (i > 0 && event.seq <= previousSeq) {
      return fail(`${where}: seq ${event.seq} is not greater than the previous seq ${previousSeq}; events must be in strictly increasing seq order.`);
    }
    if (event.t < previousT) return fail(`${where}: t ${event.t} is earlier than the previous event's t ${previousT}.`);
    if (event.type === 'run:ended') {
      if (endedAt >= 0) return fail(`${where}: a second run:ended (the first is events[${endedAt}]).`);
      endedAt = i;
    }
    previousSeq = event.seq;
    previousT = event.t;
  }
  const first = events[0] as PlaygroundEvent;
  const last = events[events.length - 1] as PlaygroundEvent;
  if (run.firstSeq !== first.seq || run.lastSeq !== last.seq) {
    return fail(`run.firstSeq/lastSeq (${run.firstSeq}..${run.lastSeq}) do not match the events (${first.seq}..${last.seq}).`);
  }
  if (run.status === 'ended' && endedAt < 0) {
    return fail(`run.status is "ended" but the events stop before run:ended (last is ${last.type} at seq ${last.seq}): truncated?`);
  }
  return { ok: true, value: doc as unknown as RunExport };
}
