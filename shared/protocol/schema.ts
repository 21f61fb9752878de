/**
 * (Over 400 lines on purpose: the pipeline's whole wire in one file, so that each union and the parts it is made of
 * are read and changed together; the graph engine's schemas are in graph.ts.)
 *
 * The wire between server and browser, as TypeBox schemas: one schema gives the TypeScript type, the Fastify
 * route schema and the runtime check that also runs in the browser. Rules cited as [XX0] are in SPEC.md.
 */
import { ServerTextSchema } from './server-text.ts';
import { GRAPH_EVENTS } from './graph.ts';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Bumped on every breaking change to any message below; `hello` carries it and the client compares. */
export const PROTOCOL_VERSION = 1;

/** Inclusive bounds of user-settable run parameters; the UI reads them too, so they live here. */
export const LIMITS = {
  intervalMs: { min: 0, max: 10_000 },
  tasks: { min: 1, max: 1_000_000 },
  payloadBytes: { min: 0, max: 65_536 },
  /** After the last send: how long without progress (a receipt, a result) before the run ends. */
  drainMs: { min: 0, max: 60_000 },
  workMs: { min: 0, max: 60_000 },
  connections: { min: 1, max: 4 },
  highWaterMark: { min: 0, max: 1_000_000 },
  /** Kernel socket buffers in bytes; 0 keeps the OS default. */
  bufferBytes: { min: 0, max: 16 * 1024 * 1024 },
  lingerMs: { min: -1, max: 60_000 },
  heartbeatMs: { min: 0, max: 60_000 },
} as const;

/** Workers per playground unless the operator sets another limit. */
export const DEFAULT_MAX_WORKERS = 32;

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
    /** After the last send, how long without progress before the run ends (remaining tasks count as lost). */
    drainMs: Type.Integer({ minimum: LIMITS.drainMs.min, maximum: LIMITS.drainMs.max }),
    /**
     * Wait until every worker present at the start has shaken hands before the first send (the zguide's fix
     * for the slow joiner); false starts at once and the first worker to connect takes almost everything.
     */
    syncStart: Type.Boolean(),
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
  /** Set when `actual` differs from `requested`, saying why (for instance, the port was taken); English. */
  note: Type.Optional(Type.String()),
  /** The same note as a key and parameters, for the page to say in its language (server-text.ts). */
  noteText: Type.Optional(ServerTextSchema),
});
export type EndpointInfo = Static<typeof EndpointInfo>;

const Range = (limits: { min: number; max: number }) =>
  Type.Object(
    {
      min: Type.Integer({ minimum: limits.min, maximum: limits.max }),
      max: Type.Integer({ minimum: limits.min, maximum: limits.max }),
    },
    { additionalProperties: false },
  );

/** Simulated work per task in ms, drawn uniformly from [min, max] (the zguide's workers use 1-100). */
export const WorkMs = Range(LIMITS.workMs);
export type WorkMs = Static<typeof WorkMs>;

/** in-process: a socket in the server's own process; process: its own OS process (can be killed, hung). */
export const WorkerMode = Type.Union([Type.Literal('in-process'), Type.Literal('process')]);
export type WorkerMode = Static<typeof WorkerMode>;

export const WorkerState = Type.Union([
  /** Configured; sockets exist only during a run. */
  Type.Literal('idle'),
  Type.Literal('starting'),
  Type.Literal('connecting'),
  Type.Literal('connected'),
  /** Process stopped with SIGSTOP: ZeroMQ keeps routing to it until heartbeats (if on) drop it. */
  Type.Literal('hung'),
  Type.Literal('killed'),
  /** Stopped reading (its "x", or the run ended). */
  Type.Literal('stopped'),
]);
export type WorkerState = Static<typeof WorkerState>;

export const WorkerInfo = Type.Object({
  id: Id,
  /** Name of the endpoint (see EndpointInfo.name) this worker connects to. */
  endpoint: Id,
  transport: Transport,
  mode: WorkerMode,
  workMs: WorkMs,
  /** How many times it connects to the endpoint: each connection is one more pipe in the round-robin. */
  connections: Type.Integer({ minimum: LIMITS.connections.min, maximum: LIMITS.connections.max }),
  state: WorkerState,
  pid: Type.Union([Type.Integer(), Type.Null()]),
});
export type WorkerInfo = Static<typeof WorkerInfo>;

export const NewWorker = Type.Object(
  {
    transport: Type.Optional(Transport),
    mode: Type.Optional(WorkerMode),
    workMs: Type.Optional(WorkMs),
    connections: Type.Optional(Type.Integer({ minimum: LIMITS.connections.min, maximum: LIMITS.connections.max })),
  },
  { additionalProperties: false },
);
export type NewWorker = Static<typeof NewWorker>;

export const WorkerPatch = Type.Object(
  { transport: Type.Optional(Transport), workMs: Type.Optional(WorkMs) },
  { additionalProperties: false },
);
export type WorkerPatch = Static<typeof WorkerPatch>;

export const WorkerSignal = Type.Union([
  Type.Literal('kill'),
  Type.Literal('stop'),
  Type.Literal('cont'),
  Type.Literal('restart'),
]);
export type WorkerSignal = Static<typeof WorkerSignal>;

export const SinkInfo = Type.Object({
  enabled: Type.Boolean(),
  transport: Transport,
  /** The address the sink bound during the last run, or null. */
  address: Type.Union([Type.String(), Type.Null()]),
});
export type SinkInfo = Static<typeof SinkInfo>;

export const SinkPatch = Type.Object(
  { enabled: Type.Optional(Type.Boolean()), transport: Type.Optional(Transport) },
  { additionalProperties: false },
);
export type SinkPatch = Static<typeof SinkPatch>;

const Hwm = Type.Integer({ minimum: LIMITS.highWaterMark.min, maximum: LIMITS.highWaterMark.max });
const Buffer = Type.Integer({ minimum: LIMITS.bufferBytes.min, maximum: LIMITS.bufferBytes.max });
const Heartbeat = Type.Integer({ minimum: LIMITS.heartbeatMs.min, maximum: LIMITS.heartbeatMs.max });

/** Socket options per role. All are set before bind/connect; see zmq-facts sections 3 and 4. */
export const SocketOptions = Type.Object(
  {
    ventilator: Type.Object(
      {
        sendHighWaterMark: Hwm,
        sendBufferSize: Buffer,
        linger: Type.Integer({ minimum: LIMITS.lingerMs.min, maximum: LIMITS.lingerMs.max }),
        /** ZMTP heartbeats: a hung peer is dropped after heartbeatTimeout ms without an answer; 0 = off. */
        heartbeatInterval: Heartbeat,
        heartbeatTimeout: Heartbeat,
      },
      { additionalProperties: false },
    ),
    worker: Type.Object(
      {
        receiveHighWaterMark: Hwm,
        receiveBufferSize: Buffer,
        /** The workers' PUSH to the sink queues only on completed connections. */
        sinkImmediate: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    sink: Type.Object({ receiveHighWaterMark: Hwm, receiveBufferSize: Buffer }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type SocketOptions = Static<typeof SocketOptions>;

export const SocketOptionsPatch = Type.Object(
  {
    ventilator: Type.Optional(Type.Partial(SocketOptions.properties.ventilator, { additionalProperties: false })),
    worker: Type.Optional(Type.Partial(SocketOptions.properties.worker, { additionalProperties: false })),
    sink: Type.Optional(Type.Partial(SocketOptions.properties.sink, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type SocketOptionsPatch = Static<typeof SocketOptionsPatch>;

/** libzmq's defaults, read back from fresh sockets (zmq-facts section 0), except linger (never hang at exit). */
export const DEFAULT_SOCKET_OPTIONS: SocketOptions = {
  ventilator: { sendHighWaterMark: 1000, sendBufferSize: 0, linger: 1000, heartbeatInterval: 0, heartbeatTimeout: 0 },
  worker: { receiveHighWaterMark: 1000, receiveBufferSize: 0, sinkImmediate: false },
  sink: { receiveHighWaterMark: 1000, receiveBufferSize: 0 },
};

export const PlaygroundInfo = Type.Object({
  id: Id,
  scenario: Id,
  title: Type.String(),
  params: RunParams,
  endpoints: Type.Array(EndpointInfo),
  workers: Type.Array(WorkerInfo),
  sink: SinkInfo,
  options: SocketOptions,
  maxWorkers: Count,
  /** The lesson this playground was set up for, if any (see shared/lessons). */
  lesson: Type.Union([Id, Type.Null()]),
  /** How many topology and parameter changes `undo` can take back. */
  undoDepth: Count,
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
  return Type.Object({ type: Type.Literal(type), seq: Seq, run: Id, t: Ms, ...props }, { additionalProperties: false });
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

export const RunEndReason = Type.Union([Type.Literal('completed'), Type.Literal('stopped'), Type.Literal('failed')]);
export type RunEndReason = Static<typeof RunEndReason>;

/**
 * The run's identity: every sent task is in exactly one of these, so that
 * collected + processed + resultsLost + lost + external + inFlight = sent.
 */
export const RunAccounting = Type.Object({
  /** Results the sink collected (0 without a sink). */
  collected: Count,
  /** Done by a worker, with no sink to collect a result (0 with a sink). */
  processed: Count,
  /** Done, but the result never reached the sink: lost on the way with the worker's results socket. */
  resultsLost: Count,
  /** Results lost per worker whose results they were. */
  resultsLostBy: Type.Record(Type.String(), Count),
  /** Lost with a worker before it finished them (the summary's `lost`, per worker in `lostBy`). */
  lost: Count,
  /** Taken by peers we do not control (every unreceived task when some were connected: PUSH cannot say more). */
  external: Count,
  /** Still on the way (to a worker, in its hands, or as a result) when the run was stopped or the summary taken. */
  inFlight: Count,
});
export type RunAccounting = Static<typeof RunAccounting>;

export const RunSummary = Type.Object({
  sent: Count,
  /** Tasks received per built-in worker id. */
  received: Type.Record(Type.String(), Count),
  /** Tasks a worker finished working on, per worker id. */
  done: Type.Record(Type.String(), Count),
  /** Results the sink collected. */
  collected: Count,
  /**
   * Sent but not received by any built-in worker: taken by external peers, or lost with a closed pipe (those are
   * in `lost` too). A count of receipts, not a place: `accounting` places each task exactly once.
   */
  unattributed: Count,
  /** Tasks that ended nowhere: queued for (or held by) a worker that was killed, removed or switched. */
  lost: Count,
  /** Lost tasks per worker they were lost with; "unknown" when more than one worker could have held them. */
  lostBy: Type.Record(Type.String(), Count),
  /** Most external peers connected at once during the run. */
  externalPeersMax: Count,
  durationMs: Ms,
  /** Where every sent task ended, each in exactly one place (absent in runs recorded before it existed). */
  accounting: Type.Optional(RunAccounting),
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
    sink: SinkInfo,
    options: SocketOptions,
    /** The lesson the playground was in when the run started (absent: none, or recorded before it was said). */
    lesson: Type.Optional(Id),
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
  /** The topology changed: a worker was added, or its transport, work time, state or pid changed. */
  event('worker:updated', { worker: WorkerInfo, change: Type.String() }),
  event('worker:removed', { worker: Id }),
  /** What happened to a process worker: spawned, killed (SIGKILL), hung (SIGSTOP), resumed (SIGCONT), exited. */
  event('worker:process', {
    worker: Id,
    action: Type.Union([
      Type.Literal('spawned'),
      Type.Literal('killed'),
      Type.Literal('hung'),
      Type.Literal('resumed'),
      Type.Literal('exited'),
    ]),
    pid: Type.Union([Type.Integer(), Type.Null()]),
  }),
  /** The sink's PULL socket bound its endpoint. */
  event('sink:bound', { address: Type.String() }),
  /** Socket options took effect; `recreated` says a socket was closed and opened again to apply them. */
  event('options:applied', {
    node: Id,
    recreated: Type.Boolean(),
    note: Type.String(),
    noteText: Type.Optional(ServerTextSchema),
  }),
  /** Peers we do not control, counted from the ventilator's monitor per endpoint. */
  event('peers:changed', { endpoint: Id, external: Count, builtIn: Count }),
  event('ventilator:state', { state: VentilatorState }),
  /** Send resolved: ZeroMQ queued the message on some pipe. PUSH cannot say which one. */
  event('task:sent', { task: Count, body: Type.String() }),
  /** A built-in worker's receive() returned this task: the only reliable attribution (zmq-facts section 7). */
  event('task:received', { task: Count, worker: Id, body: Type.String() }),
  /** The worker finished its simulated work on the task. */
  event('task:done', { task: Count, worker: Id }),
  /** The sink received the worker's result (fair-queued among workers). */
  event('task:collected', { task: Count, worker: Id }),
  /** The task will never be processed: it sat in a pipe or a worker that died; `worker` null when unsure which. */
  event('task:lost', { task: Count, worker: Type.Union([Id, Type.Null()]) }),
  event('node:error', { node: Id, code: Type.String(), message: Type.String() }),
  /** A lesson's goal, checked from this run's events just before it ends. */
  event('lesson:checked', {
    lesson: Id,
    met: Type.Boolean(),
    detail: Type.Object({ en: Type.String(), es: Type.String() }, { additionalProperties: false }),
    measurements: Type.Optional(Type.Record(Type.String(), Type.Number())),
  }),
  event('run:ended', { reason: RunEndReason, summary: RunSummary }),
  // A graph of sockets of any type (graph.ts): its own run start and end, messages, drops and refusals.
  ...GRAPH_EVENTS,
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
  done: Type.Record(Type.String(), Count),
  collected: Count,
  lost: Count,
  /** Lost tasks per worker (see RunSummary.lostBy); live streams carry it, stored counters may not. */
  lostBy: Type.Optional(Type.Record(Type.String(), Count)),
});
export type Counters = Static<typeof Counters>;

export const ErrorCode = Type.Union([
  Type.Literal('PG_ERR_BAD_JSON'),
  Type.Literal('PG_ERR_BAD_MESSAGE'),
  Type.Literal('PG_ERR_UNKNOWN_COMMAND'),
  Type.Literal('PG_ERR_VALIDATION'),
  Type.Literal('PG_ERR_NOT_FOUND'),
  /** The caller's role (watcher, driver) does not allow it, or the request came from another site. */
  Type.Literal('PG_ERR_FORBIDDEN'),
  Type.Literal('PG_ERR_RUN_ACTIVE'),
  Type.Literal('PG_ERR_NO_RUN'),
  Type.Literal('PG_ERR_LIMIT'),
  Type.Literal('PG_ERR_ENDPOINT'),
  /** A run export that cannot be imported: corrupt, truncated, foreign or newer (the message says which). */
  Type.Literal('PG_ERR_IMPORT'),
  Type.Literal('PG_ERR_INTERNAL'),
]);
export type ErrorCode = Static<typeof ErrorCode>;

export const ErrorBody = Type.Object({
  code: ErrorCode,
  /** English, for scripts and logs. */
  message: Type.String(),
  /** The same as a key and parameters (server-text.ts), so a page can say it in its reader's language. */
  text: Type.Optional(ServerTextSchema),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** Fastest replay speed a presenter may ask for (the page offers up to this). */
export const MAX_REPLAY_SPEED = 64;

/**
 * What a presenter shows to the playground's watchers ([S6]): whether they follow, the lesson picked, and the
 * recorded run open in replay with its playhead (`t`, ms since the run started), playing or paused, at a speed.
 * `moved`: the presenter goes on in another playground (a lesson of another scenario opens a new one); the
 * watchers join it with its watch token and follow there. Absent or null: here.
 */
export const PresenterState = Type.Object(
  {
    presenting: Type.Boolean(),
    lesson: Type.Union([Id, Type.Null()]),
    moved: Type.Optional(
      Type.Union([
        Type.Object(
          {
            playground: Id,
            watchToken: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    replay: Type.Union([
      Type.Object(
        {
          run: Id,
          t: Type.Number({ minimum: 0, maximum: 86_400_000 }),
          playing: Type.Boolean(),
          speed: Type.Number({ exclusiveMinimum: 0, maximum: MAX_REPLAY_SPEED }),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type PresenterState = Static<typeof PresenterState>;
export const NOT_PRESENTING: PresenterState = { presenting: false, lesson: null, replay: null };

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
  /** The presenter's state, to every connection of the playground as it changes and right after `hello` ([S6]). */
  Type.Object({ type: Type.Literal('presenter'), presenter: PresenterState }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('error'),
      code: ErrorCode,
      message: Type.String(),
      text: Type.Optional(ServerTextSchema),
      command: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
]);
export type ServerMessage = Static<typeof ServerMessage>;

// ---------------------------------------------------------------------------------------------------------------
// Client -> server

export const ClientCommand = Type.Union([
  /**
   * Replay events after `sinceSeq` that the server still holds, then stream live ones. `binary`: the version of
   * the binary task frame (task-frame.ts, SPEC [W5]) the client reads; a server that writes that version sends
   * live frames with many task events in it, any other server sends JSON. Absent: JSON only.
   */
  Type.Object(
    {
      type: Type.Literal('subscribe'),
      sinceSeq: Type.Optional(Count),
      binary: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('run:start'), params: Type.Optional(RunParamsPatch) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('run:stop') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('params:update'), params: RunParamsPatch }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('worker:add'), worker: NewWorker }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('worker:update'), worker: Id, patch: WorkerPatch }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('worker:remove'), worker: Id }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('worker:signal'), worker: Id, signal: WorkerSignal },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('sink:update'), patch: SinkPatch }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('options:update'), patch: SocketOptionsPatch }, { additionalProperties: false }),
  /** An owner or driver sets what the watchers follow ([S6]). */
  Type.Object({ type: Type.Literal('presenter:set'), presenter: PresenterState }, { additionalProperties: false }),
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
  { scenario: Type.Optional(Id), lesson: Type.Optional(Id), params: Type.Optional(RunParamsPatch) },
  { additionalProperties: false },
);
export type CreatePlaygroundBody = Static<typeof CreatePlaygroundBody>;

export const StartRunBody = Type.Object({ params: Type.Optional(RunParamsPatch) }, { additionalProperties: false });
export type StartRunBody = Static<typeof StartRunBody>;

export const LessonStage = Type.Union([Type.Literal('start'), Type.Literal('solution')]);
export type LessonStage = Static<typeof LessonStage>;

export const ApplyLessonBody = Type.Object({ lesson: Id, stage: LessonStage }, { additionalProperties: false });
export type ApplyLessonBody = Static<typeof ApplyLessonBody>;
