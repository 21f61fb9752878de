/**
 * One valid sample of every wire variant, and one invalid twin of each (a required field broken), for the codec
 * tests and for anyone who wants to see the protocol by example.
 */
import type { ClientCommand, PlaygroundEvent, PlaygroundInfo, RunParams, ServerMessage } from './schema.ts';

const params: RunParams = { intervalMs: 1000, builtInWorkers: true, tasks: 12, payloadBytes: 0, drainMs: 1500 };
const tcp = { name: 'tcp', transport: 'tcp', requested: 'tcp://127.0.0.1:12345', actual: 'tcp://127.0.0.1:12345' } as const;
const ipc = {
  name: 'ipc',
  transport: 'ipc',
  requested: 'ipc:///tmp/zmqdemo',
  actual: 'ipc:///tmp/zmq-playground-0/pg-1-ipc.ipc',
  note: '/tmp/zmqdemo is in use by another program; bound /tmp/zmq-playground-0/pg-1-ipc.ipc instead.',
} as const;
const workers = [
  { id: 'worker-tcp', endpoint: 'tcp', transport: 'tcp' },
  { id: 'worker-ipc', endpoint: 'ipc', transport: 'ipc' },
] as const;
const base = { run: 'run-1', t: 12.5 };

export const VALID_EVENTS: Record<PlaygroundEvent['type'], PlaygroundEvent> = {
  'run:started': { type: 'run:started', seq: 1, ...base, t: 0, scenario: 'tutorial', params, endpoints: [tcp, ipc], workers: [...workers] },
  'endpoint:bound': { type: 'endpoint:bound', seq: 2, ...base, endpoint: tcp },
  'socket:event': { type: 'socket:event', seq: 3, ...base, node: 'worker-ipc', kind: 'connect:retry', address: ipc.actual, interval: 141 },
  'worker:connecting': { type: 'worker:connecting', seq: 4, ...base, worker: 'worker-tcp', address: tcp.actual },
  'worker:stopped': { type: 'worker:stopped', seq: 5, ...base, worker: 'worker-tcp', reason: 'end-marker' },
  'peers:changed': { type: 'peers:changed', seq: 6, ...base, endpoint: 'tcp', external: 1, builtIn: 1 },
  'ventilator:state': { type: 'ventilator:state', seq: 7, ...base, state: 'blocked' },
  'task:sent': { type: 'task:sent', seq: 8, ...base, task: 0, body: '1' },
  'task:received': { type: 'task:received', seq: 9, ...base, task: 0, worker: 'worker-tcp', body: '1' },
  'node:error': { type: 'node:error', seq: 10, ...base, node: 'ventilator', code: 'EADDRINUSE', message: 'Address already in use' },
  'run:ended': {
    type: 'run:ended',
    seq: 11,
    ...base,
    reason: 'completed',
    summary: { sent: 12, received: { 'worker-tcp': 8, 'worker-ipc': 4 }, unattributed: 0, externalPeersMax: 0, durationMs: 12010 },
  },
};

/** Each valid event with one thing wrong, and what is wrong. */
export const INVALID_EVENTS: Record<PlaygroundEvent['type'], { value: unknown; why: string }> = {
  'run:started': { value: { ...VALID_EVENTS['run:started'], params: { ...params, intervalMs: -1 } }, why: 'negative interval' },
  'endpoint:bound': { value: { ...VALID_EVENTS['endpoint:bound'], endpoint: { ...tcp, transport: 'udp' } }, why: 'unknown transport' },
  'socket:event': { value: { ...VALID_EVENTS['socket:event'], kind: 'explode' }, why: 'unknown monitor kind' },
  'worker:connecting': { value: { ...VALID_EVENTS['worker:connecting'], worker: '' }, why: 'empty worker id' },
  'worker:stopped': { value: { ...VALID_EVENTS['worker:stopped'], reason: 'bored' }, why: 'unknown reason' },
  'peers:changed': { value: { ...VALID_EVENTS['peers:changed'], external: -1 }, why: 'negative count' },
  'ventilator:state': { value: { ...VALID_EVENTS['ventilator:state'], state: 'asleep' }, why: 'unknown state' },
  'task:sent': { value: { ...VALID_EVENTS['task:sent'], task: 1.5 }, why: 'fractional task id' },
  'task:received': { value: { type: 'task:received', seq: 9, ...base, task: 0, body: '1' }, why: 'missing worker' },
  'node:error': { value: { ...VALID_EVENTS['node:error'], seq: 0 }, why: 'seq starts at 1' },
  'run:ended': { value: { ...VALID_EVENTS['run:ended'], extra: true }, why: 'unknown field' },
};

const playground: PlaygroundInfo = {
  id: 'pg-1',
  scenario: 'tutorial',
  title: 'The tutorial',
  params,
  endpoints: [tcp, { ...ipc, actual: null }],
  workers: [...workers],
  activeRun: null,
  lastSeq: 0,
};

export const VALID_SERVER_MESSAGES: Record<ServerMessage['type'], ServerMessage> = {
  hello: { type: 'hello', protocolVersion: 1, playground },
  events: {
    type: 'events',
    events: [VALID_EVENTS['task:sent'], VALID_EVENTS['task:received']],
    dropped: 3,
    counters: { run: 'run-1', sent: 5, received: { 'worker-tcp': 5 } },
  },
  'playground:updated': { type: 'playground:updated', playground: { ...playground, activeRun: 'run-1' } },
  error: { type: 'error', code: 'PG_ERR_VALIDATION', message: 'params/intervalMs must be <= 10000', command: 'run:start' },
};

export const INVALID_SERVER_MESSAGES: Record<ServerMessage['type'], { value: unknown; why: string }> = {
  hello: { value: { type: 'hello', playground }, why: 'missing protocolVersion' },
  events: { value: { ...VALID_SERVER_MESSAGES.events, events: [{ type: 'task:sent', seq: 1 }] }, why: 'incomplete event inside' },
  'playground:updated': { value: { type: 'playground:updated', playground: { ...playground, params: {} } }, why: 'empty params' },
  error: { value: { type: 'error', code: 'OOPS', message: 'x' }, why: 'unknown error code' },
};

export const VALID_COMMANDS: Record<ClientCommand['type'], ClientCommand> = {
  subscribe: { type: 'subscribe', sinceSeq: 0 },
  'run:start': { type: 'run:start', params: { intervalMs: 0 } },
  'run:stop': { type: 'run:stop' },
  'params:update': { type: 'params:update', params: { intervalMs: 250, builtInWorkers: false } },
};

export const INVALID_COMMANDS: Record<ClientCommand['type'], { value: unknown; why: string }> = {
  subscribe: { value: { type: 'subscribe', sinceSeq: -3 }, why: 'negative seq' },
  'run:start': { value: { type: 'run:start', params: { intervalMs: 20_000 } }, why: 'interval above the limit' },
  'run:stop': { value: { type: 'run:stop', now: true }, why: 'unknown field' },
  'params:update': { value: { type: 'params:update', params: { builtInWorkers: 'yes' } }, why: 'string for a boolean' },
};
