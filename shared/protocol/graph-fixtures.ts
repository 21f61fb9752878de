/**
 * A valid sample of every graph event (graph.ts) and an invalid twin of each, joined into fixtures.ts so the
 * codec tests cover them like every other variant.
 */
import type { GraphEventType, GraphSpec } from './graph.ts';
import type { PlaygroundEvent } from './schema.ts';

const base = { run: 'run-7', t: 40.5 };

/** The series' part 3 as a graph: one REQ connected to three REP servers. */
export const SAMPLE_GRAPH: GraphSpec = {
  title: 'One REQ, three REP',
  nodes: [
    {
      id: 'client',
      socket: 'REQ',
      role: { kind: 'request', messages: { kind: 'template', template: 'mensaje {i}', count: 100 } },
    },
    { id: 'server-5000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    { id: 'server-6000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    { id: 'server-7000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
  ],
  links: [
    { from: 'client', to: 'server-5000', bind: 'to', transport: 'tcp' },
    { from: 'client', to: 'server-6000', bind: 'to', transport: 'ipc' },
    { from: 'client', to: 'server-7000', bind: 'to', transport: 'inproc' },
  ],
};

type GraphEvent = Extract<PlaygroundEvent, { type: GraphEventType }>;

export const VALID_GRAPH_EVENTS: { [K in GraphEventType]: Extract<GraphEvent, { type: K }> } = {
  'graph:started': {
    type: 'graph:started',
    seq: 101,
    ...base,
    t: 0,
    scenario: 'series-3',
    graph: SAMPLE_GRAPH,
    capabilities: { ipc: true, pgm: false },
  },
  'node:bound': {
    type: 'node:bound',
    seq: 102,
    ...base,
    node: 'server-5000',
    transport: 'tcp',
    address: 'tcp://127.0.0.1:5000',
  },
  'node:connecting': {
    type: 'node:connecting',
    seq: 103,
    ...base,
    node: 'client',
    peer: 'server-5000',
    address: 'tcp://127.0.0.1:5000',
  },
  'message:sent': { type: 'message:sent', seq: 104, ...base, node: 'client', message: 0, body: 'mensaje 0', frames: 1 },
  'message:received': {
    type: 'message:received',
    seq: 105,
    ...base,
    node: 'server-5000',
    message: 0,
    from: 'client',
    body: 'mensaje 0',
  },
  'message:dropped': {
    type: 'message:dropped',
    seq: 106,
    ...base,
    message: 7,
    node: 'narrator',
    peer: 'fan-1',
    reason: 'filtered',
  },
  'socket:refused': {
    type: 'socket:refused',
    seq: 107,
    ...base,
    node: 'server',
    peer: 'client-2',
    reason: 'pair-exclusive',
    detail: 'a second peer shook hands while client-1 was connected',
  },
  'node:stopped': { type: 'node:stopped', seq: 108, ...base, node: 'server-5000', reason: 'run-ended' },
  'node:process': {
    type: 'node:process',
    seq: 108,
    ...base,
    node: 'server-6000',
    action: 'killed',
    program: 'server-6000',
  },
  'node:paced': { type: 'node:paced', seq: 108, ...base, node: 'server-5000', pace: 'work', ms: 250 },
  'link:moved': {
    type: 'link:moved',
    seq: 108,
    ...base,
    node: 'server-5000',
    from: 'client',
    to: 'server-5000',
    transport: 'ipc',
    address: 'ipc:///run/zpg/gr-x-n1.ipc',
    previousTransport: 'tcp',
    previousAddress: 'tcp://127.0.0.1:5000',
    lost: 0,
  },
  'node:added': {
    type: 'node:added',
    seq: 108,
    ...base,
    node: 'server-8000',
    spec: { id: 'server-8000', socket: 'REP', role: { kind: 'reply', transform: 'echo' } },
    link: { from: 'server-8000', to: 'client', bind: 'from', transport: 'tcp' },
  },
  'node:removed': { type: 'node:removed', seq: 108, ...base, node: 'server-8000' },
  'graph:ended': {
    type: 'graph:ended',
    seq: 109,
    ...base,
    reason: 'completed',
    summary: {
      sent: 200,
      copies: 200,
      delivered: 200,
      dropped: 0,
      droppedBy: {},
      unattributed: 0,
      inFlight: 0,
      nodes: { client: { sent: 100, received: 100 }, 'server-5000': { sent: 34, received: 34 } },
      refusals: 0,
      durationMs: 120,
    },
  },
};

export const INVALID_GRAPH_EVENTS: { [K in GraphEventType]: { value: unknown; why: string } } = {
  'graph:started': {
    value: {
      ...VALID_GRAPH_EVENTS['graph:started'],
      graph: { ...SAMPLE_GRAPH, nodes: [{ ...SAMPLE_GRAPH.nodes[0], socket: 'STREAM' }] },
    },
    why: 'a socket type the playground does not offer',
  },
  'node:bound': {
    value: { ...VALID_GRAPH_EVENTS['node:bound'], transport: 'epgm' },
    why: 'a transport without a checked endpoint',
  },
  'node:connecting': { value: { ...VALID_GRAPH_EVENTS['node:connecting'], peer: undefined }, why: 'missing peer' },
  'message:sent': { value: { ...VALID_GRAPH_EVENTS['message:sent'], frames: 0 }, why: 'no frames' },
  'message:received': {
    value: { ...VALID_GRAPH_EVENTS['message:received'], message: undefined },
    why: 'missing message (null is required for unknown)',
  },
  'message:dropped': { value: { ...VALID_GRAPH_EVENTS['message:dropped'], reason: 'bad luck' }, why: 'unknown reason' },
  'socket:refused': { value: { ...VALID_GRAPH_EVENTS['socket:refused'], reason: 'EFSM' }, why: 'reason in capitals' },
  'node:stopped': { value: { ...VALID_GRAPH_EVENTS['node:stopped'], reason: 'tired' }, why: 'unknown reason' },
  'node:process': {
    value: { ...VALID_GRAPH_EVENTS['node:process'], action: 'stop' },
    why: "the pipeline's signal name, not an action",
  },
  'node:paced': { value: { ...VALID_GRAPH_EVENTS['node:paced'], ms: -1 }, why: 'a negative pace' },
  'link:moved': {
    value: { ...VALID_GRAPH_EVENTS['link:moved'], transport: 'epgm' },
    why: 'a transport it cannot move to',
  },
  'node:added': {
    value: {
      ...VALID_GRAPH_EVENTS['node:added'],
      link: { ...VALID_GRAPH_EVENTS['node:added'].link, transport: 'epgm' },
    },
    why: 'a link over a transport without a checked endpoint',
  },
  'node:removed': { value: { ...VALID_GRAPH_EVENTS['node:removed'], node: '' }, why: 'an empty node name' },
  'graph:ended': { value: { ...VALID_GRAPH_EVENTS['graph:ended'], summary: { sent: 1 } }, why: 'incomplete summary' },
};
