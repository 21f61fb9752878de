/**
 * The wire between server and browser, as TypeBox schemas: one schema gives the TypeScript type, the Fastify
 * route schema and the runtime check that also runs in the browser. Rules cited as [XX0] are in SPEC.md.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Bumped on every breaking change to any message below; `hello` carries it and the client compares. */
export const PROTOCOL_VERSION = 1;

/** Inclusive bounds of user-settable run parameters; the UI reads them too, so they live here. */
export const LIMITS = {
  intervalMs: { min: 0, max: 10_000 },
  tasks: { min: 1, max: 1_000_000 },
  payloadBytes: { min: 0, max: 65_536 },
  /** How long a finished batch waits for external peers to take their "x" and leave. */
  drainMs: { min: 0, max: 60_000 },
} as const;

export const Transport = Type.Union([Type.Literal('tcp'), Type.Literal('ipc'), Type.Literal('inproc')]);
export type Transport = Static<typeof Transport>;

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const Seq = Type.Integer({ minimum: 1 });
const Ms = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 0 });

// ---------------------------------------------------------------------------------------------------------------
// Parameters and descriptions of a playground

export const RunParams = Type.Object(
  {
    /** Pause after each send, as the tutorial's `sleep(1)`; 0 sends as fast as ZeroMQ accepts (a burst). */
    intervalMs: Type.Integer({ minimum: LIMITS.intervalMs.min, maximum: LIMITS.intervalMs.max }),
    /** false: no worker of ours connects; external peers (the tutorial's Python clients) take the messages. */
    builtInWorkers: Type.Boolean(),
    /** Batch scenario only: how many tasks the ventilator sends. */
    tasks: Type.Integer({ minimum: LIMITS.tasks.min, maximum: LIMITS.tasks.max }),
    /** Batch scenario only: bytes of padding in each task body. */
    payloadBytes: Type.Integer({ minimum: LIMITS.payloadBytes.min, maximum: LIMITS.payloadBytes.max }),
    /** After the last send, how long to wait for workers to finish and external peers to leave. */
    drainMs: Type.Integer({ minimum: LIMITS.drainMs.min, maximum: LIMITS.drainMs.max }),
  },
  { additionalProperties: false },
);
export type RunParams = Static<typeof RunParams>;

export const RunParamsPatch = Type.Partial(RunParams, { additionalProperties: false });
export type RunParamsPatch = Static<typeof RunParamsPatch>;

export const EndpointInfo = Type.Object({
  /** Name used by the scenario and the diagram ("tcp", "ipc"). */
  name: Id,
  transport: Transport,
  /** What the scenario asked for (the tutorial's own address by default). */
  requested: Type.String(),
  /** What the ventilator really bound, once it has; null before the first bind. */
  actual: Type.Union([Type.String(), Type.Null()]),
  /** Set when `actual` differs from `requested`, saying why (for instance, the port was taken). */
  note: Type.Optional(Type.String()),
});
export type EndpointInfo = Static<typeof EndpointInfo>;

export const WorkerInfo = Type.Object({
  id: Id,
  /** Name of the endpoint (see EndpointInfo.name) this worker connects to. */
  endpoint: Id,
  transport: Transport,
});
export type WorkerInfo = Static<typeof WorkerInfo>;

export const PlaygroundInfo = Type.Object({
  id: Id,
  scenario: Id,
  title: Type.String(),
  params: RunParams,
  endpoints: Type.Array(EndpointInfo),
  workers: Type.Array(WorkerInfo),
  /** Id of the run in progress, if any. */
  activeRun: Type.Union([Id, Type.Null()]),
  /** Highest seq stamped so far in this playground (0 before any event). */
  lastSeq: Count,
});
export type PlaygroundInfo = Static<typeof PlaygroundInfo>;

export const ScenarioInfo = Type.Object({
  id: Id,
  title: Type.String(),
  description: Type.String(),
  defaults: RunParams,
});
export type ScenarioInfo = Static<typeof ScenarioInfo>;

// ---------------------------------------------------------------------------------------------------------------
// Events: what the pipeline did. Every event carries the playground-wide gap-free `seq`, the run it belongs to
// and `t`, milliseconds since that run started (monotonic clock).

function event<K extends string, P extends Record<string, TSchema>>(type: K, props: P) {
  return Type.Object(
    { type: Type.Literal(type), seq: Seq, run: Id, t: Ms, ...props },
    { additionalProperties: false },
  );
}

/** ZeroMQ socket monitor event kinds we pass on (zeromq.js names). */
export const MonitorKind = Type.Union([
  Type.Literal('bind'),
  Type.Literal('bind:error'),
  Type.Literal('accept'),
  Type.Literal('accept:error'),
  Type.Literal('connect'),
  Type.Literal('connect:delay'),
  Type.Literal('connect:retry'),
  Type.Literal('handshake'),
  Type.Literal('handshake:error'),
  Type.Literal('disconnect'),
  Type.Literal('close'),
  Type.Literal('close:error'),
]);
export type MonitorKind = Static<typeof MonitorKind>;

export const RunEndReason = Type.Union([
  Type.Literal('completed'),
  Type.Literal('stopped'),
  Type.Literal('failed'),
]);
export type RunEndReason = Static<typeof RunEndReason>;

export const RunSummary = Type.Object({
  sent: Count,
  /** Tasks received per built-in worker id. */
  received: Type.Record(Type.String(), Count),
  /** Sent but not received by any built-in worker: taken by external peers, or lost with a closed pipe. */
  unattributed: Count,
  /** Most external peers connected at once during the run. */
  externalPeersMax: Count,
  durationMs: Ms,
});
export type RunSummary = Static<typeof RunSummary>;

export const VentilatorState = Type.Union([
  Type.Literal('idle'),
  Type.Literal('sending'),
  /** A send has been pending for a while: no peer to take it, or every pipe is full. */
  Type.Literal('blocked'),
]);
export type VentilatorState = Static<typeof VentilatorState>;

export const PlaygroundEvent = Type.Union([
  event('run:started', {
    scenario: Id,
    params: RunParams,
    endpoints: Type.Array(EndpointInfo),
    workers: Type.Array(WorkerInfo),
  }),
  /** The ventilator's PUSH socket now listens on one more endpoint (the same socket, as in the tutorial). */
  event('endpoint:bound', { endpoint: EndpointInfo }),
  /** A raw socket monitor event; `node` is "ventilator" or a worker id. */
  event('socket:event', {
    node: Id,
    kind: MonitorKind,
    address: Type.String(),
    interval: Type.Optional(Count),
    error: Type.Optional(Type.String()),
  }),
  /** A built-in worker called connect(); ZeroMQ connects (and retries) in the background. */
  event('worker:connecting', { worker: Id, address: Type.String() }),
  /** A built-in worker received its "x" (or the run ended) and closed its socket. */
  event('worker:stopped', { worker: Id, reason: Type.Union([Type.Literal('end-marker'), Type.Literal('run-ended')]) }),
  /** Peers we do not control, counted from the ventilator's monitor per endpoint. */
  event('peers:changed', { endpoint: Id, external: Count, builtIn: Count }),
  event('ventilator:state', { state: VentilatorState }),
  /** Send resolved: ZeroMQ queued the message on some pipe. PUSH cannot say which one. */
  event('task:sent', { task: Count, body: Type.String() }),
  /** A built-in worker's receive() returned this task: the only reliable attribution (zmq-facts section 7). */
  event('task:received', { task: Count, worker: Id, body: Type.String() }),
  event('node:error', { node: Id, code: Type.String(), message: Type.String() }),
  event('run:ended', { reason: RunEndReason, summary: RunSummary }),
]);
export type PlaygroundEvent = Static<typeof PlaygroundEvent>;
export type EventType = PlaygroundEvent['type'];
export type EventOfType<K extends EventType> = Extract<PlaygroundEvent, { type: K }>;
/** An event before the playground stamps seq, run and t. */
export type EventInput = PlaygroundEvent extends infer E
  ? E extends PlaygroundEvent
    ? Omit<E, 'seq' | 'run' | 't'>
    : never
  : never;

// ---------------------------------------------------------------------------------------------------------------
// Server -> client

export const Counters = Type.Object({
  run: Type.Union([Id, Type.Null()]),
  sent: Count,
  received: Type.Record(Type.String(), Count),
});
export type Counters = Static<typeof Counters>;

export const ErrorCode = Type.Union([
  Type.Literal('PG_ERR_BAD_JSON'),
  Type.Literal('PG_ERR_BAD_MESSAGE'),
  Type.Literal('PG_ERR_UNKNOWN_COMMAND'),
  Type.Literal('PG_ERR_VALIDATION'),
  Type.Literal('PG_ERR_NOT_FOUND'),
  Type.Literal('PG_ERR_RUN_ACTIVE'),
  Type.Literal('PG_ERR_NO_RUN'),
  Type.Literal('PG_ERR_LIMIT'),
  Type.Literal('PG_ERR_ENDPOINT'),
  Type.Literal('PG_ERR_INTERNAL'),
]);
export type ErrorCode = Static<typeof ErrorCode>;

export const ErrorBody = Type.Object({
  code: ErrorCode,
  message: Type.String(),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const ServerMessage = Type.Union([
  Type.Object(
    { type: Type.Literal('hello'), protocolVersion: Type.Integer(), playground: PlaygroundInfo },
    { additionalProperties: false },
  ),
  /**
   * A batch of events in seq order. At high rates task events are sampled: `dropped` says how many were left
   * out of this frame, and `counters` always carries the exact totals of the current run.
   */
  Type.Object(
    {
      type: Type.Literal('events'),
      events: Type.Array(PlaygroundEvent),
      dropped: Count,
      counters: Counters,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('playground:updated'), playground: PlaygroundInfo },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('error'), code: ErrorCode, message: Type.String(), command: Type.Optional(Type.String()) },
    { additionalProperties: false },
  ),
]);
export type ServerMessage = Static<typeof ServerMessage>;

// ---------------------------------------------------------------------------------------------------------------
// Client -> server

export const ClientCommand = Type.Union([
  /** Replay events after `sinceSeq` that the server still holds, then stream live ones. */
  Type.Object(
    { type: Type.Literal('subscribe'), sinceSeq: Type.Optional(Count) },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('run:start'), params: Type.Optional(RunParamsPatch) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('run:stop') }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('params:update'), params: RunParamsPatch },
    { additionalProperties: false },
  ),
]);
export type ClientCommand = Static<typeof ClientCommand>;
export type CommandType = ClientCommand['type'];

// ---------------------------------------------------------------------------------------------------------------
// HTTP bodies

/** One run as the HTTP API reports it, live or finished. */
export const RunDetail = Type.Object({
  id: Id,
  playground: Id,
  scenario: Id,
  params: RunParams,
  endpoints: Type.Array(EndpointInfo),
  workers: Type.Array(WorkerInfo),
  startedAt: Type.String({ description: 'ISO 8601' }),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([RunEndReason, Type.Null()]),
  /** Totals so far (live) or final (ended). */
  summary: RunSummary,
  /** Bodies each built-in worker received, in order (the first MESSAGES_KEPT_PER_WORKER of them). */
  messages: Type.Record(Type.String(), Type.Array(Type.String())),
  messagesTruncated: Type.Boolean(),
});
export type RunDetail = Static<typeof RunDetail>;

/** How many received bodies per worker a run keeps in memory for its summary. */
export const MESSAGES_KEPT_PER_WORKER = 1000;

export const CreatePlaygroundBody = Type.Object(
  { scenario: Type.Optional(Id), params: Type.Optional(RunParamsPatch) },
  { additionalProperties: false },
);
export type CreatePlaygroundBody = Static<typeof CreatePlaygroundBody>;

export const StartRunBody = Type.Object({ params: Type.Optional(RunParamsPatch) }, { additionalProperties: false });
export type StartRunBody = Static<typeof StartRunBody>;
