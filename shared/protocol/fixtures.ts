/**
 * One valid sample of every wire variant, and one invalid twin of each (a required field broken), for the codec
 * tests and for anyone who wants to see the protocol by example.
 */
import { INVALID_GRAPH_EVENTS, VALID_GRAPH_EVENTS } from './graph-fixtures.ts';
import {
  DEFAULT_SOCKET_OPTIONS,
  type ClientCommand,
  type PlaygroundEvent,
  type PlaygroundInfo,
  type RunParams,
  type ServerMessage,
  type WorkerInfo,
} from './schema.ts';

const params: RunParams = {
  intervalMs: 1000,
  builtInWorkers: true,
  tasks: 12,
  payloadBytes: 0,
  drainMs: 1500,
  syncStart: false,
};
const tcp = {
  name: 'tcp',
  transport: 'tcp',
  requested: 'tcp://127.0.0.1:12345',
  actual: 'tcp://127.0.0.1:12345',
} as const;
const ipc = {
  name: 'ipc',
  transport: 'ipc',
  requested: 'ipc:///tmp/zmqdemo',
  actual: 'ipc:///tmp/zmq-playground-0/pg-1-ipc.ipc',
  note: '/tmp/zmqdemo is in use by another program; bound /tmp/zmq-playground-0/pg-1-ipc.ipc instead.',
} as const;
const workerTcp: WorkerInfo = {
  id: 'worker-tcp',
  endpoint: 'tcp',
  transport: 'tcp',
  mode: 'in-process',
  workMs: { min: 0, max: 0 },
  connections: 1,
  state: 'connected',
  pid: null,
};
const workers: WorkerInfo[] = [
  workerTcp,
  {
    ...workerTcp,
    id: 'worker-ipc',
    endpoint: 'ipc',
    transport: 'ipc',
    mode: 'process',
    workMs: { min: 1, max: 100 },
    pid: 4242,
  },
];
const base = { run: 'run-1', t: 12.5 };

export const VALID_EVENTS: Record<PlaygroundEvent['type'], PlaygroundEvent> = {
  'run:started': {
    type: 'run:started',
    seq: 1,
    ...base,
    t: 0,
    scenario: 'tutorial',
    params,
    endpoints: [tcp, ipc],
    workers,
    sink: { enabled: false, transport: 'tcp', address: null },
    options: DEFAULT_SOCKET_OPTIONS,
  },
  'endpoint:bound': { type: 'endpoint:bound', seq: 2, ...base, endpoint: tcp },
  'socket:event': {
    type: 'socket:event',
    seq: 3,
    ...base,
    node: 'worker-ipc',
    kind: 'connect:retry',
    address: ipc.actual,
    interval: 141,
  },
  'worker:connecting': { type: 'worker:connecting', seq: 4, ...base, worker: 'worker-tcp', address: tcp.actual },
  'worker:stopped': { type: 'worker:stopped', seq: 5, ...base, worker: 'worker-tcp', reason: 'end-marker' },
  'peers:changed': { type: 'peers:changed', seq: 6, ...base, endpoint: 'tcp', external: 1, builtIn: 1 },
  'ventilator:state': { type: 'ventilator:state', seq: 7, ...base, state: 'blocked' },
  'task:sent': { type: 'task:sent', seq: 8, ...base, task: 0, body: '1' },
  'task:received': { type: 'task:received', seq: 9, ...base, task: 0, worker: 'worker-tcp', body: '1' },
  'node:error': {
    type: 'node:error',
    seq: 10,
    ...base,
    node: 'ventilator',
    code: 'EADDRINUSE',
    message: 'Address already in use',
  },
  'run:ended': {
    type: 'run:ended',
    seq: 11,
    ...base,
    reason: 'completed',
    summary: {
      sent: 12,
      received: { 'worker-tcp': 8, 'worker-ipc': 4 },
      done: { 'worker-tcp': 8, 'worker-ipc': 3 },
      collected: 0,
      unattributed: 0,
      lost: 1,
      lostBy: { 'worker-ipc': 1 },
      externalPeersMax: 0,
      durationMs: 12010,
    },
  },
  'worker:updated': { type: 'worker:updated', seq: 12, ...base, worker: workers[1]!, change: 'transport tcp -> ipc' },
  'worker:removed': { type: 'worker:removed', seq: 13, ...base, worker: 'worker-3' },
  'worker:process': { type: 'worker:process', seq: 14, ...base, worker: 'worker-ipc', action: 'killed', pid: 4242 },
  'sink:bound': { type: 'sink:bound', seq: 15, ...base, address: 'tcp://127.0.0.1:40001' },
  'options:applied': {
    type: 'options:applied',
    seq: 16,
    ...base,
    node: 'workers',
    recreated: true,
    note: 'reconnected',
  },
  'task:done': { type: 'task:done', seq: 17, ...base, task: 3, worker: 'worker-tcp' },
  'task:collected': { type: 'task:collected', seq: 18, ...base, task: 3, worker: 'worker-tcp' },
  'task:lost': { type: 'task:lost', seq: 19, ...base, task: 5, worker: null },
  'lesson:checked': {
    type: 'lesson:checked',
    seq: 20,
    ...base,
    lesson: 'divide-and-conquer',
    met: true,
    detail: { en: 'All 100 collected in 1210 ms.', es: 'Los 100 recogidos en 1210 ms.' },
    measurements: { workers: 4, batchMs: 1210 },
  },
  ...VALID_GRAPH_EVENTS,
};

/** Each valid event with one thing wrong, and what is wrong. */
export const INVALID_EVENTS: Record<PlaygroundEvent['type'], { value: unknown; why: string }> = {
  'run:started': {
    value: { ...VALID_EVENTS['run:started'], params: { ...params, intervalMs: -1 } },
    why: 'negative interval',
  },
  'endpoint:bound': {
    value: { ...VALID_EVENTS['endpoint:bound'], endpoint: { ...tcp, transport: 'udp' } },
    why: 'unknown transport',
  },
  'socket:event': { value: { ...VALID_EVENTS['socket:event'], kind: 'explode' }, why: 'unknown monitor kind' },
  'worker:connecting': { value: { ...VALID_EVENTS['worker:connecting'], worker: '' }, why: 'empty worker id' },
  'worker:stopped': { value: { ...VALID_EVENTS['worker:stopped'], reason: 'bored' }, why: 'unknown reason' },
  'peers:changed': { value: { ...VALID_EVENTS['peers:changed'], external: -1 }, why: 'negative count' },
  'ventilator:state': { value: { ...VALID_EVENTS['ventilator:state'], state: 'asleep' }, why: 'unknown state' },
  'task:sent': { value: { ...VALID_EVENTS['task:sent'], task: 1.5 }, why: 'fractional task id' },
  'task:received': { value: { type: 'task:received', seq: 9, ...base, task: 0, body: '1' }, why: 'missing worker' },
  'node:error': { value: { ...VALID_EVENTS['node:error'], seq: 0 }, why: 'seq starts at 1' },
  'run:ended': { value: { ...VALID_EVENTS['run:ended'], extra: true }, why: 'unknown field' },
  'worker:updated': {
    value: { ...VALID_EVENTS['worker:updated'], worker: { ...workerTcp, mode: 'thread' } },
    why: 'unknown worker mode',
  },
  'worker:removed': { value: { ...VALID_EVENTS['worker:removed'], worker: 'a b' }, why: 'id with a space' },
  'worker:process': { value: { ...VALID_EVENTS['worker:process'], action: 'exploded' }, why: 'unknown action' },
  'sink:bound': { value: { ...VALID_EVENTS['sink:bound'], address: 7 }, why: 'number for an address' },
  'options:applied': { value: { ...VALID_EVENTS['options:applied'], recreated: 'yes' }, why: 'string for a boolean' },
  'task:done': { value: { ...VALID_EVENTS['task:done'], task: -1 }, why: 'negative task id' },
  'task:collected': { value: { type: 'task:collected', seq: 18, ...base, task: 3 }, why: 'missing worker' },
  'task:lost': {
    value: { ...VALID_EVENTS['task:lost'], worker: undefined },
    why: 'missing worker (null is required for unknown)',
  },
  'lesson:checked': {
    value: { ...VALID_EVENTS['lesson:checked'], detail: { en: 'only English' } },
    why: 'missing Spanish detail',
  },
  ...INVALID_GRAPH_EVENTS,
};

const playground: PlaygroundInfo = {
  id: 'pg-1',
  scenario: 'tutorial',
  title: 'The tutorial',
  params,
  endpoints: [tcp, { ...ipc, actual: null }],
  workers,
  sink: { enabled: false, transport: 'tcp', address: null },
  options: DEFAULT_SOCKET_OPTIONS,
  maxWorkers: 32,
  lesson: null,
  undoDepth: 0,
  activeRun: null,
  lastSeq: 0,
};

export const VALID_SERVER_MESSAGES: Record<ServerMessage['type'], ServerMessage> = {
  hello: { type: 'hello', protocolVersion: 1, playground },
  events: {
    type: 'events',
    events: [VALID_EVENTS['task:sent'], VALID_EVENTS['task:received']],
    dropped: 3,
    counters: {
      run: 'run-1',
      sent: 5,
      received: { 'worker-tcp': 5 },
      done: { 'worker-tcp': 4 },
      collected: 0,
      lost: 0,
    },
  },
  'playground:updated': { type: 'playground:updated', playground: { ...playground, activeRun: 'run-1' } },
  presenter: {
    type: 'presenter',
    presenter: { presenting: true, lesson: 'tutorial-1', replay: { run: 'run-1', t: 812.5, playing: false, speed: 2 } },
  },
  error: {
    type: 'error',
    code: 'PG_ERR_VALIDATION',
    message: 'params/intervalMs must be <= 10000',
    command: 'run:start',
  },
};

export const INVALID_SERVER_MESSAGES: Record<ServerMessage['type'], { value: unknown; why: string }> = {
  hello: { value: { type: 'hello', playground }, why: 'missing protocolVersion' },
  events: {
    value: { ...VALID_SERVER_MESSAGES.events, events: [{ type: 'task:sent', seq: 1 }] },
    why: 'incomplete event inside',
  },
  'playground:updated': {
    value: { type: 'playground:updated', playground: { ...playground, params: {} } },
    why: 'empty params',
  },
  presenter: {
    value: {
      type: 'presenter',
      presenter: { presenting: true, lesson: null, replay: { run: 'run-1', t: -1, playing: true, speed: 1 } },
    },
    why: 'negative playhead',
  },
  error: { value: { type: 'error', code: 'OOPS', message: 'x' }, why: 'unknown error code' },
};

export const VALID_COMMANDS: Record<ClientCommand['type'], ClientCommand> = {
  subscribe: { type: 'subscribe', sinceSeq: 0 },
  'run:start': { type: 'run:start', params: { intervalMs: 0 } },
  'run:stop': { type: 'run:stop' },
  'params:update': { type: 'params:update', params: { intervalMs: 250, builtInWorkers: false } },
  'worker:add': { type: 'worker:add', worker: { transport: 'ipc', mode: 'process', workMs: { min: 1, max: 100 } } },
  'worker:update': { type: 'worker:update', worker: 'worker-1', patch: { transport: 'inproc' } },
  'worker:remove': { type: 'worker:remove', worker: 'worker-1' },
  'worker:signal': { type: 'worker:signal', worker: 'worker-2', signal: 'kill' },
  'sink:update': { type: 'sink:update', patch: { enabled: true, transport: 'ipc' } },
  'options:update': {
    type: 'options:update',
    patch: { ventilator: { sendHighWaterMark: 5 }, worker: { receiveBufferSize: 4096 } },
  },
  'presenter:set': { type: 'presenter:set', presenter: { presenting: true, lesson: null, replay: null } },
};

export const INVALID_COMMANDS: Record<ClientCommand['type'], { value: unknown; why: string }> = {
  subscribe: { value: { type: 'subscribe', sinceSeq: -3 }, why: 'negative seq' },
  'run:start': { value: { type: 'run:start', params: { intervalMs: 20_000 } }, why: 'interval above the limit' },
  'run:stop': { value: { type: 'run:stop', now: true }, why: 'unknown field' },
  'params:update': { value: { type: 'params:update', params: { builtInWorkers: 'yes' } }, why: 'string for a boolean' },
  'worker:add': { value: { type: 'worker:add', worker: { transport: 'udp' } }, why: 'unknown transport' },
  'worker:update': {
    value: { type: 'worker:update', worker: 'worker-1', patch: { workMs: { min: 0, max: 100_000 } } },
    why: 'work time above the limit',
  },
  'worker:remove': { value: { type: 'worker:remove' }, why: 'missing worker' },
  'worker:signal': { value: { type: 'worker:signal', worker: 'worker-2', signal: 'SIGSEGV' }, why: 'unknown signal' },
  'sink:update': { value: { type: 'sink:update', patch: { address: 'tcp://10.0.0.1:1' } }, why: 'unknown field' },
  'options:update': {
    value: { type: 'options:update', patch: { ventilator: { sendHighWaterMark: -5 } } },
    why: 'negative HWM',
  },
  'presenter:set': {
    value: {
      type: 'presenter:set',
      presenter: { presenting: true, lesson: null, replay: { run: 'run-1', t: 0, playing: true, speed: 0 } },
    },
    why: 'speed zero',
  },
};
